"""dark_current: subtract the dark, averaged into the exposure's readout pattern."""

from __future__ import annotations

import numpy as np

from ..errors import ReferenceError_
from ..kernels.dark import dark_frames_sufficient, subtract_dark
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import load_reference, owned_array, ramp_input


class DarkCurrentStep(Step):
    """Average DARK frames to the science NFRAMES/GROUPGAP pattern and subtract them."""

    class_alias = "dark_current"
    cal_step_name = "dark_sub"
    reference_file_types = ("dark",)
    spec = {
        "dark_output": Param("path", None, "Name of a file to save the averaged dark to"),
        "average_dark_current": Param("float", None, "Average dark current (DN/s) for the "
                                      "ramp-fit Poisson variance; default: from the dark",
                                      min=0.0),
    }

    def process(self, model):
        ramp = ramp_input(model, self.name)
        # the dark's ERR is never used (and as big as its SCI): not read; nor are the SCI
        # planes the read pattern skips (``DarkModel.planes_needed``)
        dark = load_reference(self, ramp, "dark", drop=("err",))
        if dark is None:
            return self.skip_step(ramp, "no DARK reference applies (N/A)")
        exp, dexp = ramp.meta.exposure, dark.meta.exposure
        nframes, groupgap = int(exp.nframes or 1), int(exp.groupgap or 0)
        dark_nframes, dark_groupgap = int(dexp.nframes or 1), int(dexp.groupgap or 0)
        # only the planes this read pattern averages may have been read (``planes_needed``)
        held = dark.planes_read
        dark_ngroups = dark.data.shape[-3] if held is None else held.count
        if not dark_frames_sufficient(ramp.shape[1], nframes, groupgap, dark_ngroups,
                                      dark_nframes, dark_groupgap):
            raise ReferenceError_(
                f"dark reference {dark.meta.filename}: {dark_ngroups} groups "
                f"(NFRAMES={dark_nframes}) are too few for {ramp.shape[1]} groups of "
                f"{exp.readpatt} (NFRAMES={nframes}, GROUPGAP={groupgap})")
        data = owned_array(ramp.data, "float32")
        result = subtract_dark(
            data, ramp.pixeldq, dark.data, dark.dq, nframes=nframes, groupgap=groupgap,
            dark_nframes=dark_nframes, dark_groupgap=dark_groupgap,
            int_start=int(exp.integration_start or 1), out=data,
            keep_average=bool(self.dark_output),
            dark_planes=None if held is None else held.count)
        if not result.applied:
            return self.skip_step(ramp, result.message)
        ramp.data, ramp.pixeldq = result.data, result.pixeldq
        if self.average_dark_current is not None:
            ramp.average_dark_current = np.full(ramp.shape[-2:], self.average_dark_current,
                                                dtype=np.float32)
        if self.dark_output and result.averaged_dark is not None:
            out = dark.copy()
            out.data = result.averaged_dark
            out.save(self.dark_output)
        return ramp
