"""The gwcs of an imaging exposure, its FITS SIP approximation and its S_REGION footprint.

Frames, as the official imaging WCS: ``detector`` (0-based pixels of the science array)
-> ``v2v3`` (arcsec) -> ``v2v3vacorr`` (arcsec, velocity aberration applied) -> ``world``
(ICRS, deg). The detector -> V2V3 transform is the DISTORTION reference model (full-frame
0-based pixels -> V2V3) preceded by the filter offset (column, row shift in full-frame pixels)
and by the subarray origin (``SUBSTRT - 1``). The bounding box is the science array,
``(-0.5, n - 0.5)`` per axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from astropy import coordinates as coord
from astropy import units as u
from astropy.modeling import models

from .pointing import Pointing, v23_rotation_model, va_corr_model

__all__ = ["FRAMES", "detector_to_v23", "imaging_gwcs", "s_region", "sip_wcsinfo"]

#: names of the frames, input to output
FRAMES = ("detector", "v2v3", "v2v3vacorr", "world")


def detector_to_v23(distortion: models.Model, origin: tuple[float, float] = (0.0, 0.0),
                    filter_offset: tuple[float, float] = (0.0, 0.0)) -> models.Model:
    """Science-array pixels -> (V2, V3) arcsec.

    Parameters
    ----------
    distortion : astropy Model
        Full-frame 0-based pixels -> V2V3 arcsec, with ``.inverse`` (DISTORTION reference).
    origin : (float, float)
        Full-frame position of the science array's pixel (0, 0): ``(SUBSTRT1 - 1,
        SUBSTRT2 - 1)``.
    filter_offset : (float, float)
        ``(column_offset, row_offset)`` pixels of the FILTEROFFSET row (added before the
        distortion).
    """
    x0 = float(origin[0]) + float(filter_offset[0])
    y0 = float(origin[1]) + float(filter_offset[1])
    if x0 == 0.0 and y0 == 0.0:
        return distortion
    shift = models.Shift(x0) & models.Shift(y0)
    out = shift | distortion
    if distortion.has_inverse():
        out.inverse = distortion.inverse | shift.inverse
    return out


def imaging_gwcs(distortion: models.Model, pointing: Pointing, shape: tuple[int, int],
                 origin: tuple[float, float] = (0.0, 0.0),
                 filter_offset: tuple[float, float] = (0.0, 0.0)) -> Any:
    """The imaging ``gwcs.WCS`` (frames :data:`FRAMES`) of one exposure.

    Parameters
    ----------
    distortion, origin, filter_offset
        See :func:`detector_to_v23`.
    pointing : Pointing
        V2_REF, V3_REF, RA_REF, DEC_REF, ROLL_REF, VA_SCALE.
    shape : (ny, nx)
        Science array shape; sets the bounding box.
    """
    from gwcs import coordinate_frames as cf
    from gwcs import wcs as gwcs_wcs

    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    v2v3 = cf.Frame2D(name="v2v3", axes_order=(0, 1), axes_names=("v2", "v3"),
                      unit=(u.arcsec, u.arcsec))
    v2v3va = cf.Frame2D(name="v2v3vacorr", axes_order=(0, 1), axes_names=("v2", "v3"),
                        unit=(u.arcsec, u.arcsec))
    world = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world")
    dist = detector_to_v23(distortion, origin, filter_offset)
    steps = [(detector, dist), (v2v3, va_corr_model(pointing)),
             (v2v3va, v23_rotation_model(pointing)), (world, None)]
    wcs = gwcs_wcs.WCS(steps)
    ny, nx = shape
    wcs.bounding_box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    return wcs


def sip_wcsinfo(wcs: Any, *, max_pix_error: float = 0.01, degree: int | None = None,
                max_inv_pix_error: float | None = 0.01, inv_degree: int | None = None,
                npoints: int = 12, crpix: tuple[float, float] | None = None,
                ) -> dict[str, Any]:
    """FITS TAN-SIP approximation of ``wcs`` over its bounding box, as ``wcsinfo`` items.

    ``degree``/``inv_degree`` None: the lowest degree (1-6) meeting ``max_pix_error`` /
    ``max_inv_pix_error`` (pixels). ``crpix`` is 1-based; None: the bounding-box centre.

    Returns
    -------
    dict
        ``{"ctype1": "RA---TAN-SIP", "crpix1": ..., "cd1_1": ..., "a_order": ...,
        "a_2_0": ..., "ap_order": ..., ...}`` (keys of ``meta.wcsinfo``), plus
        ``"sip_max_error"``/``"sip_max_inv_error"`` (pixels, the fit's own measure; not
        stored in products).
    """
    hdr = wcs.to_fits_sip(max_pix_error=max_pix_error, degree=degree,
                          max_inv_pix_error=max_inv_pix_error, inv_degree=inv_degree,
                          npoints=npoints, crpix=None if crpix is None else list(crpix))
    out: dict[str, Any] = {}
    for card in hdr.cards:
        key = card.keyword
        if key in ("WCSAXES", "CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2", "CTYPE1", "CTYPE2",
                   "CUNIT1", "CUNIT2", "CD1_1", "CD1_2", "CD2_1", "CD2_2", "A_ORDER",
                   "B_ORDER", "AP_ORDER", "BP_ORDER") or key[:2] in ("A_", "B_") \
                or key[:3] in ("AP_", "BP_"):
            out[key.lower()] = card.value
    out["sip_max_error"] = float(hdr.get("SIPMXERR", np.nan))
    out["sip_max_inv_error"] = float(hdr.get("SIPIVERR", np.nan))
    return out


def s_region(wcs: Any) -> str | None:
    """``POLYGON ICRS  ra1 dec1 ... ra4 dec4`` (deg, 9 decimals) of the bounding-box corners.

    None when a corner is not finite.
    """
    fp = np.asarray(wcs.footprint(center=False, axis_type="spatial"), dtype=float)
    fp[:, 0] = np.mod(fp[:, 0], 360.0)
    if not np.all(np.isfinite(fp)):
        return None
    return "POLYGON ICRS  " + " ".join(f"{v:.9f}" for v in fp.ravel())
