"""kernels.labels: the labelling / per-label statistics shared by detect, segmentation and
photometry, against scipy.ndimage on a synthetic field (labels, per-source sums, peaks,
centroids, bounding boxes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from webbflow.kernels import detect
from webbflow.kernels import labels as L
from webbflow.kernels import photometry as P
from webbflow.kernels import segmentation as S


@pytest.fixture(scope="module")
def field() -> dict:
    rng = np.random.default_rng(3)
    ny, nx = 120, 150
    y, x = np.indices((ny, nx), dtype=np.float64)
    img = rng.normal(0.0, 1.0, (ny, nx))
    for _ in range(40):
        cx, cy, s, f = rng.uniform(5, nx - 5), rng.uniform(5, ny - 5), rng.uniform(1, 3), \
            rng.uniform(20, 400)
        img += f / (2 * math.pi * s * s) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s))
    return {"img": img, "select": img > 2.5}


@pytest.mark.parametrize("connectivity", [4, 8])
def test_labels_match_scipy(field, connectivity):
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    ref, nref = ndimage.label(field["select"], structure)
    lab = np.empty(ref.shape, np.int32)
    assert L.label_components(field["select"], connectivity, 1, lab) == nref
    assert np.array_equal(lab, ref)  # same numbering: raster order of first pixels
    # groups under npixels dropped, the rest renumbered in the same order
    sizes = np.bincount(ref.ravel())[1:]
    keep = np.flatnonzero(sizes >= 4) + 1
    want = np.zeros_like(ref)
    for new, old in enumerate(keep, start=1):
        want[ref == old] = new
    assert L.label_components(field["select"], connectivity, 4, lab) == keep.size
    assert np.array_equal(lab, want)


def test_per_label_statistics_match_scipy(field):
    img = field["img"]
    ref, n = ndimage.label(field["select"], np.ones((3, 3)))
    count, py, px = L.label_peaks(ref, n, img)
    idx = np.arange(1, n + 1)
    assert np.array_equal(count[1:], np.bincount(ref.ravel())[1:])
    pos = np.array(ndimage.maximum_position(img, ref, idx))
    assert np.array_equal(py[1:], pos[:, 0]) and np.array_equal(px[1:], pos[:, 1])
    y0, y1, x0, x1 = L.label_bboxes(ref, n)
    for k, sl in enumerate(ndimage.find_objects(ref), start=1):
        assert (y0[k], y1[k] + 1, x0[k], x1[k] + 1) == (sl[0].start, sl[0].stop,
                                                        sl[1].start, sl[1].stop)
    # segment sums and flux-weighted centroids (segment_properties) against scipy
    props = np.empty((n, 12))
    P.segment_properties(img, img, np.ones_like(img), ref, n, props)
    assert props[:, 0] == pytest.approx(ndimage.sum(img, ref, idx), rel=1e-12)
    pos = np.clip(img, 0, None)
    cy, cx = np.array(ndimage.center_of_mass(pos, ref, idx)).T
    assert props[:, 3] == pytest.approx(cx, abs=1e-9)
    assert props[:, 4] == pytest.approx(cy, abs=1e-9)
    assert np.array_equal(props[:, 8], x0[1:]) and np.array_equal(props[:, 11], y1[1:])


def test_detect_label_segments_is_labelling_plus_peaks(field):
    img = field["img"]
    ys, xs, npix = detect.label_segments(img, 2.5, 4, 8)
    ref, _ = ndimage.label(img > 2.5, np.ones((3, 3)))
    sizes = np.bincount(ref.ravel())[1:]
    keep = np.flatnonzero(sizes >= 4) + 1
    pos = np.array(ndimage.maximum_position(img, ref, keep))
    assert np.array_equal(npix, sizes[keep - 1])
    assert np.array_equal(ys, pos[:, 0]) and np.array_equal(xs, pos[:, 1])


def test_moment_axes_of_a_rotated_matrix():
    a, b, th = 9.0, 4.0, math.radians(25.0)
    c, s = math.cos(th), math.sin(th)
    cxx, cyy, cxy = a * c * c + b * s * s, a * s * s + b * c * c, (a - b) * c * s
    lmax, lmin, tr = L.moment_axes(cxx, cyy, cxy)
    assert (lmax, lmin, tr) == pytest.approx((9.0, 4.0, 13.0), rel=1e-12)


def test_sorted_clipped_stats_rejects_outliers():
    rng = np.random.default_rng(0)
    v = np.sort(np.r_[rng.normal(10.0, 2.0, 5000), [1e4, 2e4, -1e4]])
    med, std = L.sorted_clipped_stats(v, v.size, 3.0, 10)
    assert med == pytest.approx(10.0, abs=0.1) and std == pytest.approx(2.0, abs=0.1)
    assert np.isnan(L.sorted_clipped_stats(v, 0, 3.0, 10)[0])


@pytest.mark.parametrize("normalise", [False, True])
def test_convolve_against_scipy(field, normalise):
    img = field["img"].copy()
    img[10, 10] = np.nan
    mask = np.zeros(img.shape, bool)
    mask[50:53, 60:70] = True
    kern = S.gaussian_kernel(2.0)
    out = np.empty_like(img)
    L.convolve(img, mask, kern, normalise, out)
    good = ~mask & np.isfinite(img)
    num = ndimage.convolve(np.where(good, img, 0.0), kern, mode="constant")
    if normalise:
        num = num / ndimage.convolve(good.astype(float), kern, mode="constant")
    assert out == pytest.approx(num, rel=1e-9, abs=1e-12)
