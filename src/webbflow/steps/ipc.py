"""ipc: remove inter-pixel capacitance with the IPC deconvolution kernel."""

from __future__ import annotations

from ..instruments import family
from ..kernels.ipc import correct_ipc, num_ref_pixels
from ..stpipe.step import Step
from .support import load_reference, owned_array, ramp_input


class IPCStep(Step):
    """Convolve every group with the IPC reference kernel, reference pixels excluded."""

    class_alias = "ipc"
    reference_file_types = ("ipc",)

    def process(self, model):
        ramp = ramp_input(model, self.name)
        ipc = load_reference(self, ramp, "ipc")
        if ipc is None:
            return self.skip_step(ramp, "no IPC reference applies (N/A)")
        sub = ramp.meta.subarray
        ny, nx = ramp.shape[-2:]
        nref = num_ref_pixels(int(sub.xstart or 1), int(sub.ystart or 1), nx, ny,
                              miri=family(ramp.meta.instrument.name) == "miri")
        data = owned_array(ramp.data, "float32")
        ramp.data = correct_ipc(data, ipc.data, nref, out=data)
        return ramp
