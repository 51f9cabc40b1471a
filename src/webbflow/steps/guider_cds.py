"""guider_cds: FGS guider count rates by correlated double sampling (GuiderRawModel → cal)."""

from __future__ import annotations

import numpy as np

from ..datamodels import DataModel, Level1bModel
from ..datamodels.convert import copy_meta
from ..datamodels.guider import GuiderCalModel, GuiderRawModel
from ..errors import ReferenceError_, input_error
from ..kernels.guider_cds import guider_cds
from ..references.models import open_reference
from ..references.read import read_reference
from ..stpipe.step import Step

#: EXP_TYPE -> count-rate algorithm of :func:`webbflow.kernels.guider_cds.guider_cds`
#: (``id``: minimum of two CDS pairs, one plane; ``cds``: last - first group per integration;
#: ``fineguide``: mean of last 4 - mean of first 4 groups)
GUIDER_MODES: dict[str, str] = {
    "FGS_ID-STACK": "id",
    "FGS_ID-IMAGE": "id",
    "FGS_ACQ1": "cds",
    "FGS_ACQ2": "cds",
    "FGS_TRACK": "cds",
    "FGS_FINEGUIDE": "fineguide",
}
#: modes whose references may not match the (stacked) data: use the reference's mean then
MEAN_REFERENCE_FALLBACK = ("FGS_ID-STACK",)


def guider_input(model: DataModel, step_name: str) -> GuiderRawModel:
    """The input as a GuiderRawModel (a Level1bModel of a guider EXP_TYPE is converted)."""
    if isinstance(model, GuiderRawModel):
        return model
    exp_type = str(model.meta.exposure.type or "").upper()
    if isinstance(model, Level1bModel) and exp_type in GUIDER_MODES:
        raw = GuiderRawModel(np.asarray(model.data, dtype=np.float32))
        copy_meta(model, raw)
        return raw
    raise input_error(model.meta.filename or "<model>",
                      f"{step_name} needs raw FGS guider data (GuiderRawModel, EXP_TYPE one of "
                      f"{', '.join(GUIDER_MODES)}), got {type(model).__name__} of EXP_TYPE "
                      f"{exp_type or '?'}")


class GuiderCdsStep(Step):
    """Count rates (DN/s) and ERR of guider data; the algorithm depends on EXP_TYPE."""

    class_alias = "guider_cds"
    reference_file_types = ("gain", "readnoise")

    def process(self, model):
        raw = guider_input(model, self.name)
        exp_type = str(raw.meta.exposure.type or "").upper()
        mode = GUIDER_MODES.get(exp_type)
        if mode is None:
            raise input_error(raw.meta.filename or "<model>",
                              f"EXP_TYPE {exp_type or '?'} is not guider data "
                              f"({', '.join(GUIDER_MODES)})")
        gain = self._reference_array(raw, "gain", exp_type)
        if gain is None:
            return self.skip_step(raw, "no GAIN reference applies (N/A)")
        readnoise = self._reference_array(raw, "readnoise", exp_type)
        if readnoise is None:
            return self.skip_step(raw, "no READNOISE reference applies (N/A)")
        group_time = raw.meta.exposure.group_time
        if not group_time:
            raise input_error(raw.meta.filename or "<model>", "TGROUP is missing or zero")
        try:
            sci, err = guider_cds(raw.data, float(group_time), mode, gain, readnoise)
        except ValueError as exc:
            raise input_error(raw.meta.filename or "<model>",
                              f"{exp_type} data of shape {raw.shape}: {exc}") from None
        cal = GuiderCalModel(sci)
        copy_meta(raw, cal)
        cal.err = err
        cal.dq = raw.dq
        cal.copy_tables_from(raw)
        cal.meta.bunit_data = "DN/s"
        cal.meta.bunit_err = "DN/s"
        return cal

    def _reference_array(self, raw: GuiderRawModel, reftype: str,
                         exp_type: str) -> np.ndarray | None:
        """The reference's SCI cut to the data (or its mean, for stacked ID data), or None."""
        path = self.get_reference_file(raw, reftype)
        if path == "N/A":
            return None
        try:
            return read_reference(path, reftype, raw).data
        except ReferenceError_:
            if exp_type not in MEAN_REFERENCE_FALLBACK:
                raise
        self.log.info("%s reference does not match the stacked data; using its mean",
                      reftype.upper())
        whole = open_reference(path, reftype)
        return np.full(raw.shape[-2:], np.mean(whole.data), dtype=np.float32)
