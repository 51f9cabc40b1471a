"""Tests of kernels.guider_cds for the ID, ACQ/TRACK and FINEGUIDE modes."""

import numpy as np
import pytest

from webbflow.kernels.guider_cds import guider_cds


def test_guider_modes():
    ny, nx = 3, 4
    data = np.zeros((2, 6, ny, nx), np.float32)
    data[0] = np.arange(6, dtype=np.float32)[:, None, None] * 10
    data[1] = np.arange(6, dtype=np.float32)[:, None, None] * 8
    gain, rn, t = 2.0, 5.0, 0.5
    sci, err = guider_cds(data, t, "cds", gain, rn)
    np.testing.assert_allclose(sci[:, 0, 0], [20.0, 16.0])
    np.testing.assert_allclose(err[0, 0, 0], np.sqrt(2 * (rn / t) ** 2 + 10 / (gain * t)))
    sci, _ = guider_cds(data, t, "fineguide", gain, rn)
    np.testing.assert_allclose(
        sci[:, 0, 0], [20.0 / t, 16.0 / t]
    )  # 4-group means differ by 2 groups
    sci, err = guider_cds(data, t, "id", gain, rn)
    assert sci.shape == (1, ny, nx)
    np.testing.assert_allclose(sci[0], 16.0)
    neg = guider_cds(-data, t, "cds", gain, rn)[1]
    np.testing.assert_allclose(neg, np.sqrt(2 * (rn / t) ** 2))
    with pytest.raises(ValueError):
        guider_cds(data[:1], t, "id", gain, rn)
