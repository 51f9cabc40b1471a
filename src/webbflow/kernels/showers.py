"""MIRI cosmic-ray showers: the ``find_showers`` option of the JWST ``jump`` step.

A shower is a faint, extended halo of charge around a cosmic-ray hit, too faint per pixel for
the two-point-difference test. Following the official documentation (stcal ``jump``), per
integration and per group ``g`` after the integration's first usable group:

1. every first difference's significance ``|d - median| / sigma`` (electrons; per pixel
   median of all its differences and ``sigma = sqrt(|median| + rn**2 / nframes)``; with
   ``nints >= minimum_sigclip_groups`` the 5-sigma-clipped median and std across integrations
   instead) is masked (NaN) where group ``g`` or the pixel is JUMP_DET, SATURATED or DO_NOT_USE;
2. it is averaged with a ring kernel (pixel centres at radii ``inner .. inner + width`` where,
   as officially, the ``extend_outer_radius`` parameter is the ring *width*), NaNs interpolated
   over and the outside counting as zero-valued good pixels;
3. pixels above ``extend_snr_threshold`` are grouped (8-connected); a group whose area with
   holes filled reaches ``extend_min_area`` is a shower, described by the ellipse of its
   second moments (full axes ``4 sqrt(eigenvalue) - 1``);
4. after all groups are searched, each ellipse, its minor axis times ``expand_ratio`` and its
   major axis plus ``(expand_ratio - 1)`` times the minor (each capped at
   ``max_extended_width``), is flagged JUMP_DET in groups ``g .. g + groups_masked`` on pixels
   not SATURATED;
5. a pixel whose mean difference (without flagged groups) changes by more than
   ``max_shower_amplitude`` (per group) gets its input flags back.

Components come from :func:`webbflow.kernels.snowball.label_components`. The ellipse is drawn
as ``skimage.draw.ellipse`` draws it (pixels strictly inside, centre and half-axes rounded).
Fewer than 10 usable differences in the exposure: nothing is done (official).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .snowball import label_components

__all__ = ["find_showers", "ring_kernel"]

MIN_DIFFS_FOR_SHOWERS = 10


def ring_kernel(inner: float, width: float) -> np.ndarray:
    """Normalised ring of pixel centres at radii ``inner .. inner + width`` (inclusive):
    (n, n) float64, n the odd integer at or above ``2 * (inner + width)``."""
    outer = inner + width
    n = math.ceil(2 * outer)
    n += 1 - n % 2
    c = n // 2
    yy, xx = np.mgrid[-c:c + 1, -c:c + 1]
    rr = (xx * xx + yy * yy).astype(np.float64)
    ring = ((rr >= inner * inner) & (rr <= outer * outer)).astype(np.float64)
    return ring / ring.sum()


@njit(cache=True)
def _sigclip_stats(vals, sigma, maxiters):
    keep = vals[np.isfinite(vals)]
    if keep.size == 0:
        return np.nan, np.nan
    for _ in range(maxiters):
        med = np.median(keep)
        std = np.std(keep)
        sel = keep[(keep >= med - sigma * std) & (keep <= med + sigma * std)]
        if sel.size == keep.size:
            break
        keep = sel
        if keep.size == 0:
            return np.nan, np.nan
    return np.median(keep), np.std(keep)


@njit(cache=True, parallel=True)
def _ratios(diffs, rn, nframes, sigclip):
    """|d - median| / sigma for every difference: (nints, ngroups - 1, ny, nx) float64."""
    nints, nd, ny, nx = diffs.shape
    out = np.empty((nints, nd, ny, nx))
    for y in prange(ny):
        buf = np.empty(nints * nd)
        col = np.empty(nints)
        for x in range(nx):
            if sigclip:
                for d in range(nd):
                    for i in range(nints):
                        col[i] = diffs[i, d, y, x]
                    med, std = _sigclip_stats(col, 5.0, 5)
                    for i in range(nints):
                        out[i, d, y, x] = abs(diffs[i, d, y, x] - med) / std
            else:
                n = 0
                for i in range(nints):
                    for d in range(nd):
                        v = diffs[i, d, y, x]
                        if np.isfinite(v):
                            buf[n] = v
                            n += 1
                med = np.median(buf[:n]) if n > 0 else np.nan
                sig = np.sqrt(abs(med) + rn[y, x] ** 2 / nframes)
                for i in range(nints):
                    for d in range(nd):
                        out[i, d, y, x] = abs(diffs[i, d, y, x] - med) / sig
    return out


@njit(cache=True, parallel=True)
def _smooth(ratio, kernel, out):
    """Ring average with NaN interpolation; outside the array counts as good zeros."""
    ny, nx = ratio.shape
    kn = kernel.shape[0]
    c = kn // 2
    kmean = 0.0
    for a in range(kn):
        for b in range(kn):
            kmean += kernel[a, b]
    kmean /= kn * kn
    for y in prange(ny):
        for x in range(nx):
            num = 0.0
            norm = 0.0
            for a in range(kn):
                yy = y + a - c
                for b in range(kn):
                    k = kernel[a, b]
                    if k == 0.0:
                        continue
                    xx = x + b - c
                    if yy < 0 or yy >= ny or xx < 0 or xx >= nx:
                        norm += k
                        continue
                    v = ratio[yy, xx]
                    if np.isfinite(v):
                        num += k * v
                        norm += k
            if np.isfinite(ratio[y, x]) and norm > 1e-3 * kmean:
                out[y, x] = num / norm
            else:
                out[y, x] = np.nan


@njit(cache=True)
def _regions(mask, min_area):
    """Ellipses of 8-connected regions of ``mask`` whose hole-filled area >= ``min_area``:
    rows (centre row, centre col, minor full axis - 1, major full axis - 1, orientation)."""
    ny, nx = mask.shape
    labels = np.zeros((ny, nx), dtype=np.int32)
    n = label_components(mask, labels)
    acc = np.zeros((n + 1, 6))  # count, sr, sc, srr, scc, src
    bb = np.empty((n + 1, 4), dtype=np.int64)
    bb[:, 0] = ny
    bb[:, 1] = -1
    bb[:, 2] = nx
    bb[:, 3] = -1
    for y in range(ny):
        for x in range(nx):
            lab = labels[y, x]
            if lab == 0:
                continue
            acc[lab, 0] += 1
            acc[lab, 1] += y
            acc[lab, 2] += x
            bb[lab, 0] = min(bb[lab, 0], y)
            bb[lab, 1] = max(bb[lab, 1], y)
            bb[lab, 2] = min(bb[lab, 2], x)
            bb[lab, 3] = max(bb[lab, 3], x)
    out = np.zeros((n, 5))
    m = 0
    for lab in range(1, n + 1):
        cnt = acc[lab, 0]
        y0, y1, x0, x1 = bb[lab, 0], bb[lab, 1], bb[lab, 2], bb[lab, 3]
        # holes: background of the bounding box not 8-connected to its border
        sub = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.bool_)
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                sub[y - y0, x - x0] = labels[y, x] != lab
        sl = np.zeros(sub.shape, dtype=np.int32)
        nb = label_components(sub, sl)
        border = np.zeros(nb + 1, dtype=np.bool_)
        hy, hx = sub.shape
        for y in range(hy):
            for x in range(hx):
                if sl[y, x] and (y == 0 or x == 0 or y == hy - 1 or x == hx - 1):
                    border[sl[y, x]] = True
        holes = 0
        for y in range(hy):
            for x in range(hx):
                if sl[y, x] and not border[sl[y, x]]:
                    holes += 1
        if cnt + holes < min_area:
            continue
        my = acc[lab, 1] / cnt
        mx = acc[lab, 2] / cnt
        vr = 0.0
        vc = 0.0
        cv = 0.0
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                if labels[y, x] == lab:
                    vr += (y - my) ** 2
                    vc += (x - mx) ** 2
                    cv += (y - my) * (x - mx)
        vr /= cnt
        vc /= cnt
        cv /= cnt
        a, b, c = vc, -cv, vr
        root = np.sqrt(((a - c) / 2.0) ** 2 + b * b)
        l1 = max((a + c) / 2.0 + root, 0.0)
        l2 = max((a + c) / 2.0 - root, 0.0)
        if a - c == 0:
            theta = np.pi / 4.0 if b < 0 else -np.pi / 4.0
        else:
            theta = 0.5 * np.arctan2(-2.0 * b, c - a)
        out[m, 0] = my
        out[m, 1] = mx
        out[m, 2] = 4.0 * np.sqrt(l2) - 1.0
        out[m, 3] = 4.0 * np.sqrt(l1) - 1.0
        out[m, 4] = theta
        m += 1
    return out[:m]


@njit(cache=True)
def _flag_ellipse(gdq, i, g0, g1, cy, cx, r_major, r_minor, theta, jump_bit, sat_bit):
    """JUMP_DET inside the ellipse (half axes along ``theta`` / across) in groups g0..g1-1,
    skipping pixels saturated in that or an earlier flagged group."""
    ny, nx = gdq.shape[2], gdq.shape[3]
    if r_major == 0 or r_minor == 0:
        return
    r = int(max(r_major, r_minor)) + 1
    ct = np.cos(theta)
    st = np.sin(theta)
    ylo, yhi = max(int(cy) - r, 0), min(int(cy) + r + 1, ny)
    xlo, xhi = max(int(cx) - r, 0), min(int(cx) + r + 1, nx)
    inside = np.zeros((yhi - ylo, xhi - xlo), dtype=np.bool_)
    for y in range(ylo, yhi):
        for x in range(xlo, xhi):
            dr = y - cy
            dc = x - cx
            d = ((dr * ct + dc * st) / r_major) ** 2 + ((dr * st - dc * ct) / r_minor) ** 2
            inside[y - ylo, x - xlo] = d < 1.0
    for g in range(g0, g1):
        for y in range(ylo, yhi):
            for x in range(xlo, xhi):
                if not inside[y - ylo, x - xlo]:
                    continue
                if (gdq[i, g, y, x] & sat_bit) == sat_bit:
                    inside[y - ylo, x - xlo] = False
                else:
                    gdq[i, g, y, x] |= jump_bit


@njit(cache=True, parallel=True)
def _mean_rates(data, gdq, bad):
    nints, ngroups, ny, nx = data.shape
    out = np.empty((nints, ny, nx))
    for y in prange(ny):
        for i in range(nints):
            for x in range(nx):
                s = 0.0
                n = 0
                for g in range(1, ngroups):
                    if (gdq[i, g, y, x] & bad) == 0 and (gdq[i, g - 1, y, x] & bad) == 0:
                        d = float(data[i, g, y, x]) - float(data[i, g - 1, y, x])
                        if np.isfinite(d):
                            s += d
                            n += 1
                out[i, y, x] = s / n if n > 0 else np.nan
    return out


def _py_round(v: float) -> int:
    return round(v)  # Python's round half to even, as officially


def find_showers(
    data: np.ndarray, gdq: np.ndarray, pixeldq: np.ndarray, readnoise: np.ndarray, *,
    nframes: int, flags: dict[str, int], snr_threshold: float = 1.2, min_area: float = 90,
    inner_radius: float = 1.0, outer_radius: float = 2.6, expand_ratio: float = 1.1,
    groups_masked: int = 0, max_extended_width: float = 400.0, max_shower_amplitude: float = 4.0,
    minimum_sigclip_groups: int = 100,
) -> tuple[np.ndarray, int]:
    """Flag MIRI showers as JUMP_DET.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float, electrons.
    gdq : (nints, ngroups, ny, nx) uint8 group DQ after jump detection (not modified).
    pixeldq : (ny, nx) uint32; readnoise : (ny, nx) electrons (CDS).
    flags : lower-case DQ bits: do_not_use, saturated, jump_det, reference_pixel.
    groups_masked : groups flagged after the shower's (``time_masked_after_shower //
        group_time``); max_extended_width : cap on full axes (twice ``max_extended_radius``);
    max_shower_amplitude : largest allowed change of a pixel's mean difference (electrons per
        group; the official step multiplies its DN/s parameter by the group time).

    Returns
    -------
    gdq : (nints, ngroups, ny, nx) uint8, new array; n_showers : int.
    """
    dnu, sat, jump = (np.uint8(flags[k]) for k in ("do_not_use", "saturated", "jump_det"))
    nints, ngroups, ny, nx = data.shape
    work = gdq.copy()
    all_dnu = np.all(work & dnu, axis=(2, 3))
    if nints * (ngroups - 1) - int(all_dnu.sum()) < MIN_DIFFS_FOR_SHOWERS:
        return gdq.copy(), 0
    masked = np.array(data, dtype=np.float32, copy=True)
    bad_exact = np.isin(work, [jump | dnu, sat | dnu, sat, jump, dnu])
    masked[bad_exact] = np.nan
    refpix = pixeldq == flags["reference_pixel"]
    work[:, :, refpix] = dnu
    diffs = np.diff(masked, axis=1)
    ratios = _ratios(diffs, np.asarray(readnoise, np.float64), float(nframes),
                     nints >= minimum_sigclip_groups)
    kernel = ring_kernel(inner_radius, outer_radius)
    found = []  # (integration, group, ellipses)
    bad = jump | sat | dnu
    smooth = np.empty((ny, nx))
    for i in range(nints):
        usable = np.flatnonzero(~np.all(work[i] & dnu, axis=(1, 2)))
        first = int(usable[0]) if usable.size else 0
        for g in range(first + 1, ngroups):
            r = ratios[i, g - 1].copy()
            r[((work[i, g] | pixeldq) & bad) != 0] = np.nan
            _smooth(r, kernel, smooth)
            ell = _regions(smooth > snr_threshold, float(min_area))
            if len(ell):
                found.append((i, g, ell))
    total = 0
    for i, g, ell in found:
        total += len(ell)
        for cy, cx, minor, major, theta in ell:
            a_minor = min(minor * expand_ratio, max_extended_width)
            a_major = min(major + (expand_ratio - 1.0) * minor, max_extended_width)
            _flag_ellipse(work, i, g, min(g + groups_masked + 1, ngroups),
                          float(_py_round(cy)), float(_py_round(cx)),
                          float(_py_round(a_major / 2)), float(_py_round(a_minor / 2)), theta,
                          jump, sat)
    before = _mean_rates(data, gdq, bad)
    after = _mean_rates(data, work, bad)
    change = np.abs(before - after)
    revert = ~np.isfinite(change) | (change > max_shower_amplitude)
    ii, yy, xx = np.nonzero(revert)
    work[ii, :, yy, xx] = gdq[ii, :, yy, xx]
    return work, total
