"""dq_init: start the DQ arrays from the MASK reference (and make the ramp product)."""

from __future__ import annotations

import numpy as np

from ..stpipe.step import Step
from .support import load_reference, ramp_input


class DQInitStep(Step):
    """OR the MASK reference's DQ into PIXELDQ; a raw uncal becomes a RampModel here."""

    class_alias = "dq_init"
    reference_file_types = ("mask",)

    def process(self, model):
        ramp = ramp_input(model, self.name)
        mask = load_reference(self, ramp, "mask")
        if mask is None:
            return self.skip_step(ramp, "no MASK reference applies (N/A)")
        ramp.pixeldq = np.bitwise_or(ramp.pixeldq, mask.dq.astype(np.uint32))
        return ramp
