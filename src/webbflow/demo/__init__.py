"""The demo observation generator: raw NIRCam exposures from a known truth, matching
CRDS-format reference files and a local CRDS cache (see :func:`generate_demo`)."""

from .generate import DemoObservation, generate_demo
from .ramps import SimOptions
from .tables import READPATTS, SUBARRAYS

__all__ = ["READPATTS", "SUBARRAYS", "DemoObservation", "SimOptions", "generate_demo"]
