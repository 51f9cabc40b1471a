"""Aligning groups of images to each other or to a reference catalog (tweakwcs' align_wcs).

Images sharing a group id (one exposure seen by several detectors) are aligned together, with
one correction. Relative alignment: the reference catalog starts as the catalog of one group
(the first one when ``enforce_user_order`` or when the catalog is not expanded, otherwise the
member of the most-overlapping pair that overlaps the others most); the other groups are then
aligned one by one (in the given order, or the one overlapping the reference footprint most
first), each matched to the reference catalog in the tangent plane of its own telescope frame
and fitted; with ``expand_refcat`` its unmatched sources are added to the reference catalog.
Absolute alignment is the same loop with every image in one group and the catalog of a file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..kernels import match as kmatch
from . import wcs_correction as wc
from .fitting import fit_linear
from .matching import match_catalogs

__all__ = ["AlignParams", "Entry", "NotEnoughCatalogs", "align"]

log = logging.getLogger("webbflow.tweakreg")


class NotEnoughCatalogs(ValueError):
    """Fewer groups with sources than the alignment needs."""


@dataclass(frozen=True)
class AlignParams:
    """Matching and fitting parameters (arcsec where lengths)."""

    searchrad: float = 2.0
    separation: float = 1.0
    tolerance: float = 0.7
    use2dhist: bool = True
    xoffset: float = 0.0
    yoffset: float = 0.0
    minobj: int = 15
    fitgeometry: str = "rshift"
    nclip: int = 3
    sigma: float = 3.0


@dataclass
class Entry:
    """One image being aligned: its catalog (pixel x, y), WCS and fit record."""

    name: str
    group: str
    wcs: Any
    shape: tuple[int, int]
    x: np.ndarray
    y: np.ndarray
    v2ref: float
    v3ref: float
    original_wcs: Any = None
    fit_info: dict[str, Any] = field(default_factory=lambda: {"status": "SKIPPED"})

    def __post_init__(self) -> None:
        if self.original_wcs is None:
            self.original_wcs = self.wcs

    def sky(self) -> tuple[np.ndarray, np.ndarray]:
        """(RA, Dec) deg of the catalog through the current WCS."""
        if self.x.size == 0:
            return np.zeros(0), np.zeros(0)
        ra, dec = self.wcs(self.x, self.y, with_bounding_box=False)
        return np.asarray(ra, dtype=float), np.asarray(dec, dtype=float)

    def corners(self) -> tuple[np.ndarray, np.ndarray]:
        """(RA, Dec) deg of the four corners of the image through the current WCS."""
        ny, nx = self.shape
        ra, dec = self.wcs([-0.5, nx - 0.5, nx - 0.5, -0.5], [-0.5, -0.5, ny - 0.5, ny - 0.5],
                           with_bounding_box=False)
        return np.asarray(ra, dtype=float), np.asarray(dec, dtype=float)


def _gnomonic(ra: np.ndarray, dec: np.ndarray, ra0: float, dec0: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """Sky (deg) -> plain gnomonic plane about (ra0, dec0), arcsec (footprint bookkeeping)."""
    from astropy.modeling import models

    rot = models.RotateCelestial2Native(ra0, dec0, 180.0) | models.Sky2Pix_TAN()
    x, y = rot(ra, dec)
    return np.asarray(x) * 3600.0, np.asarray(y) * 3600.0


class _Footprints:
    """Image footprints in one plane, for the overlap ordering."""

    def __init__(self, entries: list[Entry]) -> None:
        ra0, dec0 = entries[0].corners()
        self.centre = (float(np.mean(ra0)), float(np.mean(dec0)))
        self.poly: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for k, e in enumerate(entries):
            self.poly[k] = _gnomonic(*e.corners(), *self.centre)

    def overlap(self, a: list[int], b: list[int]) -> float:
        total = 0.0
        for i in a:
            for j in b:
                total += kmatch.convex_overlap_area(
                    np.ascontiguousarray(self.poly[i][0]), np.ascontiguousarray(self.poly[i][1]),
                    np.ascontiguousarray(self.poly[j][0]), np.ascontiguousarray(self.poly[j][1]))
        return total


def _groups(entries: list[Entry]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for k, e in enumerate(entries):
        out.setdefault(e.group, []).append(k)
    return out


def align(entries: list[Entry], params: AlignParams, refcat: tuple[np.ndarray, np.ndarray]
          | None = None, enforce_user_order: bool = False,
          expand_refcat: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Align ``entries`` in place (their ``wcs`` and ``fit_info`` are updated).

    Parameters
    ----------
    entries : list of Entry
    params : AlignParams
    refcat : (ra, dec) arrays, deg, optional
        An external reference catalog (absolute alignment); None: relative alignment.
    enforce_user_order, expand_refcat : bool
        As the tweakreg parameters.

    Returns
    -------
    (ra, dec) : the final reference catalog.

    Raises
    ------
    NotEnoughCatalogs
        Fewer than two groups with sources (one, with ``refcat``).
    """
    groups = _groups(entries)
    live: dict[str, list[int]] = {}
    for gid, members in groups.items():
        if sum(entries[k].x.size for k in members) == 0:
            log.warning("Group with ID '%s' will not be aligned: empty source catalog", gid)
            for k in members:
                entries[k].fit_info = {"status": "FAILED: empty source catalog"}
            continue
        live[gid] = members
    if (refcat is None and len(live) < 2) or not live:
        raise NotEnoughCatalogs(
            "Too few input images (or groups of images) with non-empty catalogs.")
    static = enforce_user_order or not expand_refcat
    pending = list(live)
    fp = _Footprints(entries) if not static else None
    aligned: list[int] = []
    if refcat is None:
        if static or len(pending) == 2:
            ref_gid = pending.pop(0)
        else:
            assert fp is not None
            m = np.array([[fp.overlap(live[a], live[b]) if a != b else 0.0 for b in pending]
                          for a in pending])
            i, j = np.unravel_index(int(np.argmax(m)), m.shape)
            if m[i].sum() < m[:, j].sum():
                i, j = j, i
            ref_gid = pending.pop(int(i))
        log.info("Selected image '%s' as reference image", _gname(entries, live[ref_gid]))
        ras, decs = zip(*(entries[k].sky() for k in live[ref_gid]), strict=True)
        ref_ra, ref_dec = np.concatenate(ras), np.concatenate(decs)
        for k in live[ref_gid]:
            entries[k].fit_info = {"status": "REFERENCE"}
        aligned.extend(live[ref_gid])
    else:
        ref_ra, ref_dec = (np.asarray(refcat[0], dtype=float),
                           np.asarray(refcat[1], dtype=float))
    while pending:
        if static or fp is None or not aligned:
            gid = pending.pop(0)
        else:
            areas = [fp.overlap(live[g], aligned) for g in pending]
            gid = pending.pop(int(np.argmax(areas)))
        members = live[gid]
        ok, unmatched = _align_group(entries, members, ref_ra, ref_dec, params)
        if expand_refcat and ok:
            ref_ra = np.concatenate([ref_ra, unmatched[0]])
            ref_dec = np.concatenate([ref_dec, unmatched[1]])
            log.info("Added %d unmatched sources from '%s' to the reference catalog.",
                     unmatched[0].size, _gname(entries, members))
        aligned.extend(members)
    return ref_ra, ref_dec


def _gname(entries: list[Entry], members: list[int]) -> str:
    if len(members) == 1:
        return entries[members[0]].name
    return f"GROUP ID: {entries[members[0]].group}"


def _align_group(entries: list[Entry], members: list[int], ref_ra: np.ndarray,
                 ref_dec: np.ndarray, p: AlignParams
                 ) -> tuple[bool, tuple[np.ndarray, np.ndarray]]:
    """Match, fit and correct one group; returns (success, unmatched sources' (ra, dec))."""
    lead = entries[members[0]]
    name = _gname(entries, members)
    log.info("Aligning image catalog '%s' to the reference catalog.", name)
    ras, decs = zip(*(entries[k].sky() for k in members), strict=True)
    ra, dec = np.concatenate(ras), np.concatenate(decs)
    ix, iy = wc.to_fit_plane(lead.wcs, ra, dec, lead.v2ref, lead.v3ref)
    rx, ry = wc.to_fit_plane(lead.wcs, ref_ra, ref_dec, lead.v2ref, lead.v3ref)
    binsize = wc.pixel_scale(lead.wcs, lead.shape)
    mres = match_catalogs(ix, iy, rx, ry, searchrad=p.searchrad, separation=p.separation,
                          tolerance=p.tolerance, use2dhist=p.use2dhist, xoffset=p.xoffset,
                          yoffset=p.yoffset, binsize=binsize)
    nmatch = mres.img_idx.size
    log.info("Found %d matches for '%s'...", nmatch, name)
    if nmatch < p.minobj:
        log.warning("Not enough matches (< %d) found for image catalog '%s'.", p.minobj, name)
        for k in members:
            entries[k].fit_info = {"status": "FAILED: not enough matches", "nmatches": nmatch}
        return False, (np.zeros(0), np.zeros(0))
    fit = fit_linear(ix[mres.img_idx], iy[mres.img_idx], rx[mres.ref_idx], ry[mres.ref_idx],
                     p.fitgeometry, p.nclip, p.sigma)
    if not np.all(np.isfinite(fit.matrix)):
        for k in members:
            entries[k].fit_info = {"status": "FAILED: degenerate fit", "nmatches": nmatch}
        return False, (np.zeros(0), np.zeros(0))
    log.info("Computed '%s' fit for '%s': XSH: %.6g  YSH: %.6g  ROT: %.6g deg  SCALE: %.8g",
             p.fitgeometry, name, fit.shift[0], fit.shift[1], fit.rotation, fit.scale)
    log.info("FIT RMSE: %.6g arcsec  FIT MAE: %.6g arcsec; final solution based on %d objects.",
             fit.rmse, fit.mae, fit.nkept)
    corr = wc.correction_model(fit.matrix, fit.shift, lead.v2ref, lead.v3ref)
    lead_wcs = lead.wcs
    info = {"status": "SUCCESS", "fitgeom": p.fitgeometry, "matrix": fit.matrix,
            "shift": fit.shift, "rotation": fit.rotation, "scale": fit.scale,
            "skew": fit.skew, "rmse": fit.rmse, "mae": fit.mae, "nmatches": nmatch,
            "nkept": fit.nkept}
    for k in members:
        e = entries[k]
        e.wcs = wc.apply_correction(e.wcs, corr, ref_wcs=lead_wcs)
        e.fit_info = dict(info)
    unmatched = np.ones(ra.size, dtype=bool)
    unmatched[mres.img_idx] = False
    ras, decs = zip(*(entries[k].sky() for k in members), strict=True)
    ra2, dec2 = np.concatenate(ras), np.concatenate(decs)
    return True, (ra2[unmatched], dec2[unmatched])


def max_correction(entries: list[Entry]) -> float:
    """Largest move (arcsec) of an image corner or centre between original and current WCS."""
    worst = 0.0
    for e in entries:
        ny, nx = e.shape
        xs = np.array([-0.5, nx - 0.5, nx - 0.5, -0.5, (nx - 1) / 2.0])
        ys = np.array([-0.5, -0.5, ny - 0.5, ny - 0.5, (ny - 1) / 2.0])
        a = np.radians(np.array(e.original_wcs(xs, ys, with_bounding_box=False), dtype=float))
        b = np.radians(np.array(e.wcs(xs, ys, with_bounding_box=False), dtype=float))
        c = (np.sin(a[1]) * np.sin(b[1]) + np.cos(a[1]) * np.cos(b[1]) * np.cos(a[0] - b[0]))
        sep = np.degrees(np.arccos(np.clip(c, -1.0, 1.0))) * 3600.0
        worst = max(worst, float(np.max(sep)))
    return worst
