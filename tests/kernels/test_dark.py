"""Tests of kernels.dark: frame averaging, subtraction, skip conditions, MIRI 4-D darks."""

import numpy as np
import pytest

from webbflow.kernels.dark import (
    average_dark_frames,
    dark_frames_sufficient,
    dark_planes_used,
    subtract_dark,
)


def _numpy_average(dark, ngroups, nframes, groupgap):
    d = np.nan_to_num(dark.astype(np.float64))
    out = []
    start = 0
    for _ in range(ngroups):
        out.append(d[..., start : start + nframes, :, :].mean(axis=-3))
        start += nframes + groupgap
    return np.stack(out, axis=-3).astype(np.float32)


def test_nframes4_groupgap1_picks_right_frames():
    """Dark plane f holds the value f: group g averages frames 5g..5g+3, i.e. 5g + 1.5."""
    dark = np.broadcast_to(np.arange(40, dtype=np.float32)[:, None, None], (40, 2, 3)).copy()
    avg = average_dark_frames(dark, 6, 4, 1)
    np.testing.assert_array_equal(avg[:, 0, 0], 5 * np.arange(6) + 1.5)


def test_matches_numpy_reference_random():
    rng = np.random.default_rng(0)
    dark = rng.normal(10, 3, (30, 5, 4)).astype(np.float32)
    dark[3, 1, 1] = np.nan
    for nfr, gap in [(1, 0), (2, 0), (4, 1), (2, 3)]:
        ng = 3
        np.testing.assert_allclose(
            average_dark_frames(dark, ng, nfr, gap), _numpy_average(dark, ng, nfr, gap), rtol=1e-6
        )


def test_subtract_matching_pattern_direct():
    rng = np.random.default_rng(1)
    data = rng.normal(1000, 10, (2, 4, 5, 6)).astype(np.float32)
    dark = rng.normal(5, 1, (10, 5, 6)).astype(np.float32)
    dark[0, 0, 0] = np.nan
    ddq = np.zeros((5, 6), np.uint32)
    ddq[1, 1] = 8
    res = subtract_dark(data, np.zeros((5, 6), np.uint32), dark, ddq, nframes=1, groupgap=0)
    assert res.applied
    exp = data - np.nan_to_num(dark[:4])[None]
    np.testing.assert_array_equal(res.data, exp)
    assert res.pixeldq[1, 1] == 8 and res.pixeldq.sum() == 8


def test_subtract_averaged():
    rng = np.random.default_rng(2)
    data = rng.normal(1000, 10, (1, 3, 4, 4)).astype(np.float32)
    dark = rng.normal(5, 1, (20, 4, 4)).astype(np.float32)
    res = subtract_dark(
        data, np.zeros((4, 4), np.uint32), dark, np.zeros((4, 4), np.uint32), nframes=4, groupgap=2
    )
    np.testing.assert_allclose(res.data, data - _numpy_average(dark, 3, 4, 2)[None], rtol=1e-6)


@pytest.mark.parametrize(
    "args, ok",
    [
        ((10, 4, 1, 49), True),  # 10*4 + 9 = 49 frames needed
        ((10, 4, 1, 48), False),
        ((2, 1, 0, 5, 2, 0), False),  # dark nframes > science nframes
    ],
)
def test_sufficiency(args, ok):
    assert dark_frames_sufficient(*args)[0] is ok


def test_too_few_frames_returns_skip_and_unchanged_data():
    data = np.ones((1, 5, 2, 2), np.float32)
    res = subtract_dark(
        data, np.zeros((2, 2), np.uint32), np.ones((10, 2, 2), np.float32),
        np.zeros((2, 2), np.uint32), nframes=4, groupgap=0,
    )  # fmt: skip
    assert not res.applied and "frames" in res.message and res.averaged_dark is None
    np.testing.assert_array_equal(res.data, data)


def test_miri_per_integration_dark_and_last_int_reused():
    nints, ng = 3, 4
    data = np.zeros((nints, ng, 2, 2), np.float32)
    dark = np.stack([np.full((ng, 2, 2), 10.0 * (k + 1), np.float32) for k in range(2)])
    ddq = np.zeros((2, 2, 2), np.uint32)
    ddq[0, 0, 0] = 1
    ddq[1, 1, 1] = 4
    res = subtract_dark(data, np.zeros((2, 2), np.uint32), dark, ddq, nframes=1, groupgap=0)
    assert [res.data[i, 0, 0, 0] for i in range(3)] == [-10.0, -20.0, -20.0]
    assert res.pixeldq[0, 0] == 1 and res.pixeldq[1, 1] == 4
    seg = subtract_dark(
        data, np.zeros((2, 2), np.uint32), dark, ddq, nframes=1, groupgap=0, int_start=4
    )
    assert (seg.data == -20.0).all()


def test_miri_4d_dark_dq_is_ored_into_pixeldq():
    """MIRI darks carry DQ (dark_nints, 1, ny, nx) (or SCI-shaped): every plane counts."""
    data = np.full((1, 3, 4, 5), 100.0, np.float32)
    dark = np.ones((2, 3, 4, 5), np.float32)
    ddq = np.zeros((2, 1, 4, 5), np.uint32)
    ddq[0, 0, 1, 2], ddq[1, 0, 3, 4] = 2048, 4096
    res = subtract_dark(data, np.zeros((4, 5), np.uint32), dark, ddq, nframes=1, groupgap=0)
    assert res.applied and res.pixeldq[1, 2] == 2048 and res.pixeldq[3, 4] == 4096
    assert res.pixeldq.sum() == 2048 + 4096
    np.testing.assert_array_equal(res.data, np.full((1, 3, 4, 5), 99.0, np.float32))


def test_dark_planes_used_lists_the_averaged_planes():
    np.testing.assert_array_equal(dark_planes_used(3, 4, 2, 1, 0),
                                  [0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15])
    np.testing.assert_array_equal(dark_planes_used(5, 8, 2, 8, 2), np.arange(5))  # matching
    # DEEP8, 20 groups, frame-by-frame dark: 160 planes up to frame 387
    used = dark_planes_used(20, 8, 12, 1, 0)
    assert used.size == 160 and used[-1] == 387 and np.all(np.diff(used) > 0)


@pytest.mark.parametrize(("nframes", "groupgap", "dark_nframes", "dark_groupgap", "dark_shape"),
                         [(2, 3, 1, 0, (30, 5, 6)),      # frame dark, gaps skipped
                          (4, 2, 4, 2, (9, 5, 6)),       # matching pattern: first groups
                          (1, 0, 1, 0, (3, 12, 5, 6))])  # MIRI 4-D, 3 dark integrations
@pytest.mark.parametrize("int_start", [1, 2])
def test_subtract_with_only_the_used_planes_equals_whole_dark(nframes, groupgap, dark_nframes,
                                                                dark_groupgap, dark_shape,
                                                                int_start):
    rng = np.random.default_rng(3)
    data = rng.normal(1000, 10, (2, 4, 5, 6)).astype(np.float32)
    dark = rng.normal(5, 1, dark_shape).astype(np.float32)
    dark[..., 1, 2, 3] = np.nan
    ddq = np.zeros((5, 6), np.uint32)
    ddq[0, 1] = 4
    pdq = np.zeros((5, 6), np.uint32)
    kw = {"nframes": nframes, "groupgap": groupgap, "dark_nframes": dark_nframes,
          "dark_groupgap": dark_groupgap, "int_start": int_start}
    whole = subtract_dark(data, pdq, dark, ddq, **kw)
    used = dark_planes_used(4, nframes, groupgap, dark_nframes, dark_groupgap)
    held = np.take(dark, used, axis=-3)
    part = subtract_dark(data, pdq, held, ddq, dark_planes=dark.shape[-3], **kw)
    assert whole.applied and part.applied
    np.testing.assert_array_equal(part.data, whole.data)  # bit for bit
    np.testing.assert_array_equal(part.pixeldq, whole.pixeldq)
    np.testing.assert_array_equal(part.averaged_dark, whole.averaged_dark)


def test_held_planes_that_do_not_match_the_pattern_are_refused():
    data = np.zeros((1, 4, 5, 6), np.float32)
    dark = np.zeros((30, 5, 6), np.float32)
    with pytest.raises(ValueError, match="uses 8 of 30"):
        subtract_dark(data, np.zeros((5, 6), np.uint32), dark[:7], np.zeros((5, 6), np.uint32),
                      nframes=2, groupgap=3, dark_planes=30)
    # too few planes in the file is still the step's skip, not an error
    res = subtract_dark(data, np.zeros((5, 6), np.uint32), dark[:8], np.zeros((5, 6), np.uint32),
                        nframes=2, groupgap=3, dark_planes=10)
    assert not res.applied and "frames" in res.message
