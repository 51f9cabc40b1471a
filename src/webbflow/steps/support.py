"""What every step module shares: DQ bit values for kernels, references, ramp inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..datamodels import DataModel, RampModel
from ..datamodels.convert import to_ramp
from ..datamodels.dqflags import GROUP, PIXEL
from ..errors import input_error

if TYPE_CHECKING:
    from ..stpipe.step import Step

#: DQ bit values, lower-case names as the kernels take them
FLAGS: dict[str, int] = {name.lower(): value for name, value in PIXEL.items()}
GROUP_FLAGS: dict[str, int] = {name.lower(): value for name, value in GROUP.items()}


def load_reference(step: Step, model: DataModel, reftype: str,
                   drop: tuple[str, ...] = ()) -> DataModel | None:
    """Select (or take the override of) ``reftype`` and read it cut to ``model``'s subarray
    (only that window is read from the file; arrays named in ``drop`` are not read at all).

    Returns None when the context says N/A; records the R_* keyword either way.
    """
    from ..references.read import read_reference

    path = step.get_reference_file(model, reftype)
    if path == "N/A":
        return None
    return read_reference(path, reftype, model, drop)


def owned_array(arr: np.ndarray, dtype: str) -> np.ndarray:
    """``arr`` itself when it is a writable C-contiguous ``dtype`` array (a kernel may then
    write its result into it: the step owns its model), else such a copy of it."""
    if arr.dtype == np.dtype(dtype) and arr.flags.c_contiguous and arr.flags.writeable:
        return arr
    return np.array(arr, dtype=dtype, order="C", copy=True)


def ramp_input(model: DataModel, step_name: str) -> RampModel:
    """The input as a RampModel (a raw uncal is converted), or a one-line InputError."""
    if isinstance(model, RampModel):
        return model
    try:
        return to_ramp(model)
    except TypeError:
        raise input_error(model.meta.filename or "<model>",
                          f"{step_name} needs a 4-D ramp (uncal or ramp), got "
                          f"{type(model).__name__}") from None


def draft_rate_fit(step: Step, ramp: RampModel) -> tuple[DataModel, DataModel]:
    """(rate, rateints) of a default ramp fit of ``ramp``, for scene masking; within a
    pipeline with the ramp_fit sibling's readnoise/gain overrides."""
    from .ramp_fit import RampFitStep

    overrides = {}
    sibling = getattr(step.parent, "steps", {}).get("ramp_fit") if step.parent else None
    if sibling is not None:
        overrides = {key: sibling.params[key] for key in ("override_readnoise", "override_gain")
                     if sibling.params.get(key)}
    step.log.info("Creating draft rate file for scene masking")
    return RampFitStep(name="ramp_fit", **overrides).run(ramp)
