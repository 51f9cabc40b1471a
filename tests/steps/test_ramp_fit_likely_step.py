"""ramp_fit with algorithm="LIKELY" through Detector1Pipeline on the tiny exposure."""

from __future__ import annotations

import numpy as np
from tiny_exposure import make_tiny

from webbflow import datamodels as dm
from webbflow.datamodels.convert import to_ramp
from webbflow.pipelines.detector1 import Detector1Pipeline
from webbflow.steps.ramp_fit import RampFitStep


def _likely(overrides: dict) -> dict:
    steps = {name: dict(pars) for name, pars in overrides.items()}
    steps["ramp_fit"]["algorithm"] = "LIKELY"
    return steps


def test_likely_through_detector1_gives_the_truth_rate(tiny):
    """Noiseless linear ramps (6 groups, NFRAMES 2, GROUPGAP 1, 2 integrations)."""
    rate = Detector1Pipeline.call(tiny.uncal, steps=_likely(tiny.overrides))
    assert isinstance(rate, dm.ImageModel)
    np.testing.assert_allclose(rate.data, tiny.truth_rate, rtol=1e-5, atol=1e-4)
    assert not np.any(rate.dq & (dm.dqflags.PIXEL["DO_NOT_USE"] | dm.dqflags.PIXEL["JUMP_DET"]))
    assert np.all(rate.err > 0)
    np.testing.assert_allclose(rate.err**2, rate.var_poisson + rate.var_rnoise, rtol=1e-4)
    assert rate.meta.cal_step.ramp_fit == "COMPLETE"


def test_likely_falls_back_to_ols_below_four_groups(tmp_path):
    """With 3 groups LIKELY is impossible (the kernel refuses); the step uses OLS_C instead
    and gives exactly the OLS_C products, as officially."""
    tiny = make_tiny(tmp_path)
    ramp = to_ramp(dm.open(tiny.uncal))
    short = ramp.copy()
    short.data = ramp.data[:, :3] - 12000.0  # bias-free noiseless ramps
    short.groupdq = np.zeros(short.data.shape, np.uint8)
    short.meta.exposure.ngroups = 3
    refs = tiny.overrides["ramp_fit"]
    likely = RampFitStep.call(short.copy(), algorithm="LIKELY", **refs)
    ols = RampFitStep.call(short.copy(), algorithm="OLS_C", **refs)
    rate_l = likely[0] if isinstance(likely, tuple) else likely
    rate_o = ols[0] if isinstance(ols, tuple) else ols
    assert rate_l.data.tobytes() == rate_o.data.tobytes()
    np.testing.assert_allclose(rate_l.data, tiny.truth_rate, rtol=1e-5)
