"""Shared pieces of source finding (numba): labelling, per-label statistics, moment shapes,
sigma-clipped statistics and image convolution.

Used by ``kernels.detect`` (tweakreg's star finders), ``kernels.segmentation``
(source_catalog's detection and deblending) and ``kernels.photometry`` (its measurements), so
that each of these loops exists once.

* :func:`label_components` — 4- or 8-connected groups of True pixels (stack flood fill),
  numbered 1..n in raster order of each group's first pixel (as ``scipy.ndimage.label``),
  groups of fewer than ``npixels`` pixels dropped;
* :func:`label_peaks` / :func:`label_bboxes` — per label: pixel count and the pixel of the
  largest value (first in raster order on ties) / inclusive bounding box;
* :func:`moment_axes` — the principal axes of a second-moment matrix;
* :func:`sorted_clipped_stats` — sigma-clipped median and standard deviation of sorted values
  (:func:`sorted_clipped_stats_rows`: the same for many rows, four at a time interleaved);
* :func:`convolve` — a 2-D convolution, plain (zero outside / for non-finite pixels) or
  renormalised over the unmasked pixels, row-parallel.

No I/O, no globals; every output element is written by one loop iteration, so results are
the same whatever the thread count.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = [
    "convolve",
    "label_bboxes",
    "label_components",
    "label_peaks",
    "moment_axes",
    "sorted_clipped_stats",
    "sorted_clipped_stats_rows",
]


@njit(cache=True)
def label_components(select: np.ndarray, connectivity: int, npixels: int,
                     labels: np.ndarray) -> int:
    """Label connected True pixels; groups smaller than ``npixels`` get 0.

    select : (ny, nx) bool; connectivity : 4 or 8; labels : (ny, nx) int32 or int64,
    written with 1..n in raster order of each group's first pixel. Returns n.
    """
    ny, nx = select.shape
    labels[:, :] = 0
    stack = np.empty(ny * nx, dtype=np.int64)
    members = np.empty(ny * nx, dtype=np.int64)
    current = 0
    for j0 in range(ny):
        for i0 in range(nx):
            if not select[j0, i0] or labels[j0, i0] != 0:
                continue
            current += 1
            labels[j0, i0] = current
            stack[0] = j0 * nx + i0
            top = 1
            count = 0
            while top > 0:
                top -= 1
                p = stack[top]
                members[count] = p
                count += 1
                pj = p // nx
                pi = p % nx
                for dj in range(-1, 2):
                    for di in range(-1, 2):
                        if dj == 0 and di == 0:
                            continue
                        if connectivity == 4 and dj != 0 and di != 0:
                            continue
                        qj = pj + dj
                        qi = pi + di
                        if 0 <= qj < ny and 0 <= qi < nx and select[qj, qi] \
                                and labels[qj, qi] == 0:
                            labels[qj, qi] = current
                            stack[top] = qj * nx + qi
                            top += 1
            if count < npixels:
                for k in range(count):
                    labels[members[k] // nx, members[k] % nx] = -1
                current -= 1
    for j in range(ny):
        for i in range(nx):
            if labels[j, i] < 0:
                labels[j, i] = 0
    return current


@njit(cache=True)
def label_peaks(labels: np.ndarray, nlabels: int, values: np.ndarray) -> tuple:
    """Per label 1..nlabels: (count, peak_y, peak_x) int64 arrays [nlabels + 1] (index 0
    unused); the peak is the pixel of the largest ``values`` (first in raster order on ties,
    (0, 0) when no value is larger than -inf)."""
    ny, nx = labels.shape
    count = np.zeros(nlabels + 1, dtype=np.int64)
    best = np.full(nlabels + 1, -np.inf)
    by = np.zeros(nlabels + 1, dtype=np.int64)
    bx = np.zeros(nlabels + 1, dtype=np.int64)
    for y in range(ny):
        for x in range(nx):
            lab = labels[y, x]
            if lab > 0:
                count[lab] += 1
                if values[y, x] > best[lab]:
                    best[lab] = values[y, x]
                    by[lab] = y
                    bx[lab] = x
    return count, by, bx


@njit(cache=True)
def label_bboxes(labels: np.ndarray, nlabels: int) -> tuple:
    """Per label 1..nlabels the inclusive bounding box (ymin, ymax, xmin, xmax), int64
    arrays [nlabels + 1]; an absent label has ymin = ny, ymax = -1, xmin = nx, xmax = -1."""
    ny, nx = labels.shape
    y0 = np.full(nlabels + 1, ny, dtype=np.int64)
    y1 = np.full(nlabels + 1, -1, dtype=np.int64)
    x0 = np.full(nlabels + 1, nx, dtype=np.int64)
    x1 = np.full(nlabels + 1, -1, dtype=np.int64)
    for j in range(ny):
        for i in range(nx):
            lab = labels[j, i]
            if lab > 0:
                y0[lab] = min(y0[lab], j)
                y1[lab] = max(y1[lab], j)
                x0[lab] = min(x0[lab], i)
                x1[lab] = max(x1[lab], i)
    return y0, y1, x0, x1


@njit(cache=True)
def moment_axes(cxx: float, cyy: float, cxy: float) -> tuple:
    """Eigenvalues (lmax, lmin >= 0) of the second-moment matrix [[cxx, cxy], [cxy, cyy]]
    (pixels²) and its trace."""
    tr = cxx + cyy
    det = math.sqrt(max((cxx - cyy) ** 2 + 4.0 * cxy * cxy, 0.0))
    return 0.5 * (tr + det), max(0.5 * (tr - det), 0.0), tr


@njit(cache=True, inline="always")
def clip_window(s: np.ndarray, lo: int, hi: int, low: float, high: float) -> tuple:
    """Narrow the sorted window ``s[lo:hi]`` to the values in ``[low, high]``, keeping at
    least one value: returns the new (lo, hi)."""
    new_lo, new_hi = lo, hi
    while new_lo < hi - 1 and s[new_lo] < low:
        new_lo += 1
    while new_hi > new_lo + 1 and s[new_hi - 1] > high:
        new_hi -= 1
    return new_lo, new_hi


@njit(cache=True)
def sorted_clipped_stats(s: np.ndarray, n: int, sigma: float, maxiters: int) -> tuple:
    """Sigma-clipped (median, std) of the sorted ``s[:n]``; (nan, nan) when n = 0.

    Each pass takes the median and population standard deviation of the kept range and
    drops values beyond median -/+ sigma x std (at least one value is kept); at most
    ``maxiters + 1`` passes, stopping when nothing is dropped.
    """
    if n == 0:
        return np.nan, np.nan
    lo, hi = 0, n
    med = 0.0
    std = 0.0
    for _ in range(maxiters + 1):
        m = hi - lo
        mid = lo + m // 2
        med = s[mid] if m % 2 == 1 else 0.5 * (s[mid - 1] + s[mid])
        mean = 0.0
        for k in range(lo, hi):
            mean += s[k]
        mean /= m
        var = 0.0
        for k in range(lo, hi):
            var += (s[k] - mean) ** 2
        std = math.sqrt(var / m)
        new_lo, new_hi = clip_window(s, lo, hi, med - sigma * std, med + sigma * std)
        if new_lo == lo and new_hi == hi:
            break
        lo, hi = new_lo, new_hi
    return med, std


@njit(parallel=True, cache=True)
def convolve(data: np.ndarray, mask: np.ndarray, kernel: np.ndarray, normalise: bool,
             out: np.ndarray) -> None:
    """Convolution with ``kernel``, masked and non-finite pixels left out.

    data : (ny, nx); mask : (ny, nx) bool (True = leave out); kernel : (k, k), k odd;
    out : (ny, nx) float64, written. ``normalise``: divide by the sum of the kernel weights
    used (astropy ``convolve`` with a mask; NaN where none is in reach); otherwise pixels
    off the image or left out count as 0.

    Left-out pixels are zeroed up front (value and weight), so pixels whose kernel lies
    inside the image take a branch-free loop, vectorised along the row; each pixel's sums
    run in the same order and adding the zeros changes no bit, so the result is that of the
    plain masked loop (kept at the borders) bit for bit.
    """
    ny, nx = data.shape
    kh = kernel.shape[0] // 2
    clean = np.empty((ny, nx))
    used = np.empty((ny, nx))
    for j in prange(ny):
        for i in range(nx):
            v = data[j, i]
            if mask[j, i] or not math.isfinite(v):
                clean[j, i] = 0.0
                used[j, i] = 0.0
            else:
                clean[j, i] = v
                used[j, i] = 1.0
    for j in prange(ny):
        inner_row = kh <= j < ny - kh
        if inner_row:
            # the row's inner pixels together, kernel tap by tap (each pixel still sums its
            # taps in order; the pixels are independent, so the loop over them vectorises)
            n = nx - 2 * kh
            racc = np.zeros(nx)
            rsum = np.zeros(nx)
            acc_in = racc[kh:kh + n]
            sum_in = rsum[kh:kh + n]
            for dj in range(-kh, kh + 1):
                for di in range(-kh, kh + 1):
                    w = kernel[kh - dj, kh - di]
                    # views indexed from 0: no negative-index handling in the inner loop
                    src = clean[j + dj, kh + di:kh + di + n]
                    use = used[j + dj, kh + di:kh + di + n]
                    for q in range(n):
                        acc_in[q] += w * src[q]
                        sum_in[q] += w * use[q]
        for i in range(nx):
            acc = 0.0
            wsum = 0.0
            if inner_row and kh <= i < nx - kh:
                acc = racc[i]
                wsum = rsum[i]
            else:
                for dj in range(-kh, kh + 1):
                    jj = j + dj
                    if jj < 0 or jj >= ny:
                        continue
                    for di in range(-kh, kh + 1):
                        ii = i + di
                        if ii < 0 or ii >= nx:
                            continue
                        if used[jj, ii] == 0.0:
                            continue
                        w = kernel[kh - dj, kh - di]
                        acc += w * clean[jj, ii]
                        wsum += w
            if normalise:
                out[j, i] = acc / wsum if wsum > 0 else np.nan
            else:
                out[j, i] = acc


#: values per block in :func:`_sums4`
_BLOCK = 256


@njit(cache=True)
def _sums4(rows, r, lo, hi, centre, power):
    """Four independent in-order sums, interleaved so that their additions overlap: for
    q = 0..3, the sum over ``rows[r[q], lo[q]:hi[q]]`` of ``v`` (power 1) or
    ``(v - centre[q]) ** 2`` (power 2), each added in index order from 0.0 (the arithmetic
    of one plain loop per row, bit for bit).

    The values go through small float64 blocks (a vectorised conversion): converting float32
    one value at a time next to the sums ties them to the conversions (cvtss2sd writes only
    part of its register) and loses the overlap.
    """
    s0 = rows[r[0], lo[0]:hi[0]]
    s1 = rows[r[1], lo[1]:hi[1]]
    s2 = rows[r[2], lo[2]:hi[2]]
    s3 = rows[r[3], lo[3]:hi[3]]
    c0, c1, c2, c3 = centre[0], centre[1], centre[2], centre[3]
    a0 = a1 = a2 = a3 = 0.0
    b0 = np.empty(_BLOCK)
    b1 = np.empty(_BLOCK)
    b2 = np.empty(_BLOCK)
    b3 = np.empty(_BLOCK)
    mmax = max(max(s0.size, s1.size), max(s2.size, s3.size))
    for start in range(0, mmax, _BLOCK):
        n0 = max(0, min(_BLOCK, s0.size - start))
        n1 = max(0, min(_BLOCK, s1.size - start))
        n2 = max(0, min(_BLOCK, s2.size - start))
        n3 = max(0, min(_BLOCK, s3.size - start))
        for t in range(n0):
            b0[t] = s0[start + t]
        for t in range(n1):
            b1[t] = s1[start + t]
        for t in range(n2):
            b2[t] = s2[start + t]
        for t in range(n3):
            b3[t] = s3[start + t]
        common = min(min(n0, n1), min(n2, n3))
        if power == 1:
            for t in range(common):
                a0 += b0[t]
                a1 += b1[t]
                a2 += b2[t]
                a3 += b3[t]
            for t in range(common, n0):
                a0 += b0[t]
            for t in range(common, n1):
                a1 += b1[t]
            for t in range(common, n2):
                a2 += b2[t]
            for t in range(common, n3):
                a3 += b3[t]
        else:
            for t in range(common):
                a0 += (b0[t] - c0) ** 2
                a1 += (b1[t] - c1) ** 2
                a2 += (b2[t] - c2) ** 2
                a3 += (b3[t] - c3) ** 2
            for t in range(common, n0):
                a0 += (b0[t] - c0) ** 2
            for t in range(common, n1):
                a1 += (b1[t] - c1) ** 2
            for t in range(common, n2):
                a2 += (b2[t] - c2) ** 2
            for t in range(common, n3):
                a3 += (b3[t] - c3) ** 2
    return a0, a1, a2, a3


@njit(parallel=True, cache=True)
def sorted_clipped_stats_rows(rows: np.ndarray, count: np.ndarray, sigma: float,
                              maxiters: int, med: np.ndarray, std: np.ndarray) -> None:
    """:func:`sorted_clipped_stats` of every row, bit for bit, several times faster.

    rows : (nrow, m) float32 or float64, row ``r`` sorted ascending over ``[:count[r]]``;
    count : (nrow,) int64; med, std : (nrow,) float64, written ((nan, nan) for count 0).

    A single in-order sum is bound by the latency of its additions; here rows go four at a
    time through the same clipping passes, their sums interleaved (:func:`_sums4`), so four
    additions are in flight at once. Each row's sums keep their order; groups of four rows
    run in parallel, one group per iteration, so the result is that of the serial loop
    whatever the thread count.
    """
    nrow = rows.shape[0]
    for g in prange((nrow + 3) // 4):
        r = np.zeros(4, dtype=np.int64)
        lo = np.zeros(4, dtype=np.int64)
        hi = np.zeros(4, dtype=np.int64)  # hi = lo: row not (or no longer) clipped
        active = np.zeros(4, dtype=np.bool_)
        for q in range(4):
            row = 4 * g + q
            r[q] = min(row, nrow - 1)
            if row < nrow:
                med[row] = np.nan
                std[row] = np.nan
                if count[row] > 0:
                    hi[q] = count[row]
                    active[q] = True
        mean = np.zeros(4)
        for _ in range(maxiters + 1):
            if not (active[0] or active[1] or active[2] or active[3]):
                break
            s1 = _sums4(rows, r, lo, hi, mean, 1)
            for q in range(4):
                if active[q]:
                    mean[q] = s1[q] / (hi[q] - lo[q])
            s2 = _sums4(rows, r, lo, hi, mean, 2)
            for q in range(4):
                if not active[q]:
                    continue
                s = rows[r[q]]
                lq, hq = lo[q], hi[q]
                m = hq - lq
                mid = lq + m // 2
                md = (np.float64(s[mid]) if m % 2 == 1
                      else 0.5 * (np.float64(s[mid - 1]) + np.float64(s[mid])))
                sd = math.sqrt(s2[q] / m)
                med[r[q]] = md
                std[r[q]] = sd
                new_lo, new_hi = clip_window(s, lq, hq, md - sigma * sd, md + sigma * sd)
                if new_lo == lq and new_hi == hq:
                    active[q] = False
                    hi[q] = lo[q]
                else:
                    lo[q], hi[q] = new_lo, new_hi
            for q in range(4):
                if not active[q]:
                    hi[q] = lo[q]
