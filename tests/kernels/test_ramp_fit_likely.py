"""Tests of the likelihood-based ("LIKELY") ramp fit, webbflow.kernels.ramp_fit_likely.

Unless stated otherwise: read noise 10 DN (CDS), gain 2 e-/DN, NFRAMES = 2, GROUPGAP = 1,
TFRAME = 1 s (TGROUP = 3 s), 6 groups. Reference numbers marked "stcal" were produced once by
the official stcal 1.20 ``likely_ramp_fit`` on the same arrays (facts, not code).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from webbflow.kernels.ramp_fit_api import fit_ramps
from webbflow.kernels.ramp_fit_likely import (
    fit_ramps_likely,
    resultant_covariance_terms,
    resultant_times,
)

DNU, SAT, JUMP, NGV = 1, 2, 4, 524288
FLAGS = {"DO_NOT_USE": DNU, "SATURATED": SAT, "JUMP_DET": JUMP, "NO_GAIN_VALUE": NGV}


def fit(data, gdq=None, rn=10.0, gain=2.0, tframe=1.0, nframes=2, groupgap=1, **kw):
    """Fit (nints, ngroups, ny, nx) or (ngroups, npix) ramps; return (result, njumps)."""
    data = np.asarray(data, np.float32)
    if data.ndim == 2:
        data = data[None, :, None, :]
    ny, nx = data.shape[2:]
    gdq = np.zeros(data.shape, np.uint8) if gdq is None else np.asarray(gdq, np.uint8).reshape(
        data.shape)
    return fit_ramps_likely(data, gdq, np.zeros((ny, nx), np.uint32),
                            np.full((ny, nx), rn, np.float32), np.full((ny, nx), gain, np.float32),
                            tframe, nframes, groupgap, FLAGS, **kw)


def test_read_pattern_times():
    """MULTIACCUM nframes=2, groupgap=1, tframe=1: group k reads at 3k+1, 3k+2 s.

    Mean times 1.5, 4.5, ...; tau = (3 t1 + t2) / 4 = 1.25 for group 0 (paper I eq. 11).
    """
    tbar, tau, n = resultant_times(3, 2, 1, 1.0)
    np.testing.assert_allclose(tbar, [1.5, 4.5, 7.5])
    np.testing.assert_allclose(tau, [1.25, 4.25, 7.25])
    np.testing.assert_array_equal(n, [2, 2, 2])
    tbar, _, n = resultant_times(3, 2, 1, 1.0, zeroframe=True)
    np.testing.assert_allclose(tbar, [1.0, 2.0, 4.5, 7.5])
    np.testing.assert_array_equal(n, [1, 1, 2, 2])
    terms = resultant_covariance_terms(*resultant_times(3, 2, 1, 1.0))
    np.testing.assert_allclose(terms[0], [3.0, 3.0])
    np.testing.assert_allclose(terms[1], [1.0 / 9, 1.0 / 9])  # (1/2 + 1/2) / 3^2
    np.testing.assert_allclose(terms[3, 0], -1.0 / 18)  # -1 / (N dt dt)


@pytest.mark.parametrize(("nframes", "groupgap", "rate"), [(1, 0, 7.25), (2, 1, 0.0),
                                                             (8, 2, 123.4)])
def test_noiseless_linear_ramp_returns_its_slope(nframes, groupgap, rate):
    """Exactly linear resultants: the GLS slope is the line's slope, chi2 0, no jump."""
    tg = (nframes + groupgap) * 1.0
    ramp = 500.0 + rate * tg * np.arange(8)
    res, njumps = fit(ramp[:, None], nframes=nframes, groupgap=groupgap)
    assert res.slope[0, 0] == pytest.approx(rate, rel=1e-6, abs=1e-5)
    assert njumps == 0
    assert res.dq[0, 0] == 0
    assert res.err[0, 0] ** 2 == pytest.approx(res.var_poisson[0, 0] + res.var_rnoise[0, 0],
                                               rel=1e-5)


def test_matches_stcal_on_hand_built_pixels():
    """Two pixels of 6 groups; the second has an unflagged 400 DN jump before group 3.

    stcal: slopes 20.061594, 19.833334; VAR_POISSON 0.6653274, 0.7575231; VAR_RNOISE
    0.1689138, 0.6944444; ERR 0.91336805, 1.2049762; DQ 0, JUMP_DET.
    """
    ramp = np.array([100.0, 161.0, 219.5, 283.0, 339.0, 401.5])
    data = np.stack([ramp, ramp + 400.0 * (np.arange(6) >= 3)], axis=1)
    res, njumps = fit(data)
    np.testing.assert_allclose(res.slope[0], [20.061594, 19.833334], rtol=2e-6)
    np.testing.assert_allclose(res.var_poisson[0], [0.6653274, 0.7575231], rtol=2e-6)
    np.testing.assert_allclose(res.var_rnoise[0], [0.1689138, 0.6944444], rtol=2e-6)
    np.testing.assert_allclose(res.err[0], [0.91336805, 1.2049762], rtol=2e-6)
    np.testing.assert_array_equal(res.dq[0], [0, JUMP])
    assert njumps == 1


def test_existing_jump_flag_removes_both_differences_it_touches():
    """A JUMP_DET group from the jump step removes its two differences (as officially).

    Noiseless 20 DN/s ramp with a 1000 DN jump before group 3: without the jump search the
    flagged group still gives the exact slope from the remaining differences.
    """
    ramp = 50.0 + 60.0 * np.arange(8) + 1000.0 * (np.arange(8) >= 3)
    gdq = np.zeros(8, np.uint8)
    gdq[3] = JUMP
    res, njumps = fit(ramp[:, None], gdq=gdq[:, None], detect_jumps=False)
    assert res.slope[0, 0] == pytest.approx(20.0, rel=1e-6)
    assert res.dq[0, 0] == JUMP
    assert njumps == 0
    unflagged, _ = fit(ramp[:, None], detect_jumps=False)
    assert unflagged.slope[0, 0] > 60.0  # the jump biases an unflagged, unsearched fit


def test_jump_search_finds_an_unflagged_cosmic_ray():
    """Noiseless ramp, 10 groups, a 300 DN hit before group 6: found, flagged, slope exact."""
    ramp = 50.0 + 30.0 * np.arange(10) + 300.0 * (np.arange(10) >= 6)
    res, njumps = fit(ramp[:, None])
    assert njumps == 1
    assert res.dq[0, 0] == JUMP
    assert res.slope[0, 0] == pytest.approx(10.0, rel=1e-6)


def test_saturation_is_excluded_and_flagged():
    """Groups 5+ saturated (values clipped): the slope comes from groups 0-4, DQ SATURATED.

    A ramp saturated from group 0 has no usable difference: NaN rate, variances and ERR,
    DQ DO_NOT_USE | SATURATED (official LIKELY conventions).
    """
    ramp = np.minimum(50.0 + 90.0 * np.arange(8), 450.0)
    gdq = np.zeros((8, 2), np.uint8)
    gdq[5:, 0] = SAT
    gdq[:, 1] = SAT
    res, _ = fit(np.stack([ramp, ramp], axis=1), gdq=gdq)
    assert res.slope[0, 0] == pytest.approx(30.0, rel=1e-6)
    assert res.dq[0, 0] == SAT
    assert np.isnan(res.slope[0, 1]) and np.isnan(res.err[0, 1])
    assert np.isnan(res.var_poisson[0, 1]) and np.isnan(res.var_rnoise[0, 1])
    assert res.dq[0, 1] == DNU | SAT


def test_zero_gain_is_flagged():
    """Gain 0: NaN outputs, DO_NOT_USE | NO_GAIN_VALUE (a webbflow addition)."""
    res, _ = fit((50.0 + 30.0 * np.arange(6))[:, None], gain=0.0)
    assert np.isnan(res.slope[0, 0])
    assert res.dq[0, 0] == DNU | NGV


def test_integrations_combine_and_dq_as_officially():
    """Two integrations, 10 and 20 DN/s noiseless; the second fully saturated in pixel 1.

    Pixel 0 combines both (between 10 and 20, weighted by their variances); pixel 1 takes
    integration 0 alone and keeps SATURATED but not DO_NOT_USE at exposure level.
    """
    t = np.arange(6) * 3.0
    data = np.empty((2, 6, 1, 2), np.float32)
    data[0, :, 0, :] = (100.0 + 10.0 * t)[:, None]
    data[1, :, 0, :] = (100.0 + 20.0 * t)[:, None]
    gdq = np.zeros(data.shape, np.uint8)
    gdq[1, :, 0, 1] = SAT
    res, _ = fit(data, gdq=gdq)
    np.testing.assert_allclose(res.slope_ints[:, 0, 0], [10.0, 20.0], rtol=1e-6)
    assert 10.0 < res.slope[0, 0] < 20.0
    assert res.slope[0, 1] == pytest.approx(10.0, rel=1e-6)
    assert res.dq_ints[1, 0, 1] == DNU | SAT
    assert res.dq[0, 1] == SAT


def _simulate(rate, npix, seed, ngroups=10, nframes=8, groupgap=2, tframe=10.737, gain=2.0,
              rn_cds=10.0):
    """MEDIUM8-like resultants: Poisson electrons per frame + Gaussian read noise per read."""
    rng = np.random.default_rng(seed)
    nread = ngroups * (nframes + groupgap)
    counts = rng.poisson(rate * gain * tframe, size=(nread, npix)).cumsum(0) / gain
    reads = counts + rng.normal(0.0, rn_cds / np.sqrt(2.0), size=counts.shape)
    groups = reads.reshape(ngroups, nframes + groupgap, npix)[:, :nframes].mean(1)
    return groups.astype(np.float32)[None, :, None, :]


@pytest.mark.parametrize("rate", [0.5, 5.0, 50.0])
def test_monte_carlo_unbiased_calibrated_and_better_than_ols(rate):
    """5000 pixels, MEDIUM8, 10 groups: mean pull within 0.03, pull std 0.95-1.05, and a
    smaller scatter than the OLS_C fit of the same ramps."""
    npix, tframe = 5000, 10.737
    data = _simulate(rate, npix, seed=int(rate * 10))
    res, _ = fit(data, tframe=tframe, nframes=8, groupgap=2)
    pull = (res.slope[0].astype(float) - rate) / res.err[0]
    z = np.zeros((1, npix), np.uint32)
    ols = fit_ramps(data, np.zeros(data.shape, np.uint8), z, np.full((1, npix), 10.0, "f4"),
                    np.full((1, npix), 2.0, "f4"), 10 * tframe, tframe, 8, 2, FLAGS)
    sd_likely = np.std(res.slope[0].astype(float) - rate)
    sd_ols = np.std(ols.slope[0].astype(float) - rate)
    print(f"rate {rate}: pull mean {pull.mean():+.4f} std {pull.std():.4f}; "
          f"scatter LIKELY {sd_likely:.5f} OLS_C {sd_ols:.5f} DN/s")
    assert abs(pull.mean()) < 0.03
    assert 0.95 < pull.std() < 1.05
    assert sd_likely < sd_ols


def test_results_do_not_depend_on_thread_count():
    """Byte-identical outputs with 1 thread and with all threads."""
    rng = np.random.default_rng(5)
    data = _simulate(3.0, 64 * 48, seed=9).reshape(1, 10, 64, 48)
    data[0, 6:, :5] += rng.uniform(50, 500, size=(4, 5, 48)).astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 8:, 10:12] = SAT
    kw = {"tframe": 10.737, "nframes": 8, "groupgap": 2}
    default = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one, n1 = fit(data, gdq=gdq, **kw)
    finally:
        numba.set_num_threads(default)
    many, n2 = fit(data, gdq=gdq, **kw)
    assert n1 == n2 > 0
    for name in ("slope", "dq", "var_poisson", "var_rnoise", "err", "slope_ints"):
        assert getattr(one, name).tobytes() == getattr(many, name).tobytes(), name


def test_rejects_too_few_groups():
    with pytest.raises(ValueError, match="at least 4 groups"):
        fit(np.zeros((3, 1)))
