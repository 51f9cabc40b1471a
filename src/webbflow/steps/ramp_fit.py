"""ramp_fit: optimally weighted least-squares slopes → rate and rateints."""

from __future__ import annotations

from ..datamodels.convert import image_like
from ..kernels.ramp_fit_api import fit_ramps
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import FLAGS, load_reference, ramp_input

_KERNEL_FLAGS = {"DO_NOT_USE": FLAGS["do_not_use"], "SATURATED": FLAGS["saturated"],
                 "JUMP_DET": FLAGS["jump_det"], "NO_GAIN_VALUE": FLAGS["no_gain_value"],
                 "PERSISTENCE": FLAGS["persistence"]}


class RampFitStep(Step):
    """Fit each pixel's ramp segments; return the ``rate`` image and ``rateints`` cube.

    Rates are DN/s; VAR_POISSON and VAR_RNOISE are (DN/s)²; ERR = sqrt(VAR_POISSON +
    VAR_RNOISE) for the rate (official OLS conventions). ``algorithm="LIKELY"`` fits by maximum
    likelihood with its own chi-squared jump search (Brandt 2024); it needs 4 or more groups and
    falls back to OLS_C otherwise, as officially.
    """

    class_alias = "ramp_fit"
    default_suffix = "rampfit"
    reference_file_types = ("readnoise", "gain")
    spec = {
        "algorithm": Param("option", "OLS_C", "Fitting algorithm",
                           options=("OLS", "OLS_C", "LIKELY")),
        "int_name": Param("string", "", "Accepted for compatibility"),
        "save_opt": Param("boolean", False, "Save the optional fit results (not available)"),
        "opt_name": Param("string", "", "Name of the optional fit results file"),
        "suppress_one_group": Param("boolean", True, "Give no rate for integrations with a "
                                    "single good group"),
        "firstgroup": Param("integer", None, "First group (0-based) to fit", min=0),
        "lastgroup": Param("integer", None, "Last group (0-based) to fit", min=0),
        "maximum_cores": Param("string", "1", "Accepted for compatibility: webbflow uses "
                               "numba threads (NUMBA_NUM_THREADS)"),
    }

    def process(self, model):
        ramp = ramp_input(model, self.name)
        readnoise = load_reference(self, ramp, "readnoise")
        gain = load_reference(self, ramp, "gain")
        if readnoise is None or gain is None:
            return self.skip_step(ramp, "no READNOISE or GAIN reference applies (N/A)")
        if self.save_opt:
            self.log.warning("save_opt: the optional fit product is not written by "
                             "webbflow 0.1")
        exp = ramp.meta.exposure
        algorithm = self.algorithm.upper()
        if algorithm == "LIKELY":  # imported on use: keeps strun's start-up short
            from ..kernels.ramp_fit_likely import LIKELY_MIN_NGROUPS, fit_ramps_likely
        if algorithm == "LIKELY" and ramp.data.shape[1] < LIKELY_MIN_NGROUPS:
            self.log.info(f"LIKELY needs ngroups >= {LIKELY_MIN_NGROUPS}, got "
                          f"{ramp.data.shape[1]}: using OLS_C")
            algorithm = "OLS_C"
        dark = (ramp.average_dark_current if ramp.has("average_dark_current") else None)
        if algorithm == "LIKELY":
            fit, njumps = fit_ramps_likely(
                ramp.data, ramp.groupdq, ramp.pixeldq, readnoise.data, gain.data,
                float(exp.frame_time), int(exp.nframes or 1), int(exp.groupgap or 0),
                _KERNEL_FLAGS, zeroframe=ramp.zeroframe if ramp.has("zeroframe") else None,
                average_dark_current=dark, firstgroup=self.firstgroup,
                lastgroup=self.lastgroup)
            self.log.info(f"LIKELY jump search flagged {njumps} new jumps")
        else:
            fit = self._fit_ols(ramp, readnoise, gain, dark)
        rate = image_like(ramp, fit.slope, dq=fit.dq, err=fit.err,
                          var_poisson=fit.var_poisson, var_rnoise=fit.var_rnoise)
        rateints = image_like(ramp, fit.slope_ints, dq=fit.dq_ints, err=fit.err_ints,
                              var_poisson=fit.var_poisson_ints, var_rnoise=fit.var_rnoise_ints)
        for product in (rate, rateints):
            product.meta.bunit_data = "DN/s"
            product.meta.bunit_err = "DN/s"
        return rate, rateints

    def _fit_ols(self, ramp, readnoise, gain, dark):
        exp = ramp.meta.exposure
        return fit_ramps(
            ramp.data, ramp.groupdq, ramp.pixeldq, readnoise.data, gain.data,
            float(exp.group_time), float(exp.frame_time), int(exp.nframes or 1),
            int(exp.groupgap or 0), _KERNEL_FLAGS, self.suppress_one_group,
            average_dark_current=dark, firstgroup=self.firstgroup, lastgroup=self.lastgroup)
