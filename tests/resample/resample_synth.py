"""Hand-built calibrated images with tangent-plane WCSs for the resample tests."""

from __future__ import annotations

import math

import numpy as np
from astropy.modeling import models

from webbflow.datamodels import ImageModel
from webbflow.resample.grid import _pc_matrix, tangent_wcs

#: a field near the Hubble Ultra Deep Field
CRVAL = (53.16, -27.79)
SCALE = 0.0311  # arcsec / pixel, NIRCam SW-like


def make_wcs(shape: tuple[int, int], crval=CRVAL, pa: float = 0.0,
             scale: float = SCALE, crpix: tuple[float, float] | None = None,
             parity: int = -1, distortion: float = 0.0):
    """A gwcs: TAN projection at ``crval``, +Y axis at position angle ``pa`` (deg).

    ``distortion`` adds a quadratic term ``x' = x + d (x^2 + y^2) / n``, so pixel areas vary
    by about ``2 d`` across the array.
    """
    ny, nx = shape
    if crpix is None:
        crpix = ((nx - 1) / 2.0, (ny - 1) / 2.0)
    wcs = tangent_wcs(crval, crpix, _pc_matrix(parity, pa), scale / 3600.0, shape)
    if distortion:
        n = float(max(nx, ny))
        cx, cy = crpix
        px = models.Polynomial2D(2, c0_0=0.0, c1_0=1.0, c2_0=distortion / n,
                                 c0_2=distortion / n)
        py = models.Polynomial2D(2, c0_0=0.0, c0_1=1.0, c2_0=distortion / n,
                                 c0_2=distortion / n)
        shift_in = models.Shift(-cx) & models.Shift(-cy)
        shift_out = models.Shift(cx) & models.Shift(cy)
        forward = shift_in | models.Mapping((0, 1, 0, 1)) | (px & py) | shift_out
        # inverse by a first-order correction (accurate to ~d^2)
        ipx = models.Polynomial2D(2, c0_0=0.0, c1_0=1.0, c2_0=-distortion / n,
                                  c0_2=-distortion / n)
        ipy = models.Polynomial2D(2, c0_0=0.0, c0_1=1.0, c2_0=-distortion / n,
                                  c0_2=-distortion / n)
        forward.inverse = shift_in | models.Mapping((0, 1, 0, 1)) | (ipx & ipy) | shift_out
        steps = wcs.pipeline
        sky = steps[0].transform
        import gwcs

        new = gwcs.WCS([(steps[0].frame, forward | sky), (steps[1].frame, None)])
        new.bounding_box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
        new.pixel_shape = (nx, ny)
        return new
    return wcs


def gaussians(shape: tuple[int, int], sources: list[tuple[float, float, float]],
              sigma: float = 1.5) -> np.ndarray:
    """Sum of 2-D Gaussians (x, y, total) sampled at pixel centres, float64."""
    y, x = np.indices(shape, dtype=np.float64)
    out = np.zeros(shape)
    for sx, sy, total in sources:
        out += total / (2 * math.pi * sigma**2) * np.exp(
            -((x - sx) ** 2 + (y - sy) ** 2) / (2 * sigma**2))
    return out


def make_image(data: np.ndarray, wcs, *, rnoise: float = 0.01, exptime: float = 100.0,
               filename: str = "jw00001001001_01101_00001_nrca1_cal.fits",
               exposure: int = 1, start: float = 60000.0) -> ImageModel:
    """A cal ImageModel (MJy/sr) with uniform variances and the exposure keywords."""
    model = ImageModel(np.asarray(data, dtype=np.float32))
    shape = model.data.shape
    model.dq = np.zeros(shape, dtype=np.uint32)
    model.var_rnoise = np.full(shape, rnoise, dtype=np.float32)
    model.var_poisson = np.full(shape, rnoise / 2, dtype=np.float32)
    model.var_flat = np.full(shape, rnoise / 10, dtype=np.float32)
    model.err = np.sqrt(model.var_rnoise + model.var_poisson + model.var_flat)
    meta = model.meta
    meta.wcs = wcs
    meta.filename = filename
    meta.instrument.name = "NIRCAM"
    meta.instrument.detector = "NRCA1"
    meta.exposure.type = "NRC_IMAGE"
    meta.bunit_data = "MJy/sr"
    meta.exposure.exposure_time = exptime
    meta.exposure.measurement_time = exptime * 0.9
    meta.exposure.duration = exptime * 1.1
    meta.exposure.start_time = start
    meta.exposure.end_time = start + exptime / 86400.0
    obs = meta.observation
    obs.program_number, obs.observation_number, obs.visit_number = "00001", "001", "001"
    obs.visit_group, obs.sequence_id, obs.activity_id = "01", "1", "01"
    obs.exposure_number = f"{exposure:05d}"
    meta.photometry.pixelarea_steradians = (SCALE / 206264.80624709636) ** 2
    return model
