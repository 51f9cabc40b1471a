"""Tests of kernels.linearity against a NumPy reference and analytic cases."""

import numba
import numpy as np

from webbflow.kernels.linearity import apply_linearity, prepare_linearity_coeffs

SAT, NO_LIN_CORR = 2, 2**20
FLAGS = dict(saturated=SAT, no_lin_corr=NO_LIN_CORR)


def _reference(data, gdq, pdq, coeffs, lin_dq):
    c = coeffs.astype(np.float64).copy()
    pdq = pdq | lin_dq
    flagged = (lin_dq & NO_LIN_CORR) != 0
    nan = np.isnan(c).any(axis=0)
    zero = c[1] == 0
    bad = flagged | nan | zero
    c[:, bad] = 0.0
    c[1, bad] = 1.0
    pdq = pdq | np.where(nan | zero, NO_LIN_CORR, 0).astype(np.uint32)
    d = data.astype(np.float64)
    corr = sum(c[k] * d**k for k in range(c.shape[0]))
    out = np.where((gdq & SAT) != 0, data, corr.astype(np.float32))
    return out, pdq


def _case(seed, shape=(2, 4, 9, 8)):
    rng = np.random.default_rng(seed)
    data = rng.uniform(0, 30000, shape).astype(np.float32)
    gdq = np.where(rng.random(shape) < 0.1, SAT, 0).astype(np.uint8)
    ny, nx = shape[2:]
    coeffs = np.stack(
        [
            rng.normal(0, 5, (ny, nx)),
            rng.normal(1, 0.01, (ny, nx)),
            rng.normal(0, 1e-6, (ny, nx)),
            rng.normal(0, 1e-11, (ny, nx)),
        ]
    ).astype(np.float32)
    coeffs[2, 0, 0] = np.nan
    coeffs[1, 1, 1] = 0.0
    lin_dq = np.zeros((ny, nx), np.uint32)
    lin_dq[2, 2] = NO_LIN_CORR
    pdq = np.zeros((ny, nx), np.uint32)
    return data, gdq, pdq, coeffs, lin_dq


def test_matches_numpy_reference():
    data, gdq, pdq, coeffs, lin_dq = _case(0)
    got, gpdq = apply_linearity(data, gdq, pdq, coeffs, lin_dq, **FLAGS)
    exp, epdq = _reference(data, gdq, pdq, coeffs, lin_dq)
    np.testing.assert_allclose(got, exp, rtol=1e-7, atol=0)
    np.testing.assert_array_equal(gpdq, epdq)


def test_quadratic_analytic():
    """Coefficients [0, 1, 0.001] map raw r to r + 0.001 r^2 (1000 -> 2000)."""
    data = np.array([10.0, 1000.0, 2500.0], np.float32).reshape(1, 3, 1, 1)
    coeffs = np.array([0.0, 1.0, 0.001], np.float32).reshape(3, 1, 1)
    z = np.zeros((1, 1), np.uint32)
    got, _ = apply_linearity(data, np.zeros(data.shape, np.uint8), z, coeffs, z, **FLAGS)
    np.testing.assert_allclose(got.ravel(), [10.1, 2000.0, 8750.0], rtol=1e-6)


def test_nan_zero_and_flagged_pixels_unchanged_and_flagged():
    data, gdq, pdq, coeffs, lin_dq = _case(1)
    got, gpdq = apply_linearity(data, np.zeros_like(gdq), pdq, coeffs, lin_dq, **FLAGS)
    for y, x in [(0, 0), (1, 1), (2, 2)]:
        np.testing.assert_array_equal(got[:, :, y, x], data[:, :, y, x])
        assert gpdq[y, x] == NO_LIN_CORR
    assert gpdq.sum() == 3 * NO_LIN_CORR


def test_saturated_groups_untouched():
    data = np.full((1, 3, 1, 1), 100.0, np.float32)
    gdq = np.array([0, SAT, SAT], np.uint8).reshape(1, 3, 1, 1)
    coeffs = np.array([1.0, 2.0], np.float32).reshape(2, 1, 1)
    z = np.zeros((1, 1), np.uint32)
    got, _ = apply_linearity(data, gdq, z, coeffs, z, **FLAGS)
    assert list(got.ravel()) == [201.0, 100.0, 100.0]


def test_prepare_returns_identity_coeffs():
    c = np.array([[[np.nan]], [[2.0]], [[3.0]]], np.float32)
    out, flags = prepare_linearity_coeffs(c, np.zeros((1, 1), np.uint32), no_lin_corr=NO_LIN_CORR)
    assert list(out[:, 0, 0]) == [0.0, 1.0, 0.0] and flags[0, 0] == NO_LIN_CORR


def test_thread_invariance_and_inputs_untouched():
    data, gdq, pdq, coeffs, lin_dq = _case(2, shape=(1, 5, 33, 30))
    before = data.copy(), coeffs.copy()
    n = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = apply_linearity(data, gdq, pdq, coeffs, lin_dq, **FLAGS)[0]
        numba.set_num_threads(n)
        b = apply_linearity(data, gdq, pdq, coeffs, lin_dq, **FLAGS)[0]
    finally:
        numba.set_num_threads(n)
    assert a.tobytes() == b.tobytes()
    np.testing.assert_array_equal(data, before[0])
    np.testing.assert_array_equal(coeffs, before[1])
