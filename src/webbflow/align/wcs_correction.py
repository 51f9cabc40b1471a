"""Tangent-plane corrections of an imaging gwcs (what tweakreg writes back).

The correction is an affine transform in the tangent plane of the telescope (V2, V3) frame at
the aperture reference point (V2_REF, V3_REF), as officially: the frame ``v2v3corr`` is
inserted before ``world`` (``detector -> v2v3 -> v2v3vacorr -> v2v3corr -> world``) with the
transform ``tangent plane | affine | inverse tangent plane``; a later correction is composed
onto the same frame. The transform is built from standard astropy models only (it saves to
ASDF and inverts exactly). To keep the V2 longitude away from the 0/360 wrap, V2 is carried
shifted by 180 deg through the spherical projection.

A correction fitted in the frame of one exposure (``F0``, with ``R0: F0 -> world``) is carried
to another exposure of the same group (``Rk: Fk -> world``) as ``Rk | R0^-1 | C | R0 | Rk^-1``,
which is exact whatever the two attitudes.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from astropy import units as u
from astropy.modeling import models

__all__ = ["CORR_FRAME", "apply_correction", "correction_model", "frame_to_world",
           "pixel_scale", "tangent_plane", "to_fit_plane", "update_fits_wcsinfo"]

log = logging.getLogger("webbflow.tweakreg")

#: name of the corrected telescope frame, as officially
CORR_FRAME = "v2v3corr"
_HALF_TURN = 648000.0  # arcsec


def tangent_plane(v2ref: float, v3ref: float) -> models.Model:
    """(V2, V3) arcsec -> gnomonic tangent-plane (x, y) arcsec about (v2ref, v3ref), with the
    exact inverse attached."""
    lon0 = (v2ref + _HALF_TURN) / 3600.0
    lat0 = v3ref / 3600.0
    fwd = ((models.Shift(_HALF_TURN) & models.Identity(1))
           | (models.Scale(1 / 3600.0) & models.Scale(1 / 3600.0))
           | models.RotateCelestial2Native(lon0, lat0, 180.0) | models.Sky2Pix_TAN()
           | (models.Scale(3600.0) & models.Scale(3600.0)))
    inv = ((models.Scale(1 / 3600.0) & models.Scale(1 / 3600.0)) | models.Pix2Sky_TAN()
           | models.RotateNative2Celestial(lon0, lat0, 180.0)
           | (models.Scale(3600.0) & models.Scale(3600.0))
           | (models.Shift(-_HALF_TURN) & models.Identity(1)))
    fwd.inverse = inv
    inv.inverse = fwd
    return fwd


def correction_model(matrix: np.ndarray, shift: np.ndarray, v2ref: float,
                     v3ref: float) -> models.Model:
    """(V2, V3) -> corrected (V2, V3), arcsec: ``tp^-1(M @ tp(v) + t)``.

    Parameters
    ----------
    matrix : array [2, 2]
        Linear part in the tangent plane.
    shift : array [2]
        Translation, arcsec.
    v2ref, v3ref : float
        Tangent point, arcsec.
    """
    tp = tangent_plane(v2ref, v3ref)
    aff = models.AffineTransformation2D(matrix=np.asarray(matrix, dtype=float),
                                        translation=np.asarray(shift, dtype=float))
    aff.name = "tp_affine"
    model = tp | aff | tp.inverse
    model.inverse = tp | aff.inverse | tp.inverse
    model.name = "tangent_plane_correction"
    return model


def _steps(wcs: Any) -> list[tuple[Any, Any]]:
    return [(step.frame, step.transform) for step in wcs.pipeline]


def prefinal_frame(wcs: Any) -> str:
    """Name of the frame just before the output (world) frame."""
    return wcs.available_frames[-2]


def frame_to_world(wcs: Any) -> models.Model:
    """The last transform of ``wcs`` (pre-world frame -> world)."""
    frames = wcs.available_frames
    return wcs.get_transform(frames[-2], frames[-1])


def to_fit_plane(wcs: Any, ra: np.ndarray, dec: np.ndarray, v2ref: float,
                 v3ref: float) -> tuple[np.ndarray, np.ndarray]:
    """Sky positions (deg) -> tangent plane (arcsec) of the pre-world frame of ``wcs``."""
    rot = frame_to_world(wcs)
    a, b = rot.inverse(np.asarray(ra, dtype=float), np.asarray(dec, dtype=float))
    a = np.asarray(a, dtype=float)
    a = np.where(a - v2ref > _HALF_TURN, a - 2 * _HALF_TURN, a)
    a = np.where(a - v2ref < -_HALF_TURN, a + 2 * _HALF_TURN, a)
    return tangent_plane(v2ref, v3ref)(a, np.asarray(b, dtype=float))


def apply_correction(wcs: Any, corr: models.Model, ref_wcs: Any | None = None) -> Any:
    """A copy of ``wcs`` with ``corr`` (a correction in the pre-world frame of ``ref_wcs``,
    default ``wcs`` itself) applied in its ``v2v3corr`` frame."""
    from gwcs import coordinate_frames as cf
    from gwcs import wcs as gwcs_wcs

    rot = frame_to_world(wcs)
    if ref_wcs is not None and ref_wcs is not wcs:
        rot0 = frame_to_world(ref_wcs)
        carried = rot | rot0.inverse | corr | rot0 | rot.inverse
        carried.inverse = rot | rot0.inverse | corr.inverse | rot0 | rot.inverse
        corr = carried
    steps = _steps(wcs)
    if steps[-2][0].name == CORR_FRAME and len(steps) >= 3:
        prev_frame, prev_tr = steps[-3]
        new_tr = prev_tr | corr
        if prev_tr.has_inverse():
            new_tr.inverse = corr.inverse | prev_tr.inverse
        steps[-3] = (prev_frame, new_tr)
    else:
        pre_frame, last = steps[-2]
        unit = getattr(pre_frame, "unit", None) or (u.arcsec, u.arcsec)
        corr_frame = cf.Frame2D(name=CORR_FRAME, axes_order=(0, 1), axes_names=("v2", "v3"),
                                unit=tuple(unit))
        steps = [*steps[:-2], (pre_frame, corr), (corr_frame, last), steps[-1]]
    # transforms are shared with ``wcs``, not copied: nothing modifies a transform in place,
    # and a deep copy of a distortion model cost ~0.1 s per exposure
    out = gwcs_wcs.WCS(steps, name=getattr(wcs, "name", None))
    try:
        out.bounding_box = wcs.bounding_box
    except (NotImplementedError, AttributeError):
        pass
    return out


def pixel_scale(wcs: Any, shape: tuple[int, int]) -> float:
    """Approximate pixel scale (arcsec) at the centre of an image of ``shape`` (ny, nx)."""
    ny, nx = shape
    x0, y0 = (nx - 1) / 2.0, (ny - 1) / 2.0
    ra, dec = wcs([x0, x0 + 1.0, x0], [y0, y0, y0 + 1.0], with_bounding_box=False)
    ra = np.radians(np.asarray(ra, dtype=float))
    dec = np.radians(np.asarray(dec, dtype=float))

    def sep(i: int, j: int) -> float:
        c = (np.sin(dec[i]) * np.sin(dec[j])
             + np.cos(dec[i]) * np.cos(dec[j]) * np.cos(ra[i] - ra[j]))
        return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))) * 3600.0)

    return float(np.sqrt(sep(0, 1) * sep(0, 2)))


def update_fits_wcsinfo(model: Any, *, max_pix_error: float = 0.01, degree: int | None = None,
                        max_inv_pix_error: float | None = 0.01,
                        inv_degree: int | None = None, npoints: int = 12) -> None:
    """Refresh ``meta.wcsinfo`` (FITS TAN-SIP approximation) and ``S_REGION`` from
    ``model.meta.wcs``; uses :func:`webbflow.wcs.sip_wcsinfo` / :func:`webbflow.wcs.s_region`
    (the assign_wcs helpers)."""
    from ..wcs import s_region, sip_wcsinfo

    wcs = model.meta.wcs
    region = s_region(wcs)
    if region is not None:
        model.meta.wcsinfo.s_region = region
    sip = sip_wcsinfo(wcs, max_pix_error=max_pix_error, degree=degree,
                      max_inv_pix_error=max_inv_pix_error, inv_degree=inv_degree,
                      npoints=npoints)
    info = model.meta.wcsinfo
    for key in [k for k, _ in info.items() if k.startswith(("a_", "b_", "ap_", "bp_"))]:
        delattr(info, key)
    for key, value in sip.items():
        if not key.startswith("sip_"):
            model.meta.set(f"wcsinfo.{key}", value)
