"""Outlier detection on dithered images: stack median, blot, derivative-scaled flagging.

The imaging algorithm of the official ``outlier_detection`` step (JWST pipeline docs,
"outlier_detection imaging"; Fruchter & Hook 2002 for drizzle/blot):

1. every exposure is drizzled onto the common grid (done by ``webbflow.resample``);
2. pixels of each resampled image whose weight is below ``maskpt`` times the sigma-clipped
   mean weight (:func:`clipped_mean`) are set to NaN (:func:`mask_low_weight`);
3. the NaN-ignoring median of the stack is taken row block by row block
   (:func:`nanmedian_stack`), so only ``n_images x rows x nx`` values are ever held;
4. the median is interpolated back to each exposure's pixels (:func:`blot_linear`, bilinear,
   NaN outside the median image);
5. a pixel is an outlier when ``|sci - blot - backg| > scale2 |d blot| + snr2 err`` and a pixel
   in its 3x3 neighbourhood satisfies the same test with ``scale1``/``snr1``
   (:func:`flag_outliers`), ``|d blot|`` being the largest absolute difference of the blot
   to its four neighbours (:func:`abs_derivative`).

All functions are numba ``@njit`` on plain arrays and write into ``out`` arguments; the
per-pixel ones run in parallel over rows (each pixel computed alone: thread-count
independent results).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = [
    "abs_derivative",
    "blot_linear",
    "clipped_mean",
    "clipped_mean_sorted",
    "dilate",
    "flag_outliers",
    "mask_low_weight",
    "nanmedian_stack",
]


def clipped_mean(values: np.ndarray, sigma: float, maxiters: int) -> float:
    """Mean of the finite, non-zero ``values`` after iterative sigma clipping.

    Clipping as astropy's ``sigma_clip`` defaults: bounds ``median +- sigma * std`` of the
    surviving values, repeated until nothing changes or ``maxiters`` iterations. The values
    are selected and sorted by numpy (its vectorised sort: ~10x numba's quicksort on a few
    million values; a sorted array is the same whatever the algorithm), the clipping runs
    on the sorted float64 values (:func:`clipped_mean_sorted`).

    Parameters
    ----------
    values : (n,) float array
        Weights (any units); NaN, inf and 0 are ignored.

    Returns
    -------
    float
        The clipped mean (float64), NaN when nothing survives.
    """
    flat = np.asarray(values).ravel()
    keep = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
    keep.sort()
    return float(clipped_mean_sorted(keep, float(sigma), int(maxiters)))


@njit(cache=True)
def clipped_mean_sorted(s: np.ndarray, sigma: float, maxiters: int) -> float:
    """:func:`clipped_mean` of ``s``, (n,) float64 finite non-zero values sorted ascending."""
    n = s.size
    if n == 0:
        return np.nan
    # prefix sums give each surviving (contiguous, sorted) range's mean and variance in O(1)
    c1 = np.zeros(n + 1)
    c2 = np.zeros(n + 1)
    for i in range(n):
        c1[i + 1] = c1[i] + s[i]
        c2[i + 1] = c2[i] + s[i] * s[i]
    lo, hi = 0, n
    for _ in range(maxiters):
        m = hi - lo
        if m == 0:
            break
        mid = lo + m // 2
        med = s[mid] if m % 2 == 1 else 0.5 * (s[mid - 1] + s[mid])
        mean = (c1[hi] - c1[lo]) / m
        var = max((c2[hi] - c2[lo]) / m - mean * mean, 0.0)
        std = math.sqrt(var)
        new_lo, new_hi = lo, hi
        while new_lo < hi and s[new_lo] < med - sigma * std:
            new_lo += 1
        while new_hi > new_lo and s[new_hi - 1] > med + sigma * std:
            new_hi -= 1
        if new_lo == lo and new_hi == hi:
            break
        lo, hi = new_lo, new_hi
    if hi == lo:
        return np.nan
    return (c1[hi] - c1[lo]) / (hi - lo)


@njit(cache=True, parallel=True)
def mask_low_weight(data: np.ndarray, wht: np.ndarray, threshold: float) -> None:
    """Set ``data`` to NaN in place where ``wht < threshold`` (or ``wht`` is not finite).

    data, wht : (ny, nx) float arrays of the same shape.
    """
    ny, nx = data.shape
    for j in prange(ny):
        for i in range(nx):
            w = wht[j, i]
            if not (w >= threshold):
                data[j, i] = np.nan


#: largest count of values whose median is found by ranking (O(n^2)); above, by selection
_RANK_MAX = 24


@njit(cache=True, inline="always")
def _select(buf, m, k):
    """Rearrange ``buf[:m]`` so that ``buf[k]`` is its k-th smallest value, everything before
    it <= and everything after it >= (Hoare's selection, median-of-three pivot)."""
    lo = 0
    hi = m - 1
    while hi > lo:
        mid = (lo + hi) >> 1
        a, b, c = buf[lo], buf[mid], buf[hi]
        if a > b:
            a, b = b, a
        if b > c:
            b = c
            if a > b:
                b = a
        pivot = b
        i = lo
        j = hi
        while i <= j:
            while buf[i] < pivot:
                i += 1
            while buf[j] > pivot:
                j -= 1
            if i <= j:
                t = buf[i]
                buf[i] = buf[j]
                buf[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return


@njit(cache=True, parallel=True)
def nanmedian_stack(stack: np.ndarray, out: np.ndarray) -> None:
    """NaN-ignoring median along axis 0 (``np.nanmedian`` semantics: mean of the two middle
    values for an even count; NaN where every value is NaN).

    The middle values are found by ranking every value against the others (branch-free
    counting; ties broken by position), which on noise-like stacks beats comparison sorts
    whose branches mispredict: 0.2 us per output pixel at n = 16 against 0.33 for the
    insertion sort used before. Above :data:`_RANK_MAX` values, Hoare selection.

    Parameters
    ----------
    stack : (n, ny, nx) float array
    out : (ny, nx) float array, written
    """
    n, ny, nx = stack.shape
    for j in prange(ny):
        buf = np.empty(n, dtype=np.float64)
        for i in range(nx):
            m = 0
            for k in range(n):
                v = stack[k, j, i]
                if not math.isnan(v):
                    buf[m] = v
                    m += 1
            if m == 0:
                out[j, i] = np.nan
                continue
            h = m // 2
            if m > _RANK_MAX:
                _select(buf, m, h)
                lower = buf[0]
                for k in range(1, h):
                    lower = max(lower, buf[k])
                out[j, i] = buf[h] if m % 2 == 1 else 0.5 * (lower + buf[h])
                continue
            # rank of each value (ties broken by position): branch-free counting, cheaper
            # than any comparison sort on noise-like values (no mispredicted branches)
            lo_v = 0.0
            hi_v = 0.0
            for q in range(m):
                v = buf[q]
                rank = 0
                for p in range(q):
                    rank += buf[p] <= v
                for p in range(q + 1, m):
                    rank += buf[p] < v
                if rank == h:
                    hi_v = v
                if rank == h - 1:
                    lo_v = v
            out[j, i] = hi_v if m % 2 == 1 else 0.5 * (lo_v + hi_v)


@njit(cache=True, parallel=True)
def blot_linear(median: np.ndarray, pixmap: np.ndarray, fill: float, out: np.ndarray) -> None:
    """Bilinear interpolation of ``median`` at the positions in ``pixmap`` ("blot").

    Parameters
    ----------
    median : (my, mx) float array
        The median image on the common grid (surface brightness: no area scaling).
    pixmap : (ny, nx, 2) float64
        Median-grid (x, y) of every target pixel centre (0-based); NaN when unmapped.
    fill : float
        Value for positions outside ``[0, mx-1] x [0, my-1]`` or unmapped.
    out : (ny, nx) float array, written
        NaN where an interpolation neighbour is NaN.
    """
    my, mx = median.shape
    ny, nx = out.shape
    for j in prange(ny):
        for i in range(nx):
            x = pixmap[j, i, 0]
            y = pixmap[j, i, 1]
            if not (x >= 0.0 and y >= 0.0 and x <= mx - 1.0 and y <= my - 1.0):
                out[j, i] = fill
                continue
            x0 = min(int(x), mx - 2) if mx > 1 else 0
            y0 = min(int(y), my - 2) if my > 1 else 0
            fx = x - x0
            fy = y - y0
            x1 = min(x0 + 1, mx - 1)
            y1 = min(y0 + 1, my - 1)
            v = ((1.0 - fx) * (1.0 - fy) * median[y0, x0] + fx * (1.0 - fy) * median[y0, x1]
                 + (1.0 - fx) * fy * median[y1, x0] + fx * fy * median[y1, x1])
            out[j, i] = v


@njit(cache=True, parallel=True)
def abs_derivative(image: np.ndarray, out: np.ndarray) -> None:
    """Largest absolute difference of each pixel to its four neighbours.

    Differences with a NaN neighbour are ignored (0 when none is left); NaN pixels stay NaN.

    image, out : (ny, nx) float arrays.
    """
    ny, nx = image.shape
    for j in prange(ny):
        for i in range(nx):
            v = image[j, i]
            if math.isnan(v):
                out[j, i] = np.nan
                continue
            best = 0.0
            if j > 0:
                d = abs(v - image[j - 1, i])
                if d > best:
                    best = d
            if j < ny - 1:
                d = abs(v - image[j + 1, i])
                if d > best:
                    best = d
            if i > 0:
                d = abs(v - image[j, i - 1])
                if d > best:
                    best = d
            if i < nx - 1:
                d = abs(v - image[j, i + 1])
                if d > best:
                    best = d
            out[j, i] = best


@njit(cache=True, parallel=True)
def dilate(mask: np.ndarray, radius: int, out: np.ndarray) -> None:
    """Square dilation: ``out`` is True where ``mask`` is True within ``radius`` pixels
    (Chebyshev distance). mask, out : (ny, nx) bool arrays (distinct)."""
    ny, nx = mask.shape
    for j in prange(ny):
        for i in range(nx):
            hit = False
            for jj in range(max(0, j - radius), min(ny, j + radius + 1)):
                for ii in range(max(0, i - radius), min(nx, i + radius + 1)):
                    if mask[jj, ii]:
                        hit = True
                        break
                if hit:
                    break
            out[j, i] = hit


@njit(cache=True, parallel=True)
def flag_outliers(sci: np.ndarray, err: np.ndarray, blot: np.ndarray, snr1: float,
                  snr2: float, scale1: float, scale2: float, backg: float,
                  out: np.ndarray) -> None:
    """Outlier mask of one exposure against its blotted median.

    Parameters
    ----------
    sci, err : (ny, nx) float arrays
        Exposure data and error (same units as ``blot``, e.g. MJy/sr); NaN ERR counts as 0.
    blot : (ny, nx) float array
        The blotted median; NaN where unknown (never flagged there).
    snr1, scale1 : float
        First-pass thresholds: ``|diff| > scale1 * |d blot| + snr1 * err``; any pixel of a
        3x3 neighbourhood passing makes the centre a candidate.
    snr2, scale2 : float
        Second-pass thresholds applied to the candidates.
    backg : float
        Background added to the blot (``|sci - blot - backg|``).
    out : (ny, nx) bool array, written
    """
    ny, nx = sci.shape
    # one pass for the first test, one for the dilated second: the derivative, difference
    # and error of a pixel are computed where needed (same float64 formulas as
    # abs_derivative / dilate on whole arrays, so the same flags) instead of four float64
    # images
    first = np.empty((ny, nx), dtype=np.bool_)
    for j in prange(ny):
        for i in range(nx):
            first[j, i] = _exceeds(sci, err, blot, j, i, snr1, scale1, backg)
    for j in prange(ny):
        j0 = max(j - 1, 0)
        j1 = min(j + 2, ny)
        for i in range(nx):
            hit = False
            for jj in range(j0, j1):
                for ii in range(max(i - 1, 0), min(i + 2, nx)):
                    if first[jj, ii]:
                        hit = True
                        break
                if hit:
                    break
            out[j, i] = hit and _exceeds(sci, err, blot, j, i, snr2, scale2, backg)


@njit(cache=True, inline="always")
def _deriv_at(image, j, i):
    """:func:`abs_derivative` of ``image`` at one pixel (float64)."""
    ny, nx = image.shape
    v = np.float64(image[j, i])
    if math.isnan(v):
        return np.nan
    best = 0.0
    if j > 0:
        d = abs(v - np.float64(image[j - 1, i]))
        if d > best:
            best = d
    if j < ny - 1:
        d = abs(v - np.float64(image[j + 1, i]))
        if d > best:
            best = d
    if i > 0:
        d = abs(v - np.float64(image[j, i - 1]))
        if d > best:
            best = d
    if i < nx - 1:
        d = abs(v - np.float64(image[j, i + 1]))
        if d > best:
            best = d
    return best


@njit(cache=True, inline="always")
def _exceeds(sci, err, blot, j, i, snr, scale, backg):
    """``|sci - blot - backg| > scale |d blot| + snr err`` at one pixel (NaN ERR: 0)."""
    ev = np.float64(err[j, i])
    e = ev if math.isfinite(ev) else 0.0
    diff = abs(sci[j, i] - np.float64(blot[j, i]) - backg)
    return diff > scale * _deriv_at(blot, j, i) + snr * e
