"""Flat-field kernel: known values, official variance formulas, bad flats, inverse, guider."""

from __future__ import annotations

import numpy as np
import pytest

from webbflow.datamodels.dqflags import PIXEL
from webbflow.kernels.flat_field import apply_flat, prepare_flat

DNU, NFF = PIXEL["DO_NOT_USE"], PIXEL["NO_FLAT_FIELD"]


def _numpy_reference(data, dq, vp, vr, flat, ferr, fdq):
    """The official NumPy expressions (float32), for comparison."""
    flat, fdq = flat.copy(), fdq.copy()
    bad = np.isnan(flat) | (flat == 0)
    fdq[bad] |= DNU | NFF
    fdq[(fdq & NFF) != 0] |= DNU
    flat[(fdq & DNU) != 0] = 1.0
    fsq = flat * flat
    d = data / flat
    vf = d**2 / fsq * ferr**2
    vp, vr = vp / fsq, vr / fsq
    err = np.sqrt(vp + vr + vf)
    dq = dq | fdq
    invalid = np.isnan(d) | np.isnan(err) | np.isnan(vf) | np.isnan(vp) | np.isnan(vr)
    invalid |= (dq & DNU) != 0
    dq[invalid] |= DNU
    for a in (d, err, vf, vp, vr):
        a[invalid] = np.nan
    return d, dq, err, vp, vr, vf


def _case(shape, seed=1):
    rng = np.random.default_rng(seed)
    data = rng.uniform(1, 100, shape).astype(np.float32)
    vp = rng.uniform(0.1, 2, shape).astype(np.float32)
    vr = rng.uniform(0.1, 2, shape).astype(np.float32)
    flat = rng.uniform(0.8, 1.2, shape[-2:]).astype(np.float32)
    ferr = rng.uniform(0.001, 0.05, shape[-2:]).astype(np.float32)
    fdq = np.zeros(shape[-2:], np.uint32)
    flat[0, 0] = np.nan
    flat[0, 1] = 0.0
    fdq[1, 0] = NFF
    fdq[1, 1] = DNU
    dq = np.zeros(shape, np.uint32)
    return data, dq, vp, vr, flat, ferr, fdq


def test_prepare_flat_flags_and_neutralises_bad_values():
    flat = np.array([[np.nan, 0.0, 2.0], [2.0, 2.0, -0.5]], np.float32)
    fdq = np.array([[0, 0, 0], [NFF, DNU, 0]], np.uint32)
    f, q = prepare_flat(flat, fdq, DNU, NFF)
    np.testing.assert_array_equal(f, [[1, 1, 2], [1, 1, -0.5]])
    np.testing.assert_array_equal(q, [[DNU | NFF, DNU | NFF, 0], [DNU | NFF, DNU, 0]])


def test_known_values_2d():
    data = np.array([[10.0, 8.0]], np.float32)
    flat = np.array([[2.0, 0.5]], np.float32)
    ferr = np.array([[0.1, 0.2]], np.float32)
    vp = np.array([[4.0, 1.0]], np.float32)
    vr = np.array([[1.0, 1.0]], np.float32)
    out = apply_flat(data, np.zeros((1, 2), np.uint32), np.zeros((1, 2), np.float32), vp, vr,
                     flat, ferr, np.zeros((1, 2), np.uint32), do_not_use=DNU)
    np.testing.assert_allclose(out.data, [[5.0, 16.0]])
    # VAR_FLAT = SCI_after^2 * FLAT_ERR^2 / FLAT^2
    np.testing.assert_allclose(out.var_flat, [[25 * 0.01 / 4, 256 * 0.04 / 0.25]], rtol=1e-6)
    np.testing.assert_allclose(out.var_poisson, [[1.0, 4.0]])
    np.testing.assert_allclose(out.var_rnoise, [[0.25, 4.0]])
    np.testing.assert_allclose(out.err**2, out.var_poisson + out.var_rnoise + out.var_flat,
                               rtol=1e-6)
    assert out.data.shape == (1, 2) and out.dq.shape == (1, 2)


@pytest.mark.parametrize("shape", [(6, 5), (3, 6, 5)])
def test_matches_official_numpy_expressions_bitwise(shape):
    data, dq, vp, vr, flat, ferr, fdq = _case(shape)
    data[..., 4, 4] = np.nan  # a NaN science pixel becomes DO_NOT_USE
    ff, fq = prepare_flat(flat, fdq, DNU, NFF)
    out = apply_flat(data, dq, np.zeros(shape, np.float32), vp, vr, ff, ferr, fq,
                     do_not_use=DNU)
    ref = _numpy_reference(data, dq, vp, vr, flat, ferr, fdq)
    for got, want in zip((out.data, out.dq, out.err, out.var_poisson, out.var_rnoise,
                          out.var_flat), ref):
        np.testing.assert_array_equal(got, want)
    bad = out.dq[..., :2, :2]
    assert np.all(bad & DNU) and np.all(np.isnan(out.data[..., :2, :2]))
    assert np.all(out.dq[..., 0, :2] & NFF) and np.all(out.dq[..., 1, 0] & NFF)
    assert not np.any(out.dq[..., 1, 1] & NFF)  # DO_NOT_USE alone stays so
    assert np.all(out.dq[..., 4, 4] == DNU)
    assert np.isfinite(out.data[..., 2:4, :]).all()


def test_inputs_are_not_modified():
    data, dq, vp, vr, flat, ferr, fdq = _case((4, 4))
    before = [a.copy() for a in (data, dq, vp, vr)]
    ff, fq = prepare_flat(flat, fdq, DNU, NFF)
    apply_flat(data, dq, np.zeros_like(data), vp, vr, ff, ferr, fq, do_not_use=DNU)
    for a, b in zip((data, dq, vp, vr), before):
        np.testing.assert_array_equal(a, b)


def test_inverse_multiplies_and_zeroes_var_flat():
    data = np.full((2, 2), 3.0, np.float32)
    flat = np.full((2, 2), 2.0, np.float32)
    one = np.ones((2, 2), np.float32)
    out = apply_flat(data, np.zeros((2, 2), np.uint32), one, one, one, flat, one * 0.1,
                     np.zeros((2, 2), np.uint32), do_not_use=DNU, inverse=True)
    np.testing.assert_array_equal(out.data, 6.0)
    np.testing.assert_array_equal(out.var_flat, 0.0)
    np.testing.assert_array_equal(out.var_poisson, 4.0)
    np.testing.assert_allclose(out.err, np.sqrt(8.0))


def test_guider_cube_with_2d_dq_adds_var_flat_to_err_and_keeps_values():
    data = np.full((2, 3, 3), 8.0, np.float32)
    err = np.full((2, 3, 3), 3.0, np.float32)
    flat = np.full((3, 3), 2.0, np.float32)
    flat[0, 0] = np.nan
    ferr = np.full((3, 3), 0.5, np.float32)
    ff, fq = prepare_flat(flat, np.zeros((3, 3), np.uint32), DNU, NFF)
    out = apply_flat(data, np.zeros((3, 3), np.uint32), err, None, None, ff, ferr, fq,
                     do_not_use=DNU)
    assert out.var_poisson is None and out.dq.shape == (3, 3)
    np.testing.assert_allclose(out.data[:, 1, 1], 4.0)
    # var_flat = 4^2 * 0.5^2 / 2^2 = 1 -> err = sqrt(9 + 1)
    np.testing.assert_allclose(out.err[:, 1, 1], np.sqrt(10.0), rtol=1e-6)
    # bad flat pixel: flat 1, flagged, not NaN (the 2-D DQ is not matched to a 3-D SCI)
    assert out.dq[0, 0] == DNU | NFF
    np.testing.assert_allclose(out.data[:, 0, 0], 8.0)


def test_shape_errors():
    with pytest.raises(ValueError, match="flat shape"):
        apply_flat(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.uint32),
                   np.zeros((2, 2), np.float32), None, None, np.ones((3, 3), np.float32),
                   np.ones((2, 2), np.float32), np.zeros((2, 2), np.uint32), do_not_use=1)
