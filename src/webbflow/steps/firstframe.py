"""firstframe (MIRI): mark the first group of each integration unusable."""

from __future__ import annotations

from ..kernels.simple import flag_first_last_groups
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import FLAGS, ramp_input


class FirstFrameStep(Step):
    """Flag the first group DO_NOT_USE when there are more than 3 groups.

    Skipped unless asked for (``skip=False``), as jwst 3.0's FirstFrameStep defaults.
    """

    class_alias = "firstframe"
    spec = {"skip": Param("boolean", True, "Skip this step (official default: True)"),
            "bright_use_group1": Param("boolean", True, "Keep group 1 for pixels that "
                                       "saturate in group 3 (not available: ignored)")}

    def process(self, model):
        ramp = ramp_input(model, self.name)
        if ramp.shape[1] <= 3:
            return self.skip_step(ramp, "3 or fewer groups")
        ramp.groupdq = flag_first_last_groups(ramp.groupdq, do_not_use=FLAGS["do_not_use"],
                                              first=True)
        return ramp
