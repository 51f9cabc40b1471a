"""JWST data products and the DQ flag table.

``open(path)`` reads any JWST-layout FITS product into the matching model class, chosen by
the DATAMODL keyword when present and otherwise by the file's structure.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import input_error
from . import dqflags
from .meta import Meta, keyword_table
from .model import ArraySpec, DataModel
from .products import CubeModel, ImageModel, Level1bModel, RampFitOutputModel, RampModel

__all__ = [
    "ArraySpec",
    "CubeModel",
    "DataModel",
    "ImageModel",
    "Level1bModel",
    "Meta",
    "RampFitOutputModel",
    "RampModel",
    "dqflags",
    "keyword_table",
    "open",
    "register",
]

_REGISTRY: dict[str, type[DataModel]] = {}


def register(cls: type[DataModel]) -> type[DataModel]:
    """Make ``open`` return ``cls`` for files whose DATAMODL is ``cls.model_type``."""
    _REGISTRY[cls.model_type] = cls
    return cls


for _cls in (Level1bModel, RampModel, ImageModel, CubeModel, RampFitOutputModel):
    register(_cls)

from . import guider  # noqa: E402  (registers GuiderRawModel, GuiderCalModel)

__all__ += ["guider"]


def _guess_class(path: Path) -> type[DataModel]:
    from .model import read_fits

    with read_fits(path, "header") as hdul:
        model_type = hdul[0].header.get("DATAMODL")
        if model_type in _REGISTRY:
            return _REGISTRY[model_type]
        names = {h.name.upper() for h in hdul}
        if "SCI" not in names:
            raise input_error(path, "no SCI extension")
        sci = hdul["SCI"]
        ndim = sci.header.get("NAXIS", 0)
        if ndim == 4:
            is_raw = sci.header.get("BITPIX") == 16 and "GROUPDQ" not in names
            return Level1bModel if is_raw else RampModel
        if ndim == 3:
            return CubeModel
        if ndim == 2:
            return ImageModel
        raise input_error(path, f"SCI has {ndim} dimensions; expected 2, 3 or 4")


def open(source: str | os.PathLike | DataModel) -> DataModel:
    """Open a product file (or pass a model through unchanged).

    Raises
    ------
    InputError
        One line naming the file and the problem (missing, not FITS, no SCI, bad shape...).
    """
    if isinstance(source, DataModel):
        return source
    path = Path(source)
    if not path.exists():
        raise input_error(path, "no such file")
    return _guess_class(path)(path)
