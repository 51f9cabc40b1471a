"""Tests of the OLS ramp-fitting kernel (webbflow.kernels.ramp_fit / ramp_fit_api).

Single-pixel ramps are built by hand; each docstring states the case, the segments the
official algorithm (stcal OLS_C) forms and the expected slope. Unless stated otherwise:
read noise 10 DN (CDS), gain 2 e-/DN, TGROUP = TFRAME = 10 s, NFRAMES = 1, so the single-read
noise is R = 10 * 2 / sqrt(2) e- and a segment of n groups has read-noise variance
12 R^2 / ((n^3 - n) t^2 g^2) = 600 / ((n^3 - n) * 100) (DN/s)^2.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from webbflow.kernels.ramp_fit import _fit_clean_row, _usable_groups, weight_table
from webbflow.kernels.ramp_fit_api import fit_ramps

DNU, SAT, JUMP, NGV = 1, 2, 4, 524288
FLAGS = {"DO_NOT_USE": DNU, "SATURATED": SAT, "JUMP_DET": JUMP, "NO_GAIN_VALUE": NGV}
RN, GAIN, TG = 10.0, 2.0, 10.0


def var_r(n, rn=RN, tg=TG, nframes=1):
    """Official read-noise variance of an n-group segment (n = 2 for one-group segments)."""
    n = max(n, 2)
    return 12.0 * rn**2 / (2.0 * nframes) / ((n**3 - n) * tg**2)


def fit1(ramps, gdq=None, rn=RN, gain=GAIN, tg=TG, tf=TG, nframes=1, **kw):
    """Fit one pixel; ``ramps`` is (ngroups,) or (nints, ngroups)."""
    ramps = np.atleast_2d(np.asarray(ramps, np.float32))
    data = ramps[:, :, None, None].copy()
    gq = np.zeros(data.shape, np.uint8)
    if gdq is not None:
        gq[:, :, 0, 0] = np.atleast_2d(gdq)
    one = np.ones((1, 1), np.float32)
    return fit_ramps(data, gq, np.zeros((1, 1), np.uint32), one * rn, one * gain, tg, tf,
                     nframes, 0, FLAGS, **kw)


def optimal_slope(y, tg=TG, rn=RN, gain=GAIN, nframes=1):
    """Fixsen-weighted OLS slope of one segment (DN/s), from np.polyfit."""
    y = np.asarray(y, np.float64)
    n = y.size
    rn_e = rn * gain / np.sqrt(2 * nframes)
    diff = (y[-1] - y[0]) * gain
    snr = max(diff / np.sqrt(rn_e**2 + diff), 0.0) if rn_e**2 + diff > 0 else 0.0
    power = [0.0, 0.4, 1.0, 3.0, 6.0, 10.0][np.searchsorted([5, 10, 20, 50, 100], snr, "right")]
    mid = (n - 1) / 2
    w = np.abs((np.arange(n) - mid) / mid) ** power
    return np.polyfit(np.arange(n), y, 1, w=np.sqrt(w))[0] / tg


# ------------------------------------------------------------------------------ hand cases


@pytest.mark.parametrize("rate", [0.3, 3.0, 30.0, 300.0, 3000.0, -2.0])
def test_noiseless_linear_ramp(rate):
    """10-group noiseless ramp, one segment (groups 0-9): slope = rate exactly (float32),
    whatever weighting exponent the segment SNR selects (rates span P = 0 ... 10)."""
    r = fit1(5.0 + rate * TG * np.arange(10))
    np.testing.assert_allclose(r.slope[0, 0], rate, rtol=2e-6)
    np.testing.assert_allclose(r.slope_ints[0, 0, 0], rate, rtol=2e-6)
    assert r.dq[0, 0] == 0
    np.testing.assert_allclose(r.var_rnoise[0, 0], var_r(10), rtol=1e-6)


def test_jump_splits_into_two_equal_slope_segments():
    """Jump at group 5 (+500 DN): segments groups 0-4 and 5-9 (the jump group starts the
    second), both slope 4 DN/s -> slope 4; VAR_RNOISE = var_r(5) / 2; DQ has JUMP_DET."""
    ramp = 4.0 * TG * np.arange(10)
    ramp[5:] += 500.0
    gdq = np.zeros(10, np.uint8)
    gdq[5] = JUMP
    r = fit1(ramp, gdq)
    np.testing.assert_allclose(r.slope[0, 0], 4.0, rtol=2e-6)
    np.testing.assert_allclose(r.var_rnoise[0, 0], var_r(5) / 2, rtol=1e-6)
    # Poisson: median rate 4 (the jump difference is excluded); two segments of 5 groups.
    np.testing.assert_allclose(r.var_poisson[0, 0], 4.0 / (TG * GAIN * 4) / 2, rtol=1e-6)
    assert r.dq[0, 0] == JUMP and r.dq_ints[0, 0, 0] == JUMP


def test_saturation_uses_only_earlier_groups():
    """Saturation from group 6: one segment, groups 0-5; the junk values in saturated groups
    are ignored. slope = 7 DN/s, var_r(6); rate and rateints DQ = SATURATED (partial
    saturation is flagged but keeps its rate, as stcal 1.20 OLS_C gives: DQ 2, slope 7)."""
    ramp = 7.0 * TG * np.arange(10)
    ramp[6:] = 1e5
    gdq = np.zeros(10, np.uint8)
    gdq[6:] = SAT
    r = fit1(ramp, gdq)
    np.testing.assert_allclose(r.slope[0, 0], 7.0, rtol=2e-6)
    np.testing.assert_allclose(r.var_rnoise[0, 0], var_r(6), rtol=1e-6)
    assert r.dq[0, 0] == SAT and r.dq_ints[0, 0, 0] == SAT


def test_all_saturated():
    """Every group saturated: no segment. Rate and rateints: NaN slope, zero variances and
    ERR, DQ = DO_NOT_USE | SATURATED."""
    r = fit1(np.full(6, 6e4), np.full(6, SAT, np.uint8))
    for slope, dq, vp, vr, err in [(r.slope, r.dq, r.var_poisson, r.var_rnoise, r.err),
                                   (r.slope_ints[0], r.dq_ints[0], r.var_poisson_ints[0],
                                    r.var_rnoise_ints[0], r.err_ints[0])]:
        assert np.isnan(slope[0, 0])
        assert dq[0, 0] == DNU | SAT
        assert vp[0, 0] == 0 and vr[0, 0] == 0 and err[0, 0] == 0


def test_one_good_group_suppressed_and_not():
    """Good group 0 only, groups 1-4 saturated. suppress_one_group=True (default): no rate,
    NaN and DO_NOT_USE | SATURATED (the partial-saturation flag). False: one segment of length
    1 at the zeroth group, slope = data / ((nframes + 1) * tframe / 2) with NFRAMES=4,
    TFRAME=2 s -> 300 / 5 = 60, DQ SATURATED (stcal 1.20: DQ 3, then 60 DN/s with DQ 2)."""
    ramp = [300.0, 6e4, 6e4, 6e4, 6e4]
    gdq = [0, SAT, SAT, SAT, SAT]
    r = fit1(ramp, gdq, tg=8.0, tf=2.0, nframes=4)
    assert np.isnan(r.slope[0, 0]) and r.dq[0, 0] == DNU | SAT
    r = fit1(ramp, gdq, tg=8.0, tf=2.0, nframes=4, suppress_one_group=False)
    t1 = 5.0
    np.testing.assert_allclose(r.slope[0, 0], 300.0 / t1, rtol=1e-6)
    assert r.dq[0, 0] == SAT
    np.testing.assert_allclose(r.var_rnoise[0, 0], var_r(1, tg=t1, nframes=4), rtol=1e-6)
    np.testing.assert_allclose(r.var_poisson[0, 0], 60.0 / (t1 * GAIN), rtol=1e-6)


def test_single_group_exposure():
    """NGROUPS=1: suppression does not apply; slope = data / ((nframes + 1) tframe / 2)."""
    r = fit1([[50.0]], tg=10.0, tf=10.0)
    np.testing.assert_allclose(r.slope[0, 0], 5.0, rtol=1e-6)
    assert r.dq[0, 0] == 0


def test_two_groups():
    """NGROUPS=2: one segment of two groups, slope = (d1 - d0) / tgroup = 3 DN/s;
    var_r uses n = 2 and var_p = median rate / (tgroup * gain)."""
    r = fit1([100.0, 130.0])
    np.testing.assert_allclose(r.slope[0, 0], 3.0, rtol=1e-6)
    np.testing.assert_allclose(r.var_rnoise[0, 0], var_r(2), rtol=1e-6)
    np.testing.assert_allclose(r.var_poisson[0, 0], 3.0 / (TG * GAIN), rtol=1e-6)


def test_isolated_one_group_segment_is_dropped():
    """Jump at group 1: segments [0] (length 1) and 1-7; the one-group segment is dropped
    because a longer one exists, so the wild group 0 has no influence: slope = 2 DN/s,
    var_r(7)."""
    ramp = 2.0 * TG * np.arange(8) + 1000.0
    ramp[0] = -5000.0
    gdq = np.zeros(8, np.uint8)
    gdq[1] = JUMP
    r = fit1(ramp, gdq)
    np.testing.assert_allclose(r.slope[0, 0], 2.0, rtol=2e-6)
    np.testing.assert_allclose(r.var_rnoise[0, 0], var_r(7), rtol=1e-6)


def test_negative_rate_has_zero_poisson_variance():
    """Falling ramp (-3 DN/s): median rate < 0, so VAR_POISSON = 0 and ERR = sqrt(var_r)."""
    r = fit1(1000.0 - 30.0 * np.arange(6))
    np.testing.assert_allclose(r.slope[0, 0], -3.0, rtol=2e-6)
    assert r.var_poisson[0, 0] == 0
    np.testing.assert_allclose(r.err[0, 0], np.sqrt(var_r(6)), rtol=1e-6)


def test_five_group_variances_by_hand():
    """Ramp [0, 21, 39, 62, 80] DN: one segment. Median first-difference rate
    median(2.1, 1.8, 2.3, 1.8) = 1.95 DN/s -> var_p = 1.95 / (10 * 2 * 4) = 0.024375;
    var_r = 12 * 10^2 / 2 / (120 * 100) = 0.05; ERR = sqrt(0.074375). SNR = 160 / sqrt(360)
    = 8.4 -> P = 0.4, weights |i - 2| / 2 to the 0.4."""
    y = [0.0, 21.0, 39.0, 62.0, 80.0]
    r = fit1(y)
    np.testing.assert_allclose(r.var_poisson[0, 0], 0.024375, rtol=1e-6)
    np.testing.assert_allclose(r.var_rnoise[0, 0], 0.05, rtol=1e-6)
    np.testing.assert_allclose(r.err[0, 0], np.sqrt(0.074375), rtol=1e-6)
    w = np.array([1, 0.5**0.4, 0, 0.5**0.4, 1])
    expected = np.polyfit(np.arange(5), y, 1, w=np.sqrt(w))[0] / TG
    np.testing.assert_allclose(r.slope[0, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(r.slope[0, 0], optimal_slope(y), rtol=1e-6)


@pytest.mark.parametrize(("rn", "gain", "dq"), [(np.nan, 2.0, DNU), (10.0, 0.0, DNU | NGV),
                                                (10.0, -1.0, DNU | NGV),
                                                (10.0, np.nan, DNU | NGV)])
def test_bad_readnoise_or_gain_is_flagged(rn, gain, dq):
    """Zero/negative/NaN gain -> DO_NOT_USE | NO_GAIN_VALUE (official); NaN read noise ->
    DO_NOT_USE (webbflow). Either way NaN slope, zero variances, in rate and rateints."""
    r = fit1(3.0 * TG * np.arange(5), rn=rn, gain=gain)
    assert r.dq[0, 0] == dq and r.dq_ints[0, 0, 0] == dq
    assert np.isnan(r.slope[0, 0]) and np.isnan(r.slope_ints[0, 0, 0])
    assert r.err[0, 0] == 0 and r.var_poisson[0, 0] == 0 and r.var_rnoise[0, 0] == 0


def test_integrations_combine_and_saturated_integration_is_skipped():
    """Two integrations at 2 and 4 DN/s, a third fully saturated. Rate = inverse-variance
    mean of the first two (equal read-noise weights: 3 DN/s); VAR_RNOISE halves; third
    rateints plane NaN with DO_NOT_USE | SATURATED; rate DQ SATURATED only (an integration
    saturated, not all of them: the rate is kept)."""
    ramps = np.stack([2.0 * TG * np.arange(6), 4.0 * TG * np.arange(6), np.full(6, 6e4)])
    gdq = np.zeros((3, 6), np.uint8)
    gdq[2] = SAT
    r = fit1(ramps, gdq)
    np.testing.assert_allclose(r.slope_ints[:2, 0, 0], [2.0, 4.0], rtol=2e-6)
    np.testing.assert_allclose(r.slope[0, 0], 3.0, rtol=2e-6)
    np.testing.assert_allclose(r.var_rnoise[0, 0], var_r(6) / 2, rtol=1e-6)
    assert np.isnan(r.slope_ints[2, 0, 0]) and r.dq_ints[2, 0, 0] == DNU | SAT
    assert r.dq[0, 0] == SAT


def test_firstgroup_lastgroup():
    """firstgroup=2, lastgroup=6 keep groups 2-6 only: junk outside is ignored, var_r(5)."""
    ramp = 5.0 * TG * np.arange(10)
    ramp[:2] = -1e4
    ramp[7:] = 1e5
    r = fit1(ramp, firstgroup=2, lastgroup=6)
    np.testing.assert_allclose(r.slope[0, 0], 5.0, rtol=2e-6)
    np.testing.assert_allclose(r.var_rnoise[0, 0], var_r(5), rtol=1e-6)


def test_input_validation_and_inputs_untouched():
    """Wrong dtypes raise; data and groupdq are not modified (suppression works on copies)."""
    data = np.zeros((1, 3, 1, 1), np.float32)
    data[0, 0] = 7.0
    gdq = np.array([0, SAT, SAT], np.uint8).reshape(1, 3, 1, 1)
    before = (data.copy(), gdq.copy())
    fit_ramps(data, gdq, np.zeros((1, 1)), np.ones((1, 1)), np.ones((1, 1)), 1.0, 1.0, 1, 0,
              FLAGS)
    np.testing.assert_array_equal(data, before[0])
    np.testing.assert_array_equal(gdq, before[1])
    with pytest.raises(TypeError):
        fit_ramps(data.astype(np.float64), gdq, np.zeros((1, 1)), np.ones((1, 1)),
                  np.ones((1, 1)), 1.0, 1.0, 1, 0, FLAGS)
    with pytest.raises(ValueError, match="weighting"):
        fit_ramps(data, gdq, np.zeros((1, 1)), np.ones((1, 1)), np.ones((1, 1)), 1.0, 1.0, 1,
                  0, FLAGS, weighting="unweighted")


# ---------------------------------------------- ramps split by jumps, pinned to stcal 1.20
# Expected values are what the official OLS_C (stcal 1.20.0, jwst 3.0.0) returns for the same
# single pixel (read noise 10 DN, gain 2, TGROUP 10 s, NFRAMES 1), float32 outputs.

#: (case, ramp, groupdq, official slope, official VAR_POISSON, official VAR_RNOISE)
OFFICIAL_JUMP_CASES = [
    # Jump at group 3: segments 0-2 (3 groups) and 3-9 (7 groups, the jump group first); the
    # slopes combine with read-noise weights (n^3 - n = 24 and 336), not total variance.
    ("jump_at_3_unequal", [0, 480, 1010, 2300, 2810, 3290, 3800, 4320, 4790, 5300],
     [0, 0, 0, JUMP, 0, 0, 0, 0, 0, 0], 50.01601791381836, 0.3187499940395355,
     0.01666666753590107),
    # Jump in the last group: segment 0-8; the jump group alone would start a one-group
    # segment, dropped because a longer one exists.
    ("jump_last_group", [0, 50, 100, 150, 200, 250, 300, 350, 400, 1450], [0] * 9 + [JUMP],
     5.0, 0.03125, 0.008333333767950535),
    # Jumps at groups 4 and 5: segments 0-3 and 5-9 (group 4 is in neither: only the group
    # just before a good group starts a segment).
    ("adjacent_jumps", [0, 52, 101, 149, 900, 1700, 1755, 1801, 1848, 1902],
     [0, 0, 0, 0, JUMP, JUMP, 0, 0, 0, 0], 4.9917988777160645, 0.03500000014901161,
     0.03333333507180214),
    # Group 4 flagged JUMP_DET | DO_NOT_USE (not exactly JUMP_DET): it starts nothing;
    # segments 0-3 and 5-9.
    ("jump_and_do_not_use", [0, 52, 101, 149, 900, 950, 1003, 1049, 1098, 1150],
     [0, 0, 0, 0, JUMP | DNU, 0, 0, 0, 0, 0], 4.969576835632324, 0.03500000014901161,
     0.03333333507180214),
    # Jump at group 1: the one-group segment [0] is dropped; segment 1-7 only.
    ("jump_at_1", [-5000, 1020, 1041, 1059, 1080, 1101, 1119, 1140],
     [0, JUMP, 0, 0, 0, 0, 0, 0], 1.9916666746139526, 0.017500000074505806,
     0.01785714365541935),
    # Jump at group 2: a two-group segment 0-1 (difference) and 2-7 (6 groups).
    ("two_group_segment", [0, 30, 500, 530, 561, 590, 620, 651],
     [0, 0, JUMP, 0, 0, 0, 0, 0], 3.0152504444122314, 0.02500000037252903,
     0.02777777798473835),
    # Bright (2000 DN/s) ramp, jump at 3: segments 0-2 and 3-7; Poisson-dominated, where
    # read-noise weighting and total-variance weighting differ most.
    ("bright_jump", [0, 20100, 40150, 70300, 90280, 110400, 130350, 150420],
     [0, 0, 0, JUMP, 0, 0, 0, 0], 2003.7501220703125, 16.71666717529297, 0.0416666679084301),
]


@pytest.mark.parametrize(("case", "ramp", "gdq", "slope", "vp", "vr"), OFFICIAL_JUMP_CASES,
                         ids=[c[0] for c in OFFICIAL_JUMP_CASES])
def test_jump_split_ramps_match_official(case, ramp, gdq, slope, vp, vr):
    """Segments split at JUMP_DET groups (cases in OFFICIAL_JUMP_CASES): slope, variances and
    DQ (JUMP_DET) equal the official outputs to float32 precision."""
    r = fit1(np.array(ramp, float), np.array(gdq, np.uint8))
    np.testing.assert_allclose(r.slope[0, 0], slope, rtol=1e-6)
    np.testing.assert_allclose(r.var_poisson[0, 0], vp, rtol=1e-6)
    np.testing.assert_allclose(r.var_rnoise[0, 0], vr, rtol=1e-6)
    assert r.dq[0, 0] == JUMP and r.dq_ints[0, 0, 0] == JUMP


def test_read_noise_weighting_by_hand():
    """Jump at group 3 of a 10-group ramp: segments 0-2 (slope s1) and 3-9 (s2). The official
    combination (stcal JP-4318) weights by 1 / var_r, i.e. by n^3 - n = 24 and 336:
    slope = (24 s1 + 336 s2) / 360, independent of the Poisson variance."""
    ramp = np.array([0, 480, 1010, 2300, 2810, 3290, 3800, 4320, 4790, 5300], float)
    gdq = np.zeros(10, np.uint8)
    gdq[3] = JUMP
    r = fit1(ramp, gdq)
    s1 = optimal_slope(ramp[:3])
    s2 = optimal_slope(ramp[3:])
    np.testing.assert_allclose(r.slope[0, 0], (24 * s1 + 336 * s2) / 360, rtol=1e-6)


def test_two_integrations_with_a_jump_match_official():
    """Integration 1 jumps at group 3 (segments 0-2, 3-5), integration 2 has none (0-5).
    Official: rateints 204.75 (DQ JUMP_DET) and 201.79826 (DQ 0); rate 202.34743 = the
    read-noise-weighted mean of the three segments; VAR_RNOISE 0.023255814."""
    ramps = np.array([[0, 2050, 4110, 9000, 11020, 13080], [0, 2010, 4030, 6060, 8040, 10090]])
    gdq = np.zeros((2, 6), np.uint8)
    gdq[0, 3] = JUMP
    r = fit1(ramps, gdq)
    np.testing.assert_allclose(r.slope_ints[:, 0, 0], [204.75, 201.7982635498047], rtol=1e-6)
    np.testing.assert_array_equal(r.dq_ints[:, 0, 0], [JUMP, 0])
    np.testing.assert_allclose(r.slope[0, 0], 202.34742736816406, rtol=1e-6)
    np.testing.assert_allclose(r.var_rnoise[0, 0], 0.023255813866853714, rtol=1e-6)
    np.testing.assert_allclose(r.err[0, 0], 1.0748023986816406, rtol=1e-6)
    assert r.dq[0, 0] == JUMP


def test_persistence_groups_count_as_good():
    """PERSISTENCE (32) on group 2 when the flag is given: the group still fits (one segment
    0-5, slope 3 DN/s) and PERSISTENCE propagates to the rate DQ."""
    data = (3.0 * TG * np.arange(6)).astype(np.float32).reshape(1, 6, 1, 1)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 2] = 32
    one = np.ones((1, 1), np.float32)
    r = fit_ramps(data, gdq, np.zeros((1, 1), np.uint32), one * RN, one * GAIN, TG, TG, 1, 0,
                  {**FLAGS, "PERSISTENCE": 32})
    np.testing.assert_allclose(r.slope[0, 0], 3.0, rtol=2e-6)
    np.testing.assert_allclose(r.var_rnoise[0, 0], var_r(6), rtol=1e-6)
    assert r.dq[0, 0] == 32


@pytest.mark.parametrize("ngroups, nints, edges", [(3, 1, (0, 0)), (4, 2, (0, 0)),
                                                    (10, 1, (0, 0)), (9, 3, (0, 0)),
                                                    (10, 1, (0, 1)), (9, 2, (1, 1))])
def test_clean_pixel_path_equals_per_pixel_path(ngroups, nints, edges):
    """Unflagged pixels are fitted side by side across a row (``_fit_clean_row``), flagged
    ones one by one: a ramp carrying only PERSISTENCE (which counts as good) goes the second
    way. Every column pair holds the same noisy ramps (rates spanning every weighting
    exponent, negative ones included, with a dark term), PERSISTENCE on the odd column's
    group ``1 + edges[0]``: rates, variances and ERR agree bit for bit, and DQ differs by
    PERSISTENCE only. ``edges``: leading/trailing groups DO_NOT_USE in every pixel (MIRI's
    firstframe/lastframe), which the row path fits around."""
    rng = np.random.default_rng(7)
    ny, npairs = 3, 40
    rates = np.geomspace(0.01, 5000.0, npairs) * np.where(np.arange(npairs) % 7 == 3, -1, 1)
    t = TG * np.arange(ngroups)
    ramps = rates[None, None, None, :] * t[None, :, None, None] + rng.normal(
        0.0, RN, (nints, ngroups, ny, npairs))
    data = np.repeat(ramps, 2, axis=3).astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[:, 1 + edges[0], :, 1::2] = 32
    gdq[:, :edges[0]] = DNU
    gdq[:, ngroups - edges[1]:] = DNU
    shape = (ny, 2 * npairs)
    rn = np.repeat(rng.uniform(5, 15, (ny, npairs)), 2, axis=1).astype(np.float32)
    gain = np.repeat(rng.uniform(1, 3, (ny, npairs)), 2, axis=1).astype(np.float32)
    dark = np.full(shape, 0.05, np.float32)
    r = fit_ramps(data, gdq, np.full(shape, 4, np.uint32), rn, gain, TG, TG, 1, 0,
                  {**FLAGS, "PERSISTENCE": 32}, average_dark_current=dark)
    for name in ("slope", "var_poisson", "var_rnoise", "err", "slope_ints",
                 "var_poisson_ints", "var_rnoise_ints", "err_ints"):
        arr = getattr(r, name)
        np.testing.assert_array_equal(arr[..., 0::2], arr[..., 1::2], err_msg=name)
    assert np.isfinite(r.slope).all() and (r.var_poisson > 0).all()
    assert (r.dq[:, 0::2] == 4).all() and (r.dq[:, 1::2] == 4 | 32).all()
    assert (r.dq_ints[..., 1::2] == r.dq_ints[..., 0::2] | 32).all()
    # and the even columns did take the row path: it marks exactly them
    clean = np.zeros(shape[1], np.bool_)
    out2 = [np.empty(shape, np.float32) for _ in range(5)]
    out3 = [np.empty((nints, *shape), np.float32) for _ in range(5)]
    out2[1], out3[1] = np.empty(shape, np.uint32), np.empty((nints, *shape), np.uint32)
    _fit_clean_row(data, gdq, np.full(shape, 4, np.uint32), rn, gain, dark,
                   weight_table(ngroups), 0, np.sqrt(2.0), float(np.float32(TG)), np.uint32(3),
                   np.uint32(DNU), np.full(nints, edges[0]),
                   np.full(nints, ngroups - 1 - edges[1]), clean, *out2, *out3)
    np.testing.assert_array_equal(clean, np.arange(shape[1]) % 2 == 0)
    np.testing.assert_array_equal(out2[0][0, 0::2], r.slope[0, 1::2])
    np.testing.assert_array_equal(out3[4][:, 0, 0::2], r.err_ints[:, 0, 1::2])
    lo, hi = _usable_groups(gdq, 0, ngroups - 1, np.uint32(DNU))
    assert (lo == edges[0]).all() and (hi == ngroups - 1 - edges[1]).all()


# ------------------------------------------------------------------ NumPy reference version


def reference_fit(data, gdq, rn, gain, tg, nframes, suppress):
    """Plain NumPy/Python version of the documented algorithm, pixel by pixel.

    Returns rate slope, dq, var_p, var_r and the rateints slope cube. Written from the stcal
    documentation and special cases independently of the numba kernel.
    """
    nints, ng, ny, nx = data.shape
    out = {k: np.zeros((ny, nx)) for k in ("slope", "vp", "vr")}
    out["dq"] = np.zeros((ny, nx), np.uint32)
    out["slope_ints"] = np.zeros((nints, ny, nx))
    t1 = (nframes + 1) * TG / 2  # tframe == tgroup in these tests
    for y in range(ny):
        for x in range(nx):
            g = float(gain[y, x])
            rn_e = float(np.float32(rn[y, x] * (g / np.sqrt(2.0 * nframes))))
            pdq = 0 if g > 0 else DNU | NGV
            ramps = data[:, :, y, x].astype(np.float64)
            dqs = gdq[:, :, y, x].astype(np.uint32)
            if suppress:
                for i in range(nints):
                    if (dqs[i] == 0).sum() == 1:
                        dqs[i] |= DNU
            ramps = np.where(dqs & SAT, np.nan, ramps)
            # median rate
            rates = []
            for i in range(nints):
                usable = ~(dqs[i] & DNU).astype(bool)
                if not suppress and (dqs[i] == 0).sum() == 1 and dqs[i, 0] == 0:
                    rates.append(ramps[i, 0] / t1)
                    continue
                lvl = np.where(usable, ramps[i] / tg, np.nan)
                d = np.diff(lvl)[(dqs[i, 1:] & JUMP) == 0]
                d = d[~np.isnan(d)]
                m = np.median(d) if d.size else lvl[0]
                rates.append(0.0 if np.isnan(m) else m)
            med = np.mean(rates)
            sums = np.zeros(4)  # 1/vp, 1/vr, 1/ve, slope/vr over all integrations
            qs = []
            for i in range(nints):
                q = pdq | (JUMP if (dqs[i] & JUMP).any() else 0)
                if (dqs[i] & (DNU | SAT)).all():
                    q |= DNU | (SAT if (dqs[i] & SAT).all() else 0)
                segs = []
                if dqs[i, 0] & SAT:
                    q |= DNU | SAT
                else:
                    good = dqs[i] == 0
                    k = 0
                    while k < ng:
                        if good[k]:
                            s = k - 1 if k > 0 and dqs[i, k - 1] == JUMP else k
                            while k < ng and good[k]:
                                k += 1
                            segs.append((s, k - s))
                        k += 1
                    if any(n > 1 for _, n in segs):
                        segs = [sg for sg in segs if sg[1] > 1]
                    segs = segs[:1] if segs and max(n for _, n in segs) == 1 else segs
                qs.append(q)
                vals = []
                for s, n in segs if pdq == 0 else []:
                    y_seg = ramps[i, s:s + n]
                    if n == 1:
                        t = t1 if (not suppress and (dqs[i] == 0).sum() == 1
                                   and dqs[i, 0] == 0) else tg
                        sl, tp = y_seg[0] / t, t
                    elif n == 2:
                        sl, t, tp = (y_seg[1] - y_seg[0]) / tg, tg, tg
                    else:
                        sl = optimal_slope(np.nan_to_num(y_seg), tg, rn[y, x], g, nframes)
                        t, tp = tg, tg * (n - 1)
                    vp = max(med, 0.0) / (tp * g)
                    vr = 12 * (rn_e / t) ** 2 / ((max(n, 2) ** 3 - max(n, 2)) * g * g)
                    vals.append((sl, vp, vr))
                if vals:
                    sl, vp, vr = np.array(vals).T
                    ip = (1 / vp[vp > 0]).sum()
                    # JP-4318: slopes weighted by read-noise inverse variance only
                    part = [ip, (1 / vr).sum(), (1 / (vp + vr)).sum(), (sl / vr).sum()]
                    sums += part
                    out["slope_ints"][i, y, x] = part[3] / part[1]
                if q & (DNU | SAT):
                    out["slope_ints"][i, y, x] = np.nan
            qs = np.array(qs)
            q = pdq | np.bitwise_or.reduce(qs & JUMP)
            q |= DNU if (qs & DNU).all() else 0
            q |= SAT if (qs & SAT).all() else 0
            partial = SAT if (dqs & SAT).any() else 0  # flagged after the rate is decided
            out["dq"][y, x] = q | partial
            if q & (DNU | SAT):
                out["slope"][y, x] = np.nan
                continue
            # No segment at all (e.g. a JUMP-flagged group 0 followed by saturation) gives an
            # unflagged zero rate with zero variances, as in the official code.
            out["slope"][y, x] = sums[3] / sums[1] if sums[1] > 0 else 0.0
            out["vp"][y, x] = 1 / sums[0] if sums[0] > 0 else 0.0
            out["vr"][y, x] = 1 / sums[1] if sums[1] > 0 else 0.0
    return out


def random_stack(seed=3, nints=2, ng=10, ny=20, nx=20):
    """Random ramps (log-uniform rates 0.1-8000 DN/s and a few negative) with Poisson and
    read noise, saturation above 40000 DN, ~4 % jump groups, ~2 % DO_NOT_USE groups, two
    zero-gain pixels."""
    rng = np.random.default_rng(seed)
    rate = np.exp(rng.uniform(np.log(0.1), np.log(8000.0), (ny, nx)))
    rate[rng.random((ny, nx)) < 0.05] *= -0.01
    ramp = np.cumsum(rng.poisson(np.abs(rate) * TG * GAIN, (nints, ng, ny, nx)), 1) / GAIN
    ramp *= np.sign(rate)
    ramp += 1000 + rng.normal(0, RN / np.sqrt(2), ramp.shape)
    gdq = np.zeros(ramp.shape, np.uint8)
    jumps = rng.random(ramp.shape) < 0.04
    ramp += np.cumsum(jumps * 300.0, 1)
    gdq[jumps] |= JUMP
    gdq[rng.random(ramp.shape) < 0.02] |= DNU
    gdq[np.maximum.accumulate(ramp > 40000, 1)] |= SAT
    gain = np.full((ny, nx), GAIN, np.float32)
    gain[0, :2] = 0.0
    rn = rng.uniform(5, 15, (ny, nx)).astype(np.float32)
    return ramp.astype(np.float32), gdq, rn, gain


@pytest.mark.parametrize("suppress", [True, False])
def test_matches_numpy_reference(suppress):
    """20x20 pixels, 2 integrations of 10 groups with jumps, DO_NOT_USE and saturation:
    kernel and reference agree pixel by pixel (slopes to float32 precision, exact DQ)."""
    data, gdq, rn, gain = random_stack()
    assert (gdq & SAT).any() and (gdq & JUMP).any()
    r = fit_ramps(data, gdq, np.zeros(rn.shape, np.uint32), rn, gain, TG, TG, 1, 0, FLAGS,
                  suppress_one_group=suppress)
    ref = reference_fit(data, gdq, rn, gain, TG, 1, suppress)
    np.testing.assert_array_equal(r.dq, ref["dq"])
    np.testing.assert_allclose(r.slope, ref["slope"], rtol=2e-5, atol=1e-5)
    np.testing.assert_allclose(r.slope_ints, ref["slope_ints"], rtol=2e-5, atol=1e-5)
    np.testing.assert_allclose(r.var_poisson, ref["vp"], rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(r.var_rnoise, ref["vr"], rtol=1e-5, atol=1e-12)


# -------------------------------------------------------------------------- statistics


def test_monte_carlo_pull():
    """5000 pixels, 10 groups, Poisson + read noise, rates log-uniform 0.05-50 DN/s:
    (slope - truth) / ERR has mean within +-0.05 and standard deviation in [0.95, 1.08]."""
    rng = np.random.default_rng(2024)
    ny, nx, ng = 50, 100, 10
    truth = np.exp(rng.uniform(np.log(0.05), np.log(50.0), (ny, nx)))
    electrons = np.cumsum(rng.poisson(truth * GAIN * TG, (1, ng, ny, nx)), 1)
    data = (electrons / GAIN + rng.normal(0, RN / np.sqrt(2), electrons.shape))
    r = fit_ramps(data.astype(np.float32), np.zeros(data.shape, np.uint8),
                  np.zeros((ny, nx), np.uint32), np.full((ny, nx), RN, np.float32),
                  np.full((ny, nx), GAIN, np.float32), TG, TG, 1, 0, FLAGS)
    pull = (r.slope - truth) / r.err
    assert abs(pull.mean()) < 0.05, pull.mean()
    assert 0.95 < pull.std() < 1.08, pull.std()


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
def test_thread_count_invariance():
    """The same input fitted with 1 and 2 numba threads gives byte-identical outputs."""
    data, gdq, rn, gain = random_stack(seed=7)
    args = (data, gdq, np.zeros(rn.shape, np.uint32), rn, gain, TG, TG, 1, 0, FLAGS)
    saved = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fit_ramps(*args)
        numba.set_num_threads(2)
        two = fit_ramps(*args)
    finally:
        numba.set_num_threads(saved)
    for name in one.__dataclass_fields__:
        assert getattr(one, name).tobytes() == getattr(two, name).tobytes(), name
