"""Conversions between product models (raw exposure → ramp, ramp → rate/rateints)."""

from __future__ import annotations

import copy

import numpy as np

from .model import DataModel
from .products import CubeModel, ImageModel, Level1bModel, RampModel


def copy_meta(src: DataModel, dst: DataModel) -> None:
    """Copy ``src``'s metadata and unknown header cards onto ``dst`` (keeping its type)."""
    model_type = dst.meta.model_type
    dst._store.update(copy.deepcopy(src._store))
    dst.meta.model_type = model_type
    for hdu, cards in src.extra_fits.items():
        dst.extra_fits[hdu] = list(cards)


def to_ramp(model: DataModel) -> RampModel:
    """Return a RampModel for a raw exposure (float32 data, empty DQ, ERR) or ``model`` itself.

    Parameters
    ----------
    model : Level1bModel or RampModel
        SCI (nints, ngroups, ny, nx) in DN.
    """
    if isinstance(model, RampModel):
        return model
    if not isinstance(model, Level1bModel):
        raise TypeError(f"cannot make a ramp from {type(model).__name__}")
    ramp = RampModel(np.asarray(model.data, dtype=np.float32))
    copy_meta(model, ramp)
    ramp.group = None if model.group is None else model.group.copy()
    ramp.int_times = None if model.int_times is None else model.int_times.copy()
    if model.has("zeroframe"):
        ramp.zeroframe = model.zeroframe.astype(np.float32)
    return ramp


def image_like(model: DataModel, data: np.ndarray, **arrays: np.ndarray) -> DataModel:
    """A rate (2-D ImageModel) or rateints (3-D CubeModel) carrying ``model``'s metadata."""
    cls = ImageModel if data.ndim == 2 else CubeModel
    out = cls(data)
    copy_meta(model, out)
    for name, value in arrays.items():
        setattr(out, name, value)
    if data.ndim == 3 and getattr(model, "int_times", None) is not None:
        out.int_times = model.int_times.copy()
    return out
