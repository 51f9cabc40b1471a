"""Skymatch's per-pixel overlap statistics equal the per-overlap runs' bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import sky_reference as ref
from webbflow.kernels import sky_overlap as so


def _image(seed, nslot, offset=0.0, lower=np.nan, upper=np.nan):
    """A 57 x 83 sky with sources, NaNs and flagged pixels, on a 9 x 13 grid of cells whose
    slot bits come from ``nslot`` random rectangles; the arguments of overlap_segments."""
    rng = np.random.default_rng(seed)
    ny, nx = 57, 83
    data = rng.normal(5.0, 1.0, size=(ny, nx)).astype(np.float32)
    data[rng.random((ny, nx)) < 0.02] = 80.0
    data[rng.random((ny, nx)) < 0.01] = np.nan
    dq = np.where(rng.random((ny, nx)) < 0.03, 1, 0).astype(np.uint32)
    dq[rng.random((ny, nx)) < 0.03] |= 4  # not a bad bit
    gy, gx = 9, 13
    cell_slots = np.zeros((gy, gx), dtype=np.uint64)
    for s in range(nslot):
        y0, x0 = rng.integers(0, gy - 2), rng.integers(0, gx - 2)
        cell_slots[y0:rng.integers(y0 + 1, gy), x0:rng.integers(x0 + 1, gx)] |= (
            np.uint64(1) << np.uint64(s))
    step = 8
    ys = np.unique(np.r_[np.arange(0, ny, step), ny - 1]).astype(float)
    xs = np.unique(np.r_[np.arange(0, nx, step), nx - 1]).astype(float)
    cx, cy = np.meshgrid(xs * (gx - 1) / (nx - 1), ys * (gy - 1) / (ny - 1))
    return (data, dq, 1, True, offset, lower, upper, np.ascontiguousarray(cx),
            np.ascontiguousarray(cy), step, cell_slots)


@pytest.mark.parametrize("stat", [0, 1, 2, 3])
@pytest.mark.parametrize("nslot,offset,lower,upper", [
    (1, 0.0, np.nan, np.nan), (3, 0.0, np.nan, np.nan), (4, 0.37, 2.0, np.nan),
    (2, -1.5, np.nan, 60.0)])
def test_pixel_sky_stats_equal_segment_sky_stats(stat, nslot, offset, lower, upper):
    args = _image(nslot + stat, nslot, offset, lower, upper)
    seg, offs = ref.overlap_segments(*args, nslot)
    want = ref.segment_sky_stats(seg, offs, nslot, stat, 5, 3.0, 3.0, 0.1)
    bits = np.empty(args[0].shape, dtype=np.uint8)
    so.overlap_bits(*args, bits)
    got = so.pixel_sky_stats(args[0], bits, offset, nslot, stat, 5, 3.0, 3.0, 0.1)
    assert got[0].tobytes() == want[0].tobytes()
    assert got[1].tobytes() == want[1].tobytes()
    assert np.all(got[1] > 0)
    # the clipped statistics of N(5, 1) (+ offset) sit near 5, away from the 80s
    assert np.all(np.abs(got[0] - (5.0 + offset)) < 0.6)


def test_empty_and_unclipped_slots():
    args = _image(7, 2)
    cell_slots = args[-1].copy()
    cell_slots &= np.uint64(1)  # slot 1 covers nothing
    args = (*args[:-1], cell_slots)
    bits = np.empty(args[0].shape, dtype=np.uint8)
    so.overlap_bits(*args, bits)
    for stat in range(4):
        for nclip in (0, 1):
            seg, offs = ref.overlap_segments(*args, 2)
            want = ref.segment_sky_stats(seg, offs, 2, stat, nclip, 3.0, 3.0, 0.1)
            got = so.pixel_sky_stats(args[0], bits, 0.0, 2, stat, nclip, 3.0, 3.0, 0.1)
            assert np.array_equal(got[0], want[0], equal_nan=True)
            assert got[1].tolist() == want[1].tolist() and got[1][1] == 0


def test_uint64_bits_and_nibbles():
    args = _image(11, 7)
    wide = np.empty(args[0].shape, dtype=np.uint64)
    so.overlap_bits(*args, wide)
    vals, slots = ref.overlap_values(*args)
    assert wide[wide != 0].tolist() == slots.tolist()
    assert vals.tolist() == args[0][wide != 0].astype(np.float64).tolist()
    seg, offs = ref.overlap_segments(*args, 7)
    want = ref.segment_sky_stats(seg, offs, 7, 2, 5, 3.0, 3.0, 0.1)
    for first in (0, 4):
        part = so.slot_nibble(wide, first)
        assert part.dtype == np.uint8 and part.max() < 16
        n = min(4, 7 - first)
        got = so.pixel_sky_stats(args[0], part, 0.0, n, 2, 5, 3.0, 3.0, 0.1)
        assert got[0].tobytes() == want[0][first:first + n].tobytes()
        assert got[1].tolist() == want[1][first:first + n].tolist()
