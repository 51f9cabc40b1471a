"""saturation: flag saturated (and A/D-floor) groups, growing flags to neighbours."""

from __future__ import annotations

from ..kernels.saturation import flag_saturation, frame_read_pattern
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import FLAGS, load_reference, owned_array, ramp_input

#: A/D converter ceiling of the JWST detectors' 16-bit readout, DN
ATOD_LIMIT = 65535.0


class SaturationStep(Step):
    """Flag groups at or above the SATURATION reference threshold as SATURATED."""

    class_alias = "saturation"
    reference_file_types = ("saturation", "superbias")
    spec = {
        "n_pix_grow_sat": Param("integer", 1, "Number of neighbour pixels to also flag", min=0),
        "use_readpatt": Param("boolean", True, "Use the frame read pattern for grouped data "
                              "(flag groups whose frames may have saturated)"),
    }

    def process(self, model):
        ramp = ramp_input(model, self.name)
        sat = load_reference(self, ramp, "saturation")
        if sat is None:
            return self.skip_step(ramp, "no SATURATION reference applies (N/A)")
        exp = ramp.meta.exposure
        nframes, groupgap = int(exp.nframes or 1), int(exp.groupgap or 0)
        read_pattern = bias = None
        if self.use_readpatt and nframes > 1:
            read_pattern = frame_read_pattern(ramp.shape[1], nframes, groupgap)
            superbias = load_reference(self, ramp, "superbias", drop=("err", "dq"))
            bias = None if superbias is None else superbias.data
        groupdq, pixeldq, zeroframe = flag_saturation(
            ramp.data, ramp.groupdq, ramp.pixeldq, sat.data, sat.dq,
            saturated=FLAGS["saturated"], do_not_use=FLAGS["do_not_use"],
            ad_floor=FLAGS["ad_floor"], no_sat_check=FLAGS["no_sat_check"],
            atod_limit=ATOD_LIMIT, n_pix_grow_sat=self.n_pix_grow_sat,
            read_pattern=read_pattern, bias=bias,
            zeroframe=ramp.zeroframe if ramp.has("zeroframe") else None,
            out=owned_array(ramp.groupdq, "uint8"),
        )
        ramp.groupdq, ramp.pixeldq = groupdq, pixeldq
        if zeroframe is not None:
            ramp.zeroframe = zeroframe
        return ramp
