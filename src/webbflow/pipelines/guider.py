"""calwebb_guider: FGS guider data (uncal) → count rates, flat-fielded (``<root>_cal.fits``)."""

from __future__ import annotations

import numpy as np

from ..datamodels.guider import GuiderCalModel, GuiderRawModel
from ..steps.dq_init import DQInitStep
from ..steps.flat_field import FlatFieldStep
from ..steps.guider_cds import GuiderCdsStep, guider_input
from ..steps.support import load_reference
from ..stpipe.pipeline import Pipeline

#: the steps, in order
STEP_ORDER = ("dq_init", "guider_cds", "flat_field")


class GuiderDQInitStep(DQInitStep):
    """dq_init that also takes guider data: the MASK DQ is OR-ed into the 2-D DQ array.

    Other inputs go to :class:`DQInitStep` unchanged.
    """

    class_alias = "dq_init"

    @classmethod
    def official_class(cls) -> str:
        """Written to parameter files as the official DQInitStep."""
        return DQInitStep.official_class()

    @classmethod
    def _parameter_reference(cls, dataset):
        return DQInitStep._parameter_reference(dataset)

    def process(self, model):
        if not isinstance(model, GuiderRawModel):
            return super().process(model)
        mask = load_reference(self, model, "mask")
        if mask is None:
            return self.skip_step(model, "no MASK reference applies (N/A)")
        model.dq = np.bitwise_or(model.dq, mask.dq.astype(np.uint32))
        return model


class GuiderPipeline(Pipeline):
    """dq_init, guider_cds and flat_field on one guider exposure; product ``<root>_cal.fits``.

    With dq_init and guider_cds both skipped the input is taken to be a GuiderCalModel already
    (as officially) and only flat_field runs.
    """

    class_alias = "calwebb_guider"
    default_suffix = "cal"
    step_defs = {
        "dq_init": GuiderDQInitStep,
        "guider_cds": GuiderCdsStep,
        "flat_field": FlatFieldStep,
    }

    def process(self, model):
        if not (self.dq_init.skip and self.guider_cds.skip) or not isinstance(
                model, GuiderCalModel):
            model = guider_input(model, self.name)
        return self.run_steps(model, STEP_ORDER)
