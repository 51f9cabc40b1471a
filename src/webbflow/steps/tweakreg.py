"""tweakreg: align the WCS of the exposures of an association to each other and, optionally,
to an absolute reference catalog file.

As the official step (jwst 3.0 ``TweakRegStep``; parameters and defaults the same):

1. Per exposure, point sources are found on SCI (``starfinder``, ``snr_threshold``,
   ``kernel_fwhm``, ``bkg_boxsize``, ``sharplo/hi``, ``roundlo/hi``, ``brightest``,
   ``peakmax``...; :mod:`webbflow.align.catalogs`) or read from a user catalog
   (``use_custom_catalogs``, ``catfile`` or ``meta.tweakreg_catalog``), kept inside the WCS
   bounding box, optionally saved (``save_catalogs``: ``<name>_cat.ecsv|fits``, recorded in
   TCATFILE).
2. Exposures of one group (same ``group_id``: program, observation, visit, visit group,
   sequence, activity, exposure number) are aligned as one. With at least two groups, they are
   aligned relative to each other (``enforce_user_order``, ``expand_refcat``, ``minobj``,
   ``searchrad``, ``use2dhist``, ``separation``, ``tolerance``, ``xoffset``, ``yoffset``,
   ``fitgeometry``, ``nclip``, ``sigma``; :mod:`webbflow.align.solver`); corrections larger than
   ``2 (searchrad + tolerance)`` arcsec void the relative alignment, as officially.
3. With ``abs_refcat`` a catalog file (ECSV, FITS... with RA and DEC columns), all exposures
   are then aligned as one group to it (``abs_*`` parameters). The Gaia names need the
   catalog web service, which webbflow does not call: a one-line error says so.
4. Successful fits replace ``meta.wcs`` (frame ``v2v3corr`` inserted before ``world``), the
   S_REGION and the SIP approximation in ``meta.wcsinfo`` (``sip_*``); S_TWKREG is COMPLETE,
   or SKIPPED when nothing could be aligned.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from ..align import catalogs as cats
from ..align import solver
from ..align.exposure import Exposure, as_exposures, results_like
from ..align.wcs_correction import frame_to_world, update_fits_wcsinfo
from ..datamodels import DataModel
from ..datamodels import open as open_model
from ..datamodels.dqflags import PIXEL
from ..errors import InputError, ParameterError, input_error
from ..stpipe.params import Param
from ..stpipe.step import Step

__all__ = ["SINGLE_GROUP_REFCAT", "TweakRegStep", "group_id", "load_models"]

#: catalog names the official step fetches from the Gaia web service
SINGLE_GROUP_REFCAT = ("GAIAREFCAT", "GAIADR3", "GAIADR2", "GAIADR1")
#: meta paths forming the group id, in order
GROUP_KEYS = ("observation.program_number", "observation.observation_number",
              "observation.visit_number", "observation.visit_group",
              "observation.sequence_id", "observation.activity_id",
              "observation.exposure_number")
_SQRT2 = float(np.sqrt(2.0))

_GEOMS = ("shift", "rshift", "rscale", "general")


def _spec() -> dict[str, Param]:
    P = Param
    return {
        "save_catalogs": P("boolean", False, "Write out catalogs?"),
        "use_custom_catalogs": P("boolean", False, "Use custom user-provided catalogs?"),
        "catalog_format": P("option", "ecsv", "Catalog output file format",
                            options=("ecsv", "fits")),
        "catfile": P("string", "", "File listing custom catalogs: lines 'image catalog'"),
        "starfinder": P("option", "iraf", "Star finder to use",
                        options=("dao", "iraf", "segmentation")),
        "snr_threshold": P("float", 10.0, "SNR threshold above the background", min=0.0),
        "kernel_fwhm": P("float", 2.5, "Gaussian kernel FWHM, pixels", min=0.0),
        "bkg_boxsize": P("integer", 400, "Background mesh box size, pixels", min=1),
        "minsep_fwhm": P("float", 0.0, "Minimum separation of sources, in FWHM", min=0.0),
        "sigma_radius": P("float", 1.5, "Truncation radius of the kernel, in sigma", min=0.0),
        "sharplo": P("float", 0.5, "Lower bound on sharpness"),
        "sharphi": P("float", 2.0, "Upper bound on sharpness"),
        "roundlo": P("float", 0.0, "Lower bound on roundness"),
        "roundhi": P("float", 0.2, "Upper bound on roundness"),
        "brightest": P("integer", 200, "Keep the brightest N sources", min=0),
        "peakmax": P("float", None, "Drop sources with a peak pixel >= peakmax"),
        "npixels": P("integer", 10, "Minimum connected pixels (segmentation)", min=1),
        "connectivity": P("integer", 8, "Pixel connectivity, 4 or 8 (segmentation)",
                          min=4, max=8),
        "nlevels": P("integer", 32, "Deblending levels (segmentation; deblending not "
                     "implemented)"),
        "contrast": P("float", 0.001, "Deblending contrast (not implemented)"),
        "multithresh_mode": P("option", "exponential", "Deblending mode (not implemented)",
                              options=("exponential", "linear", "sinh")),
        "localbkg_width": P("integer", 0, "Local background annulus width (not used)"),
        "apermask_method": P("option", "correct", "Neighbour handling (not used)",
                             options=("correct", "mask", "none")),
        "kron_params": P("float_list", None, "Kron aperture parameters (not used)"),
        "deblend": P("boolean", True, "Deblend sources? (segmentation; not implemented)"),
        "enforce_user_order": P("boolean", False, "Align images in user specified order?"),
        "expand_refcat": P("boolean", False, "Expand reference catalog with new sources?"),
        "minobj": P("integer", 15, "Minimum number of objects acceptable for matching",
                    min=1),
        "fitgeometry": P("option", "rshift", "Fitting geometry", options=_GEOMS),
        "nclip": P("integer", 3, "Number of clipping iterations in fit", min=0),
        "sigma": P("float", 3.0, "Clipping limit in sigma units", min=0.0),
        "searchrad": P("float", 2.0, "The search radius in arcsec for a match", min=0.0),
        "use2dhist": P("boolean", True, "Use 2d histogram to find initial offset?"),
        "separation": P("float", 1.0, "Minimum object separation in arcsec", min=0.0),
        "tolerance": P("float", 0.7, "Matching tolerance in arcsec", min=0.0),
        "xoffset": P("float", 0.0, "Initial guess for X offset in arcsec"),
        "yoffset": P("float", 0.0, "Initial guess for Y offset in arcsec"),
        "abs_refcat": P("string", "", "Absolute reference catalog file (RA, DEC columns)"),
        "save_abs_catalog": P("boolean", False, "Write out the absolute reference catalog"),
        "abs_minobj": P("integer", 15, "Minimum number of objects (absolute)", min=1),
        "abs_fitgeometry": P("option", "rshift", "Fitting geometry (absolute)",
                             options=_GEOMS),
        "abs_nclip": P("integer", 3, "Clipping iterations (absolute)", min=0),
        "abs_sigma": P("float", 3.0, "Clipping limit in sigma (absolute)", min=0.0),
        "abs_searchrad": P("float", 6.0, "Search radius in arcsec (absolute)", min=0.0),
        "abs_use2dhist": P("boolean", True, "Use 2D histogram (absolute)"),
        "abs_separation": P("float", 1.0, "Minimum object separation in arcsec (absolute)",
                            min=0.0),
        "abs_tolerance": P("float", 0.7, "Matching tolerance in arcsec (absolute)", min=0.0),
        "sip_approx": P("boolean", True, "Enables SIP approximation for imaging modes"),
        "sip_max_pix_error": P("float", 0.01, "Max error for SIP fit, forward", min=0.0),
        "sip_degree": P("integer", None, "Degree for forward SIP fit, None: best", min=1,
                        max=6),
        "sip_max_inv_pix_error": P("float", 0.01, "Max error for SIP fit, inverse", min=0.0),
        "sip_inv_degree": P("integer", None, "Degree for inverse SIP fit, None: best",
                            min=1, max=6),
        "sip_npoints": P("integer", 12, "Number of points for SIP", min=3),
        "in_memory": P("boolean", True, "Keep file inputs in memory (False: their pixels "
                       "are read one exposure at a time)"),
    }


def group_id(model: DataModel | Exposure) -> str:
    """Exposure group id (``jw<prog><obs><visit>_<vgrp><seq><act>_<expnum>``); the file name
    when those keywords are absent."""
    vals = [model.meta.get(k) for k in GROUP_KEYS]
    if all(v is None for v in vals):
        return str(model.meta.filename or id(model))
    p, o, v, vg, s, a, e = (str(x if x is not None else "") for x in vals)
    return f"jw{p}{o}{v}_{vg}{s}{a}_{e}"


def load_models(items: Any) -> list[DataModel]:
    """The input as a list of models (a model, a path, or a list of either)."""
    if isinstance(items, DataModel | str | os.PathLike):
        items = [items]
    out = []
    for item in items:
        out.append(item if isinstance(item, DataModel) else open_model(item))
    return out


class TweakRegStep(Step):
    """Image alignment based on catalogs of sources detected in the input images."""

    class_alias = "tweakreg"
    spec = _spec()

    def process(self, model: Any) -> list[Any]:
        exposures = as_exposures(model, self.in_memory)
        if not exposures:
            raise InputError(f"{self.name}: the input contains no image")
        for e in exposures:
            self._check_model(e)
        self._check_params()
        groups = {group_id(e) for e in exposures}
        refcat_path = (self.abs_refcat or "").strip()
        if refcat_path.lower() in ("none", ""):
            refcat_path = ""
        if refcat_path:
            self._check_refcat(refcat_path)
        elif not self.save_catalogs and len(groups) == 1:
            self.log.warning("At least two exposures are required for image alignment.")
            self.log.warning("Nothing to do. Skipping 'TweakRegStep'...")
            return self.skip_step(results_like(model, exposures),
                                  "a single exposure group and no reference catalog")
        entries = [self._entry(e) for e in exposures]  # one exposure's pixels at a time
        self.log.info("Number of image groups to be aligned: %d.", len(groups))
        relative_ok = False
        if len(groups) > 1:
            relative_ok = self._relative(entries)
        if refcat_path:
            if not self._absolute(entries, refcat_path):
                return self.skip_step(results_like(model, exposures),
                                      "alignment to the reference catalog failed")
        elif not relative_ok:
            return self.skip_step(results_like(model, exposures), "relative alignment failed")
        for exp, e in zip(exposures, entries, strict=True):
            if e.fit_info.get("status") != "SUCCESS":
                continue
            if refcat_path:
                e.wcs.name = f"FIT-LVL3-{refcat_path}"
            exp.meta.wcs = e.wcs
            if self.sip_approx:
                try:
                    update_fits_wcsinfo(exp, max_pix_error=self.sip_max_pix_error,
                                        degree=self.sip_degree,
                                        max_inv_pix_error=self.sip_max_inv_pix_error,
                                        inv_degree=self.sip_inv_degree,
                                        npoints=self.sip_npoints)
                except (ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
                    self.log.warning("Failed to update 'meta.wcsinfo' with FITS SIP "
                                     "approximation: %s", exc)
        return results_like(model, exposures)

    # ------------------------------------------------------------------ checks
    def _check_model(self, m: Exposure) -> None:
        name = m.name
        if m.meta.wcs is None:
            raise input_error(name, f"{self.name} needs a WCS (meta.wcs); run assign_wcs "
                                    "first")

    def _check_params(self) -> None:
        if self.connectivity not in (4, 8):
            raise ParameterError(f"{self.name}.connectivity: must be 4 or 8, got "
                                 f"{self.connectivity}")

    def _check_refcat(self, path: str) -> None:
        if path.upper() in SINGLE_GROUP_REFCAT or path.upper().startswith("GAIA"):
            raise ParameterError(
                f"{self.name}.abs_refcat: {path!r} is an online Gaia catalog and webbflow has "
                "no network access to the catalog service; give a catalog file (ECSV/FITS "
                "with RA and DEC columns) instead")
        if not Path(path).is_file():
            raise input_error(path, f"{self.name}.abs_refcat: no such catalog file")

    # ------------------------------------------------------------------ catalogs
    def _entry(self, m: Exposure) -> solver.Entry:
        table = self._catalog(m)
        ny, nx = m.shape
        x = np.asarray(table["x"], dtype=float) if len(table) else np.zeros(0)
        y = np.asarray(table["y"], dtype=float) if len(table) else np.zeros(0)
        inside = (x >= -0.5) & (x <= nx - 0.5) & (y >= -0.5) & (y <= ny - 0.5)
        x, y = x[inside], y[inside]
        name = str(m.meta.filename or "image")
        if x.size == 0:
            self.log.warning("No sources found in %s.", name)
        else:
            self.log.info("Detected %d sources in %s.", x.size, name)
        v2ref, v3ref = _tangent_point(m.meta, m.shape)
        return solver.Entry(name=name, group=group_id(m), wcs=m.meta.wcs, shape=(ny, nx),
                            x=x, y=y, v2ref=v2ref, v3ref=v3ref)

    def _catalog(self, m: Exposure) -> Table:
        user = self._user_catalog(m)
        if user is not None:
            self.log.info("Using user-provided input catalog '%s'", user)
            return cats.read_user_catalog(user)
        bad = PIXEL["DO_NOT_USE"]
        pixels = m.open(("dq",))  # SCI + DQ only; released on return
        table = cats.make_catalog(pixels, cats.FinderParams.from_step(self), bad)
        del pixels
        if self.save_catalogs:
            m.meta.tweakreg_catalog = self._write_catalog(table, str(m.meta.filename or
                                                                     "image.fits"))
        return table

    def _user_catalog(self, m: Exposure) -> str | None:
        if not self.use_custom_catalogs:
            return None
        name = Path(str(m.meta.filename or "")).name
        if (self.catfile or "").strip():
            catdict = _parse_catfile(self.catfile)
            if not catdict:
                self.log.warning("'use_custom_catalogs' is set to True but 'catfile' contains "
                                 "no user catalogs. Turning on built-in catalog creation.")
                return None
            return catdict.get(name)
        cat = m.meta.tweakreg_catalog
        return str(cat) if cat and str(cat).strip() else None

    def _write_catalog(self, table: Table, filename: str) -> str:
        catname = Path(filename).name.replace(".fits", f"_cat.{self.catalog_format}")
        out_dir = self._output_dir()
        path = Path(out_dir) / catname if out_dir else Path(catname)
        fmt = "ascii.ecsv" if self.catalog_format == "ecsv" else "fits"
        tmp = path.with_name(f".{path.name}.tmp")
        table.write(tmp, format=fmt, overwrite=True)
        os.replace(tmp, path)
        self.log.info("Wrote source catalog: %s", path)
        return catname

    # ------------------------------------------------------------------ alignment
    def _relative(self, entries: list[solver.Entry]) -> bool:
        if self.separation <= _SQRT2 * self.tolerance:
            self.log.warning("Parameter 'separation' must be larger than 'tolerance' by at "
                             "least a factor of sqrt(2) to avoid source confusion.")
            return False
        params = solver.AlignParams(
            searchrad=self.searchrad, separation=self.separation, tolerance=self.tolerance,
            use2dhist=self.use2dhist, xoffset=self.xoffset, yoffset=self.yoffset,
            minobj=self.minobj, fitgeometry=self.fitgeometry, nclip=self.nclip,
            sigma=self.sigma)
        try:
            solver.align(entries, params, enforce_user_order=self.enforce_user_order,
                         expand_refcat=self.expand_refcat)
        except solver.NotEnoughCatalogs as exc:
            self.log.warning("%sAt least two exposures are required for image alignment. "
                             "Nothing to do.", exc)
            return False
        if self.use2dhist:
            max_corr = 2 * (self.searchrad + self.tolerance)
        else:
            max_corr = 2 * (max(abs(self.xoffset), abs(self.yoffset)) + self.tolerance)
        moved = solver.max_correction(entries)
        if not moved < max_corr:
            self.log.warning("WCS has been tweaked by more than %s arcsec (%.3g arcsec) "
                             "Skipping relative alignment...", 10 * self.tolerance, moved)
            for e in entries:
                e.wcs = e.original_wcs
                e.fit_info = {"status": "FAILED: correction too large"}
            return False
        return any(e.fit_info.get("status") == "SUCCESS" for e in entries)

    def _absolute(self, entries: list[solver.Entry], path: str) -> bool:
        self.log.info("Aligning to absolute reference catalog: %s", path)
        if self.abs_separation <= _SQRT2 * self.abs_tolerance:
            self.log.warning("Parameter 'abs_separation' must be larger than 'abs_tolerance' "
                             "by at least a factor of sqrt(2) to avoid source confusion.")
            return False
        ra, dec = _read_refcat(path)
        if ra.size < self.abs_minobj:
            self.log.warning("Not enough sources (%d) in the reference catalog for the "
                             "single-group alignment step to perform a fit. Skipping "
                             "alignment to the input reference catalog!", ra.size)
            return False
        if self.save_abs_catalog:
            out = Path(self._output_dir() or ".") / f"fit_{Path(path).stem}_ref.ecsv"
            Table({"RA": ra, "DEC": dec}).write(out, format="ascii.ecsv", overwrite=True)
            self.log.info("Wrote reference catalog: %s", out)
        for e in entries:
            e.group = "987654"
            e.original_wcs = e.wcs
            if e.fit_info.get("status") == "REFERENCE":
                e.fit_info = {"status": "SKIPPED"}
        params = solver.AlignParams(
            searchrad=self.abs_searchrad, separation=self.abs_separation,
            tolerance=self.abs_tolerance, use2dhist=self.abs_use2dhist, minobj=self.abs_minobj,
            fitgeometry=self.abs_fitgeometry, nclip=self.abs_nclip, sigma=self.abs_sigma)
        try:
            solver.align(entries, params, refcat=(ra, dec), enforce_user_order=True,
                         expand_refcat=False)
        except solver.NotEnoughCatalogs as exc:
            self.log.warning("%sAt least one exposure is required to align images to an "
                             "absolute reference catalog. Alignment to an absolute reference "
                             "catalog will not be performed.", exc)
            return False
        return any(e.fit_info.get("status") == "SUCCESS" for e in entries)


def _tangent_point(meta: Any, shape: tuple[int, int]) -> tuple[float, float]:
    """(V2_REF, V3_REF) arcsec, or the pre-world frame position of the image centre."""
    v2 = meta.get("wcsinfo.v2_ref")
    v3 = meta.get("wcsinfo.v3_ref")
    if v2 is not None and v3 is not None:
        return float(v2), float(v3)
    wcs = meta.wcs
    ny, nx = shape
    ra, dec = wcs((nx - 1) / 2.0, (ny - 1) / 2.0, with_bounding_box=False)
    a, b = frame_to_world(wcs).inverse(ra, dec)
    return float(a), float(b)


def _read_refcat(path: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        table = Table.read(path)
    except Exception as exc:  # astropy raises many kinds for unreadable tables
        raise input_error(path, f"cannot read the reference catalog: {exc}") from None
    cols = {c.lower(): c for c in table.colnames}
    if "ra" not in cols or "dec" not in cols:
        raise input_error(path, "reference catalog needs RA and DEC columns (deg)")
    ra = np.asarray(table[cols["ra"]], dtype=float)
    dec = np.asarray(table[cols["dec"]], dtype=float)
    ok = np.isfinite(ra) & np.isfinite(dec)
    return ra[ok], dec[ok]


def _parse_catfile(path: str) -> dict[str, str]:
    """``image catalog`` pairs per line (catalog paths relative to the catfile's folder)."""
    p = Path(path)
    if not p.is_file():
        raise input_error(path, "tweakreg.catfile: no such file")
    out: dict[str, str] = {}
    for line in p.read_text().splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 2:
            cat = Path(parts[1])
            out[Path(parts[0]).name] = str(cat if cat.is_absolute() else p.parent / cat)
    return out
