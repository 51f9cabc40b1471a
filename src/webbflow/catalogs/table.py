"""The source catalog table in the official column order, names, units and formats.

Order (jwst 3.0 ``source_catalog``): label, xcentroid, ycentroid, sky_centroid; aperture
local background; for each of the three encircled energies ``aper<EE>_flux``/``_err`` then
``aper_total_flux``/``_err`` (the largest aperture times its correction), the same in AB and
Vega magnitudes; ``CI_<b>_<a>`` concentration indices, is_extended, sharpness, roundness,
nn_label, nn_dist; isophotal flux/magnitudes/area, semimajor_sigma, semiminor_sigma,
ellipticity, orientation, sky_orientation, sky bounding-box corners. Fluxes are in Jy
(MJy/sr x 1e6 x PIXAR_SR); AB = -2.5 log10(flux / Jy) + 8.9, error 2.5 log10(1 + err/flux),
NaN for negative fluxes; Vega = AB - offset.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..kernels import photometry as P
from .detect import Detection
from .reference_data import ApertureParams

__all__ = ["build_catalog", "relabel", "write_ecsv"]


def relabel(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Consecutive labels 1..n in order of the old labels (``relabel=True``)."""
    used = np.unique(labels[labels > 0])
    lut = np.zeros(int(labels.max()) + 1 if labels.size else 1, dtype=np.int32)
    lut[used] = np.arange(1, used.size + 1, dtype=np.int32)
    return lut[labels], int(used.size)


def _abmag(flux: np.ndarray, err: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"):
        mag = -2.5 * np.log10(flux) + 8.9
        mag_err = 2.5 * np.log10(1.0 + err / flux)
    bad = ~(flux >= 0)
    mag[bad] = np.nan
    mag_err[bad] = np.nan
    return mag, mag_err


def _dao_kernel(kernel_fwhm: float) -> tuple[np.ndarray, np.ndarray]:
    """The zero-sum DAOFind kernel and its circular mask."""
    sigma = kernel_fwhm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    rad = max(2.0, 1.5 * sigma)
    size = 2 * int(rad) + 1
    c = (size - 1) / 2.0
    y, x = np.indices((size, size), dtype=np.float64)
    r = np.hypot(x - c, y - c)
    kmask = (r <= rad).astype(np.float64)
    g = np.exp(-((x - c) ** 2 + (y - c) ** 2) / (2 * sigma**2))
    g = g / g.max() * kmask
    npix = kmask.sum()
    denom = np.sum(g**2) - g.sum() ** 2 / npix
    return (g - g.sum() / npix) / denom * kmask, kmask


def _sky_pa(wcs: Any, x: np.ndarray, y: np.ndarray, theta_deg: np.ndarray) -> np.ndarray:
    """Position angle (deg, east of north) of the pixel direction ``theta`` at (x, y)."""
    from astropy.coordinates import SkyCoord

    t = np.radians(theta_deg)
    ra0, dec0 = wcs(x, y, with_bounding_box=False)
    ra1, dec1 = wcs(x + np.cos(t), y + np.sin(t), with_bounding_box=False)
    c0 = SkyCoord(ra0, dec0, unit="deg")
    c1 = SkyCoord(ra1, dec1, unit="deg")
    return np.asarray(c0.position_angle(c1).deg) % 360.0


def build_catalog(model: Any, det: Detection, params: ApertureParams, abvega: float,
                  kernel_fwhm: float, ci_star_thresholds: tuple[float, float]
                  ) -> tuple[Any, np.ndarray]:
    """Measure every segment of ``det`` on ``model`` (MJy/sr).

    Returns
    -------
    (astropy QTable, (ny, nx) uint32 relabelled segmentation map)
    """
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astropy.table import QTable
    from scipy.spatial import cKDTree

    area_sr = model.meta.photometry.pixelarea_steradians
    to_jy = 1.0e6 * float(area_sr) if area_sr else 1.0
    data = np.asarray(model.data, dtype=np.float64) * to_jy
    err = np.asarray(model.err, dtype=np.float64) * to_jy
    sub = det.data * to_jy
    conv = det.conv * to_jy
    labels, n = relabel(det.labels)
    props = np.zeros((n, 12))
    P.segment_properties(sub, conv, err, labels, n, props)
    x = props[:, 3].copy()
    y = props[:, 4].copy()
    mask = ~np.isfinite(data)
    wcs = model.meta.wcs
    cat = QTable()
    cat["label"] = np.arange(1, n + 1, dtype=np.int32)
    cat["xcentroid"] = x
    cat["ycentroid"] = y
    if wcs is not None and n:
        ra, dec = wcs(x, y, with_bounding_box=False)
        cat["sky_centroid"] = SkyCoord(ra, dec, unit="deg")
    else:
        cat["sky_centroid"] = SkyCoord(np.full(n, np.nan), np.full(n, np.nan), unit="deg")
    bkg = np.empty(n)
    bkg_err = np.empty(n)
    P.annulus_background(data, mask, x, y, params.bkg_inner, params.bkg_outer, 3.0, 10,
                         bkg, bkg_err)
    cat["aper_bkg_flux"] = bkg * u.Jy
    cat["aper_bkg_flux_err"] = bkg_err * u.Jy
    fluxes, errors = [], []
    for radius in params.radii:
        f = np.empty(n)
        e = np.empty(n)
        P.aperture_sums(data, err, mask, x, y, float(radius), f, e)
        f -= bkg * math.pi * radius**2
        fluxes.append(f)
        errors.append(e)
    ee = params.aperture_ee
    total = params.corrections[-1] * fluxes[-1]
    total_err = params.corrections[-1] * errors[-1]
    for e_pct, f, e in zip(ee, fluxes, errors):
        cat[f"aper{e_pct}_flux"] = f * u.Jy
        cat[f"aper{e_pct}_flux_err"] = e * u.Jy
    cat["aper_total_flux"] = total * u.Jy
    cat["aper_total_flux_err"] = total_err * u.Jy
    mags = [_abmag(f, e) for f, e in zip(fluxes, errors)] + [_abmag(total, total_err)]
    names = [f"aper{e}" for e in ee] + ["aper_total"]
    for kind, shift in (("abmag", 0.0), ("vegamag", abvega)):
        for name, (m, me) in zip(names, mags):
            cat[f"{name}_{kind}"] = m - shift
            cat[f"{name}_{kind}_err"] = me
    with np.errstate(all="ignore"):
        ci = [fluxes[1] / fluxes[0], fluxes[2] / fluxes[1], fluxes[2] / fluxes[0]]
    cat[f"CI_{ee[1]}_{ee[0]}"] = ci[0]
    cat[f"CI_{ee[2]}_{ee[1]}"] = ci[1]
    cat[f"CI_{ee[2]}_{ee[0]}"] = ci[2]
    cat["is_extended"] = (ci[0] > ci_star_thresholds[0]) & (ci[1] > ci_star_thresholds[1])
    kernel, kmask = _dao_kernel(kernel_fwhm)
    dconv = np.empty_like(data)
    P.convolve_zero(data, kernel, dconv)
    sharp = np.empty(n)
    rnd = np.empty(n)
    P.dao_statistics(np.nan_to_num(data), dconv, kernel, kmask, x, y, sharp, rnd)
    cat["sharpness"] = sharp
    cat["roundness"] = rnd
    ok = np.isfinite(x) & np.isfinite(y)
    nn_label = np.full(n, -1, dtype=np.int32)
    nn_dist = np.full(n, np.nan)
    if np.count_nonzero(ok) > 1:
        pts = np.column_stack([x[ok], y[ok]])
        dist, idx = cKDTree(pts).query(pts, k=[2])
        nn_label[ok] = cat["label"][ok][idx[:, 0]]
        nn_dist[ok] = dist[:, 0]
    cat["nn_label"] = nn_label
    cat["nn_dist"] = nn_dist * u.pix
    iso_mag, iso_mag_err = _abmag(props[:, 0], props[:, 1])
    cat["isophotal_flux"] = props[:, 0] * u.Jy
    cat["isophotal_flux_err"] = props[:, 1] * u.Jy
    cat["isophotal_abmag"] = iso_mag
    cat["isophotal_abmag_err"] = iso_mag_err
    cat["isophotal_vegamag"] = iso_mag - abvega
    cat["isophotal_vegamag_err"] = iso_mag_err
    cat["isophotal_area"] = props[:, 2] * u.pix**2
    cat["semimajor_sigma"] = props[:, 5] * u.pix
    cat["semiminor_sigma"] = props[:, 6] * u.pix
    with np.errstate(all="ignore"):
        cat["ellipticity"] = 1.0 - props[:, 6] / props[:, 5]
    cat["orientation"] = props[:, 7] * u.deg
    if wcs is not None and n:
        cat["sky_orientation"] = _sky_pa(wcs, x, y, props[:, 7]) * u.deg
        for key, bx, by in (("ll", 8, 10), ("ul", 8, 11), ("lr", 9, 10), ("ur", 9, 11)):
            sign_x = -0.5 if bx == 8 else 0.5
            sign_y = -0.5 if by == 10 else 0.5
            ra, dec = wcs(props[:, bx] + sign_x, props[:, by] + sign_y,
                          with_bounding_box=False)
            cat[f"sky_bbox_{key}"] = SkyCoord(ra, dec, unit="deg")
    _describe_and_format(cat)
    cat.meta["aperture_params"] = params.as_meta()
    cat.meta["abvega_offset"] = float(abvega)
    return cat, labels.astype(np.uint32)


_DESCRIPTIONS = {
    "label": "Unique source identification label number",
    "xcentroid": "X pixel value of the source centroid (0 indexed)",
    "ycentroid": "Y pixel value of the source centroid (0 indexed)",
    "sky_centroid": "ICRS Sky coordinate of the source centroid",
    "aper_bkg_flux": "The local background value calculated as the sigma-clipped median "
                     "value in the background annulus aperture",
    "aper_bkg_flux_err": "The standard error of the sigma-clipped median background value",
    "is_extended": "Flag indicating whether the source is extended",
    "sharpness": "The DAOFind source sharpness statistic",
    "roundness": "The DAOFind source roundness statistic",
    "nn_label": "The label number of the nearest neighbor",
    "nn_dist": "The distance in pixels to the nearest neighbor",
    "isophotal_flux": "Isophotal flux",
    "isophotal_flux_err": "Isophotal flux error",
    "isophotal_abmag": "Isophotal AB magnitude",
    "isophotal_abmag_err": "Isophotal AB magnitude error",
    "isophotal_vegamag": "Isophotal Vega magnitude",
    "isophotal_vegamag_err": "Isophotal Vega magnitude error",
    "isophotal_area": "Isophotal area",
    "semimajor_sigma": "1-sigma standard deviation along the semimajor axis of the 2D "
                       "Gaussian function that has the same second-order central moments "
                       "as the source",
    "semiminor_sigma": "1-sigma standard deviation along the semiminor axis of the 2D "
                       "Gaussian function that has the same second-order central moments "
                       "as the source",
    "ellipticity": "1 minus the ratio of the 1-sigma lengths of the semimajor and "
                   "semiminor axes",
    "orientation": "The angle (degrees) between the positive X axis and the major axis "
                   "(increases counter-clockwise)",
    "sky_orientation": "The position angle (degrees) from North of the major axis",
    "sky_bbox_ll": "Sky coordinate of the lower-left vertex of the minimal bounding box "
                   "of the source",
    "sky_bbox_ul": "Sky coordinate of the upper-left vertex of the minimal bounding box "
                   "of the source",
    "sky_bbox_lr": "Sky coordinate of the lower-right vertex of the minimal bounding box "
                   "of the source",
    "sky_bbox_ur": "Sky coordinate of the upper-right vertex of the minimal bounding box "
                   "of the source",
}


def _describe_and_format(cat: Any) -> None:
    for name in cat.colnames:
        col = cat[name]
        desc = _DESCRIPTIONS.get(name)
        if desc is None and name.startswith("CI_"):
            b, a = name[3:].split("_")
            desc = f"Concentration index calculated as (aper{b}_flux / aper{a}_flux)"
        if desc is None and name.startswith("aper"):
            kind = "Flux" if "flux" in name else (
                "AB magnitude" if "abmag" in name else "Vega magnitude")
            what = " error" if name.endswith("_err") else ""
            desc = (f"Total aperture-corrected {kind.lower()}{what}" if "total" in name
                    else f"{kind}{what} within the {name[4:6]}% encircled energy circular "
                    "aperture")
        col.info.description = desc or name
        if name in ("xcentroid", "ycentroid") or name.startswith("CI_"):
            col.info.format = ".4f"
        elif "flux" in name:
            col.info.format = ".6e"
        elif ("abmag" in name or "vegamag" in name or name in (
                "nn_dist", "sharpness", "roundness", "semimajor_sigma", "semiminor_sigma",
                "ellipticity", "orientation", "sky_orientation")):
            col.info.format = ".6f"


def write_ecsv(catalog: Any, path: str | Path) -> str:
    """Write the catalog as ECSV atomically (temporary name, then rename)."""
    import os
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        catalog.write(tmp, format="ascii.ecsv", overwrite=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return str(path)
