"""lastframe (MIRI): mark the last group of each integration unusable."""

from __future__ import annotations

from ..kernels.simple import flag_first_last_groups
from ..stpipe.step import Step
from .support import FLAGS, ramp_input


class LastFrameStep(Step):
    """Flag the last group DO_NOT_USE when there are more than 2 groups."""

    class_alias = "lastframe"

    def process(self, model):
        ramp = ramp_input(model, self.name)
        if ramp.shape[1] <= 2:
            return self.skip_step(ramp, "2 or fewer groups")
        ramp.groupdq = flag_first_last_groups(ramp.groupdq, do_not_use=FLAGS["do_not_use"],
                                              last=True)
        return ramp
