"""Resampling (drizzle) of calibrated images onto a common output grid.

``grid`` builds the output WCS, ``pixmap`` maps input pixels onto it, ``driver`` accumulates
one or many exposures through the numba drizzle kernel (``webbflow.kernels.drizzle``).
"""

from .driver import DrizzleOptions, GridOptions, Resampler, resample_inputs
from .grid import OutputGrid, build_grid, read_output_wcs, tangent_wcs

__all__ = [
    "DrizzleOptions",
    "GridOptions",
    "OutputGrid",
    "Resampler",
    "build_grid",
    "read_output_wcs",
    "resample_inputs",
    "tangent_wcs",
]
