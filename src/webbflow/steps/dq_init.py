"""dq_init: start the DQ arrays from the MASK reference (and make the ramp product)."""

from __future__ import annotations

import numpy as np

from ..datamodels.guider import GuiderRawModel
from ..stpipe.step import Step
from .support import load_reference, ramp_input

#: models whose pixel DQ lives in a 2-D ``dq`` array instead of a ramp's ``pixeldq``
_DQ_ARRAY_MODELS = (GuiderRawModel,)


class DQInitStep(Step):
    """OR the MASK reference's DQ into PIXELDQ; a raw uncal becomes a RampModel here.

    Guider data keep their layout: the mask goes into their 2-D DQ array.
    """

    class_alias = "dq_init"
    reference_file_types = ("mask",)

    def process(self, model):
        if isinstance(model, _DQ_ARRAY_MODELS):
            target, attr = model, "dq"
        else:
            target, attr = ramp_input(model, self.name), "pixeldq"
        mask = load_reference(self, target, "mask")
        if mask is None:
            return self.skip_step(target, "no MASK reference applies (N/A)")
        setattr(target, attr, np.bitwise_or(getattr(target, attr), mask.dq.astype(np.uint32)))
        return target
