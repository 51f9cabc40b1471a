"""Imaging WCS math: the V2V3 <-> sky rotation and the detector distortion polynomial.

Pure numpy / ``astropy.modeling``: the demo generator uses it to project its sky truth onto
the detector, and stage-2 ``assign_wcs`` uses the same functions to build the imaging WCS
(detector -> distortion -> V2V3 -> velocity-aberration scale -> sky).
"""

from .distortion import (
    DistortionSolution,
    default_nircam_distortion,
    distortion_model,
    pixel_area_map,
)
from .imaging import pixel_to_sky, sky_to_pixel
from .imaging_wcs import FRAMES, detector_to_v23, imaging_gwcs, s_region, sip_wcsinfo
from .pointing import (
    Pointing,
    sky_to_v23,
    v23_rotation_model,
    v23_to_sky,
    v23_to_sky_model,
    va_corr_model,
)

__all__ = [
    "FRAMES",
    "DistortionSolution",
    "Pointing",
    "default_nircam_distortion",
    "detector_to_v23",
    "distortion_model",
    "imaging_gwcs",
    "pixel_area_map",
    "pixel_to_sky",
    "s_region",
    "sip_wcsinfo",
    "sky_to_pixel",
    "sky_to_v23",
    "v23_rotation_model",
    "v23_to_sky",
    "v23_to_sky_model",
    "va_corr_model",
]
