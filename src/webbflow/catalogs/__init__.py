"""Stage-3 source catalogs: detection, photometry table, APCORR/ABVEGAOFFSET, ECSV output.

``reference_data`` turns the APCORR and ABVEGAOFFSET references into aperture parameters,
``detect`` finds and deblends sources (``webbflow.kernels.segmentation``), ``table`` measures
them (``webbflow.kernels.photometry``) into the official column set, ``segm`` holds the
segmentation map product.
"""

from .detect import Detection, detect_sources
from .reference_data import ApertureParams, abvega_offset, aperture_params
from .segm import SegmentationMapModel
from .table import build_catalog, write_ecsv

__all__ = [
    "ApertureParams",
    "Detection",
    "SegmentationMapModel",
    "abvega_offset",
    "aperture_params",
    "build_catalog",
    "detect_sources",
    "write_ecsv",
]
