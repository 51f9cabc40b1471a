"""Point-source detection on a 2-D image (tweakreg's star finders), numba.

Pieces, each a plain function of arrays (masked pixels: ``mask`` True = do not use):

* :func:`background_mesh` — the background and its RMS on a mesh of ``box x box`` cells
  (sigma-clipped median and standard deviation per cell, cells with too few good pixels filled
  from their neighbours, a 3x3 median filter over the mesh, bilinear interpolation between cell
  centres), as photutils' ``Background2D`` with a median estimator does.
* :func:`dao_convolve` — correlation with the DAOFIND kernel: a circular Gaussian of
  ``fwhm`` truncated at ``sigma_radius`` sigma, with its mean removed and normalised so that
  the output is the least-squares amplitude of a Gaussian on a constant (Stetson 1987,
  PASP 99, 191). A star of peak amplitude A gives ~A at its centre whatever the background.
* :func:`find_peaks` — local maxima of the convolved image above a threshold, at least
  ``min_sep`` pixels from any brighter maximum.
* :func:`measure_sources` — for each peak: a Gaussian-windowed centroid (iterated to
  convergence, the ``XWIN`` of SExtractor; unbiased for symmetric sources, unlike plain
  moments in a window fixed on the peak pixel, which bias the centroid towards the pixel
  centre by up to 0.05 pixel at FWHM 2.5), flux and peak above the background, the moment
  FWHM, IRAF-style sharpness (FWHM / kernel FWHM) and roundness (1 - minor/major), and
  DAOFIND sharpness and roundness (from the marginal moments).
* :func:`label_segments` — 8- or 4-connected segments of pixels above a threshold (image
  segmentation, the ``segmentation`` star finder without deblending).

No I/O, no globals; bit-for-bit the same whatever the thread count (every output element is
written by one loop iteration).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .labels import label_components, label_peaks, moment_axes, sorted_clipped_stats_rows

__all__ = [
    "FWHM_TO_SIGMA",
    "background_mesh",
    "background_meshes",
    "dao_convolve",
    "find_peaks",
    "iraf_shapes",
    "label_segments",
    "measure_sources",
    "mesh_values",
    "subtract_mesh",
]

#: Gaussian sigma per unit FWHM
FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))


@njit(cache=True)
def _median_small(buf: np.ndarray, n: int) -> float:
    v = np.sort(buf[:n])
    if n % 2 == 1:
        return v[n // 2]
    return 0.5 * (v[n // 2 - 1] + v[n // 2])


@njit(cache=True)
def _fill_and_filter(mesh: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Fill bad cells with the mean of good cells (nearest ring first), then 3x3 median."""
    my, mx = mesh.shape
    filled = mesh.copy()
    ngood = 0
    for j in range(my):
        for i in range(mx):
            if ok[j, i]:
                ngood += 1
    if ngood == 0:
        return np.zeros_like(mesh)
    for j in range(my):
        for i in range(mx):
            if ok[j, i]:
                continue
            r = 1
            while True:
                s = 0.0
                c = 0
                for jj in range(max(0, j - r), min(my, j + r + 1)):
                    for ii in range(max(0, i - r), min(mx, i + r + 1)):
                        if ok[jj, ii]:
                            s += mesh[jj, ii]
                            c += 1
                if c > 0:
                    filled[j, i] = s / c
                    break
                r += 1
    out = np.empty_like(filled)
    buf = np.empty(9)
    for j in range(my):
        for i in range(mx):
            n = 0
            for jj in range(max(0, j - 1), min(my, j + 2)):
                for ii in range(max(0, i - 1), min(mx, i + 2)):
                    buf[n] = filled[jj, ii]
                    n += 1
            out[j, i] = _median_small(buf, n)
    return out


@njit(parallel=True, cache=True)
def _mesh_gather(data: np.ndarray, mask: np.ndarray, box: int, min_frac: float) -> tuple:
    """Good values of every mesh cell, one row per cell (in ``data``'s dtype; only the
    first ``count`` values of a row are set), and their counts (0 for a cell with too few
    good pixels)."""
    ny, nx = data.shape
    my = max(1, (ny + box - 1) // box)
    mx = max(1, (nx + box - 1) // box)
    buf = np.empty((my * mx, box * box), dtype=data.dtype)
    count = np.zeros(my * mx, dtype=np.int64)
    for cell in prange(my * mx):
        cj = cell // mx
        ci = cell % mx
        n = 0
        y0, y1 = cj * box, min(ny, (cj + 1) * box)
        x0, x1 = ci * box, min(nx, (ci + 1) * box)
        for y in range(y0, y1):
            for x in range(x0, x1):
                v = data[y, x]
                if not mask[y, x] and np.isfinite(v):
                    buf[cell, n] = v
                    n += 1
        if n >= max(3, int(min_frac * (y1 - y0) * (x1 - x0))):
            count[cell] = n
    return buf, count


@njit(cache=True)
def _column_runs(box: int, nx: int, mx: int) -> tuple:
    """Column weights of the bilinear mesh interpolation: per column the left and right
    cell and the weight of the right one (``col0, col1, colt`` [nx]), and the runs of
    columns sharing their two cells (``starts`` [nrun + 1])."""
    col0 = np.empty(nx, dtype=np.int64)
    col1 = np.empty(nx, dtype=np.int64)
    colt = np.empty(nx)
    for x in range(nx):
        fx = (x + 0.5) / box - 0.5
        ix = min(max(math.floor(fx), 0), mx - 1)
        ix1 = min(ix + 1, mx - 1)
        col0[x] = ix
        col1[x] = ix1
        colt[x] = min(max(fx - ix, 0.0), 1.0) if ix1 != ix else 0.0
    nrun = 1
    for x in range(1, nx):
        if col0[x] != col0[x - 1] or col1[x] != col1[x - 1]:
            nrun += 1
    starts = np.empty(nrun + 1, dtype=np.int64)
    starts[0] = 0
    starts[nrun] = nx
    r = 1
    for x in range(1, nx):
        if col0[x] != col0[x - 1] or col1[x] != col1[x - 1]:
            starts[r] = x
            r += 1
    return col0, col1, colt, starts


@njit(cache=True)
def _row_weight(y: int, box: int, my: int) -> tuple:
    """Row ``y``'s lower and upper cell and the weight of the upper one."""
    fy = (y + 0.5) / box - 0.5
    jy = min(max(math.floor(fy), 0), my - 1)
    jy1 = min(jy + 1, my - 1)
    ty = min(max(fy - jy, 0.0), 1.0) if jy1 != jy else 0.0
    return jy, jy1, ty


@njit(cache=True, inline="always")
def _run_corners(mesh: np.ndarray, jy: int, jy1: int, i0: int, i1: int) -> tuple:
    """The four cell values around a run of pixels: rows ``jy``/``jy1``, columns
    ``i0``/``i1`` (m00, m01, m10, m11)."""
    return mesh[jy, i0], mesh[jy, i1], mesh[jy1, i0], mesh[jy1, i1]


@njit(cache=True, inline="always")
def _bilinear(m00: float, m01: float, m10: float, m11: float, tx: float, ty: float) -> float:
    """Bilinear blend of four corner values at fractions (tx, ty)."""
    return (1 - ty) * ((1 - tx) * m00 + tx * m01) + ty * ((1 - tx) * m10 + tx * m11)


@njit(parallel=True, cache=True)
def _interp_mesh(mesh: np.ndarray, box: int, ny: int, nx: int) -> np.ndarray:
    """Bilinear interpolation between cell centres (constant beyond the outer centres).

    Along a row the pixels between two cell centres share their four corner values, so
    each such run is one loop over the column weights alone (vectorised); rows in
    parallel, each pixel written once.
    """
    my, mx = mesh.shape
    out = np.empty((ny, nx))
    col0, col1, colt, starts = _column_runs(box, nx, mx)
    for y in prange(ny):
        jy, jy1, ty = _row_weight(y, box, my)
        for r in range(starts.shape[0] - 1):
            m00, m01, m10, m11 = _run_corners(mesh, jy, jy1, col0[starts[r]],
                                              col1[starts[r]])
            for x in range(starts[r], starts[r + 1]):
                out[y, x] = _bilinear(m00, m01, m10, m11, colt[x], ty)
    return out


@njit(parallel=True, cache=True)
def subtract_mesh(data: np.ndarray, mask: np.ndarray, mesh: np.ndarray,
                  box: int) -> np.ndarray:
    """``data`` minus the interpolated ``mesh`` (:func:`_interp_mesh`'s values), 0 where
    ``mask``: ``np.where(mask, 0.0, data - _interp_mesh(mesh, ...))`` without the
    background image. data : float [ny, nx]; mask : bool [ny, nx]; returns float64."""
    ny, nx = data.shape
    my, mx = mesh.shape
    out = np.empty((ny, nx))
    col0, col1, colt, starts = _column_runs(box, nx, mx)
    for y in prange(ny):
        jy, jy1, ty = _row_weight(y, box, my)
        for r in range(starts.shape[0] - 1):
            m00, m01, m10, m11 = _run_corners(mesh, jy, jy1, col0[starts[r]],
                                              col1[starts[r]])
            for x in range(starts[r], starts[r + 1]):
                b = _bilinear(m00, m01, m10, m11, colt[x], ty)
                out[y, x] = 0.0 if mask[y, x] else np.float64(data[y, x]) - b
    return out


@njit(parallel=True, cache=True)
def mesh_values(mesh: np.ndarray, box: int, mask: np.ndarray) -> np.ndarray:
    """The interpolated ``mesh`` at the pixels where ``mask`` is False, in raster order:
    ``_interp_mesh(mesh, ...)[~mask]`` without the image. mask : bool [ny, nx]; returns
    float64 [n good]."""
    ny, nx = mask.shape
    my, mx = mesh.shape
    first = np.zeros(ny + 1, dtype=np.int64)
    for y in prange(ny):
        n = 0
        for x in range(nx):
            n += not mask[y, x]
        first[y + 1] = n
    for y in range(ny):
        first[y + 1] += first[y]
    out = np.empty(first[ny])
    col0, col1, colt, starts = _column_runs(box, nx, mx)
    for y in prange(ny):
        jy, jy1, ty = _row_weight(y, box, my)
        k = first[y]
        for r in range(starts.shape[0] - 1):
            m00, m01, m10, m11 = _run_corners(mesh, jy, jy1, col0[starts[r]],
                                              col1[starts[r]])
            for x in range(starts[r], starts[r + 1]):
                if mask[y, x]:
                    continue
                out[k] = _bilinear(m00, m01, m10, m11, colt[x], ty)
                k += 1
    return out


def background_meshes(data: np.ndarray, mask: np.ndarray, box: int, sigma: float = 3.0,
                      maxiters: int = 10, min_frac: float = 0.1
                      ) -> tuple[np.ndarray, np.ndarray, int]:
    """The meshes :func:`background_mesh` interpolates (same parameters).

    Returns
    -------
    bkg, rms : float64 arrays [my, mx]
        Per cell: clipped median and standard deviation, filled and median-filtered.
    box : int
        The cell size used (``box`` clipped to the image size).
    """
    # float32 stays float32: its values convert to float64 exactly, so the statistics (in
    # float64) are the same, and sorting half the bytes takes half the time
    data = np.asarray(data)
    data = np.ascontiguousarray(data, dtype=np.float32 if data.dtype == np.float32
                                else np.float64)
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    if data.ndim != 2 or mask.shape != data.shape:
        raise ValueError("background_mesh: data and mask must be 2-D of the same shape")
    box = int(max(1, min(box, max(data.shape))))
    ny, nx = data.shape
    my, mx = max(1, (ny + box - 1) // box), max(1, (nx + box - 1) // box)
    rows, count = _mesh_gather(data, mask, box, float(min_frac))
    for cell in np.nonzero(count)[0]:
        rows[cell, :count[cell]].sort()  # numpy's vectorised sort: ~15x numba's
    med = np.empty(my * mx)
    std = np.empty(my * mx)
    sorted_clipped_stats_rows(rows, count, float(sigma), int(maxiters), med, std)
    del rows
    ok = (count > 0).reshape(my, mx)
    bkg = np.where(ok, med.reshape(my, mx), 0.0)
    rms = np.where(ok, std.reshape(my, mx), 0.0)
    return _fill_and_filter(bkg, ok), _fill_and_filter(rms, ok), box


def background_mesh(data: np.ndarray, mask: np.ndarray, box: int, sigma: float = 3.0,
                    maxiters: int = 10, min_frac: float = 0.1
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Smooth background and background RMS images.

    Parameters
    ----------
    data : float array [ny, nx]
        Image (any unit).
    mask : bool array [ny, nx]
        True where a pixel must not be used (non-finite pixels are ignored anyway).
    box : int
        Mesh cell size, pixels (clipped to the image size).
    sigma, maxiters : float, int
        Clipping limit (in standard deviations about the median) and iterations per cell.
    min_frac : float
        Minimum fraction of good pixels for a cell to be measured (others are filled).

    Returns
    -------
    bkg, rms : float64 arrays [ny, nx]
        Background and its standard deviation, in the unit of ``data``.
    """
    bkg, rms, box = background_meshes(data, mask, box, sigma, maxiters, min_frac)
    ny, nx = np.shape(data)
    return _interp_mesh(bkg, box, ny, nx), _interp_mesh(rms, box, ny, nx)


@njit(cache=True)
def _dao_kernel(fwhm: float, sigma_radius: float) -> tuple:
    sig = fwhm * FWHM_TO_SIGMA
    radius = max(2.0, sigma_radius * sig)
    half = math.floor(radius)
    size = 2 * half + 1
    g = np.zeros((size, size))
    inside = np.zeros((size, size), dtype=np.bool_)
    n = 0
    s = 0.0
    for j in range(size):
        for i in range(size):
            dx = i - half
            dy = j - half
            if dx * dx + dy * dy <= radius * radius:
                inside[j, i] = True
                g[j, i] = math.exp(-0.5 * (dx * dx + dy * dy) / (sig * sig))
                s += g[j, i]
                n += 1
    mean = s / n
    denom = 0.0
    for j in range(size):
        for i in range(size):
            if inside[j, i]:
                g[j, i] -= mean
                denom += g[j, i] * g[j, i]
    for j in range(size):
        for i in range(size):
            if inside[j, i]:
                g[j, i] /= denom
            else:
                g[j, i] = 0.0
    return g, inside, half


@njit(parallel=True, cache=True)
def _clean(raw: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``raw`` as float64 with masked and non-finite pixels 0 (rows in parallel)."""
    ny, nx = raw.shape
    data = np.empty((ny, nx))
    for y in prange(ny):
        for x in range(nx):
            v = raw[y, x]
            data[y, x] = 0.0 if mask[y, x] or not math.isfinite(v) else np.float64(v)
    return data


@njit(parallel=True, cache=True)
def _correlate(data: np.ndarray, mask: np.ndarray, kern: np.ndarray, inside: np.ndarray,
               half: int) -> np.ndarray:
    """The correlation of float64 ``data`` that is finite and 0 where ``mask``."""
    ny, nx = data.shape
    # the kernel's points inside its radius, in row-major order (the summation order)
    npt = 0
    for j in range(2 * half + 1):
        for i in range(2 * half + 1):
            if inside[j, i]:
                npt += 1
    dj = np.empty(npt, dtype=np.int64)
    di = np.empty(npt, dtype=np.int64)
    w = np.empty(npt)
    k = 0
    for j in range(2 * half + 1):
        for i in range(2 * half + 1):
            if inside[j, i]:
                dj[k] = j - half
                di[k] = i - half
                w[k] = kern[j, i]
                k += 1
    out = np.zeros((ny, nx))
    n_in = nx - 2 * half  # pixels whose kernel lies inside the row
    for y in prange(ny):
        inner_row = half <= y < ny - half and n_in > 0
        acc = np.zeros(n_in if inner_row else 0)
        if inner_row:
            # the row's inner pixels together, tap by tap: each pixel still adds its taps in
            # kernel order from 0.0 (masked pixels are 0 in ``data``: their +-0 products
            # change no bit), and the loop over pixels vectorises
            for k in range(npt):
                wk = w[k]
                src = data[y + dj[k], half + di[k]:half + di[k] + n_in]
                for q in range(n_in):
                    acc[q] += wk * src[q]
        for x in range(nx):
            if mask[y, x]:
                continue
            if inner_row and half <= x < nx - half:
                out[y, x] = acc[x - half]
                continue
            s = 0.0
            for k in range(npt):
                yy = y + dj[k]
                xx = x + di[k]
                if yy < 0 or yy >= ny or xx < 0 or xx >= nx or mask[yy, xx]:
                    continue
                s += w[k] * data[yy, xx]
            out[y, x] = s
    return out


def dao_convolve(data: np.ndarray, mask: np.ndarray, fwhm: float,
                 sigma_radius: float = 1.5, clean: bool = False) -> np.ndarray:
    """Best-fit Gaussian amplitude at every pixel (the DAOFIND "density enhancement").

    Parameters
    ----------
    data : float array [ny, nx]
        Background-subtracted image.
    mask : bool array [ny, nx]
        True: pixel not used (contributes 0; masked centres give 0).
    fwhm : float
        Kernel FWHM, pixels.
    sigma_radius : float
        Truncation radius of the kernel, in Gaussian sigmas (at least 2 pixels).
    clean : bool
        ``data`` is already C-contiguous float64, finite, and 0 where ``mask`` (as
        :func:`subtract_mesh` makes it): used as it is, without a cleaned copy.

    Returns
    -------
    float64 array [ny, nx]
        In the unit of ``data`` (a noiseless star of peak amplitude A gives ~A).
    """
    kern, inside, half = _dao_kernel(float(fwhm), float(sigma_radius))
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    data = np.asarray(data)
    if data.shape != mask.shape:
        raise ValueError("dao_convolve: data and mask must have the same shape")
    if clean:
        if data.dtype != np.float64 or not data.flags.c_contiguous:
            raise ValueError("dao_convolve: clean data must be C-contiguous float64")
    else:
        if data.dtype not in (np.float32, np.float64):
            data = data.astype(np.float64)
        data = _clean(data, mask)
    return _correlate(data, mask, kern, inside, half)


@njit(cache=True)
def _find_peaks(conv: np.ndarray, thresh: np.ndarray, min_sep: float, border: int) -> tuple:
    ny, nx = conv.shape
    cand_y = []
    cand_x = []
    cand_v = []
    for y in range(border, ny - border):
        for x in range(border, nx - border):
            v = conv[y, x]
            if not v > thresh[y, x]:
                continue
            is_max = True
            for j in range(-1, 2):
                for i in range(-1, 2):
                    if (j != 0 or i != 0) and conv[y + j, x + i] > v:
                        is_max = False
                    elif (j != 0 or i != 0) and conv[y + j, x + i] == v and (j < 0 or (
                            j == 0 and i < 0)):
                        is_max = False
            if is_max:
                cand_y.append(y)
                cand_x.append(x)
                cand_v.append(v)
    n = len(cand_v)
    vals = np.empty(n)
    for k in range(n):
        vals[k] = cand_v[k]
    order = np.argsort(-vals, kind="mergesort")
    keep = np.ones(n, dtype=np.bool_)
    r2 = min_sep * min_sep
    for a in range(n):
        ka = order[a]
        if not keep[ka]:
            continue
        for b in range(a + 1, n):
            kb = order[b]
            if keep[kb]:
                dy = cand_y[ka] - cand_y[kb]
                dx = cand_x[ka] - cand_x[kb]
                if dx * dx + dy * dy < r2:
                    keep[kb] = False
    m = 0
    for k in range(n):
        if keep[k]:
            m += 1
    ys = np.empty(m, dtype=np.int64)
    xs = np.empty(m, dtype=np.int64)
    m = 0
    for k in range(n):
        if keep[k]:
            ys[m] = cand_y[k]
            xs[m] = cand_x[k]
            m += 1
    return ys, xs


def find_peaks(conv: np.ndarray, threshold: np.ndarray | float, min_sep: float,
               border: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Local maxima of ``conv`` above ``threshold``, brightest first wins within ``min_sep``.

    Parameters
    ----------
    conv : float array [ny, nx]
    threshold : float or float array [ny, nx]
        A peak must exceed it (strictly).
    min_sep : float
        Minimum distance between kept peaks, pixels.
    border : int
        Peaks closer than this to an edge are ignored.

    Returns
    -------
    ys, xs : int64 arrays [n]
        Peak pixels, in raster order.
    """
    conv = np.ascontiguousarray(conv, dtype=np.float64)
    thr = np.broadcast_to(np.asarray(threshold, dtype=np.float64), conv.shape)
    # the broadcast view as it is (a scalar threshold: stride 0, no image-sized copy)
    return _find_peaks(conv, thr, float(min_sep), int(max(border, 1)))


@njit(parallel=True, cache=True)
def _measure(data: np.ndarray, mask: np.ndarray, ys: np.ndarray, xs: np.ndarray,
             sig: float, half: int, maxiter: int, out: np.ndarray) -> None:
    ny, nx = data.shape
    n = ys.shape[0]
    s2w = sig * sig
    for k in prange(n):
        cx = float(xs[k])
        cy = float(ys[k])
        # windowed centroid (XWIN): the Gaussian-weighted first moment, iterated
        for _ in range(maxiter):
            sw = 0.0
            sx = 0.0
            sy = 0.0
            ix = round(cx)
            iy = round(cy)
            for y in range(max(0, iy - half), min(ny, iy + half + 1)):
                for x in range(max(0, ix - half), min(nx, ix + half + 1)):
                    if mask[y, x]:
                        continue
                    dx = x - cx
                    dy = y - cy
                    w = math.exp(-0.5 * (dx * dx + dy * dy) / s2w) * data[y, x]
                    sw += w
                    sx += w * dx
                    sy += w * dy
            if sw <= 0:
                break
            ddx = 2.0 * sx / sw
            ddy = 2.0 * sy / sw
            if abs(ddx) > 1.0 or abs(ddy) > 1.0:  # runaway: keep the peak position
                ddx = max(-1.0, min(1.0, ddx))
                ddy = max(-1.0, min(1.0, ddy))
            cx += ddx
            cy += ddy
            if abs(ddx) < 1e-5 and abs(ddy) < 1e-5:
                break
        # flux, peak, second moments of the positive pixels within the window
        flux = 0.0
        peak = -np.inf
        m20 = 0.0
        m02 = 0.0
        m11 = 0.0
        mpos = 0.0
        px = int(xs[k])
        py = int(ys[k])
        for y in range(max(0, py - half), min(ny, py + half + 1)):
            for x in range(max(0, px - half), min(nx, px + half + 1)):
                if mask[y, x]:
                    continue
                dx = x - cx
                dy = y - cy
                if dx * dx + dy * dy > (half + 0.5) ** 2:
                    continue
                v = data[y, x]
                flux += v
                if v > peak:
                    peak = v
                if v > 0:
                    mpos += v
                    m20 += v * dx * dx
                    m02 += v * dy * dy
                    m11 += v * dx * dy
        out[k, 0] = cx
        out[k, 1] = cy
        out[k, 2] = flux
        out[k, 3] = peak
        if mpos > 0:
            m20 /= mpos
            m02 /= mpos
            m11 /= mpos
            fwhm = 2.0 * math.sqrt(math.log(2.0) * max(m20 + m02, 0.0))
            lmax, lmin, tr = moment_axes(m20, m02, m11)
            out[k, 4] = fwhm
            out[k, 5] = 1.0 - math.sqrt(lmin / lmax) if lmax > 0 else np.nan
            out[k, 6] = (m20 - m02) / tr if tr > 0 else np.nan
        else:
            out[k, 4] = np.nan
            out[k, 5] = np.nan
            out[k, 6] = np.nan
        # DAOFIND sharpness: (central pixel - mean of the other window pixels) / amplitude
        c = data[py, px]
        s = 0.0
        cnt = 0
        for y in range(max(0, py - half), min(ny, py + half + 1)):
            for x in range(max(0, px - half), min(nx, px + half + 1)):
                if (y == py and x == px) or mask[y, x]:
                    continue
                if (x - px) ** 2 + (y - py) ** 2 > (half + 0.5) ** 2:
                    continue
                s += data[y, x]
                cnt += 1
        out[k, 7] = c - s / cnt if cnt > 0 else np.nan


@njit(cache=True, parallel=True)
def _iraf_shapes(data: np.ndarray, mask: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                 r2max: float, half: int, out: np.ndarray) -> None:
    ny, nx = data.shape
    size = (2 * half + 1) ** 2
    for k in prange(ys.shape[0]):
        vals = np.empty(size)
        offx = np.empty(size)
        offy = np.empty(size)
        py = ys[k]
        px = xs[k]
        sky = 0.0
        nsky = 0
        for y in range(max(0, py - half), min(ny, py + half + 1)):
            for x in range(max(0, px - half), min(nx, px + half + 1)):
                if not mask[y, x] and (x - px) ** 2 + (y - py) ** 2 > r2max:
                    sky += data[y, x]
                    nsky += 1
        sky = sky / nsky if nsky > 0 else 0.0
        # the footprint's positive pixels above the sky, in raster order: (value, dx, dy)
        npos = 0
        for y in range(max(0, py - half), min(ny, py + half + 1)):
            for x in range(max(0, px - half), min(nx, px + half + 1)):
                if mask[y, x] or (x - px) ** 2 + (y - py) ** 2 > r2max:
                    continue
                v = data[y, x] - sky
                if v > 0:
                    vals[npos] = v
                    offx[npos] = x - px
                    offy[npos] = y - py
                    npos += 1
        m00 = 0.0
        m10 = 0.0
        m01 = 0.0
        for q in range(npos):
            m00 += vals[q]
            m10 += vals[q] * offx[q]
            m01 += vals[q] * offy[q]
        if m00 <= 0:
            out[k, 0] = np.nan
            out[k, 1] = np.nan
            continue
        cx = m10 / m00
        cy = m01 / m00
        m20 = 0.0
        m02 = 0.0
        m11 = 0.0
        for q in range(npos):
            dx = offx[q] - cx
            dy = offy[q] - cy
            m20 += vals[q] * dx * dx
            m02 += vals[q] * dy * dy
            m11 += vals[q] * dx * dy
        m20 /= m00
        m02 /= m00
        m11 /= m00
        lmax, lmin, tr = moment_axes(m20, m02, m11)
        out[k, 0] = 2.0 * math.sqrt(math.log(2.0) * max(tr, 0.0))
        out[k, 1] = 1.0 - math.sqrt(lmin / lmax) if lmax > 0 else np.nan


def _finite64(data: np.ndarray) -> np.ndarray:
    """``data`` as contiguous float64 with non-finite values 0 (no copy when it already is
    all that)."""
    data = np.ascontiguousarray(data, dtype=np.float64)
    return data if np.isfinite(data).all() else np.where(np.isfinite(data), data, 0.0)


def iraf_shapes(data: np.ndarray, mask: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                fwhm: float, sigma_radius: float = 1.5) -> np.ndarray:
    """IRAF ``starfind`` FWHM and roundness of the sources at peak pixels ``(ys, xs)``.

    As IRAF starfind (and photutils' ``IRAFStarFinder``): the moments use only the pixels of
    the kernel footprint (within ``sigma_radius`` kernel sigmas of the peak pixel) minus the
    local sky (mean of the other pixels of the kernel box, half-size ``max(2,
    int(sigma_radius * sigma))``), negative values discarded. The small footprint is what
    separates point sources from single-pixel spikes (cosmic rays: FWHM near 0, sharpness
    below ``sharplo``); moments over a wider window let positive noise pixels inflate the FWHM
    of spikes and faint stars alike.

    Parameters
    ----------
    data : float array [ny, nx]
        Background-subtracted image (NaN-free where ``mask`` is False).
    mask : bool array [ny, nx]
        True: pixel not used.
    ys, xs : int arrays [n]
        Peak pixels.
    fwhm : float
        Kernel FWHM, pixels.
    sigma_radius : float
        Footprint radius in kernel sigmas.

    Returns
    -------
    float64 array [n, 2]
        Moment FWHM (pixels) and roundness (1 - minor/major); NaN when nothing is positive.
    """
    sig = float(fwhm) * FWHM_TO_SIGMA
    half = max(2, int(sigma_radius * sig))
    r2max = (sigma_radius * sig) ** 2
    data = _finite64(data)
    out = np.empty((len(ys), 2))
    _iraf_shapes(data, np.ascontiguousarray(mask, dtype=np.bool_),
                 np.ascontiguousarray(ys, dtype=np.int64),
                 np.ascontiguousarray(xs, dtype=np.int64), float(r2max), int(half), out)
    return out


def measure_sources(data: np.ndarray, mask: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                    fwhm: float, maxiter: int = 30) -> np.ndarray:
    """Centroids and shape parameters of the sources at peak pixels ``(ys, xs)``.

    Parameters
    ----------
    data : float array [ny, nx]
        Background-subtracted image.
    mask : bool array [ny, nx]
        True: pixel not used.
    ys, xs : int arrays [n]
        Peak pixels (from :func:`find_peaks` or segment maxima).
    fwhm : float
        Kernel FWHM, pixels; the centroid window has sigma ``fwhm / 2.355`` and the
        measurement box half-size ``max(2, round(1.5 * fwhm))``.

    Returns
    -------
    float64 array [n, 8]
        Columns: x, y (0-based pixels), flux (window sum), peak (largest pixel), moment FWHM
        (pixels), IRAF roundness (1 - minor/major), moment roundness ((mxx - myy) /
        (mxx + myy)), DAO sharpness numerator (central pixel - mean of the others; divide
        by the convolved amplitude).
    """
    data = _finite64(data)
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    ys = np.ascontiguousarray(ys, dtype=np.int64)
    xs = np.ascontiguousarray(xs, dtype=np.int64)
    out = np.empty((ys.shape[0], 8))
    half = int(max(2, round(1.5 * fwhm)))
    _measure(data, mask, ys, xs, float(fwhm) * FWHM_TO_SIGMA, half, int(maxiter), out)
    return out


@njit(cache=True)
def _segment_peaks(above: np.ndarray, connectivity: int, npixels: int,
                   conv: np.ndarray) -> tuple:
    labels = np.zeros(above.shape, dtype=np.int64)
    n = label_components(above, connectivity, npixels, labels)
    count, by, bx = label_peaks(labels, n, conv)
    return by[1:].copy(), bx[1:].copy(), count[1:].copy()


def label_segments(conv: np.ndarray, threshold: np.ndarray | float, npixels: int,
                   connectivity: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Connected segments of ``conv > threshold`` with at least ``npixels`` pixels.

    Returns
    -------
    ys, xs, npix : int64 arrays [n]
        Pixel of each segment's maximum of ``conv`` and the segment's size, by label order.
    """
    conv = np.ascontiguousarray(conv, dtype=np.float64)
    thr = np.broadcast_to(np.asarray(threshold, dtype=np.float64), conv.shape)
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity}")
    return _segment_peaks(conv > thr, int(connectivity), int(npixels), conv)
