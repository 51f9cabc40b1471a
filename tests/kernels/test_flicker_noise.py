"""Kernels of clean_flicker_noise against plain NumPy versions and hand-built cases."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from webbflow.kernels import flicker_noise as fk

MEDIAN = {"fit_method": fk.FIT_MEDIAN}


def _np_sigma_clipped_stats(values, sigma=3.0, maxiters=5):
    kept = np.asarray(values, dtype=np.float64)
    for _ in range(maxiters):
        med, std = np.median(kept), kept.std()
        new = kept[(kept >= med - sigma * std) & (kept <= med + sigma * std)]
        changed = kept.size - new.size
        kept = new
        if changed == 0:
            break
    return kept.mean(), np.median(kept), kept.std()


def test_sigma_clipped_stats_matches_numpy():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(5.0, 2.0, 5000), [200.0, 300.0, -150.0]])
    mean, median, std, n = fk.sigma_clipped_stats(values, 3.0, 5)
    ref = _np_sigma_clipped_stats(values)
    np.testing.assert_allclose((mean, median, std), ref, rtol=1e-12)
    assert n < values.size - 2 and abs(median - 5.0) < 0.1


def test_line_medians_without_background_equal_masked_medians():
    """background None, no clipping: each line loses the median of its masked pixels."""
    rng = np.random.default_rng(1)
    img = rng.normal(0, 1, (3, 16, 40)).astype(np.float32)
    mask = rng.random(img.shape) > 0.3
    mask[1, 4] = False  # a line with no background pixel keeps its values
    res = fk.clean_images(img, mask, background_method=fk.BACKGROUND_NONE, n_sigma=0.0,
                          lines_axis=1, **MEDIAN)
    ref = img - np.ma.median(np.ma.array(img, mask=~mask), axis=2).filled(0.0)[..., None]
    np.testing.assert_array_equal(res.data, ref.astype(np.float32))
    # lines along axis 0 (NIRSpec, MIRI): the same on the transposed image
    res_t = fk.clean_images(img.transpose(0, 2, 1), mask.transpose(0, 2, 1),
                            background_method=fk.BACKGROUND_NONE, n_sigma=0.0, lines_axis=0,
                            **MEDIAN)
    np.testing.assert_array_equal(res_t.data, ref.transpose(0, 2, 1))


def test_fit_by_channel_fits_each_amplifier():
    offsets = np.array([3.0, -2.0, 5.0, 1.0], np.float32)
    img = np.repeat(offsets, 512)[None, None, :].repeat(4, axis=1).astype(np.float32)
    mask = np.ones(img.shape, bool)
    kw = {"background_method": fk.BACKGROUND_NONE, "n_sigma": 0.0, "lines_axis": 1, **MEDIAN}
    by_channel = fk.clean_images(img, mask, fit_by_channel=True, **kw).data
    whole = fk.clean_images(img, mask, fit_by_channel=False, **kw).data
    np.testing.assert_array_equal(by_channel, 0.0)
    assert np.allclose(whole[0, 0, ::512], offsets - 2.0)  # one median (of 1, 3 -> 2)


def test_background_restored_and_source_masked_by_clipping():
    rng = np.random.default_rng(2)
    rows = rng.normal(0, 0.5, (64, 1))
    img = (10.0 + rows + rng.normal(0, 1.0, (64, 128))).astype(np.float32)
    img[30:34, 60:64] += 1e4  # a bright source: clipped out of the fit, kept in the data
    res = fk.clean_images(img[None], np.ones((1, 64, 128), bool),
                          background_method=fk.BACKGROUND_MEDIAN, n_sigma=2.0, lines_axis=1,
                          **MEDIAN)
    out = res.data[0]
    assert abs(res.background[0] - 10.0) < 0.3
    sky = np.ones(img.shape, bool)
    sky[30:34, 60:64] = False
    line = np.array([np.median(out[y][sky[y]]) for y in range(64)])
    assert np.std(line - res.background[0]) < 0.25 * rows.std()
    np.testing.assert_allclose(out[30:34, 60:64] - img[30:34, 60:64],
                               (out - img)[30:34, :1].repeat(4, axis=1), atol=1e-3)


def test_clean_ramp_rebuilds_groups_and_skips_unusable_diffs():
    rng = np.random.default_rng(3)
    ny, nx = 8, 64
    truth = 100.0 + 5.0 * np.arange(4)[:, None, None]
    rows = rng.normal(0, 3.0, (4, ny, 1))
    data = (truth + rows + np.zeros((4, ny, nx)))[None].astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 2] = 1  # group 2 all DO_NOT_USE: difference 1 is unusable
    res = fk.clean_ramp(data, gdq, np.ones((ny, nx), bool), 1 | 4,
                        background_method=fk.BACKGROUND_NONE, n_sigma=0.0, lines_axis=1,
                        **MEDIAN)
    out = res.data[0]
    np.testing.assert_array_equal(out[0], data[0, 0])
    np.testing.assert_array_equal(out[1], data[0, 0])  # diff 0 cleaned to 0 (no background)
    np.testing.assert_array_equal(out[2], data[0, 2])  # unusable: kept as it came
    np.testing.assert_array_equal(out[3], data[0, 2])
    assert list(res.usable) == [True, False, True]


def test_scene_mask_clips_sources_and_nans():
    rng = np.random.default_rng(4)
    rate = rng.normal(1.0, 0.1, (2, 50, 60)).astype(np.float32)
    rate[0, 10, 10], rate[1, 20, 20], rate[0, 5, 5], rate[1, 6, 6] = 50, 50, np.nan, 0.0
    mask = fk.scene_mask(rate, 2.0)
    assert not mask[0, 10, 10] and not mask[1, 20, 20] and not mask[0, 5, 5]
    assert not mask[1, 6, 6] and mask[1, 10, 10] and 0.9 < mask.mean() < 0.99


def test_nsclean_line_fit_matches_weighted_lstsq():
    rng = np.random.default_rng(5)
    ny, nx, nvec = 12, 64, 4
    data = rng.normal(0, 1, (ny, nx)).astype(np.float32)
    mask = rng.random((ny, nx)) > 0.2
    weights = np.where(mask, rng.uniform(0.5, 2.0, (ny, nx)), 0.0)
    apod = np.array([1.0, 1.0, 0.8, 0.3])
    model = np.zeros((ny, nx))
    status = np.zeros(ny, np.int8)
    fk._nsclean_lines(data, mask, weights, apod, 2, 3.0, model, status)
    assert not status.any() and np.all(model[:2] == 0) and np.all(model[-2:] == 0)
    for y in range(2, ny - 2):
        d = data[y][mask[y]].astype(np.float64)
        mu = np.median(d)
        sig = 1.4826 * np.median(np.abs(d - mu))
        d = np.where(np.abs(d - mu) <= 3 * sig, d, mu)
        p, cols, m = weights[y][mask[y]], np.flatnonzero(mask[y]), mask[y].sum()
        basis = np.exp(2j * np.pi * np.outer(cols, np.arange(nvec)) / nx) / m
        coef = np.linalg.lstsq(basis * p[:, None], p * d, rcond=None)[0]
        spec = np.zeros(nx // 2 + 1, complex)
        spec[:nvec] = coef * nx / m * apod
        np.testing.assert_allclose(model[y], np.fft.irfft(spec, nx), atol=1e-9)


@pytest.fixture(scope="module")
def nirspec_frame():
    """2048x2048 frame, lines along axis 0 (NIRSpec), low-frequency line noise + a slit.

    The noise varies slowly from line to line as well (1/f noise is a time series read line
    after line): NSClean smooths its model across lines (and, as officially, shifts it by one
    pixel), so line-independent noise would not be what it models.
    """
    rng = np.random.default_rng(6)
    n = 2048
    y, x = np.mgrid[:n, :n] / n
    noise = sum(rng.normal(0, 2.0) * np.cos(2 * np.pi * (k * y + 3 * x) + rng.uniform(0, 6))
                for k in range(1, 7))
    img = (rng.normal(0, 1.0, (n, n)) + noise).astype(np.float32)
    img[:, 1000:1010] += 500.0  # a bright slit, across all lines
    return img, noise


def test_fft_removes_low_frequency_line_noise(nirspec_frame):
    img, _ = nirspec_frame
    mask = np.ones((1, *img.shape), bool)
    res = fk.clean_images(img[None], mask, fit_method=fk.FIT_FFT, n_sigma=2.0, lines_axis=0,
                          background_method=fk.BACKGROUND_MEDIAN)
    assert not res.failed
    sky = np.ones(img.shape, bool)
    sky[:, 995:1015] = False
    inner = slice(8, -8)  # NSClean leaves its 4 edge lines (+ buffing) alone
    before = (img - 0)[inner][:, sky[0]].std()
    after = res.data[0][inner][:, sky[0]].std()
    assert before > 3.0 and after < 1.1, (before, after)


def test_thread_count_invariance(nirspec_frame):
    img, _ = nirspec_frame
    stack = np.stack([img[:256, :512], img[256:512, :512], img[512:768, :512]])
    mask = np.ones(stack.shape, bool)
    kw = {"background_method": fk.BACKGROUND_MEDIAN, "n_sigma": 2.0, "lines_axis": 1}
    before = numba.get_num_threads()
    try:
        outs = []
        for threads in (1, before):
            numba.set_num_threads(threads)
            med = fk.clean_images(stack, mask, **kw, **MEDIAN).data
            small, small_mask = img[:256, :256], np.ones((256, 256), bool)
            fft = np.zeros((256, 256))
            fk._nsclean_lines(small, small_mask, fk.nsclean_weights(small_mask),
                              np.array([1.0, 1.0, 0.5]), 4, 3.0, fft, np.zeros(256, np.int8))
            outs.append((med.tobytes(), fft.tobytes()))
    finally:
        numba.set_num_threads(before)
    assert outs[0] == outs[1]
