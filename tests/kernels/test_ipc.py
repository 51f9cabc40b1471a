"""Tests of kernels.ipc against a NumPy slice-shift reference and hand cases."""

import numpy as np
import pytest

from webbflow.kernels.ipc import correct_ipc, num_ref_pixels


def _numpy_ipc(data, kern, nref):
    b, t, left, right = nref
    out = data.astype(np.float64).copy()
    ny, nx = data.shape[2:]
    sci = data[:, :, b : ny - t, left : nx - right].astype(np.float64)
    sy, sx = sci.shape[2:]
    kh, kw = kern.shape[:2]
    pad = np.zeros((*sci.shape[:2], sy + kh - 1, sx + kw - 1))
    pad[:, :, kh // 2 : kh // 2 + sy, kw // 2 : kw // 2 + sx] = sci
    acc = np.zeros_like(sci)
    for j in range(kh):
        for i in range(kw):
            w = kern[j, i] if kern.ndim == 2 else kern[j, i, b : ny - t, left : nx - right]
            acc += w * pad[:, :, kh - 1 - j : kh - 1 - j + sy, kw - 1 - i : kw - 1 - i + sx]
    out[:, :, b : ny - t, left : nx - right] = acc
    return out.astype(np.float32)


@pytest.mark.parametrize("nref", [(0, 0, 0, 0), (4, 4, 4, 4), (2, 0, 0, 3)])
def test_matches_numpy_reference_2d_and_5x5(nref):
    rng = np.random.default_rng(0)
    data = rng.normal(100, 20, (2, 3, 17, 15)).astype(np.float32)
    for shape in [(3, 3), (5, 5), (3, 5)]:
        kern = rng.normal(0, 0.01, shape)
        kern[shape[0] // 2, shape[1] // 2] = 1.02
        np.testing.assert_allclose(
            correct_ipc(data, kern, nref), _numpy_ipc(data, kern, nref), rtol=1e-6
        )


def test_matches_numpy_reference_4d():
    rng = np.random.default_rng(1)
    data = rng.normal(100, 20, (1, 2, 12, 13)).astype(np.float32)
    kern = rng.normal(0, 0.01, (3, 3, 12, 13))
    kern[1, 1] += 1.0
    nref = (4, 0, 4, 0)
    np.testing.assert_allclose(
        correct_ipc(data, kern, nref), _numpy_ipc(data, kern, nref), rtol=1e-6
    )


def test_point_source_neighbours_and_refpix_untouched():
    """A 1000 DN single pixel with kernel centre 1.04, 4-neighbours -0.01: the pixel becomes
    1040, its 4-neighbours -10, diagonals 0; reference border unchanged and not a source."""
    data = np.zeros((1, 1, 12, 12), np.float32)
    data[0, 0, 6, 6] = 1000.0
    data[0, 0, :4, :] = 55.0
    kern = np.array([[0, -0.01, 0], [-0.01, 1.04, -0.01], [0, -0.01, 0]])
    out = correct_ipc(data, kern, (4, 0, 0, 0))[0, 0]
    assert out[6, 6] == pytest.approx(1040.0)
    for y, x in [(5, 6), (7, 6), (6, 5), (6, 7)]:
        assert out[y, x] == pytest.approx(-10.0)
    assert out[5, 5] == 0 and (out[:4] == 55.0).all() and out[4, 0] == 0.0


def test_num_ref_pixels():
    assert num_ref_pixels(1, 1, 2048, 2048) == (4, 4, 4, 4)
    assert num_ref_pixels(1, 1, 64, 64) == (4, 0, 4, 0)
    assert num_ref_pixels(1025, 1025, 64, 64) == (0, 0, 0, 0)
    assert num_ref_pixels(1, 1, 1032, 1024, miri=True) == (0, 0, 4, 4)
