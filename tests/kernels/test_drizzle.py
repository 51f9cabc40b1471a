"""Drizzle kernel: hand-built pixel maps with known answers, NumPy references, invariants."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from webbflow.kernels.drizzle import (
    KERNELS,
    combine_variance,
    drizzle_layers,
    finalize_variance,
)


def _pixmap(shape, dx=0.0, dy=0.0, angle=0.0, scale=1.0, center=(0.0, 0.0)):
    """Input pixel centres -> output: rotate by ``angle`` deg about ``center``, scale, shift."""
    y, x = np.indices(shape, dtype=np.float64)
    a = np.radians(angle)
    cx, cy = center
    xo = cx + ((x - cx) * np.cos(a) - (y - cy) * np.sin(a)) / scale + dx
    yo = cy + ((x - cx) * np.sin(a) + (y - cy) * np.cos(a)) / scale + dy
    return np.ascontiguousarray(np.dstack([xo, yo]))


def _run(data, weight, pixmap, out_shape, kernel="square", pixfrac=1.0, pscale_ratio=1.0,
         out=None, wht=None, con=None, index=0):
    data = np.asarray(data, dtype=np.float32)[None]
    if out is None:
        out = np.full((1, *out_shape), np.nan, dtype=np.float32)
        wht = np.zeros((1, *out_shape), dtype=np.float32)
        con = np.zeros((1, *out_shape), dtype=np.int32)
    ny, nx = data.shape[1:]
    nmiss = drizzle_layers(data, np.asarray(weight, dtype=np.float32), pixmap, out, wht,
                           np.zeros(1, dtype=np.int64), con, 0, 1 << index, True,
                           KERNELS[kernel], pixfrac, pscale_ratio, 1.0, 0, nx - 1, 0, ny - 1)
    return out[0], wht[0], con[0], nmiss


def test_identity_map_copies_data_weights_and_context():
    rng = np.random.default_rng(1)
    data = rng.normal(5, 1, (9, 11))
    weight = rng.uniform(0.5, 2.0, (9, 11))
    sci, wht, con, nmiss = _run(data, weight, _pixmap((9, 11)), (9, 11))
    np.testing.assert_allclose(sci, data, rtol=1e-6)
    np.testing.assert_allclose(wht, weight, rtol=1e-6)
    assert np.all(con == 1) and nmiss == 0


def test_half_pixel_shift_averages_neighbours():
    """A shift of +0.5 px in x: output pixel k gets half of inputs k-1 and k (equal weights)."""
    data = np.arange(40, dtype=float).reshape(4, 10) ** 1.5
    sci, wht, _, _ = _run(data, np.ones_like(data), _pixmap((4, 10), dx=0.5), (4, 11))
    np.testing.assert_allclose(sci[:, 1:10], 0.5 * (data[:, :-1] + data[:, 1:]), rtol=1e-6)
    np.testing.assert_allclose(sci[:, 0], data[:, 0], rtol=1e-6)
    np.testing.assert_allclose(wht[:, 1:10], 1.0, rtol=1e-6)
    np.testing.assert_allclose(wht[:, 0], 0.5, rtol=1e-6)


@pytest.mark.parametrize("pixfrac", [1.0, 0.8, 0.5])
@pytest.mark.parametrize("angle", [0.0, 17.0, 45.0])
def test_square_kernel_conserves_weight(pixfrac, angle):
    """Each input pixel fully inside the output spreads exactly its weight (areas / Jacobian)."""
    rng = np.random.default_rng(2)
    weight = rng.uniform(0.5, 1.5, (20, 20))
    pm = _pixmap((20, 20), dx=12.3, dy=11.9, angle=angle, scale=0.8, center=(10, 10))
    _, wht, _, nmiss = _run(np.ones((20, 20)), weight, pm, (50, 50), pixfrac=pixfrac)
    assert nmiss == 0
    assert wht.sum() == pytest.approx(weight.sum(), rel=1e-5)


def test_square_kernel_overlaps_match_supersampled_reference():
    """Overlap areas of a rotated, scaled drop against a brute-force 200x200 supersampling."""
    data = np.zeros((5, 5))
    data[2, 2] = 1.0
    weight = np.zeros((5, 5))
    weight[2, 2] = 1.0
    pm = _pixmap((5, 5), dx=3.2, dy=2.7, angle=30.0, scale=0.6, center=(2, 2))
    _, wht, _, _ = _run(data, weight, pm, (12, 12), pixfrac=0.9)
    # reference: sample the drop uniformly, map by the same affine transform
    s = (np.arange(200) + 0.5) / 200 - 0.5
    u, v = np.meshgrid(2 + 0.9 * s, 2 + 0.9 * s)
    a = np.radians(30.0)
    xo = 2 + ((u - 2) * np.cos(a) - (v - 2) * np.sin(a)) / 0.6 + 3.2
    yo = 2 + ((u - 2) * np.sin(a) + (v - 2) * np.cos(a)) / 0.6 + 2.7
    ref = np.zeros((12, 12))
    np.add.at(ref, (np.floor(yo + 0.5).astype(int), np.floor(xo + 0.5).astype(int)), 1.0)
    ref /= ref.sum()
    np.testing.assert_allclose(wht, ref, atol=0.01)
    assert wht.sum() == pytest.approx(1.0, rel=1e-6)


def test_zero_weight_pixels_leave_no_trace():
    data = np.ones((6, 6))
    data[3, 3] = 1e6
    weight = np.ones((6, 6))
    weight[3, 3] = 0.0
    sci, wht, con, _ = _run(data, weight, _pixmap((6, 6)), (6, 6))
    assert np.isnan(sci[3, 3]) and wht[3, 3] == 0 and con[3, 3] == 0
    assert np.nanmax(sci) == pytest.approx(1.0)


def test_two_inputs_weights_and_context_bits():
    """Input 0 (weight 1, value 2) and input 1 shifted by 3 px (weight 3, value 6)."""
    shape, out_shape = (4, 6), (4, 9)
    out = np.full((1, *out_shape), np.nan, dtype=np.float32)
    wht = np.zeros((1, *out_shape), dtype=np.float32)
    con = np.zeros((1, *out_shape), dtype=np.int32)
    _run(np.full(shape, 2.0), np.ones(shape), _pixmap(shape), out_shape, out=out, wht=wht,
         con=con, index=0)
    _run(np.full(shape, 6.0), np.full(shape, 3.0), _pixmap(shape, dx=3.0), out_shape,
         out=out, wht=wht, con=con, index=1)
    np.testing.assert_allclose(out[0, :, :3], 2.0)
    np.testing.assert_allclose(out[0, :, 3:6], (2.0 * 1 + 6.0 * 3) / 4, rtol=1e-6)
    np.testing.assert_allclose(out[0, :, 6:], 6.0)
    np.testing.assert_allclose(wht[0], np.repeat([[1.0, 4.0, 3.0]], 3, axis=1).repeat(4, 0))
    assert np.array_equal(con[0], np.repeat([[1, 3, 2]], 3, axis=1).repeat(4, 0))


@pytest.mark.parametrize("kernel", ["point", "turbo", "gaussian", "lanczos2", "lanczos3"])
def test_other_kernels_keep_constant_brightness(kernel):
    shape = (30, 30)
    pm = _pixmap(shape, dx=2.25, dy=1.6, angle=5.0, center=(15, 15))
    sci, _, _, _ = _run(np.full(shape, 3.5), np.ones(shape), pm, (34, 34), kernel=kernel)
    inner = sci[8:24, 8:24]
    np.testing.assert_allclose(inner[np.isfinite(inner)], 3.5, rtol=1e-5)
    assert np.isfinite(inner).mean() > (0.8 if kernel == "point" else 0.999)


def test_nan_pixmap_entries_are_missed():
    pm = _pixmap((5, 5))
    pm[2, 2] = np.nan
    _, wht, _, nmiss = _run(np.ones((5, 5)), np.ones((5, 5)), pm, (5, 5))
    assert nmiss >= 1 and wht[2, 2] < 1.0


def test_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(5)
    data = rng.normal(1, 0.3, (40, 40))
    pm = _pixmap((40, 40), dx=3.3, dy=2.1, angle=12.0, scale=0.9, center=(20, 20))
    results = []
    for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        numba.set_num_threads(threads)
        results.append(_run(data, np.ones_like(data), pm, (50, 50), pixfrac=0.7)[:2])
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(*results))


def test_variance_combination_official_rule():
    """Two inputs on one output pixel: var = sum(w^2 v) / (sum w)^2, w = 1/var_rnoise."""
    shape = (3, 1, 1)
    sig1 = np.sqrt(np.array([4.0, 1.0, 0.5], dtype=np.float32)).reshape(shape)
    sig2 = np.sqrt(np.array([1.0, 2.0, 0.25], dtype=np.float32)).reshape(shape)
    wsum = np.full(shape, np.nan, dtype=np.float32)
    wt = np.zeros(shape, dtype=np.float32)
    combine_variance(sig1, 0, 0, 0.0, wsum, wt)
    combine_variance(sig2, 0, 0, 0.0, wsum, wt)
    var = np.empty(shape, dtype=np.float32)
    err = np.empty((1, 1), dtype=np.float32)
    finalize_variance(wsum, wt, 1.0, var, err)
    w1, w2 = 1 / 4.0, 1 / 1.0
    expect = [(w1**2 * a + w2**2 * b) / (w1 + w2) ** 2
              for a, b in zip([4.0, 1.0, 0.5], [1.0, 2.0, 0.25])]
    np.testing.assert_allclose(var.ravel(), expect, rtol=1e-6)
    assert err[0, 0] == pytest.approx(np.sqrt(sum(expect)), rel=1e-6)


@pytest.mark.parametrize("angle,dx,dy", [(0.0, 0.3, 0.6), (1.5, 10.27, 10.81),
                                         (-4.0, 10.5, 10.0)])
def test_small_rotation_fast_path_matches_supersampling(angle, dx, dy):
    """pixfrac 1, scale 1: drops fall in 2x2 output blocks (the quadrant fast path)."""
    shape = (6, 6)
    rng = np.random.default_rng(7)
    weight = rng.uniform(0.5, 1.5, shape)
    pm = _pixmap(shape, dx=dx, dy=dy, angle=angle, center=(2.5, 2.5))
    out_shape = (30, 30)
    sci_w = np.zeros(out_shape)
    for j in range(shape[0]):
        for i in range(shape[1]):
            w1 = np.zeros(shape)
            w1[j, i] = weight[j, i]
            _, wht, _, _ = _run(np.ones(shape), w1, pm, out_shape)
            s = (np.arange(100) + 0.5) / 100 - 0.5
            u, v = np.meshgrid(i + s, j + s)
            a = np.radians(angle)
            xo = 2.5 + (u - 2.5) * np.cos(a) - (v - 2.5) * np.sin(a) + dx
            yo = 2.5 + (u - 2.5) * np.sin(a) + (v - 2.5) * np.cos(a) + dy
            ref = np.zeros(out_shape)
            np.add.at(ref, (np.floor(yo + 0.5).astype(int), np.floor(xo + 0.5).astype(int)),
                      weight[j, i] / u.size)
            np.testing.assert_allclose(wht, ref, atol=0.02 * weight[j, i])
            assert wht.sum() == pytest.approx(weight[j, i], rel=1e-6)
            sci_w += wht
    _, wht, _, _ = _run(np.ones(shape), weight, pm, out_shape)
    np.testing.assert_allclose(wht, sci_w, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("pixfrac,angle", [(1.0, 0.8), (1.0, 30.0), (0.6, 3.0)])
def test_band_count_does_not_change_a_bit(pixfrac, angle):
    """The square kernel's output-row bands (one per thread) give the one-band answer
    exactly, over several row chunks, with distortion, weights 0 and NaN map entries."""
    from webbflow.kernels.drizzle import _CHUNK_ROWS, _drizzle_layers

    rng = np.random.default_rng(11)
    shape = (_CHUNK_ROWS * 2 + 37, 90)
    pm = _pixmap(shape, dx=20.4, dy=15.2, angle=angle, scale=0.93, center=(45, 150))
    pm[..., 1] += 1e-4 * (pm[..., 0] - 40.0) ** 2
    pm[5, 7] = np.nan
    data = rng.normal(1.0, 0.2, (4, *shape)).astype(np.float32)
    weight = rng.uniform(0.5, 1.5, shape).astype(np.float32)
    weight[rng.random(shape) < 0.05] = 0.0
    out_shape = (360, 260)
    results = []
    for nband in (1, 2, 5):
        out = np.full((4, *out_shape), np.nan, dtype=np.float32)
        wht = np.zeros((2, *out_shape), dtype=np.float32)
        con = np.zeros((1, *out_shape), dtype=np.int32)
        nmiss = _drizzle_layers(data, weight, pm, out, wht, np.array([0, 1, 1, 1]), con, 0,
                                4, True, KERNELS["square"], pixfrac, 1.0, 1.0, 0,
                                shape[1] - 1, 0, shape[0] - 1, nband)
        results.append((out, wht, con, nmiss))
    ref = results[0]
    assert np.count_nonzero(ref[1][0]) > 0.9 * shape[0] * shape[1] * 0.93**-2 * 0.9
    assert ref[3] >= 1  # the NaN map entry
    for got in results[1:]:
        for a, b in zip(got[:3], ref[:3]):
            assert np.array_equal(a, b, equal_nan=True)
        assert got[3] == ref[3]
