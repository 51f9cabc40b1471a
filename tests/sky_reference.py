"""Skymatch's earlier overlap kernels, kept as the tests' reference implementation.

Skymatch used to copy each overlap's values into a float64 run of its own
(:func:`overlap_segments`, or :func:`overlap_values` + :func:`_by_slot`) and stream every run
once per clipping pass (:func:`segment_sky_stats`, :func:`overlap_sky_stats`). It now uses
:mod:`webbflow.kernels.sky_overlap` (one byte of overlap bits per pixel, four overlaps per
pass), which must give these kernels' sky levels and counts bit for bit; the tests check
both against brute force and against each other.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from webbflow.kernels.match import _histogram_stat


@njit(cache=True, inline="always")
def _pixel_slots(data, dq, bad, use_dq, offset, lower, upper, coarse_x, coarse_y, step,
                 cell_slots, y, x):
    """Value (``data + offset``, float64) of pixel (y, x) and the slot bits of its grid cell
    (uint64; 0 when the pixel is unusable, outside the limits or the grid, or its cell is
    covered by no other image). The cell comes from the coarse cell coordinates sampled
    every ``step`` pixels, interpolated bilinearly and rounded to the nearest cell."""
    none = np.uint64(0)
    d = data[y, x]
    if not np.isfinite(d):
        return 0.0, none
    if use_dq and (dq[y, x] & bad) != 0:
        return 0.0, none
    v = np.float64(d) + offset
    if not np.isfinite(v):
        return 0.0, none
    if np.isfinite(lower) and v < lower:
        return 0.0, none
    if np.isfinite(upper) and v > upper:
        return 0.0, none
    ny, nx = data.shape
    my, mx = coarse_x.shape
    gy, gx = cell_slots.shape
    jy = min(y // step, my - 2) if my > 1 else 0
    y0 = jy * step
    y1 = min((jy + 1) * step, ny - 1)
    ty = (y - y0) / (y1 - y0) if my > 1 and y1 > y0 else 0.0
    jy1 = min(jy + 1, my - 1)
    ix = min(x // step, mx - 2) if mx > 1 else 0
    x0 = ix * step
    x1 = min((ix + 1) * step, nx - 1)
    tx = (x - x0) / (x1 - x0) if mx > 1 and x1 > x0 else 0.0
    ix1 = min(ix + 1, mx - 1)
    fx = ((1 - ty) * ((1 - tx) * coarse_x[jy, ix] + tx * coarse_x[jy, ix1])
          + ty * ((1 - tx) * coarse_x[jy1, ix] + tx * coarse_x[jy1, ix1]))
    fy = ((1 - ty) * ((1 - tx) * coarse_y[jy, ix] + tx * coarse_y[jy, ix1])
          + ty * ((1 - tx) * coarse_y[jy1, ix] + tx * coarse_y[jy1, ix1]))
    if not (np.isfinite(fx) and np.isfinite(fy)):
        return 0.0, none
    cx = np.rint(fx)
    cy = np.rint(fy)
    if cx < 0 or cy < 0 or cx >= gx or cy >= gy:
        return 0.0, none
    return v, cell_slots[int(cy), int(cx)]


@njit(cache=True)
def overlap_values(data: np.ndarray, dq: np.ndarray, bad_bits: int, use_dq: bool,
                   offset: float, lower: float, upper: float, coarse_x: np.ndarray,
                   coarse_y: np.ndarray, step: int, cell_slots: np.ndarray) -> tuple:
    """An image's usable pixels lying in overlap cells, each with its overlap slots.

    Parameters
    ----------
    data : float32 array [ny, nx]
        SCI (data units); ``offset`` is added (a previously subtracted sky).
    dq : uint32 array [ny, nx]
        DQ; a pixel with any of ``bad_bits`` set is skipped (when ``use_dq``).
    lower, upper : float
        Value limits (NaN: none); non-finite values are skipped.
    coarse_x, coarse_y : float64 arrays [my, mx]
        Grid-cell coordinates (cell units, from the grid origin) of the pixels every
        ``step`` pixels (the last row/column at ``ny - 1``/``nx - 1``), interpolated
        bilinearly as :func:`upsample_grid` does and rounded to the nearest cell.
    cell_slots : uint64 array [gy, gx]
        Per grid cell, bit ``s`` set when overlap slot ``s`` (another image) covers it.

    Returns
    -------
    (values, slots) : float64 array [m], uint64 array [m]
        The pixels (raster order) whose cell has at least one slot bit.
    """
    ny, nx = data.shape
    vals = np.empty(ny * nx)
    bits = np.empty(ny * nx, dtype=np.uint64)
    bad = np.uint32(bad_bits)
    n = 0
    for y in range(ny):
        for x in range(nx):
            v, s = _pixel_slots(data, dq, bad, use_dq, offset, lower, upper, coarse_x,
                                coarse_y, step, cell_slots, y, x)
            if s == 0:
                continue
            vals[n] = v
            bits[n] = s
            n += 1
    return vals[:n].copy(), bits[:n].copy()


@njit(cache=True, parallel=True)
def overlap_segments(data: np.ndarray, dq: np.ndarray, bad_bits: int, use_dq: bool,
                     offset: float, lower: float, upper: float, coarse_x: np.ndarray,
                     coarse_y: np.ndarray, step: int, cell_slots: np.ndarray,
                     nslot: int) -> tuple:
    """:func:`overlap_values` gathered straight into per-slot runs (what :func:`_by_slot`
    makes of its output), rows in parallel.

    Returns
    -------
    (seg, offs) : float64 array [total], int64 array [nslot + 1]
        Slot ``s``'s values (``data + offset``, raster order) are ``seg[offs[s]:offs[s+1]]``.
    """
    ny, nx = data.shape
    bits = np.zeros((ny, nx), dtype=np.uint64)
    rows = np.zeros((ny + 1, nslot), dtype=np.int64)
    bad = np.uint32(bad_bits)
    for y in prange(ny):
        for x in range(nx):
            _, b = _pixel_slots(data, dq, bad, use_dq, offset, lower, upper, coarse_x,
                                coarse_y, step, cell_slots, y, x)
            bits[y, x] = b
            q = 0
            while b != 0:
                if b & np.uint64(1):
                    rows[y + 1, q] += 1
                b = b >> np.uint64(1)
                q += 1
    # rows[y, s]: where row y's values of slot s start within the slot's run
    for y in range(ny):
        for q in range(nslot):
            rows[y + 1, q] += rows[y, q]
    offs = np.zeros(nslot + 1, dtype=np.int64)
    for q in range(nslot):
        offs[q + 1] = offs[q] + rows[ny, q]
    seg = np.empty(offs[nslot])
    for y in prange(ny):
        fill = np.empty(nslot, dtype=np.int64)
        for q in range(nslot):
            fill[q] = offs[q] + rows[y, q]
        for x in range(nx):
            b = bits[y, x]
            if b == 0:
                continue
            v = np.float64(data[y, x]) + offset
            q = 0
            while b != 0:
                if b & np.uint64(1):
                    seg[fill[q]] = v
                    fill[q] += 1
                b = b >> np.uint64(1)
                q += 1
    return seg, offs


@njit(cache=True)
def _by_slot(values, slots, nslot):
    """The values of each slot together, in pixel order: ``seg[offs[s]:offs[s + 1]]``
    (a value of several slots is copied into each)."""
    n_in = np.zeros(nslot + 1, dtype=np.int64)
    for k in range(values.shape[0]):
        b = slots[k]
        s = 0
        while b != 0:
            if b & np.uint64(1):
                n_in[s + 1] += 1
            b = b >> np.uint64(1)
            s += 1
    offs = np.cumsum(n_in)
    seg = np.empty(offs[nslot])
    fill = offs[:nslot].copy()
    for k in range(values.shape[0]):
        b = slots[k]
        s = 0
        while b != 0:
            if b & np.uint64(1):
                seg[fill[s]] = values[k]
                fill[s] += 1
            b = b >> np.uint64(1)
            s += 1
    return seg, offs


@njit(cache=True)
def _run_sums(seg, b, e, lo, hi, centre, power):
    """Count and sum of ``(v - centre) ** power`` (power 1 or 2) over ``seg[b:e]`` (pixel
    order) with ``lo <= v <= hi``."""
    n = 0
    a = 0.0
    if power == 1:
        for k in range(b, e):
            v = seg[k]
            w = (lo <= v) & (v <= hi)
            n += w
            a += v if w else 0.0
    else:
        for k in range(b, e):
            v = seg[k]
            w = (lo <= v) & (v <= hi)
            n += w
            a += (v - centre) ** 2 if w else 0.0
    return n, a


@njit(cache=True)
def _slot_stat(seg, b, e, stat, nclip, lsigma, usigma, binwidth):
    """:func:`sky_stat` of ``seg[b:e]`` (one slot's values, pixel order): (value, count)."""
    lo = -np.inf
    hi = np.inf
    cnt, acc = _run_sums(seg, b, e, lo, hi, 0.0, 1)
    if cnt == 0:
        return np.nan, 0
    mean = acc / cnt
    _, acc2 = _run_sums(seg, b, e, lo, hi, mean, 2)
    std = math.sqrt(acc2 / cnt)
    for _ in range(nclip):
        nlo = max(lo, mean - lsigma * std)
        nhi = min(hi, mean + usigma * std)
        ncnt, nacc = _run_sums(seg, b, e, nlo, nhi, 0.0, 1)
        if ncnt == 0 or ncnt == cnt:
            break  # converged (or clipping would empty it): keep the set
        lo = nlo
        hi = nhi
        cnt = ncnt
        mean = nacc / ncnt
        _, acc2 = _run_sums(seg, b, e, lo, hi, mean, 2)
        std = math.sqrt(acc2 / cnt)
    if stat == 0:
        return mean, cnt
    if stat == 1:
        sel = np.empty(cnt)
        m = 0
        for k in range(b, e):
            v = seg[k]
            if lo <= v <= hi:
                sel[m] = v
                m += 1
        sel.sort()
        return (sel[m // 2] if m % 2 == 1 else 0.5 * (sel[m // 2 - 1] + sel[m // 2])), cnt
    vmin = np.inf
    vmax = -np.inf
    for k in range(b, e):
        v = seg[k]
        if lo <= v <= hi:
            vmin = min(vmin, v)
            vmax = max(vmax, v)
    width = binwidth * std
    if not (width > 0 and vmax > vmin):
        return mean, cnt
    nb = int((vmax - vmin) / width) + 1
    h = np.zeros(nb)
    for k in range(b, e):
        v = seg[k]
        if lo <= v <= hi:
            h[min(int((v - vmin) / width), nb - 1)] += 1.0
    return _histogram_stat(h, vmin, vmax, width, stat, binwidth), cnt


@njit(cache=True)
def overlap_sky_stats(values: np.ndarray, slots: np.ndarray, nslot: int, stat: int,
                      nclip: int, lsigma: float, usigma: float, binwidth: float) -> tuple:
    """:func:`sky_stat` of the values of every overlap slot, without sorting ('median'
    excepted); the slots in parallel.

    Parameters
    ----------
    values : float64 array [m]
        Values already finite and within the limits (from :func:`overlap_values`).
    slots : uint64 array [m]
        Slot bits of each value (bit ``s``: the value belongs to slot ``s``).

    Returns
    -------
    (sky, npix) : float64 array [nslot], int64 array [nslot]
        The clipped statistic and the number of values it used (NaN, 0: empty slot).
        The same clipping rules and histogram as :func:`sky_stat`; sums are accumulated
        in pixel order rather than sorted order (equal to rounding), each slot on its own
        (so the same whatever the thread count).
    """
    # each slot's values gathered once: its passes run over one contiguous run
    seg, offs = _by_slot(values, slots, nslot)
    return segment_sky_stats(seg, offs, nslot, stat, nclip, lsigma, usigma, binwidth)


@njit(cache=True, parallel=True)
def segment_sky_stats(seg: np.ndarray, offs: np.ndarray, nslot: int, stat: int, nclip: int,
                      lsigma: float, usigma: float, binwidth: float) -> tuple:
    """:func:`overlap_sky_stats` of values already in per-slot runs
    (``seg[offs[s]:offs[s + 1]]``, as :func:`overlap_segments` gives), slots in parallel."""
    out = np.full(nslot, np.nan)
    cnt = np.zeros(nslot, dtype=np.int64)
    for s in prange(nslot):
        out[s], cnt[s] = _slot_stat(seg, offs[s], offs[s + 1], stat, nclip, lsigma, usigma,
                                    binwidth)
    return out, cnt
