"""linearity: correct the classical non-linearity with the LINEARITY polynomial."""

from __future__ import annotations

from ..kernels.linearity import apply_linearity
from ..stpipe.step import Step
from .support import FLAGS, load_reference, owned_array, ramp_input


class LinearityStep(Step):
    """Apply Σ c_k·DN^k per pixel to every unsaturated group."""

    class_alias = "linearity"
    reference_file_types = ("linearity",)

    def process(self, model):
        ramp = ramp_input(model, self.name)
        lin = load_reference(self, ramp, "linearity")
        if lin is None:
            return self.skip_step(ramp, "no LINEARITY reference applies (N/A)")
        data = owned_array(ramp.data, "float32")
        ramp.data, ramp.pixeldq = apply_linearity(
            data, ramp.groupdq, ramp.pixeldq, lin.coeffs, lin.dq,
            saturated=FLAGS["saturated"], no_lin_corr=FLAGS["no_lin_corr"], out=data)
        return ramp
