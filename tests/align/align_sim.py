"""Simulated cal images for the alignment tests: a star field seen by dithered exposures whose
WCS carries known pointing errors.

Each exposure is a NIRCam-like SUB ``size`` x ``size`` image (the default distortion of
webbflow.wcs), SCI in MJy/sr with pixel-integrated Gaussian stars (FWHM ``fwhm`` pixels) on a
flat sky plus Gaussian noise. The true WCS places the stars; the model's WCS is built from a
pointing perturbed by a shift (arcsec) and a roll error (deg).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import erf

from webbflow.datamodels import ImageModel
from webbflow.wcs import Pointing, default_nircam_distortion, distortion_model, imaging_gwcs

PSCALE = 0.0312  # arcsec / pixel, about


@dataclass
class SimField:
    models: list
    true_wcs: list
    star_ra: np.ndarray
    star_dec: np.ndarray
    pointings: list = field(default_factory=list)


def _render(shape, xs, ys, amps, fwhm):
    img = np.zeros(shape)
    sig = fwhm / 2.3548200450309493
    half = int(np.ceil(5 * sig)) + 1
    ny, nx = shape
    for x, y, a in zip(xs, ys, amps, strict=True):
        ix, iy = int(np.rint(x)), int(np.rint(y))
        x0, x1 = max(0, ix - half), min(nx, ix + half + 1)
        y0, y1 = max(0, iy - half), min(ny, iy + half + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        gx = np.arange(x0, x1)
        gy = np.arange(y0, y1)
        s2 = np.sqrt(2) * sig
        px = 0.5 * (erf((gx + 0.5 - x) / s2) - erf((gx - 0.5 - x) / s2))
        py = 0.5 * (erf((gy + 0.5 - y) / s2) - erf((gy - 0.5 - y) / s2))
        img[y0:y1, x0:x1] += a * 2 * np.pi * sig**2 * np.outer(py, px)
    return img


def make_field(n_exp: int = 4, n_stars: int = 120, size: int = 512, fwhm: float = 2.0,
               shift_err: float = 1.0, rot_err: float = 0.05, sky: float = 0.3,
               noise: float = 0.01, peak_range=(0.5, 20.0), seed: int = 7,
               sky_levels=None, dither: float = 3.0, groups=None) -> SimField:
    """Exposures of one star field; see the module docstring.

    ``shift_err`` arcsec and ``rot_err`` deg bound the uniform pointing errors (exposure 0
    gets errors too); ``sky_levels`` per exposure (default all ``sky``); ``dither`` arcsec
    steps of the dither pattern; ``groups`` optional exposure numbers per model.
    """
    rng = np.random.default_rng(seed)
    sol = default_nircam_distortion()
    dist = distortion_model(sol)
    origin = (1023.5 - size / 2 + 0.5, 1023.5 - size / 2 + 0.5)
    ra0, dec0, roll0 = 53.16, -27.78, 45.0
    # dither offsets in the detector frame, applied as RA/Dec offsets
    pattern = [(0.0, 0.0), (dither, 0.7 * dither), (-0.6 * dither, dither),
               (0.8 * dither, -dither), (-dither, -0.5 * dither), (0.4 * dither, 1.3 * dither)]
    half_field = size * PSCALE / 2 / 3600.0
    star_ra = ra0 + rng.uniform(-1.6, 1.6, n_stars) * half_field / np.cos(np.radians(dec0))
    star_dec = dec0 + rng.uniform(-1.6, 1.6, n_stars) * half_field
    amps = np.exp(rng.uniform(np.log(peak_range[0]), np.log(peak_range[1]), n_stars))
    models, truths, pointings = [], [], []
    for k in range(n_exp):
        dra, ddec = pattern[k % len(pattern)]
        true_p = Pointing(v2_ref=sol.v2_ref, v3_ref=sol.v3_ref,
                          ra_ref=ra0 + dra / 3600.0 / np.cos(np.radians(dec0)),
                          dec_ref=dec0 + ddec / 3600.0, roll_ref=roll0)
        true_wcs = imaging_gwcs(dist, true_p, (size, size), origin)
        x, y = true_wcs.invert(star_ra, star_dec, with_bounding_box=False)
        level = sky if sky_levels is None else sky_levels[k]
        img = _render((size, size), x, y, amps, fwhm) + level
        img += rng.normal(0.0, noise, img.shape)
        ang = rng.uniform(0, 2 * np.pi)
        r = rng.uniform(0.5, 1.0) * shift_err
        err_p = Pointing(v2_ref=sol.v2_ref, v3_ref=sol.v3_ref,
                         ra_ref=true_p.ra_ref + r * np.cos(ang) / 3600.0
                         / np.cos(np.radians(dec0)),
                         dec_ref=true_p.dec_ref + r * np.sin(ang) / 3600.0,
                         roll_ref=roll0 + rng.uniform(-1, 1) * rot_err)
        wcs = imaging_gwcs(dist, err_p, (size, size), origin)
        m = ImageModel()
        m.data = img.astype(np.float32)
        m.dq = np.zeros(img.shape, np.uint32)
        m.err = np.full(img.shape, noise, np.float32)
        m.var_poisson = np.zeros(img.shape, np.float32)
        m.var_rnoise = np.full(img.shape, noise**2, np.float32)
        m.var_flat = np.zeros(img.shape, np.float32)
        m.meta.filename = f"jw01234001001_01101_{k + 1:05d}_nrca1_cal.fits"
        m.meta.instrument.name = "NIRCAM"
        m.meta.instrument.detector = "NRCA1"
        m.meta.exposure.type = "NRC_IMAGE"
        m.meta.observation.program_number = "01234"
        m.meta.observation.observation_number = "001"
        m.meta.observation.visit_number = "001"
        m.meta.observation.visit_group = "01"
        m.meta.observation.sequence_id = "1"
        m.meta.observation.activity_id = "01"
        exp_no = k + 1 if groups is None else groups[k]
        m.meta.observation.exposure_number = f"{exp_no:05d}"
        m.meta.wcsinfo.v2_ref = err_p.v2_ref
        m.meta.wcsinfo.v3_ref = err_p.v3_ref
        m.meta.wcsinfo.ra_ref = err_p.ra_ref
        m.meta.wcsinfo.dec_ref = err_p.dec_ref
        m.meta.wcsinfo.roll_ref = err_p.roll_ref
        m.meta.wcs = wcs
        models.append(m)
        truths.append(true_wcs)
        pointings.append((true_p, err_p))
    return SimField(models, truths, star_ra, star_dec, pointings)


def relative_rms_pixels(field: SimField, wcs_list, size: int = 512) -> float:
    """RMS (pixels) of the sky-position differences of the same stars between exposures.

    For each exposure, each star's true pixel position is mapped to the sky through that
    exposure's WCS; the positions of a star from different exposures are compared pairwise
    (stars inside both images).
    """
    pos = []
    for true_wcs, wcs in zip(field.true_wcs, wcs_list, strict=True):
        x, y = true_wcs.invert(field.star_ra, field.star_dec, with_bounding_box=False)
        inside = (x > 5) & (x < size - 6) & (y > 5) & (y < size - 6)
        ra, dec = wcs(x, y, with_bounding_box=False)
        pos.append((np.where(inside, ra, np.nan), np.where(inside, dec, np.nan)))
    d2 = []
    cosd = np.cos(np.radians(field.star_dec))
    for i in range(len(pos)):
        for j in range(i + 1, len(pos)):
            dx = (pos[i][0] - pos[j][0]) * cosd * 3600.0
            dy = (pos[i][1] - pos[j][1]) * 3600.0
            ok = np.isfinite(dx) & np.isfinite(dy)
            d2.append(dx[ok] ** 2 + dy[ok] ** 2)
    d2 = np.concatenate(d2)
    return float(np.sqrt(np.mean(d2)) / PSCALE)


def absolute_rms_pixels(field: SimField, wcs_list, size: int = 512) -> float:
    """RMS (pixels) of the sky-position errors of the stars through ``wcs_list``."""
    d2 = []
    cosd = np.cos(np.radians(field.star_dec))
    for true_wcs, wcs in zip(field.true_wcs, wcs_list, strict=True):
        x, y = true_wcs.invert(field.star_ra, field.star_dec, with_bounding_box=False)
        inside = (x > 5) & (x < size - 6) & (y > 5) & (y < size - 6)
        ra, dec = wcs(x[inside], y[inside], with_bounding_box=False)
        dx = (ra - field.star_ra[inside]) * cosd[inside] * 3600.0
        dy = (dec - field.star_dec[inside]) * 3600.0
        d2.append(dx**2 + dy**2)
    return float(np.sqrt(np.mean(np.concatenate(d2))) / PSCALE)
