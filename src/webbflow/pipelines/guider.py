"""calwebb_guider: FGS guider data (uncal) → count rates, flat-fielded (``<root>_cal.fits``)."""

from __future__ import annotations

from ..datamodels.guider import GuiderCalModel
from ..steps.dq_init import DQInitStep
from ..steps.flat_field import FlatFieldStep
from ..steps.guider_cds import GuiderCdsStep, guider_input
from ..stpipe.pipeline import Pipeline

#: the steps, in order
STEP_ORDER = ("dq_init", "guider_cds", "flat_field")


class GuiderPipeline(Pipeline):
    """dq_init, guider_cds and flat_field on one guider exposure; product ``<root>_cal.fits``.

    With dq_init and guider_cds both skipped the input is taken to be a GuiderCalModel already
    (as officially) and only flat_field runs.
    """

    class_alias = "calwebb_guider"
    default_suffix = "cal"
    step_defs = {
        "dq_init": DQInitStep,
        "guider_cds": GuiderCdsStep,
        "flat_field": FlatFieldStep,
    }

    def process(self, model):
        if not (self.dq_init.skip and self.guider_cds.skip) or not isinstance(
                model, GuiderCalModel):
            model = guider_input(model, self.name)
        return self.run_steps(model, STEP_ORDER)
