"""Tests of kernels.saturation against a plain NumPy reference and hand-built ramps."""

import numba
import numpy as np
import pytest

from webbflow.kernels.saturation import flag_saturation, frame_read_pattern

DNU, SAT, JUMP, ADF = 1, 2, 4, 64
NO_SAT_CHECK = 2**21
FLAGS = dict(saturated=SAT, do_not_use=DNU, ad_floor=ADF, no_sat_check=NO_SAT_CHECK)


def _dilate(mask, n):
    """Square binary dilation with zero padding, plain NumPy."""
    if n == 0:
        return mask.copy()
    ny, nx = mask.shape
    pad = np.zeros((ny + 2 * n, nx + 2 * n), dtype=bool)
    pad[n : n + ny, n : n + nx] = mask
    out = np.zeros_like(mask)
    for dy in range(2 * n + 1):
        for dx in range(2 * n + 1):
            out |= pad[dy : dy + ny, dx : dx + nx]
    return out


def _reference(data, gdq, pdq, thr, sdq, n, rp=None, bias=None, atod=65535.0):
    gdq = gdq.copy()
    thr = thr.astype(np.float32).copy()
    sdq = sdq.copy()
    nan = np.isnan(thr)
    sdq[nan] |= NO_SAT_CHECK
    nosat = ((sdq & NO_SAT_CHECK) != 0) | nan
    thr[nosat] = atod + 1
    nints, ngroups = data.shape[:2]
    b = np.zeros(thr.shape, np.float32) if bias is None else bias
    for i in range(nints):
        tally = np.zeros(thr.shape, bool)
        for g in range(ngroups):
            tally |= data[i, g] >= thr
            src = tally | ((gdq[i, g] & SAT) != 0)
            gdq[i, g] |= np.where(data[i, g] <= 0, ADF | DNU, 0).astype(np.uint8)
            gdq[i, g] |= (_dilate(src, n) * SAT).astype(np.uint8)
        if rp is None:
            continue
        for g in range(ngroups - 2, -1, -1):
            dil = np.mean(rp[g]) / rp[g][-1]
            if dil == 1:
                continue
            fac = np.where(nosat, 1.0, dil)
            hit = (
                (data[i, g] >= thr * fac)
                & ((gdq[i, g] & (SAT | DNU)) == 0)
                & ((gdq[i, g + 1] & SAT) != 0)
            )
            gdq[i, g] |= (_dilate(hit, n) * DNU).astype(np.uint8)
        if ngroups > 2:
            m = ((data[i, 0] - b) / np.mean(rp[0])) * rp[2][-1] + b < thr
            m &= (data[i, 1] - data[i, 0]) > (thr - data[i, 0]) / len(rp[1])
            m &= ((gdq[i, 2] & SAT) != 0) & ((gdq[i, 1] & SAT) == 0)
            gdq[i, 1] |= (m * DNU).astype(np.uint8)
    return gdq, pdq | sdq


def _random_case(seed, nints=2, ngroups=6, ny=13, nx=11):
    rng = np.random.default_rng(seed)
    rate = rng.uniform(-50, 3000, (ny, nx)).astype(np.float32)
    g = np.arange(1, ngroups + 1, dtype=np.float32)[None, :, None, None]
    data = (rate[None, None] * g + rng.normal(0, 5, (nints, ngroups, ny, nx))).astype(np.float32)
    data[rng.random(data.shape) < 0.02] = 0.0
    gdq = np.zeros(data.shape, np.uint8)
    gdq[rng.random(data.shape) < 0.02] = JUMP
    thr = rng.uniform(5000, 15000, (ny, nx)).astype(np.float32)
    thr[rng.random(thr.shape) < 0.05] = np.nan
    sdq = np.zeros((ny, nx), np.uint32)
    sdq[rng.random(thr.shape) < 0.05] = NO_SAT_CHECK
    pdq = np.zeros((ny, nx), np.uint32)
    return data, gdq, pdq, thr, sdq


@pytest.mark.parametrize("n", [0, 1, 2])
def test_matches_numpy_reference(n):
    data, gdq, pdq, thr, sdq = _random_case(n)
    got, gpdq, _ = flag_saturation(data, gdq, pdq, thr, sdq, n_pix_grow_sat=n, **FLAGS)
    exp, epdq = _reference(data, gdq, pdq, thr, sdq, n)
    np.testing.assert_array_equal(got, exp)
    np.testing.assert_array_equal(gpdq, epdq)


@pytest.mark.parametrize("include_gap", [False, True])
def test_read_pattern_matches_numpy_reference(include_gap):
    data, gdq, pdq, thr, sdq = _random_case(7, ngroups=5)
    rp = frame_read_pattern(5, 4, 1, include_groupgap=include_gap)
    bias = np.full(thr.shape, 100.0, np.float32)
    got, _, _ = flag_saturation(data, gdq, pdq, thr, sdq, read_pattern=rp, bias=bias, **FLAGS)
    exp, _ = _reference(data, gdq, pdq, thr, sdq, 1, rp=rp, bias=bias)
    np.testing.assert_array_equal(got, exp)


def test_crossing_at_group4_flags_later_groups_and_3x3_box():
    """One pixel ramps 0..9 x 1000 DN against a 3500 DN threshold: groups 4.. are SATURATED
    (value 4000 first >= 3500) and with n_pix_grow_sat=1 its 8 neighbours from group 4 on;
    pixels two away stay clean."""
    data = np.full((1, 8, 7, 7), 10.0, np.float32)
    data[0, :, 3, 3] = np.arange(8, dtype=np.float32) * 1000 + 1
    thr = np.full((7, 7), 3500.0, np.float32)
    z2 = np.zeros((7, 7), np.uint32)
    gdq, _, _ = flag_saturation(
        data, np.zeros(data.shape, np.uint8), z2, thr, z2, n_pix_grow_sat=1, **FLAGS
    )
    sat = (gdq[0] & SAT) != 0
    assert not sat[:4].any()
    assert sat[4:, 2:5, 2:5].all()
    assert sat[4:].sum() == 4 * 9


def test_nan_threshold_and_no_sat_check():
    data = np.full((1, 3, 2, 2), 70000.0, np.float32)  # above the A/D limit + 1 as well
    data[..., 1, 1] = 60000.0
    thr = np.array([[np.nan, 100.0], [100.0, 100.0]], np.float32)
    sdq = np.array([[0, NO_SAT_CHECK], [0, 0]], np.uint32)
    gdq, pdq, _ = flag_saturation(
        data,
        np.zeros(data.shape, np.uint8),
        np.zeros((2, 2), np.uint32),
        thr,
        sdq,
        n_pix_grow_sat=0,
        **FLAGS,
    )
    assert pdq[0, 0] == NO_SAT_CHECK and pdq[0, 1] == NO_SAT_CHECK and pdq[1, 1] == 0
    # unchecked pixels only saturate at >= 65536 DN
    assert (gdq[0, :, 0, 0] == SAT).all()
    gdq2, _, _ = flag_saturation(
        data * 0 + 60000,
        np.zeros(data.shape, np.uint8),
        np.zeros((2, 2), np.uint32),
        thr,
        sdq,
        n_pix_grow_sat=0,
        **FLAGS,
    )
    assert gdq2[0, :, 0, 0].sum() == 0 and gdq2[0, :, 0, 1].sum() == 0
    assert (gdq2[0, :, 1, 1] == SAT).all()


def test_ad_floor_only_current_group_not_grown():
    data = np.full((1, 4, 3, 3), 50.0, np.float32)
    data[0, 2, 1, 1] = 0.0
    thr = np.full((3, 3), 1e4, np.float32)
    z = np.zeros((3, 3), np.uint32)
    gdq, _, _ = flag_saturation(data, np.zeros(data.shape, np.uint8), z, thr, z, **FLAGS)
    assert gdq[0, 2, 1, 1] == ADF | DNU
    assert gdq.sum() == ADF | DNU


def test_backward_pass_flags_group_hiding_saturation():
    """nframes=4: group 1 averages frames 5..8; a pixel at 1000 DN/frame with threshold 7000
    saturates in frame 7, group 1 averages 6250 < 7000 but >= 7000 * 6.5/8: DO_NOT_USE in
    group 1, SATURATED from group 2 on."""
    nframes, ngroups = 4, 4
    rp = frame_read_pattern(ngroups, nframes)
    frames = np.minimum(np.arange(1, 17) * 1000.0, 7000.0)
    groups = frames.reshape(ngroups, nframes).mean(axis=1)
    data = np.full((1, ngroups, 3, 3), 10.0, np.float32)
    data[0, :, 1, 1] = groups
    thr = np.full((3, 3), 7000.0, np.float32)
    z = np.zeros((3, 3), np.uint32)
    gdq, _, _ = flag_saturation(
        data,
        np.zeros(data.shape, np.uint8),
        z,
        thr,
        z,
        read_pattern=rp,
        n_pix_grow_sat=0,
        **FLAGS,
    )
    assert list(gdq[0, :, 1, 1]) == [0, DNU, SAT, SAT]
    gdq_no, _, _ = flag_saturation(
        data, np.zeros(data.shape, np.uint8), z, thr, z, n_pix_grow_sat=0, **FLAGS
    )
    assert list(gdq_no[0, :, 1, 1]) == [0, 0, SAT, SAT]


def test_official_read_pattern_ignores_groupgap():
    np.testing.assert_array_equal(
        frame_read_pattern(3, 4, 1), [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
    )
    np.testing.assert_array_equal(
        frame_read_pattern(3, 4, 1, include_groupgap=True)[2], [11, 12, 13, 14]
    )


def test_zeroframe_zeroed_where_saturated():
    data = np.full((1, 2, 3, 3), 10.0, np.float32)
    zf = np.full((1, 3, 3), 5.0, np.float32)
    zf[0, 0, 0] = 2e4
    zf[0, 2, 2] = -1.0
    thr = np.full((3, 3), 1e4, np.float32)
    z = np.zeros((3, 3), np.uint32)
    _, _, zout = flag_saturation(
        data, np.zeros(data.shape, np.uint8), z, thr, z, zeroframe=zf, **FLAGS
    )
    exp = np.full((3, 3), 5.0, np.float32)
    exp[:2, :2] = 0
    exp[2, 2] = 0
    np.testing.assert_array_equal(zout[0], exp)


def test_inputs_not_modified_and_thread_invariance():
    data, gdq, pdq, thr, sdq = _random_case(3, ngroups=5, ny=40, nx=37)
    copies = [a.copy() for a in (data, gdq, pdq, thr, sdq)]
    rp = frame_read_pattern(5, 2)
    nthreads = numba.get_num_threads()
    results = []
    try:
        for n in sorted({1, nthreads}):
            numba.set_num_threads(n)
            results.append(flag_saturation(data, gdq, pdq, thr, sdq, read_pattern=rp, **FLAGS))
    finally:
        numba.set_num_threads(nthreads)
    for r in results[1:]:
        np.testing.assert_array_equal(r[0], results[0][0])
    for a, c in zip((data, gdq, pdq, thr, sdq), copies):
        np.testing.assert_array_equal(a, c)


def test_bad_shapes_rejected():
    z = np.zeros((3, 3), np.uint32)
    with pytest.raises(ValueError):
        flag_saturation(
            np.zeros((2, 3, 3), np.float32),
            np.zeros((2, 3, 3), np.uint8),
            z,
            z.astype(np.float32),
            z,
            **FLAGS,
        )
