"""superbias: subtract the superbias (bias level of each pixel)."""

from __future__ import annotations

from ..kernels.simple import subtract_superbias
from ..stpipe.step import Step
from .support import load_reference, owned_array, ramp_input


class SuperBiasStep(Step):
    """Subtract the SUPERBIAS reference from every group (and the zero frame)."""

    class_alias = "superbias"
    reference_file_types = ("superbias",)

    def process(self, model):
        ramp = ramp_input(model, self.name)
        bias = load_reference(self, ramp, "superbias", drop=("err",))
        if bias is None:
            return self.skip_step(ramp, "no SUPERBIAS reference applies (N/A)")
        data = owned_array(ramp.data, "float32")
        data, pixeldq, zeroframe = subtract_superbias(
            data, ramp.pixeldq, bias.data, bias.dq,
            ramp.zeroframe if ramp.has("zeroframe") else None, out=data)
        ramp.data, ramp.pixeldq = data, pixeldq
        if zeroframe is not None:
            ramp.zeroframe = zeroframe
        return ramp
