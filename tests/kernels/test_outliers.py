"""kernels.outliers against plain NumPy versions and hand-built cases."""

from __future__ import annotations

import numpy as np
import pytest

from webbflow.kernels import outliers as K


def _np_abs_deriv(a: np.ndarray) -> np.ndarray:
    out = np.zeros_like(a)
    p = np.pad(a, 1, constant_values=np.nan)
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        nb = p[1 + dy:1 + dy + a.shape[0], 1 + dx:1 + dx + a.shape[1]]
        d = np.abs(a - nb)
        out = np.where(np.isfinite(d) & (d > out), d, out)
    out[np.isnan(a)] = np.nan
    return out


def test_abs_derivative_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(9, 11))
    a[2, 3] = np.nan
    out = np.empty_like(a)
    K.abs_derivative(a, out)
    np.testing.assert_allclose(out, _np_abs_deriv(a), equal_nan=True)
    assert np.isnan(out[2, 3]) and out[2, 4] > 0


def test_blot_linear_reproduces_a_plane() -> None:
    yy, xx = np.indices((20, 30), dtype=np.float64)
    median = 2.0 * xx - 0.5 * yy + 3.0
    pix = np.dstack([np.array([[1.25, 28.9, -0.1, 29.0]]),
                     np.array([[3.5, 18.2, 4.0, 19.0]])])
    out = np.empty((1, 4))
    K.blot_linear(median, pix, np.nan, out)
    np.testing.assert_allclose(out[0, [0, 1, 3]], [2 * 1.25 - 1.75 + 3, 2 * 28.9 - 9.1 + 3,
                                                  58 - 9.5 + 3])
    assert np.isnan(out[0, 2])  # outside the median image


def test_clipped_mean_drops_outliers() -> None:
    rng = np.random.default_rng(2)
    w = np.concatenate([rng.normal(10.0, 0.1, 1000), [1000.0, 0.0, np.nan, -500.0]])
    assert K.clipped_mean(w, 3.0, 5) == pytest.approx(np.mean(w[:1000]), rel=1e-3)
    assert np.isnan(K.clipped_mean(np.array([0.0, np.nan]), 3.0, 5))


def test_nanmedian_stack_even_odd_and_all_nan() -> None:
    stack = np.array([[[1.0, np.nan, 5.0]], [[3.0, np.nan, np.nan]], [[2.0, np.nan, 1.0]],
                      [[10.0, np.nan, np.nan]]])
    out = np.empty((1, 3))
    K.nanmedian_stack(stack, out)
    np.testing.assert_array_equal(out, [[2.5, np.nan, 3.0]])


def test_flag_outliers_hand_case() -> None:
    sci = np.zeros((7, 7))
    blot = np.zeros((7, 7))
    err = np.ones((7, 7))
    sci[3, 3] = 10.0  # 10 sigma: flagged
    sci[3, 4] = 4.5   # neighbour above snr2 only: flagged through the 3x3 smoothing
    sci[0, 0] = 4.5   # isolated, above snr2 but below snr1: not flagged
    out = np.zeros((7, 7), bool)
    K.flag_outliers(sci, err, blot, 5.0, 4.0, 1.2, 0.7, 0.0, out)
    assert set(zip(*np.nonzero(out))) == {(3, 3), (3, 4)}
    # a steep blot protects the pixel (scale * derivative)
    blot[3, 3] = 2.0
    blot[3, 2] = -8.0
    out[:] = False
    K.flag_outliers(sci, err, blot, 5.0, 4.0, 1.2, 0.7, 0.0, out)
    assert not out[3, 3]


def test_dilate() -> None:
    m = np.zeros((5, 5), bool)
    m[2, 2] = True
    out = np.empty_like(m)
    K.dilate(m, 1, out)
    assert out.sum() == 9 and out[1:4, 1:4].all()


@pytest.mark.parametrize("n", [1, 2, 3, 4, 16, 25, 40])
def test_nanmedian_stack_matches_numpy_with_ties_and_nans(n: int) -> None:
    """Ranking (n <= 24) and selection (n > 24) both give np.nanmedian exactly."""
    rng = np.random.default_rng(n)
    stack = rng.normal(size=(n, 6, 30)).astype(np.float32)
    stack[:, :, :5] = np.round(stack[:, :, :5])  # many ties
    stack[rng.random(stack.shape) < 0.3] = np.nan
    stack[:, 0, 0] = np.nan  # all NaN
    out = np.empty((6, 30), dtype=np.float32)
    K.nanmedian_stack(stack, out)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        ref = np.nanmedian(stack.astype(np.float64), axis=0)
    np.testing.assert_array_equal(out, ref.astype(np.float32))
    assert np.isnan(out[0, 0])
