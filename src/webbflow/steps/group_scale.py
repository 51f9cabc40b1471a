"""group_scale: rescale groups summed on board with FRMDIVSR ≠ NFRAMES."""

from __future__ import annotations

from ..kernels.simple import group_scale
from ..stpipe.step import Step
from .support import ramp_input


class GroupScaleStep(Step):
    """Multiply ramps by FRMDIVSR / NFRAMES when the on-board divisor was not NFRAMES."""

    class_alias = "group_scale"

    def process(self, model):
        ramp = ramp_input(model, self.name)
        nframes = ramp.meta.exposure.nframes
        divisor = ramp.meta.exposure.frame_divisor
        if nframes is None:
            return self.skip_step(ramp, "NFRAMES is not set")
        scaled = group_scale(ramp.data, int(nframes), divisor)
        if scaled is None:
            return self.skip_step(ramp, f"FRMDIVSR ({divisor}) equals NFRAMES ({nframes}) "
                                        "or is absent")
        factor = float(divisor) / float(nframes)
        ramp.data = scaled
        if ramp.has("err"):
            ramp.err = ramp.err * factor
        return ramp
