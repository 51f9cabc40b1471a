"""The fast paths of tweakreg's detection kernels give the plain loops' results bit for bit.

Each kernel is compared with a straightforward reference (one pixel / one row at a time, the
summation order the fast path must keep) on random images with masked, NaN and outlier
pixels, at shapes that exercise the borders.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from webbflow.kernels import detect as D
from webbflow.kernels import labels as L


def _field(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    data = rng.normal(10.0, 2.0, size=shape).astype(dtype)
    data[rng.random(shape) < 0.01] = 500.0
    data[rng.random(shape) < 0.01] = np.nan
    mask = rng.random(shape) < 0.05
    return data, mask


def _correlate_reference(data, mask, fwhm, sigma_radius):
    """One pixel at a time, taps in kernel raster order, masked/off-image taps skipped."""
    kern, inside, half = D._dao_kernel(fwhm, sigma_radius)
    ny, nx = data.shape
    out = np.zeros((ny, nx))
    for y in range(ny):
        for x in range(nx):
            if mask[y, x]:
                continue
            s = 0.0
            for j in range(2 * half + 1):
                for i in range(2 * half + 1):
                    yy, xx = y + j - half, x + i - half
                    if not inside[j, i] or not (0 <= yy < ny and 0 <= xx < nx):
                        continue
                    v = float(data[yy, xx])
                    if mask[yy, xx] or not math.isfinite(v):
                        continue
                    s += float(kern[j, i]) * v
            out[y, x] = s
    return out


@pytest.mark.parametrize("shape", [(23, 31), (4, 9), (1, 6), (9, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dao_convolve_equals_the_pixel_loop(shape, dtype):
    data, mask = _field(shape, dtype, 1)
    data[0, -1] = np.inf
    for fwhm, sr in ((2.5, 1.5), (4.0, 2.0)):
        got = D.dao_convolve(data, mask, fwhm, sr)
        want = _correlate_reference(data, mask, fwhm, sr)
        assert got.dtype == np.float64
        assert got.tobytes() == want.tobytes()
    assert np.all(D.dao_convolve(data, mask, 2.5)[mask] == 0.0)


def _interp_reference(mesh, box, ny, nx):
    my, mx = mesh.shape
    out = np.empty((ny, nx))
    for y in range(ny):
        fy = (y + 0.5) / box - 0.5
        jy = min(max(math.floor(fy), 0), my - 1)
        jy1 = min(jy + 1, my - 1)
        ty = min(max(fy - jy, 0.0), 1.0) if jy1 != jy else 0.0
        for x in range(nx):
            fx = (x + 0.5) / box - 0.5
            ix = min(max(math.floor(fx), 0), mx - 1)
            ix1 = min(ix + 1, mx - 1)
            tx = min(max(fx - ix, 0.0), 1.0) if ix1 != ix else 0.0
            out[y, x] = ((1 - ty) * ((1 - tx) * mesh[jy, ix] + tx * mesh[jy, ix1])
                         + ty * ((1 - tx) * mesh[jy1, ix] + tx * mesh[jy1, ix1]))
    return out


@pytest.mark.parametrize("my,mx,box,ny,nx", [(3, 4, 8, 21, 30), (1, 1, 10, 7, 9),
                                            (2, 5, 4, 8, 17)])
def test_interp_mesh_equals_the_pixel_loop(my, mx, box, ny, nx):
    mesh = np.random.default_rng(2).normal(size=(my, mx))
    got = D._interp_mesh(mesh, box, ny, nx)
    assert got.tobytes() == _interp_reference(mesh, box, ny, nx).tobytes()
    # constant before the first cell centre
    assert got[0, 0] == mesh[0, 0] and got[0, box // 2 - 1] == mesh[0, 0]


def test_clipped_stats_rows_equal_the_single_row_clip():
    rng = np.random.default_rng(3)
    nrow, width = 11, 3000
    rows64 = np.concatenate([rng.normal(size=(nrow, width - 60)),
                             rng.normal(40.0, 1.0, size=(nrow, 60))], axis=1)
    count = rng.integers(3, width, nrow)
    count[[0, 3, 4, 5]] = [width, 0, 1, 2]
    for r in range(nrow):
        rows64[r, :count[r]].sort()
    for rows in (rows64, rows64.astype(np.float32)):
        med = np.empty(nrow)
        std = np.empty(nrow)
        L.sorted_clipped_stats_rows(rows, count, 3.0, 10, med, std)
        for r in range(nrow):
            want = L.sorted_clipped_stats(rows[r].astype(np.float64), count[r], 3.0, 10)
            assert np.array_equal([med[r], std[r]], want, equal_nan=True), r
    # the outliers are clipped: the median and std of the normal part remain
    assert abs(med[0]) < 0.1 and 0.9 < std[0] < 1.1
    assert np.isnan(med[3]) and std[4] == 0.0


def test_sums4_keep_each_rows_order():
    rng = np.random.default_rng(4)
    rows = rng.random((4, 1000)) * 10.0 ** rng.integers(-8, 8, (4, 1000))
    r = np.array([2, 0, 3, 1])
    lo = np.array([0, 5, 999, 100])
    hi = np.array([1000, 700, 999, 613])
    centre = np.array([0.5, 2.0, 0.0, -1.0])
    for power in (1, 2):
        got = L._sums4(rows, r, lo, hi, centre, power)
        for q in range(4):
            acc = 0.0
            for k in range(lo[q], hi[q]):
                acc += rows[r[q], k] if power == 1 else (rows[r[q], k] - centre[q]) ** 2
            assert got[q] == acc


def test_background_mesh_float32_input_is_its_float64_conversion():
    data, mask = _field((130, 97), np.float32, 5)
    mask[:40, :40] = True  # a cell with too few good pixels: filled from its neighbours
    got = D.background_mesh(data, mask, 32)
    want = D.background_mesh(data.astype(np.float64), mask, 32)
    for a, b in zip(got, want):
        assert a.dtype == np.float64 and a.tobytes() == b.tobytes()
    # clipped level of N(10, 2) with 1 % outliers at 500
    assert abs(np.median(got[0]) - 10.0) < 0.3 and abs(np.median(got[1]) - 2.0) < 0.3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mesh_subtraction_and_values_equal_the_interpolated_image(dtype):
    data, mask = _field((61, 47), dtype, 6)
    mask |= ~np.isfinite(data)
    mesh = np.random.default_rng(7).normal(10.0, 1.0, size=(4, 3))
    image = _interp_reference(mesh, 16, 61, 47)
    want = np.where(mask, 0.0, data - image)
    assert D.subtract_mesh(data, mask, mesh, 16).tobytes() == want.tobytes()
    assert D.mesh_values(mesh, 16, mask).tobytes() == image[~mask].tobytes()
    assert D.mesh_values(mesh, 16, np.ones_like(mask)).size == 0


def test_background_meshes_are_what_background_mesh_interpolates():
    data, mask = _field((90, 70), np.float32, 8)
    mask |= ~np.isfinite(data)
    bkg, rms, box = D.background_meshes(data, mask, 32)
    assert bkg.shape == (3, 3) and box == 32
    got = D.background_mesh(data, mask, 32)
    assert got[0].tobytes() == _interp_reference(bkg, 32, 90, 70).tobytes()
    assert got[1].tobytes() == _interp_reference(rms, 32, 90, 70).tobytes()


def test_find_peaks_scalar_threshold_is_the_constant_image():
    rng = np.random.default_rng(9)
    conv = rng.normal(size=(64, 80))
    conv[10, 10] = 9.0  # an isolated bright peak, its neighbours lower
    ys, xs = D.find_peaks(conv, 2.5, 2.0)
    ys2, xs2 = D.find_peaks(conv, np.full(conv.shape, 2.5), 2.0)
    assert ys.tolist() == ys2.tolist() and xs.tolist() == xs2.tolist()
    assert len(ys) > 3 and (10, 10) in set(zip(ys.tolist(), xs.tolist()))
    assert np.all(conv[ys, xs] > 2.5)


def test_find_sources_takes_any_float_layout():
    from webbflow.align.catalogs import FinderParams, find_sources

    rng = np.random.default_rng(10)
    img = rng.normal(0.0, 1.0, size=(120, 130))
    yy, xx = np.mgrid[:120, :130]
    for y0, x0 in ((30.3, 40.6), (80.0, 95.2)):
        img += 200.0 * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * 1.1 ** 2))
    bad = np.zeros(img.shape, bool)
    p = FinderParams(bkg_boxsize=40)
    want = find_sources(img.astype(np.float32).astype(np.float64), bad, p)
    assert len(want["x"]) == 2
    img32 = img.astype(np.float32)
    for arr in (img32, img.astype(">f4"), np.asfortranarray(img32)):
        got = find_sources(arr, bad, p)
        assert all(got[k].tobytes() == want[k].tobytes() for k in want)


def test_dao_convolve_of_clean_data_skips_nothing():
    data, mask = _field((40, 52), np.float64, 12)
    mask |= ~np.isfinite(data)
    clean = np.where(mask, 0.0, data)
    want = D.dao_convolve(data, mask, 2.5)
    assert D.dao_convolve(clean, mask, 2.5, clean=True).tobytes() == want.tobytes()
    with pytest.raises(ValueError, match="clean data"):
        D.dao_convolve(clean.astype(np.float32), mask, 2.5, clean=True)
