"""EMI joint and sequential fits remove a pure sinusoid at an EMI frequency to the noise."""

import numpy as np
import pytest

from webbflow.kernels.emicorr import (
    _spline_eval,
    fit_joint,
    sequential_correct,
    spline_coefficients,
    subtract_joint,
)

P, ROWCLOCKS, NY, NX, NG = 256.0, 82, 32, 32, 10


def _emi_ramps(nints=2, amp=5.0, phase0=0.3, noise=0.5):
    rng = np.random.default_rng(3)
    t0 = np.arange(NY)[:, None] * ROWCLOCKS + np.arange(NX // 4)[None, :]
    frametime = NY * ROWCLOCKS + (1024 - NY) * 7.0
    data = np.empty((nints, NG, NY, NX), np.float32)
    for i in range(nints):
        for g in range(NG):
            emi = amp * np.sin(2 * np.pi * ((t0 + (i * NG + g) * frametime) / P + phase0))
            data[i, g] = 1000 + 3.0 * g + np.repeat(emi, 4, axis=1) + rng.normal(0, noise,
                                                                               (NY, NX))
    return data


def _residual(data):
    return data - (1000 + 3.0 * np.arange(NG))[None, :, None, None]


def test_spline_interpolates_samples_and_is_periodic():
    wave = np.sin(2 * np.pi * (np.arange(64) + 0.5) / 64)
    ys, ms = spline_coefficients(wave)
    assert _spline_eval(ys, ms, 0.5 / 64) == pytest.approx(wave[0], abs=1e-12)
    assert _spline_eval(ys, ms, 0.25) == pytest.approx(1.0, abs=1e-4)
    # not-a-knot ends (as officially): continuous across 0/1 to the interpolation error
    assert _spline_eval(ys, ms, 0.0) == pytest.approx(_spline_eval(ys, ms, 1 - 1e-12), abs=1e-6)


@pytest.mark.parametrize("separately", [False, True])
def test_joint_removes_sinusoid(separately):
    data = _emi_ramps()
    before = _residual(data).std()
    wave = np.sin(2 * np.pi * (np.arange(128) + 0.5) / 128)
    phases, amps, dphase = fit_joint(data, np.zeros((NY, NX), np.uint32), wave, nsamples=1,
                                     rowclocks=ROWCLOCKS, frameclocks=0, period=P,
                                     fit_ints_separately=separately)
    assert np.allclose(np.abs(amps), 5.0, rtol=0.01)
    subtract_joint(data, wave, phases, amps, dphase, nsamples=1, rowclocks=ROWCLOCKS, period=P)
    assert before > 3.5
    assert _residual(data).std() == pytest.approx(0.5, abs=0.02)


def test_sequential_on_the_fly_removes_sinusoid():
    data = _emi_ramps(nints=3)
    pa = sequential_correct(data, None, nsamples=1, rowclocks=ROWCLOCKS, frameclocks=23968,
                            period=P, nbins=None, nints_to_phase=3, r1=False, xstart=1,
                            xsize=NX, scale_reference=True)
    assert pa.shape == (128,)
    assert np.ptp(pa) == pytest.approx(10.0, rel=0.1)
    assert _residual(data).std() < 0.8
