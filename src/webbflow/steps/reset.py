"""reset: subtract the MIRI reset-anomaly reference from the first groups of each integration."""

from __future__ import annotations

from ..stpipe.step import Step
from .support import load_reference, ramp_input


class ResetStep(Step):
    """Subtract the RESET reference (per integration and group; integrations past the
    reference's NINTS use its last one) and OR its DQ into PIXELDQ (MIRI only)."""

    class_alias = "reset"
    reference_file_types = ("reset",)
    spec = {}

    def process(self, model):
        from ..kernels.reset import subtract_reset  # imported on use: keeps strun's start-up short

        ramp = ramp_input(model, self.name)
        if not str(ramp.meta.instrument.detector or "").upper().startswith("MIR"):
            return self.skip_step(ramp, "reset correction is only for MIRI data")
        # the reference's ERR is never used (and as big as its SCI): not read
        ref = load_reference(self, ramp, "reset", drop=("err",))
        if ref is None:
            return self.skip_step(ramp, "no RESET reference applies (N/A)")
        data = ref.data if ref.data.ndim == 4 else ref.data[None]
        rexp = ref.meta.exposure
        subtract_reset(ramp.data, data, istart=int(ramp.meta.exposure.integration_start or 1) - 1,
                       reset_nints=rexp.nints, reset_ngroups=rexp.ngroups)
        if ref.dq is not None:
            ramp.pixeldq |= ref.dq.astype(ramp.pixeldq.dtype)
        return ramp
