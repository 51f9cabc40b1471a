"""Stage-3 references of the demo (APCORR, ABVEGAOFFSET), consistent with its stellar PSF.

The demo's stars are Moffat profiles with β = 2 (``sky.PSF_BETA``). The aperture corrections
must describe the PSF *as source_catalog measures it on the i2d mosaic*, which is the
continuous Moffat convolved with four unit boxes (widths in native pixels):

1. the detector pixel (the demo integrates the PSF over each pixel);
2. and 3. the drizzle: an output pixel is the overlap-weighted mean of the input pixels
   (footprint ``pixfrac`` = 1 native pixel) falling on it (output pixel 1 native pixel at the
   default ``pixel_scale_ratio`` = 1); averaged over sub-pixel phases that is a convolution
   with both boxes (a triangle);
4. the aperture sum itself: photutils' exact apertures treat each mosaic pixel as constant
   over its area, which over sub-pixel phases is one more box.

The demo's IPC is not included: Detector1's ``ipc`` step removes it with the same kernel.
Against the continuous Moffat, the 70 % radius of the continuous profile encloses 66.5 % of
the mosaic PSF (69.2, 68.3, 67.4 % after one, two, three boxes); NIRCam's APCORR files are
likewise derived from the PSF as it appears in i2d products.

For each encircled-energy fraction the aperture radius is the EE inverse, and the aperture
correction turns a background-subtracted aperture sum (local background: the ``skyin`` -
``skyout`` annulus, which still holds some PSF light) into the total flux:
apcorr = 1 / (EE(r) − πr² · (EE(r_out) − EE(r_in)) / (π(r_out² − r_in²))).

The encircled energies are computed numerically: the profile sampled on a grid of 1/31 pixel
(each unit box is then a centred running mean of 31 samples), summed within each radius.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from ..references.models import ABVegaOffsetModel, NrcImgApcorrModel
from .sky import _ALPHA, PSF_BETA

#: encircled-energy fractions tabulated, as the NIRCam APCORR references do (0.1–0.8)
EE_FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
#: background annulus (native pixels), outside the PSF core
SKY_IN, SKY_OUT = 15.0, 20.0
#: m_AB − m_Vega of the demo filters (approximate NIRCam values; the demo's own choice)
AB_MINUS_VEGA = {"F090W": 0.51, "F115W": 0.79, "F150W": 1.22, "F200W": 1.70}
#: widths (native pixels) of the boxes the mosaic PSF is convolved with: detector pixel,
#: drizzle input footprint (pixfrac 1), output pixel (scale ratio 1), aperture pixelisation
MOSAIC_BOXES = (1.0, 1.0, 1.0, 1.0)
#: samples per native pixel of the numerical encircled energy (odd: boxes stay centred)
_SAMPLES_PER_PIXEL = 31


def moffat_surface_density(r2: np.ndarray) -> np.ndarray:
    """The demo's unit-flux Moffat PSF at squared radius ``r2`` (pixels²), per pixel²."""
    return (PSF_BETA - 1.0) / (math.pi * _ALPHA * _ALPHA) * (1.0 + r2 / _ALPHA**2) ** (
        -PSF_BETA)


def moffat_encircled_energy(r: float) -> float:
    """Fraction of the continuous Moffat's flux within ``r`` pixels (analytic)."""
    return 1.0 - (1.0 + (r / _ALPHA) ** 2) ** (1.0 - PSF_BETA)


def _running_box(image: np.ndarray, width: int, axis: int) -> np.ndarray:
    """Centred running mean of ``width`` (odd) samples along ``axis``, zero outside."""
    half = width // 2
    pad = [(0, 0), (0, 0)]
    pad[axis] = (half + 1, half)
    c = np.cumsum(np.pad(image, pad), axis=axis)
    n = image.shape[axis]
    hi = np.take(c, np.arange(width, width + n), axis=axis)
    lo = np.take(c, np.arange(0, n), axis=axis)
    return (hi - lo) / width


class EncircledEnergy:
    """Encircled energy of a circular profile convolved with square boxes.

    Parameters
    ----------
    profile : callable
        Circular surface density (flux per pixel², total 1) of squared radius (pixels²).
    boxes : tuple of float
        Widths (pixels) of the square boxes (unit area) the profile is convolved with; each
        must be an odd number of samples (``width * samples_per_pixel``).
    r_max : float
        Largest radius asked for (pixels).
    samples_per_pixel : int
        Odd sampling density of the grid.

    Calling it with a radius r (pixels) gives the flux fraction within r: each grid sample
    counts for the fraction of its cell inside the circle (the boundary taken as straight
    across the cell); flux beyond the grid counts as outside, so the normalisation is the
    profile's own.
    """

    def __init__(self, profile: Callable[[np.ndarray], np.ndarray],
                 boxes: tuple[float, ...] = (), r_max: float = SKY_OUT + 1.0,
                 samples_per_pixel: int = _SAMPLES_PER_PIXEL) -> None:
        h = 1.0 / samples_per_pixel
        half = math.ceil((r_max + sum(boxes) / 2.0 + 1.0) * samples_per_pixel)
        g = np.arange(-half, half + 1) * h
        y, x = np.meshgrid(g, g, indexing="ij")
        r2 = x * x + y * y
        image = profile(r2) * h * h
        for width in boxes:
            n = round(width * samples_per_pixel)
            if n % 2 == 0 or abs(n * h - width) > 1e-9:
                raise ValueError(f"box width {width} is not an odd number of samples")
            image = _running_box(_running_box(image, n, 0), n, 1)
        keep = r2 <= (r_max + h) ** 2
        order = np.argsort(r2[keep], kind="stable")
        self._radius = np.sqrt(r2[keep][order])
        self._cum = np.concatenate([[0.0], np.cumsum(image[keep][order])])
        self._flux = image[keep][order]
        self._h = h
        self.r_max = r_max

    def __call__(self, r: float) -> float:
        if not 0.0 <= r <= self.r_max:
            raise ValueError(f"radius {r} is outside 0-{self.r_max} pixels")
        lo = int(np.searchsorted(self._radius, r - self._h, side="left"))
        hi = int(np.searchsorted(self._radius, r + self._h, side="right"))
        band = np.clip((r - self._radius[lo:hi]) / self._h + 0.5, 0.0, 1.0)
        return float(self._cum[lo] + np.dot(band, self._flux[lo:hi]))

    def radius(self, fraction: float) -> float:
        """The radius (pixels) enclosing ``fraction`` (bisection to 1e-6 pixel)."""
        lo, hi = 0.0, self.r_max
        if not 0.0 < fraction < self(hi):
            raise ValueError(f"encircled energy {fraction} is outside the tabulated range")
        while hi - lo > 1e-6:
            mid = 0.5 * (lo + hi)
            if self(mid) < fraction:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)


@lru_cache(maxsize=1)
def mosaic_encircled_energy() -> EncircledEnergy:
    """The encircled energy of a demo star on the i2d mosaic (:data:`MOSAIC_BOXES`)."""
    return EncircledEnergy(moffat_surface_density, MOSAIC_BOXES)


def encircled_energy(r: float) -> float:
    """Fraction of a demo star's flux within ``r`` mosaic pixels (r <= SKY_OUT + 1), as
    source_catalog measures it on the i2d (pixel-integrated, drizzled, pixelised)."""
    return mosaic_encircled_energy()(r)


@cache
def ee_radius(fraction: float) -> float:
    """Radius (native pixels) enclosing ``fraction`` of a demo star's flux on the mosaic."""
    return mosaic_encircled_energy().radius(fraction)


def aperture_correction(r: float) -> float:
    """Total flux / (aperture sum − annulus background × aperture area) for a demo star."""
    annulus_area = math.pi * (SKY_OUT**2 - SKY_IN**2)
    per_pixel = (encircled_energy(SKY_OUT) - encircled_energy(SKY_IN)) / annulus_area
    return 1.0 / (encircled_energy(r) - math.pi * r * r * per_pixel)


def apcorr_model() -> NrcImgApcorrModel:
    """The APCORR table for every demo filter with pupil CLEAR."""
    rows = [(f.encode(), b"CLEAR", ee, ee_radius(ee), aperture_correction(ee_radius(ee)),
             SKY_IN, SKY_OUT)
            for f in AB_MINUS_VEGA for ee in EE_FRACTIONS]
    model = NrcImgApcorrModel()
    model.apcorr_table = np.array(rows, dtype=NrcImgApcorrModel.row_dtype)
    return model


def abvegaoffset_model() -> ABVegaOffsetModel:
    """The ABVEGAOFFSET table of the demo filters with pupil CLEAR."""
    from astropy.table import Table

    table = Table({"filter": list(AB_MINUS_VEGA), "pupil": ["CLEAR"] * len(AB_MINUS_VEGA),
                   "abvega_offset": list(AB_MINUS_VEGA.values())})
    return ABVegaOffsetModel(abvega_offset=table)


def write_stage3_references(refdir: Path, stamp_fits, stamp_asdf) -> dict[str, Path]:
    """Write APCORR (FITS) and ABVEGAOFFSET (ASDF) into ``refdir``; return their paths.

    ``stamp_fits`` / ``stamp_asdf`` ``(model, reftype, description)`` set the usual
    reference keywords of a FITS / ASDF reference.
    """
    apcorr = apcorr_model()
    stamp_fits(apcorr, "apcorr", "Demo aperture corrections for the demo's Moffat PSF as "
                                 "drizzled onto the i2d (pixel x pixfrac 1 x output pixel)")
    offset = abvegaoffset_model()
    stamp_asdf(offset, "abvegaoffset", "Demo AB - Vega offsets")
    paths = {"apcorr": refdir / "jwst_nircam_apcorr_demo_nrca1.fits",
             "abvegaoffset": refdir / "jwst_nircam_abvegaoffset_demo_nrca1.asdf"}
    apcorr.save(paths["apcorr"])
    offset.save(paths["abvegaoffset"])
    return paths
