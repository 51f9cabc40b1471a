"""refpix: remove amplifier offsets and drifts measured on the reference pixels."""

from __future__ import annotations

from ..instruments import DMS_TO_DETECTOR, family
from ..kernels.refpix import correct_refpix_miri, correct_refpix_nir
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import FLAGS, owned_array, ramp_input


def _nir(ramp, step):
    sub, exp = ramp.meta.subarray, ramp.meta.exposure
    data = owned_array(ramp.data, "float32")
    return correct_refpix_nir(
        data, ramp.pixeldq, out=data, do_not_use=FLAGS["do_not_use"],
        reference_pixel=FLAGS["reference_pixel"], xstart=int(sub.xstart or 1),
        ystart=int(sub.ystart or 1), noutputs=int(exp.noutputs or 4),
        dms_to_detector=DMS_TO_DETECTOR.get(ramp.meta.instrument.detector or "", ""),
        odd_even_columns=step.odd_even_columns, use_side_ref_pixels=step.use_side_ref_pixels,
        side_smoothing_length=step.side_smoothing_length, side_gain=step.side_gain)


def _miri(ramp, step):
    data = owned_array(ramp.data, "float32")
    return correct_refpix_miri(
        data, ramp.pixeldq, out=data, do_not_use=FLAGS["do_not_use"],
        odd_even_rows=step.odd_even_rows,
        is_subarray=(ramp.meta.subarray.name or "FULL") != "FULL")


#: detector family → correction
ALGORITHMS = {"nir": _nir, "miri": _miri}


class RefPixStep(Step):
    """Subtract per-amplifier (odd/even) offsets from the top/bottom reference rows and the
    row-correlated drift from the side reference columns (NIR); reference columns (MIRI)."""

    class_alias = "refpix"
    reference_file_types = ("refpix",)
    spec = {
        "odd_even_columns": Param("boolean", True, "Separate even/odd column offsets (NIR)"),
        "use_side_ref_pixels": Param("boolean", True, "Use the side reference pixels (NIR)"),
        "side_smoothing_length": Param("integer", 11, "Rows in the side running median",
                                       min=1),
        "side_gain": Param("float", 1.0, "Multiplier of the side reference signal"),
        "odd_even_rows": Param("boolean", True, "Separate even/odd row offsets (MIRI)"),
        "ovr_corr_mitigation_ftr": Param("float", 3.0, "IRS2 only; not used here"),
        "preserve_irs2_refpix": Param("boolean", False, "IRS2 only; not used here"),
        "irs2_mean_subtraction": Param("boolean", False, "IRS2 only; not used here"),
        "refpix_algorithm": Param("option", "median", "Side reference algorithm",
                                  options=("median",)),
    }

    def process(self, model):
        ramp = ramp_input(model, self.name)
        if (ramp.meta.exposure.readpatt or "").upper().startswith("NRSIRS2"):
            return self.skip_step(ramp, "NIRSpec IRS2 readout is not supported in webbflow "
                                        "0.1")
        result = ALGORITHMS[family(ramp.meta.instrument.name)](ramp, self)
        if result.status != "COMPLETE":
            return self.skip_step(ramp, result.message or "no usable reference pixels")
        if result.message:
            self.log.warning(result.message)
        ramp.data = result.data
        return ramp
