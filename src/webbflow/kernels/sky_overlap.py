"""Skymatch's overlap statistics straight from the image (numba): up to four overlaps at a
time, one pass over the image per clipping step.

Skymatch's earlier kernels (``overlap_segments``, now the tests' reference in
``tests/sky_reference.py``) copied each overlap's values into a run of its
own (an image's pixels lie in up to three overlaps on a 2x2 dither: three float64 copies) and
``segment_sky_stats`` then streamed every run once per clipping
pass, some 14 passes over ~100 MB for a full NIRCam frame: bound by memory bandwidth, not by
arithmetic. Here each pixel keeps one byte of overlap bits (:func:`overlap_bits`) next to the
float32 image, and :func:`pixel_sky_stats` makes every pass over those 20 MB serve the four
overlaps together, each with its own accumulators (four chains of additions in flight).

Each overlap still sees its values in pixel (raster) order with the same arithmetic, so the
statistics and counts are those of ``segment_sky_stats(*overlap_segments(...))`` bit for bit.
A pass first builds each slot's terms of a row (0.0 off the slot; vectorised), then adds the
four rows of terms together; the histogram statistics take one more pass for the extremes
of the clipped values and one for the histograms. Passes run serially (a sum's order is its
result); the bits are computed with rows in parallel, each pixel written once.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .match import _histogram_stat

__all__ = ["MAX_SLOTS", "overlap_bits", "pixel_sky_stats", "slot_nibble"]

#: overlaps handled by one pass (one accumulator set each)
MAX_SLOTS = 4


@njit(cache=True)
def _coarse_weights(n: int, m: int, step: int) -> tuple:
    """Per pixel index along one axis (``n`` pixels, ``m`` coarse samples every ``step``):
    the lower and upper sample and the weight of the upper one, as
    the earlier per-pixel ``_pixel_slots`` (``tests/sky_reference.py``) computed them."""
    lo = np.empty(n, dtype=np.int64)
    hi = np.empty(n, dtype=np.int64)
    t = np.empty(n)
    for i in range(n):
        j = min(i // step, m - 2) if m > 1 else 0
        i0 = j * step
        i1 = min((j + 1) * step, n - 1)
        t[i] = (i - i0) / (i1 - i0) if m > 1 and i1 > i0 else 0.0
        lo[i] = j
        hi[i] = min(j + 1, m - 1)
    return lo, hi, t


@njit(cache=True, parallel=True)
def overlap_bits(data: np.ndarray, dq: np.ndarray, bad_bits: int, use_dq: bool,
                 offset: float, lower: float, upper: float, coarse_x: np.ndarray,
                 coarse_y: np.ndarray, step: int, cell_slots: np.ndarray,
                 out: np.ndarray) -> None:
    """Per pixel, the overlap slots it counts in (the bits of
    ``overlap_values`` of ``tests/sky_reference.py``).

    out : uint8 or uint64 array [ny, nx], written; 0 for a pixel that is unusable, outside
    the limits or in no overlap (uint8: ``cell_slots`` may use the low 8 bits only).

    The arithmetic of the reference's ``_pixel_slots`` pixel by pixel, with the
    interpolation weights of each row and column computed once.
    """
    ny, nx = data.shape
    my, mx = coarse_x.shape
    gy, gx = cell_slots.shape
    bad = np.uint32(bad_bits)
    rlo, rhi, rt = _coarse_weights(ny, my, step)
    clo, chi, ct = _coarse_weights(nx, mx, step)
    check_lo = np.isfinite(lower)
    check_hi = np.isfinite(upper)
    for y in prange(ny):
        jy = rlo[y]
        jy1 = rhi[y]
        ty = rt[y]
        for x in range(nx):
            out[y, x] = 0
            d = data[y, x]
            if not np.isfinite(d):
                continue
            if use_dq and (dq[y, x] & bad) != 0:
                continue
            v = np.float64(d) + offset
            if not np.isfinite(v):
                continue
            if (check_lo and v < lower) or (check_hi and v > upper):
                continue
            ix = clo[x]
            ix1 = chi[x]
            tx = ct[x]
            fx = ((1 - ty) * ((1 - tx) * coarse_x[jy, ix] + tx * coarse_x[jy, ix1])
                  + ty * ((1 - tx) * coarse_x[jy1, ix] + tx * coarse_x[jy1, ix1]))
            fy = ((1 - ty) * ((1 - tx) * coarse_y[jy, ix] + tx * coarse_y[jy, ix1])
                  + ty * ((1 - tx) * coarse_y[jy1, ix] + tx * coarse_y[jy1, ix1]))
            if not (np.isfinite(fx) and np.isfinite(fy)):
                continue
            cx = np.rint(fx)
            cy = np.rint(fy)
            if cx < 0 or cy < 0 or cx >= gx or cy >= gy:
                continue
            out[y, x] = cell_slots[int(cy), int(cx)]


@njit(cache=True, parallel=True)
def slot_nibble(bits: np.ndarray, first: int) -> np.ndarray:
    """Slots ``first .. first + 3`` of uint64 slot bits [ny, nx] as uint8 bits 0..3."""
    ny, nx = bits.shape
    out = np.empty((ny, nx), dtype=np.uint8)
    for y in prange(ny):
        for x in range(nx):
            out[y, x] = (bits[y, x] >> np.uint64(first)) & np.uint64(15)
    return out


@njit(cache=True)
def _pass(data, bits, offset, lo, hi, centre, power, hist, hoff, hwidth, hmin, hnb):
    """One pass over the image for the four slots: per slot, the count of its values within
    ``[lo, hi]`` and the in-order sum of ``v`` (power 1) or of ``(v - centre) ** 2``
    (power 2); power 3 adds them to the slot's histogram instead (``hist[hoff + bin]``,
    bins of ``hwidth`` from ``hmin``, ``hnb`` of them), power 4 gives their min and max.
    A slot that takes no part has ``lo = inf``. Returns (count, sum, min, max) [4].

    Row by row: first the terms of each slot (0.0 where the pixel is not the slot's) into a
    row buffer, with the counts (branch-free, vectorised); then the four sums together, one
    addition per slot and pixel. A sum from +0.0 is never -0.0, so adding
    the 0.0 terms changes no bit: each slot's sum is that of its values in pixel order.
    """
    ny, nx = data.shape
    n = np.zeros(MAX_SLOTS, dtype=np.int64)
    mn = np.full(MAX_SLOTS, np.inf)
    mx = np.full(MAX_SLOTS, -np.inf)
    a0 = a1 = a2 = a3 = 0.0
    row = np.empty(nx)
    term = np.zeros((MAX_SLOTS, nx))
    for y in range(ny):
        for x in range(nx):
            row[x] = np.float64(data[y, x]) + offset
        if power == 3:
            for x in range(nx):
                b = bits[y, x]
                v = row[x]
                for q in range(MAX_SLOTS):
                    if b & (1 << q) and lo[q] <= v <= hi[q]:
                        hist[hoff[q] + min(int((v - hmin[q]) / hwidth[q]), hnb[q] - 1)] += 1.0
            continue
        if power == 4:
            for x in range(nx):
                b = bits[y, x]
                v = row[x]
                for q in range(MAX_SLOTS):
                    if b & (1 << q) and lo[q] <= v <= hi[q]:
                        mn[q] = min(mn[q], v)
                        mx[q] = max(mx[q], v)
            continue
        for q in range(MAX_SLOTS):
            if not lo[q] < np.inf:
                continue  # not taking part: its terms stay 0.0
            lq = lo[q]
            hq = hi[q]
            cq = centre[q]
            bit = np.uint8(1 << q)
            t = term[q]
            brow = bits[y]
            cnt = 0
            # uint8 flags, not bools, and one loop per power: these loops vectorise
            if power == 1:
                for x in range(nx):
                    v = row[x]
                    use = (np.uint8((brow[x] & bit) != 0) & np.uint8(lq <= v)
                           & np.uint8(v <= hq))
                    cnt += use
                    t[x] = v if use else 0.0
            else:
                for x in range(nx):
                    v = row[x]
                    use = (np.uint8((brow[x] & bit) != 0) & np.uint8(lq <= v)
                           & np.uint8(v <= hq))
                    cnt += use
                    t[x] = (v - cq) ** 2 if use else 0.0
            n[q] += cnt
        t0 = term[0]
        t1 = term[1]
        t2 = term[2]
        t3 = term[3]
        for x in range(nx):
            a0 += t0[x]
            a1 += t1[x]
            a2 += t2[x]
            a3 += t3[x]
    return n, np.array([a0, a1, a2, a3]), mn, mx


@njit(cache=True)
def pixel_sky_stats(data: np.ndarray, bits: np.ndarray, offset: float, nslot: int,
                    stat: int, nclip: int, lsigma: float, usigma: float,
                    binwidth: float) -> tuple:
    """The clipped sky statistic of each overlap slot, from the image and its slot bits.

    Parameters
    ----------
    data : float32 or float64 array [ny, nx]
        SCI; a slot's values are ``data + offset`` (float64) at the pixels with its bit.
    bits : uint8 array [ny, nx]
        Slot bits per pixel (from :func:`overlap_bits`).
    nslot : int
        Slots 0 .. nslot - 1 (at most :data:`MAX_SLOTS`).
    stat, nclip, lsigma, usigma, binwidth
        As ``segment_sky_stats`` of ``tests/sky_reference.py`` (stat: 0 mean, 1 median,
        2 mode, 3 midpt).

    Returns
    -------
    (sky, npix) : float64 array [nslot], int64 array [nslot]
        Those of ``segment_sky_stats(*overlap_segments(...))``, bit for bit (NaN, 0: empty).
    """
    inf = np.inf
    lo = np.full(MAX_SLOTS, -inf)
    hi = np.full(MAX_SLOTS, inf)
    for q in range(nslot, MAX_SLOTS):
        lo[q] = inf  # no such slot: counts nothing
    zero = np.zeros(MAX_SLOTS)
    hist = np.zeros(1)
    hoff = np.zeros(MAX_SLOTS, dtype=np.int64)
    hnb = np.ones(MAX_SLOTS, dtype=np.int64)
    n, acc, _, _ = _pass(data, bits, offset, lo, hi, zero, 1, hist, hoff, zero, zero,
                               hnb)
    live = np.zeros(MAX_SLOTS, dtype=np.bool_)
    mean = np.zeros(MAX_SLOTS)
    for q in range(nslot):
        if n[q] > 0:
            live[q] = True
            mean[q] = acc[q] / n[q]
    # the bounds a pass uses: a slot that is empty or done takes no part
    plo = np.where(live, lo, inf)
    _, acc2, _, _ = _pass(data, bits, offset, plo, hi, mean, 2, hist, hoff, zero, zero, hnb)
    std = np.zeros(MAX_SLOTS)
    for q in range(MAX_SLOTS):
        if live[q]:
            std[q] = math.sqrt(acc2[q] / n[q])
    clipping = live.copy()
    for _ in range(nclip):
        if not clipping.any():
            break
        nlo = np.full(MAX_SLOTS, inf)
        nhi = np.full(MAX_SLOTS, inf)
        for q in range(MAX_SLOTS):
            if clipping[q]:
                nlo[q] = max(lo[q], mean[q] - lsigma * std[q])
                nhi[q] = min(hi[q], mean[q] + usigma * std[q])
        ncnt, nacc, _, _ = _pass(data, bits, offset, nlo, nhi, zero, 1, hist, hoff,
                                       zero, zero, hnb)
        for q in range(MAX_SLOTS):
            if not clipping[q]:
                continue
            if ncnt[q] == 0 or ncnt[q] == n[q]:
                clipping[q] = False  # converged (or clipping would empty it): keep the set
                continue
            lo[q] = nlo[q]
            hi[q] = nhi[q]
            n[q] = ncnt[q]
            mean[q] = nacc[q] / ncnt[q]
        if not clipping.any():
            break
        plo = np.where(clipping, lo, inf)
        _, acc2, _, _ = _pass(data, bits, offset, plo, hi, mean, 2, hist, hoff, zero, zero,
                              hnb)
        for q in range(MAX_SLOTS):
            if clipping[q]:
                std[q] = math.sqrt(acc2[q] / n[q])
    out = np.full(nslot, np.nan)
    cnt = np.zeros(nslot, dtype=np.int64)
    for q in range(nslot):
        if live[q]:
            out[q] = mean[q]
            cnt[q] = n[q]
    if stat == 0:
        return out, cnt
    if stat == 1:
        for q in range(nslot):
            if not live[q]:
                continue
            sel = np.empty(n[q])
            m = 0
            ny, nx = data.shape
            for y in range(ny):
                for x in range(nx):
                    if bits[y, x] & (1 << q):
                        v = np.float64(data[y, x]) + offset
                        if lo[q] <= v <= hi[q]:
                            sel[m] = v
                            m += 1
            sel.sort()
            out[q] = sel[m // 2] if m % 2 == 1 else 0.5 * (sel[m // 2 - 1] + sel[m // 2])
        return out, cnt
    # mode / midpt: the extremes of the clipped values, then one histogram per slot
    _, _, vmin, vmax = _pass(data, bits, offset, np.where(live, lo, inf), hi, zero, 4, hist,
                             hoff, zero, zero, hnb)
    width = np.zeros(MAX_SLOTS)
    hlo = np.full(MAX_SLOTS, inf)
    total = 0
    for q in range(nslot):
        width[q] = binwidth * std[q]
        if live[q] and width[q] > 0 and vmax[q] > vmin[q]:
            hnb[q] = int((vmax[q] - vmin[q]) / width[q]) + 1
            hoff[q] = total
            total += hnb[q]
            hlo[q] = lo[q]
    if total == 0:
        return out, cnt
    hist = np.zeros(total)
    _pass(data, bits, offset, hlo, hi, zero, 3, hist, hoff, width, vmin, hnb)
    for q in range(nslot):
        if hlo[q] < inf:
            out[q] = _histogram_stat(hist[hoff[q]:hoff[q] + hnb[q]], vmin[q], vmax[q],
                                     width[q], stat, binwidth)
    return out, cnt
