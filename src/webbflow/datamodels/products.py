"""Science product models in the JWST FITS layouts (uncal, ramp, rate, rateints, cal...)."""

from __future__ import annotations

from typing import ClassVar

from .model import ArraySpec, DataModel

_SCIENCE_KEYWORDS = ("INSTRUME", "EXP_TYPE")

_VARIANCES = {
    "var_poisson": ArraySpec("VAR_POISSON", "float32"),
    "var_rnoise": ArraySpec("VAR_RNOISE", "float32"),
    "var_flat": ArraySpec("VAR_FLAT", "float32"),
}


class Level1bModel(DataModel):
    """Raw exposure (``uncal``): SCI uint16 [nints, ngroups, ny, nx], GROUP and INT_TIMES tables."""

    model_type = "Level1bModel"
    arrays: ClassVar[dict[str, ArraySpec]] = {
        "data": ArraySpec("SCI", "uint16", None),
        "zeroframe": ArraySpec("ZEROFRAME", "uint16", None),
        "refout": ArraySpec("REFOUT", "uint16", None),
    }
    tables: ClassVar[dict[str, str]] = {"group": "GROUP", "int_times": "INT_TIMES"}
    ndim = 4
    required_keywords = _SCIENCE_KEYWORDS


class RampModel(DataModel):
    """Corrected ramp (``ramp``): SCI float32 4-D, PIXELDQ 2-D, GROUPDQ and ERR 4-D."""

    model_type = "RampModel"
    arrays: ClassVar[dict[str, ArraySpec]] = {
        "data": ArraySpec("SCI", "float32", None),
        "pixeldq": ArraySpec("PIXELDQ", "uint32", "pixel", 0),
        "groupdq": ArraySpec("GROUPDQ", "uint8", "data", 0),
        "err": ArraySpec("ERR", "float32"),
        "zeroframe": ArraySpec("ZEROFRAME", "float32", None),
        "refout": ArraySpec("REFOUT", "float32", None),
        "average_dark_current": ArraySpec("AVERAGE_DARK_CURRENT", "float32", "pixel"),
    }
    tables: ClassVar[dict[str, str]] = {"group": "GROUP", "int_times": "INT_TIMES"}
    required = ("data", "pixeldq", "groupdq", "err")
    ndim = 4
    required_keywords = _SCIENCE_KEYWORDS


class ImageModel(DataModel):
    """2-D image (``rate``, ``cal``, ``i2d``): SCI, ERR, DQ, VAR_POISSON, VAR_RNOISE, VAR_FLAT."""

    model_type = "ImageModel"
    arrays: ClassVar[dict[str, ArraySpec]] = {
        "data": ArraySpec("SCI", "float32", None),
        "dq": ArraySpec("DQ", "uint32", "data", 0),
        "err": ArraySpec("ERR", "float32"),
        **_VARIANCES,
        "area": ArraySpec("AREA", "float32", None),
        "wht": ArraySpec("WHT", "float32", None),
        "con": ArraySpec("CON", "int32", None),
        "zeroframe": ArraySpec("ZEROFRAME", "float32", None),
    }
    required = ("data", "dq", "err", "var_poisson", "var_rnoise", "var_flat")
    ndim = 2
    required_keywords = _SCIENCE_KEYWORDS


class CubeModel(DataModel):
    """Per-integration images (``rateints``, ``calints``): 3-D SCI, ERR, DQ and variances."""

    model_type = "CubeModel"
    arrays: ClassVar[dict[str, ArraySpec]] = {
        "data": ArraySpec("SCI", "float32", None),
        "dq": ArraySpec("DQ", "uint32", "data", 0),
        "err": ArraySpec("ERR", "float32"),
        **_VARIANCES,
        "area": ArraySpec("AREA", "float32", None),
        "zeroframe": ArraySpec("ZEROFRAME", "float32", None),
    }
    tables: ClassVar[dict[str, str]] = {"int_times": "INT_TIMES"}
    required = ("data", "dq", "err", "var_poisson", "var_rnoise", "var_flat")
    ndim = 3
    required_keywords = _SCIENCE_KEYWORDS


class RampFitOutputModel(DataModel):
    """Optional ramp-fit results (``fitopt``): per-segment slopes, variances and weights."""

    model_type = "RampFitOutputModel"
    arrays: ClassVar[dict[str, ArraySpec]] = {
        "slope": ArraySpec("SLOPE", "float32", None),
        "sigslope": ArraySpec("SIGSLOPE", "float32", None),
        "var_poisson": ArraySpec("VAR_POISSON", "float32", None),
        "var_rnoise": ArraySpec("VAR_RNOISE", "float32", None),
        "yint": ArraySpec("YINT", "float32", None),
        "sigyint": ArraySpec("SIGYINT", "float32", None),
        "pedestal": ArraySpec("PEDESTAL", "float32", None),
        "weights": ArraySpec("WEIGHTS", "float32", None),
        "crmag": ArraySpec("CRMAG", "float32", None),
    }
    required = ()
    required_keywords = _SCIENCE_KEYWORDS
