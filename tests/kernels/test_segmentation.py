"""kernels.segmentation: labelling, background meshes, deblending."""

from __future__ import annotations

import math

import numpy as np

from webbflow.kernels import segmentation as S


def test_label_components_connectivity_and_npixels() -> None:
    sel = np.zeros((6, 6), bool)
    sel[0, 0] = sel[1, 1] = True          # diagonal pair: one group with 8-connectivity
    sel[4:6, 3:6] = True                  # 6 pixels
    labels = np.empty((6, 6), np.int32)
    assert S.label_components(sel, 8, 1, labels) == 2
    assert labels[0, 0] == labels[1, 1] == 1 and labels[5, 5] == 2
    assert S.label_components(sel, 4, 1, labels) == 3
    assert S.label_components(sel, 8, 3, labels) == 1 and labels[0, 0] == 0


def test_background_mesh_flat_sky() -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(5.0, 2.0, (100, 100))
    data[50, 50] = 1e6
    mask = np.zeros(data.shape, bool)
    bkg = np.empty((2, 2))
    rms = np.empty((2, 2))
    S.background_mesh(data, mask, 50, 3.0, 10, bkg, rms)
    assert np.allclose(bkg, 5.0, atol=0.15) and np.allclose(rms, 2.0, atol=0.15)


def test_gaussian_kernel_normalised() -> None:
    k = S.gaussian_kernel(2.0)
    assert k.shape == (7, 7) and math.isclose(k.sum(), 1.0)


def test_deblend_two_peaks() -> None:
    y, x = np.indices((30, 40), dtype=np.float64)
    img = sum(np.exp(-((x - cx) ** 2 + (y - 15) ** 2) / 8.0) for cx in (14.0, 24.0))
    labels = np.empty(img.shape, np.int32)
    n = S.label_components(img > 0.05, 8, 5, labels)
    assert n == 1
    out = np.empty_like(labels)
    assert S.deblend_segments(img, labels, n, 5, 32, 0.001, 8, True, out) == 2
    assert out[15, 14] != out[15, 24] and out[15, 14] > 0 and out[15, 24] > 0
