"""Kernels and helpers of the alignment: detection, matching, fits, sky statistics, WCS
corrections. Each case has a known answer."""

from __future__ import annotations

import numpy as np
import pytest
from align_sim import _render

import sky_reference as ref
from webbflow.align.fitting import fit_linear
from webbflow.align.matching import match_catalogs
from webbflow.align.wcs_correction import correction_model, tangent_plane
from webbflow.kernels import detect
from webbflow.kernels import match as km


def test_background_mesh_recovers_flat_level_and_noise():
    rng = np.random.default_rng(0)
    img = 5.0 + rng.normal(0, 0.2, (200, 300))
    img[50, 60] = 1e4  # a hot pixel is clipped away
    bkg, rms = detect.background_mesh(img, np.zeros(img.shape, bool), 100)
    assert abs(np.median(bkg) - 5.0) < 0.01
    assert abs(np.median(rms) - 0.2) < 0.01


@pytest.mark.parametrize("x0,y0", [(30.0, 40.0), (30.37, 40.81), (31.5, 39.25)])
def test_windowed_centroid_of_a_pixelated_gaussian(x0, y0):
    img = _render((80, 80), [x0], [y0], [100.0], 2.5)
    mask = np.zeros(img.shape, bool)
    conv = detect.dao_convolve(img, mask, 2.5)
    ys, xs = detect.find_peaks(conv, 10.0, 2.0)
    assert len(xs) == 1
    out = detect.measure_sources(img, mask, ys, xs, 2.5)
    assert abs(out[0, 0] - x0) < 0.01 and abs(out[0, 1] - y0) < 0.01
    assert abs(out[0, 4] / 2.5 - 1.0) < 0.2  # moment FWHM ~ kernel FWHM
    assert out[0, 5] < 0.05  # round
    assert abs(conv[ys[0], xs[0]] / img.max() - 1.0) < 0.3  # DAO amplitude ~ peak


def test_find_peaks_min_separation_keeps_brightest():
    img = _render((60, 60), [20.0, 23.0, 45.0], [20.0, 20.0, 40.0], [50.0, 30.0, 40.0], 2.0)
    conv = detect.dao_convolve(img, np.zeros(img.shape, bool), 2.0)
    ys, xs = detect.find_peaks(conv, 5.0, 5.0)
    assert sorted(zip(xs.tolist(), ys.tolist())) == [(20, 20), (45, 40)]


def test_label_segments_sizes():
    conv = np.zeros((20, 20))
    conv[2:5, 2:6] = 3.0  # 12 pixels
    conv[10, 10] = 4.0  # 1 pixel
    ys, xs, npix = detect.label_segments(conv, 1.0, 5)
    assert npix.tolist() == [12] and (ys[0], xs[0]) == (2, 2)


def test_clipped_fit_recovers_rotation_shift_and_rejects_outlier():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-50, 50, (2, 60))
    th = np.radians(0.05)
    rx = np.cos(th) * x - np.sin(th) * y + 0.3
    ry = np.sin(th) * x + np.cos(th) * y - 0.2
    rx = rx + rng.normal(0, 1e-3, 60)
    ry = ry + rng.normal(0, 1e-3, 60)
    rx[5] += 3.0
    fit = fit_linear(x, y, rx, ry, "rshift", nclip=3, sigma=3.0)
    assert not fit.keep[5] and fit.nkept >= 57
    assert abs(fit.rotation - 0.05) < 2e-4 and abs(fit.scale - 1.0) < 1e-12
    assert np.allclose(fit.shift, [0.3, -0.2], atol=1e-3)
    assert 0.5e-3 < fit.rmse < 2e-3
    gen = fit_linear(x, y, 1.001 * x + 0.002 * y, -0.001 * x + 0.999 * y + 1.0, "general")
    assert np.allclose(gen.matrix, [[1.001, 0.002], [-0.001, 0.999]], atol=1e-12)
    sh = fit_linear(x, y, x + 0.5, y, "shift")
    assert np.allclose(sh.matrix, np.eye(2)) and np.allclose(sh.shift, [0.5, 0.0])


def test_match_catalogs_finds_offset_and_pairs():
    rng = np.random.default_rng(2)
    rx, ry = rng.uniform(-30, 30, (2, 80))
    perm = rng.permutation(80)
    ix, iy = rx[perm] - 1.2, ry[perm] + 0.7
    res = match_catalogs(ix, iy, rx, ry, searchrad=2.0, separation=0.5, tolerance=0.3,
                         binsize=0.05)
    assert abs(res.offset[0] - 1.2) < 0.05 and abs(res.offset[1] + 0.7) < 0.05
    assert res.img_idx.size >= 70
    assert np.all(perm[res.img_idx] == res.ref_idx)


def test_sky_stats_and_offset_solve():
    rng = np.random.default_rng(3)
    v = rng.normal(2.0, 0.05, 200_000)
    v[:2000] += rng.uniform(1, 10, 2000)  # sources
    nan = np.nan
    for code in km.SKY_STATS.values():
        s, n = km.sky_stat(v, code, nan, nan, 5, 4.0, 4.0, 0.1)
        assert abs(s - 2.0) < 0.003 and n > 190_000
    s, _ = km.sky_stat(v, km.SKY_STATS["mean"], 1.9, 2.1, 0, 4.0, 4.0, 0.1)
    assert abs(s - 2.0) < 0.001
    truth = np.array([0.0, 0.4, -0.3, 0.1, 5.0])  # image 4 overlaps nothing
    pi = np.array([0, 0, 1, 2]), np.array([1, 2, 3, 3])
    diff = truth[pi[0]] - truth[pi[1]]
    sol = km.solve_sky_offsets(5, pi[0], pi[1], diff, np.ones(4))
    assert np.allclose(sol[:4] - sol[0], truth[:4] - truth[0]) and sol[4] == 0.0


def test_convex_overlap_area():
    sq = np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0, 1.0])
    assert km.convex_overlap_area(sq[0], sq[1], sq[0] + 0.5, sq[1][::-1].copy()) == 0.5
    assert km.convex_overlap_area(sq[0], sq[1], sq[0] + 2.0, sq[1]) == 0.0
    cover = km.polygon_cover(np.array([0.4, 5.6, 5.6, 0.4]), np.array([0.4, 0.4, 3.6, 3.6]),
                             6, 8)
    assert cover.sum() == 5 * 3 and cover[1:4, 1:6].all()


def test_tangent_plane_correction_roundtrip():
    tp = tangent_plane(120.0, -500.0)
    x, y = tp(np.array([120.0, 130.0]), np.array([-500.0, -490.0]))
    assert abs(x[0]) < 1e-9 and abs(y[0]) < 1e-9
    v2, v3 = tp.inverse(x, y)
    assert np.allclose(v2, [120.0, 130.0], atol=1e-9) and np.allclose(v3, [-500.0, -490.0])
    th = np.radians(0.01)
    corr = correction_model([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]],
                            [0.1, -0.2], 120.0, -500.0)
    a, b = corr(125.0, -495.0)
    back = corr.inverse(a, b)
    assert np.allclose(back, [125.0, -495.0], atol=1e-9)
    a0, b0 = corr(120.0, -500.0)
    assert abs(a0 - 120.1) < 1e-6 and abs(b0 + 500.2) < 1e-6


def test_sky_stat_sorted_subsequence_equals_sky_stat_on_the_subset() -> None:
    """skymatch sorts an image once: a sorted subsequence must give sky_stat's exact value."""
    rng = np.random.default_rng(5)
    values = rng.normal(1.0, 0.1, 20000)
    values[::97] += 5.0  # sources to clip
    subset = rng.random(values.size) < 0.4
    order = np.argsort(values, kind="stable")
    for stat in range(4):
        want = km.sky_stat(values[subset], stat, np.nan, np.nan, 5, 4.0, 4.0, 0.1)
        got = km.sky_stat_sorted(values[order][subset[order]], stat, 5, 4.0, 4.0, 0.1)
        assert got == want
    assert abs(want[0] - 1.0) < 0.01 and 7000 < want[1] < 8000


def test_overlap_sky_stats_equal_sky_stat_on_each_slot() -> None:
    """skymatch measures all overlaps of an image in a few passes without sorting: each
    slot's statistic and pixel count must be sky_stat's on that slot's values (sums in pixel
    order, so equal to rounding)."""
    rng = np.random.default_rng(7)
    values = rng.normal(1.0, 0.1, 30000)
    values[::89] += 5.0  # sources to clip
    values[::1001] -= 3.0
    slots = rng.integers(0, 8, values.size).astype(np.uint64)  # 3 slots, overlapping
    slots[:5] = 0b100  # slot 2 gets a few values more
    for stat in range(4):
        sky, npix = ref.overlap_sky_stats(values, slots, 4, stat, 5, 4.0, 4.0, 0.1)
        for s in range(3):
            sub = values[(slots & np.uint64(1 << s)) != 0]
            want, nwant = km.sky_stat(sub, stat, np.nan, np.nan, 5, 4.0, 4.0, 0.1)
            assert npix[s] == nwant and 14000 < nwant < 15100
            assert abs(sky[s] - want) <= 1e-12 * abs(want)
            assert abs(want - 1.0) < 0.01
        assert npix[3] == 0 and np.isnan(sky[3])  # an empty slot


def test_overlap_values_keeps_good_pixels_in_covered_cells() -> None:
    """Cells from the bilinear coarse map rounded; bad DQ, NaN and out-of-limit skipped."""
    data = np.arange(64, dtype=np.float32).reshape(8, 8)
    data[2, 4] = np.nan
    dq = np.zeros((8, 8), dtype=np.uint32)
    dq[1, 3] = 1
    # coarse map every 7 pixels (rows/cols 0 and 7): cell = pixel // 4 (x), 0 (y)
    cx = np.array([[0.0, 1.75], [0.0, 1.75]])
    cy = np.zeros((2, 2))
    cell_slots = np.array([[0, 3]], dtype=np.uint64)  # cell x=1 covered by slots 0 and 1
    vals, bits = ref.overlap_values(data, dq, 1, True, 10.0, np.nan, 70.0, cx, cy, 7,
                                   cell_slots)
    # cell x = rint(0.25 * px): 1 for px 3..5 (0.5 rounds to 0, 1.5 to 2: off the grid);
    # NaN at (2, 4) and bad DQ at (1, 3) skipped; values 10 + data <= 70 (drops (7, 5))
    want = [10.0 + float(data[y, x]) for y in range(8) for x in (3, 4, 5)
            if data[y, x] + 10.0 <= 70.0 and (y, x) not in ((2, 4), (1, 3))]
    assert vals.tolist() == want and len(want) == 24 - 3
    assert set(bits.tolist()) == {3}


def test_overlap_segments_equal_values_gathered_by_slot() -> None:
    """The parallel row gather gives each slot's values in raster order, as
    ``_by_slot(overlap_values(...))``, and the slot statistics match."""
    rng = np.random.default_rng(4)
    data = rng.normal(5.0, 1.0, (61, 47)).astype(np.float32)
    data[rng.random(data.shape) < 0.02] = np.nan
    dq = (rng.random(data.shape) < 0.05).astype(np.uint32)
    ys, xs = np.r_[0:61:8, 60], np.r_[0:47:8, 46]
    gx, gy = np.meshgrid(xs / 5.0 + 0.3, ys / 5.0 - 0.2)
    cell_slots = rng.integers(0, 8, (14, 12)).astype(np.uint64)  # slots 0-2, mixed
    args = (data, dq, 1, True, 0.5, np.nan, 7.5, gx, gy, 8, cell_slots)
    vals, bits = ref.overlap_values(*args)
    want_seg, want_offs = ref._by_slot(vals, bits, 3)
    seg, offs = ref.overlap_segments(*args, 3)
    assert offs.tolist() == want_offs.tolist() and offs[3] > 1000
    np.testing.assert_array_equal(seg, want_seg)
    for stat in range(4):
        a = ref.overlap_sky_stats(vals, bits, 3, stat, 5, 3.0, 3.0, 0.1)
        b = ref.segment_sky_stats(seg, offs, 3, stat, 5, 3.0, 3.0, 0.1)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
