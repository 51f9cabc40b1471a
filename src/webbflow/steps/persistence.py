"""persistence: subtract persistence predicted by the trap capture/decay model.

The traps-filled state of the previous exposure on the detector (``input_trapsfilled``, a
``<root>_trapsfilled.fits`` written by this step) decays from its EXPEND to this exposure's
EXPSTART, then group by group into the ramp (subtracted); traps capture charge from this
exposure; the new state is written as ``<root>_trapsfilled.fits`` (``save_trapsfilled``) for the
next exposure. Algorithm: :mod:`webbflow.kernels.persistence`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..datamodels import ArraySpec, DataModel, RampModel
from ..datamodels.convert import copy_meta
from ..errors import ReferenceError_, input_error
from ..references.models import open_reference
from ..references.read import read_reference, subarray_window
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import FLAGS, GROUP_FLAGS, ramp_input

#: instruments whose detectors have no trap model (CRDS says N/A for MIRI; NIRSpec never runs
#: persistence, as officially)
NO_TRAP_MODEL = ("NIRSPEC", "MIRI")
#: resets before an integration when NRSTSTRT/NRESETS are absent, per instrument
DEFAULT_NRESETS: dict[str, int] = {"MIRI": 0}


class TrapsFilledModel(DataModel):
    """Traps-filled state (``trapsfilled``): SCI float32 [nfamilies, ny, nx], filled traps."""

    model_type = "TrapsFilledModel"
    arrays: ClassVar[dict[str, ArraySpec]] = {"data": ArraySpec("SCI", "float32", None)}
    ndim = 3


def _register() -> None:
    from .. import datamodels

    datamodels.register(TrapsFilledModel)


_register()


def _derived(model: DataModel, cls: type[DataModel], data: np.ndarray) -> DataModel:
    out = cls(data)
    copy_meta(model, out)
    return out


class PersistenceStep(Step):
    """Subtract trap-release persistence group by group and flag strongly affected pixels."""

    class_alias = "persistence"
    reference_file_types = ("trapdensity", "trappars", "persat")
    spec = {
        "input_trapsfilled": Param("path", "", "Traps-filled file of the previous exposure on "
                                   "this detector (none: no filled traps)"),
        "flag_pers_cutoff": Param("float", 40.0, "Persistence (DN) at or above which pixels "
                                  "are flagged PERSISTENCE (None: no flagging)", min=0.0),
        "save_persistence": Param("boolean", False, "Save the subtracted persistence as "
                                  "<root>_output_pers.fits"),
        "save_trapsfilled": Param("boolean", True, "Save the traps-filled state as "
                                  "<root>_trapsfilled.fits"),
        "modify_input": Param("boolean", False, "Accepted for compatibility; unused"),
    }

    def process(self, model):
        from ..kernels.persistence import (
            trap_persistence,  # imported on use: keeps strun's start-up short
        )

        ramp = ramp_input(model, self.name)
        instrument = str(ramp.meta.instrument.name or "").upper()
        if instrument in NO_TRAP_MODEL:
            return self.skip_step(ramp, f"no trap model for {instrument}")
        paths = {r: self.get_reference_file(ramp, r) for r in self.reference_file_types}
        missing = [r.upper() for r, p in paths.items() if p == "N/A"]
        if missing:
            return self.skip_step(ramp, f"no {'/'.join(missing)} reference applies (N/A)")
        frame = open_reference(paths["trapdensity"], "trapdensity")
        frame_x, frame_y, frame_nx, frame_ny = subarray_window(frame, frame.shape)
        density = read_reference(paths["trapdensity"], "trapdensity", ramp)
        persat = read_reference(paths["persat"], "persat", ramp)
        table = open_reference(paths["trappars"], "trappars").trappars_table
        if table is None or len(table) == 0:
            raise ReferenceError_(f"trappars reference {paths['trappars']}: empty TRAPPARS "
                                  "table")
        pars = {c: np.asarray(table[c], dtype=np.float64)
                for c in ("capture0", "capture1", "capture2", "decay_param")}
        nfam = len(table)
        traps = self._initial_traps(ramp, nfam, (frame_ny, frame_nx), pars["decay_param"])

        td = np.nan_to_num(density.data.astype(np.float64), nan=0.0)
        td[(density.dq & FLAGS["do_not_use"]) != 0] = 0.0
        ps = np.nan_to_num(persat.data.astype(np.float64), nan=1.0e7)
        exp = ramp.meta.exposure
        nints = ramp.shape[0]
        default = DEFAULT_NRESETS.get(instrument, 1)
        first = default if exp.nresets_at_start is None else int(exp.nresets_at_start)
        between = default if exp.nresets_between_ints is None else int(exp.nresets_between_ints)
        sci_x, sci_y, _, _ = subarray_window(ramp, ramp.shape)
        result = trap_persistence(
            ramp.data, ramp.groupdq, traps, (sci_y - frame_y, sci_x - frame_x), td, ps,
            (persat.dq & FLAGS["do_not_use"]) == 0, pars,
            frame_time=float(exp.frame_time), group_time=float(exp.group_time),
            nresets=np.array([first] + [between] * (nints - 1)),
            saturated=GROUP_FLAGS["saturated"], jump_det=GROUP_FLAGS["jump_det"],
            flag_cutoff=self.flag_pers_cutoff, save_persistence=self.save_persistence)
        ramp.data = result.data
        ramp.pixeldq = np.where(result.flagged, ramp.pixeldq | FLAGS["persistence"],
                                ramp.pixeldq)
        self.log.info("%d pixels flagged PERSISTENCE (>= %s DN)", int(result.flagged.sum()),
                      self.flag_pers_cutoff)
        if self.save_trapsfilled:
            state = _derived(ramp, TrapsFilledModel, result.traps.astype(np.float32))
            sub = state.meta.subarray
            sub.xstart, sub.ystart, sub.xsize, sub.ysize = frame_x, frame_y, frame_nx, frame_ny
            sub.name = frame.meta.subarray.name or "FULL"
            self.log.info("Saved traps-filled state %s", self.save_model(state, "trapsfilled"))
        if result.persistence is not None:
            pers = _derived(ramp, RampModel, result.persistence)
            self.log.info("Saved persistence %s", self.save_model(pers, "output_pers"))
        return ramp

    def _initial_traps(self, ramp: RampModel, nfam: int, shape: tuple[int, int],
                       decay_param: np.ndarray) -> np.ndarray:
        """Filled traps at this exposure's start: the previous state decayed, or zeros."""
        if not self.input_trapsfilled:
            return np.zeros((nfam, *shape), dtype=np.float64)
        path = str(self.input_trapsfilled)
        prev = TrapsFilledModel(path)
        if prev.shape != (nfam, *shape):
            raise input_error(path, f"traps-filled array is {prev.shape}; the references need "
                                    f"{(nfam, *shape)} (families, rows, columns)")
        start, end = ramp.meta.exposure.start_time, prev.meta.exposure.end_time
        if start is None or end is None:
            raise input_error(path, "EXPEND of the traps-filled file and EXPSTART of the "
                                    "science exposure are both needed to decay the traps")
        dt = (float(start) - float(end)) * 86400.0
        self.log.info("Traps decay for %.1f s since %s", dt, prev.meta.filename)
        from ..kernels.persistence import (
            decay_traps,  # imported on use: keeps strun's start-up short
        )

        return decay_traps(np.nan_to_num(prev.data, nan=0.0), decay_param, dt)
