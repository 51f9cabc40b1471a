"""kernels.photometry: exact circle overlaps, aperture sums, moments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from webbflow.kernels import photometry as P


@pytest.mark.parametrize("r, xc, yc", [(0.3, 0.0, 0.0), (2.7, 0.31, -0.22), (5.0, 0.5, 0.5)])
def test_overlaps_sum_to_circle_area(r: float, xc: float, yc: float) -> None:
    total = 0.0
    for j in range(-8, 9):
        for i in range(-8, 9):
            total += P.circle_overlap(i - 0.5 - xc, i + 0.5 - xc, j - 0.5 - yc, j + 0.5 - yc, r)
    assert total == pytest.approx(math.pi * r * r, rel=1e-12)


def test_aperture_sums_constant_image_and_errors() -> None:
    data = np.full((41, 41), 2.0)
    err = np.full((41, 41), 0.5)
    mask = np.zeros((41, 41), bool)
    f = np.empty(2)
    e = np.empty(2)
    P.aperture_sums(data, err, mask, np.array([20.3, np.nan]), np.array([19.6, 3.0]), 4.0,
                    f, e)
    assert f[0] == pytest.approx(2.0 * math.pi * 16.0, rel=1e-12)
    assert e[0] == pytest.approx(math.sqrt(0.25 * math.pi * 16.0), rel=1e-12)
    assert np.isnan(f[1])


def test_segment_properties_of_an_elliptical_gaussian() -> None:
    y, x = np.indices((61, 61), dtype=np.float64)
    th = math.radians(30.0)
    u = (x - 30.2) * math.cos(th) + (y - 29.7) * math.sin(th)
    v = -(x - 30.2) * math.sin(th) + (y - 29.7) * math.cos(th)
    img = np.exp(-0.5 * ((u / 4.0) ** 2 + (v / 2.0) ** 2))
    labels = np.ones((61, 61), np.int32)
    out = np.empty((1, 12))
    P.segment_properties(img, img, np.ones_like(img), labels, 1, out)
    assert out[0, 0] == pytest.approx(2 * math.pi * 8.0, rel=1e-6)
    assert out[0, 3:5] == pytest.approx([30.2, 29.7], abs=1e-6)
    assert out[0, 5:8] == pytest.approx([4.0, 2.0, 30.0], rel=1e-4)
