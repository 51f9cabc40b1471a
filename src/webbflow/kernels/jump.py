"""Two-point-difference jump (cosmic-ray) detection, the algorithm of the JWST ``jump`` step.

Reference: Anderson & Gordon 2011, PASP 123, 1237 ("Optimal cosmic-ray detection for
nondestructive read ramps"); the JWST ``jump`` step documentation; stcal's
``twopoint_difference`` (read to learn the algorithm and its parameter semantics; this is an
independent implementation).

For each pixel the first differences of consecutive good groups are formed (a difference is
usable when both of its groups are free of DO_NOT_USE and SATURATED), pooled over all
integrations. A difference is an outlier when

    ratio = |d - m| / sigma,   sigma = sqrt(|m| + rn**2 / nframes)          (electrons)

exceeds the rejection threshold, with ``m`` a median of the differences and ``rn`` the
READNOISE reference value (CDS noise) times the gain. Three detection modes, chosen for the
whole exposure exactly as the official step does:

* iterative (fewer than ``min_diffs_single_pass`` usable differences per integration): the
  largest ratio is flagged, removed and the clipped median recomputed until nothing exceeds
  the threshold; the threshold depends on the usable differences left (>= 4:
  ``rejection_threshold``, 3: ``four_group_rejection_threshold``, 2:
  ``three_group_rejection_threshold``);
* single pass (enough differences): every difference above ``rejection_threshold`` against the
  plain median is flagged at once;
* sigma clipping across integrations (``minimum_sigclip_groups`` integrations, or total groups
  when ``only_use_ints`` is False): astropy-style iterative median/std clipping (5 iterations).

A flagged difference ``k`` puts JUMP_DET on group ``k + 1``. Then the four neighbours of jumps
whose ratio lies strictly between ``min_jump_to_flag_neighbors`` and
``max_jump_to_flag_neighbors`` are flagged, and groups after large jumps are flagged for
``after_jump_flag_time1/2`` seconds.

All kernels are ``@njit(cache=True)`` functions on arrays; every parallel loop writes only the
pixels (rows) it owns, so results do not depend on the thread count. Data are float32, all
arithmetic float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange

from .jump_noise import STRICT_FACTOR, common_mode, detect_pass_clean
from .simple import sort_head

__all__ = ["DEFAULT_PARAMS", "JumpStats", "detect_jumps"]

#: Official parameter names and defaults of the ``jump`` step handled by :func:`detect_jumps`.
DEFAULT_PARAMS: dict[str, Any] = {
    "rejection_threshold": 4.0,
    "three_group_rejection_threshold": 6.0,
    "four_group_rejection_threshold": 5.0,
    "flag_4_neighbors": True,
    "max_jump_to_flag_neighbors": 1000.0,
    "min_jump_to_flag_neighbors": 10.0,
    "after_jump_flag_dn1": 0.0,
    "after_jump_flag_time1": 0.0,
    "after_jump_flag_dn2": 0.0,
    "after_jump_flag_time2": 0.0,
    "min_diffs_single_pass": 10,
    "minimum_groups": 3,
    "minimum_sigclip_groups": 100,
    "only_use_ints": True,
    # large events ("snowballs"), see webbflow.kernels.snowball
    "expand_large_events": False,
    "min_sat_area": 1.0,
    "min_jump_area": 5.0,
    "expand_factor": 2.0,
    "sat_required_snowball": True,
    "min_sat_radius_extend": 2.5,
    "sat_expand": 2,
    "edge_size": 25,
    "max_extended_radius": 200,
    "mask_snowball_core_next_int": True,
    "snowball_time_masked_next_int": 4000.0,
    # webbflow's noise-aware test (not official), see webbflow.kernels.jump_noise
    "noise_aware": True,
}

_MODE_SKIP, _MODE_ITERATIVE, _MODE_SINGLE, _MODE_SIGCLIP = 0, 1, 2, 3


@dataclass(frozen=True)
class JumpStats:
    """Counts from one :func:`detect_jumps` call (group-pixels newly given JUMP_DET).

    ``mode`` is "iterative", "single_pass", "sigma_clip" or "skipped".
    """

    mode: str
    n_primary: int
    n_neighbors: int
    n_after_jump: int
    n_snowballs: int
    n_pixels_with_jump: int


# --------------------------------------------------------------------------------------------
# small per-pixel helpers
# --------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _median_sorted_inplace(buf, n):
    """Median of ``buf[:n]`` (finite values); sorts ``buf[:n]`` in place with
    :func:`webbflow.kernels.simple.sort_head` (no allocation, no ``np.sort``)."""
    sort_head(buf, n)
    s = buf
    if n % 2 == 1:
        return s[n // 2]
    return 0.5 * (s[n // 2 - 1] + s[n // 2])


@njit(cache=True, inline="always")
def _clipped_median(vals, buf):
    """Clipped median of the finite entries of ``vals`` (official ``calc_med_first_diffs``).

    >= 4 finite values: every value equal to the maximum is dropped, then the median;
    3 values: median; 2 values: minimum; fewer: NaN.
    """
    n = 0
    vmax = -np.inf
    vmin = np.inf
    for k in range(vals.size):
        v = vals[k]
        if np.isfinite(v):
            n += 1
            if v > vmax:
                vmax = v
            if v < vmin:
                vmin = v
    if n < 2:
        return np.nan
    if n == 2:
        return vmin
    m = 0
    for k in range(vals.size):
        v = vals[k]
        if np.isfinite(v) and not (n >= 4 and v == vmax):
            buf[m] = v
            m += 1
    if m == 0:
        return np.nan
    return _median_sorted_inplace(buf, m)


@njit(cache=True, inline="always")
def _pixel_diffs(data, gdq, y, x, bad_bits, out):
    """First differences of pixel (y, x), electrons not applied; NaN where unusable.

    ``out`` has shape (nints, ngroups - 1).
    """
    nints, ngroups = data.shape[0], data.shape[1]
    for i in range(nints):
        for k in range(ngroups - 1):
            if (gdq[i, k, y, x] & bad_bits) != 0 or (gdq[i, k + 1, y, x] & bad_bits) != 0:
                out[i, k] = np.nan
            else:
                out[i, k] = np.float64(data[i, k + 1, y, x]) - np.float64(data[i, k, y, x])


@njit(cache=True, inline="always")
def _nanmedian_flat(vals2d, buf):
    n = 0
    for i in range(vals2d.shape[0]):
        for k in range(vals2d.shape[1]):
            v = vals2d[i, k]
            if np.isfinite(v):
                buf[n] = v
                n += 1
    if n == 0:
        return np.nan
    return _median_sorted_inplace(buf, n)


@njit(cache=True, inline="always")
def _sigma_e(med_e, rn_e, nframes):
    """Noise of one difference in electrons; NaN where it is zero (no jump can be found)."""
    s = np.sqrt(abs(med_e) + rn_e * rn_e / nframes)
    if s == 0.0:
        return np.nan
    return s


# --------------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------------


@njit(parallel=True, cache=True)
def pixel_median_sigma(data, gdq, readnoise, gain, nframes, bad_bits, med_out, sig_out):
    """Plain median of all usable differences and its sigma, per pixel (electrons).

    data (nints, ngroups, ny, nx) float32 DN; gdq same shape uint8; readnoise, gain (ny, nx);
    med_out, sig_out (ny, nx) float64 written (NaN where undefined or the gain is not > 0).
    """
    nints, ngroups, ny, nx = data.shape
    for y in prange(ny):
        d = np.empty((nints, ngroups - 1), dtype=np.float64)
        buf = np.empty(nints * (ngroups - 1), dtype=np.float64)
        for x in range(nx):
            g = np.float64(gain[y, x])
            if not (g > 0.0) or not np.isfinite(g):
                med_out[y, x] = np.nan
                sig_out[y, x] = np.nan
                continue
            _pixel_diffs(data, gdq, y, x, bad_bits, d)
            m = _nanmedian_flat(d, buf) * g
            med_out[y, x] = m
            sig_out[y, x] = _sigma_e(m, np.float64(readnoise[y, x]) * g, nframes)


@njit(cache=True, inline="always")
def _iterate_pixel(a, buf, ratio, rn_e, nframes, thr_normal, thr_3diff, thr_2diff, nd, y, x,
                   jump_bit, out_gdq):
    """Iterative rejection on one pixel's pooled absolute differences ``a`` (electrons, NaN
    = unusable; consumed). Returns the number of group-pixels newly flagged."""
    new = 0
    for _ in range(a.size):
        n = 0
        for j in range(a.size):
            if np.isfinite(a[j]):
                n += 1
        if n < 2:
            break
        med = _clipped_median(a, buf)
        sig = _sigma_e(med, rn_e, nframes)
        rmax = -np.inf
        for j in range(a.size):
            r = abs(a[j] - med) / sig
            ratio[j] = r
            if np.isfinite(r) and r > rmax:
                rmax = r
        if n >= 4:
            thr = thr_normal
        elif n == 3:
            thr = thr_3diff
        else:
            thr = thr_2diff
        if not (rmax > thr):
            break
        for j in range(a.size):
            if ratio[j] == rmax:
                a[j] = np.nan
                i = j // nd
                k = j - i * nd
                if (out_gdq[i, k + 1, y, x] & jump_bit) == 0:
                    out_gdq[i, k + 1, y, x] |= jump_bit
                    new += 1
    return new


@njit(parallel=True, cache=True)
def detect_pass(data, gdq, readnoise, gain, nframes, single_pass, thr_normal, thr_3diff,
                thr_2diff, bad_bits, jump_bit, out_gdq, med_out, sig_out, counts, pixjump):
    """Iterative or single-pass detection in one sweep over the ramp, one row per task.

    Per pixel: first differences of all integrations (NaN where a group is DO_NOT_USE or
    SATURATED), then either the iterative rejection (pooled absolute differences of all
    integrations, as the official iterative path: the largest ratio against the clipped
    median is flagged and removed while it exceeds the threshold for the usable differences
    left, >= 4: thr_normal, 3: thr_3diff, 2: thr_2diff) or the single pass (every difference
    whose ratio against the plain median exceeds ``thr_normal``). ``med_out``/``sig_out``
    (ny, nx) float64 receive the plain median of the differences and its sigma (electrons)
    wherever the pixel has a JUMP_DET group afterwards (or always in single-pass mode), NaN
    elsewhere: later passes only read them at jumps, so the median sort is skipped for the
    other pixels. ``counts`` (ny, 2) int64: new flags and pixels with a new flag, per row;
    ``pixjump`` (ny, nx) bool: the pixel has a JUMP_DET group afterwards.
    """
    ny = data.shape[2]
    for y in prange(ny):
        _detect_row(data, gdq, readnoise, gain, nframes, single_pass, thr_normal, thr_3diff,
                    thr_2diff, bad_bits, jump_bit, out_gdq, med_out, sig_out, counts, pixjump,
                    y)


@njit(cache=True, inline="always")
def _detect_row(data, gdq, readnoise, gain, nframes, single_pass, thr_normal, thr_3diff,
                thr_2diff, bad_bits, jump_bit, out_gdq, med_out, sig_out, counts, pixjump, y):
    """Row ``y`` of :func:`detect_pass` (inlined into its parallel loop: called as a
    separate function from a parfor, its arrays lose their layout and it runs ~3x slower)."""
    nints, ngroups, _, nx = data.shape
    nd = ngroups - 1
    d = np.empty((nints, nd), dtype=np.float64)
    a = np.empty(nints * nd, dtype=np.float64)
    buf = np.empty(nints * nd, dtype=np.float64)
    ratio = np.empty(nints * nd, dtype=np.float64)
    n_new = 0
    n_pix = 0
    for x in range(nx):
        g = np.float64(gain[y, x])
        if not (g > 0.0) or not np.isfinite(g):
            med_out[y, x] = np.nan
            sig_out[y, x] = np.nan
            has = False
            for i in range(nints):
                for k in range(ngroups):
                    if (out_gdq[i, k, y, x] & jump_bit) != 0:
                        has = True
            pixjump[y, x] = has
            continue
        rn_e = np.float64(readnoise[y, x]) * g
        _pixel_diffs(data, gdq, y, x, bad_bits, d)
        new = 0
        m = np.nan
        s = np.nan
        if single_pass:
            m = _nanmedian_flat(d, buf) * g
            s = _sigma_e(m, rn_e, nframes)
            if np.isfinite(s):
                for i in range(nints):
                    for k in range(nd):
                        r = abs(d[i, k] * g - m) / s
                        if r > thr_normal and (out_gdq[i, k + 1, y, x] & jump_bit) == 0:
                            out_gdq[i, k + 1, y, x] |= jump_bit
                            new += 1
        else:
            n = 0
            vmin = np.inf
            vmax = -np.inf
            for i in range(nints):
                for k in range(nd):
                    v = abs(d[i, k]) * g
                    a[i * nd + k] = v
                    if np.isfinite(v):
                        n += 1
                        vmin = min(vmin, v)
                        vmax = max(vmax, v)
            # every ratio |a - med| / sigma(med) is at most (vmax - vmin) / sigma(vmin) (the
            # median lies in [vmin, vmax] and rounding is monotonic): below the threshold no
            # difference can be flagged, and the median sort is skipped (most pixels)
            thr = thr_normal if n >= 4 else (thr_3diff if n == 3 else thr_2diff)
            low = _sigma_e(vmin, rn_e, nframes) if n >= 2 else np.nan
            if n >= 2 and not ((vmax - vmin) / low <= thr):
                new = _iterate_pixel(a, buf, ratio, rn_e, nframes, thr_normal, thr_3diff,
                                     thr_2diff, nd, y, x, jump_bit, out_gdq)
        has = new > 0
        if not has:
            for i in range(nints):
                for k in range(ngroups):
                    if (out_gdq[i, k, y, x] & jump_bit) != 0:
                        has = True
        if has and not single_pass:
            m = _nanmedian_flat(d, buf) * g
            s = _sigma_e(m, rn_e, nframes)
        med_out[y, x] = m
        sig_out[y, x] = s
        if new > 0:
            n_new += new
            n_pix += 1
        pixjump[y, x] = has
    counts[y, 0] = n_new
    counts[y, 1] = n_pix


@njit(cache=True)
def _sigma_clip_mask(vals, n, sigma, maxiters, keep, buf):
    """astropy ``sigma_clip`` (median centre, population std, ``maxiters``) on ``vals[:n]``.

    ``keep[:n]`` is set True for values that survive; NaNs are never kept.
    """
    for j in range(n):
        keep[j] = np.isfinite(vals[j])
    for _ in range(maxiters):
        m = 0
        for j in range(n):
            if keep[j]:
                buf[m] = vals[j]
                m += 1
        if m == 0:
            return
        cen = _median_sorted_inplace(buf, m)
        mean = 0.0
        for j in range(m):
            mean += buf[j]
        mean /= m
        var = 0.0
        for j in range(m):
            var += (buf[j] - mean) * (buf[j] - mean)
        std = np.sqrt(var / m)
        lo = cen - sigma * std
        hi = cen + sigma * std
        changed = 0
        for j in range(n):
            if keep[j] and (vals[j] < lo or vals[j] > hi):
                keep[j] = False
                changed += 1
        if changed == 0:
            return


@njit(parallel=True, cache=True)
def detect_sigma_clip(data, gdq, thr_normal, only_use_ints, bad_bits, jump_bit, out_gdq):
    """Sigma clipping of differences across integrations (per group, ``only_use_ints``) or
    across all integrations and groups; clipped usable differences are jumps.

    Returns new flags per row (ny,).
    """
    nints, ngroups, ny, nx = data.shape
    nd = ngroups - 1
    counts = np.zeros(ny, dtype=np.int64)
    for y in prange(ny):
        d = np.empty((nints, nd), dtype=np.float64)
        vals = np.empty(nints * nd, dtype=np.float64)
        keep = np.empty(nints * nd, dtype=np.bool_)
        buf = np.empty(nints * nd, dtype=np.float64)
        for x in range(nx):
            _pixel_diffs(data, gdq, y, x, bad_bits, d)
            if only_use_ints:
                for k in range(nd):
                    for i in range(nints):
                        vals[i] = d[i, k]
                    _sigma_clip_mask(vals, nints, thr_normal, 5, keep, buf)
                    for i in range(nints):
                        if np.isfinite(vals[i]) and not keep[i]:
                            if (out_gdq[i, k + 1, y, x] & jump_bit) == 0:
                                out_gdq[i, k + 1, y, x] |= jump_bit
                                counts[y] += 1
            else:
                for i in range(nints):
                    for k in range(nd):
                        vals[i * nd + k] = d[i, k]
                _sigma_clip_mask(vals, nints * nd, thr_normal, 5, keep, buf)
                for j in range(nints * nd):
                    if np.isfinite(vals[j]) and not keep[j]:
                        i = j // nd
                        k = j - i * nd
                        if (out_gdq[i, k + 1, y, x] & jump_bit) == 0:
                            out_gdq[i, k + 1, y, x] |= jump_bit
                            counts[y] += 1
    return counts


@njit(cache=True)
def clear_jump_only_planes(gdq, jump_bit, dnu_bit):
    """Where every pixel of a group plane has JUMP_DET or DO_NOT_USE (a sigma-clipping
    artefact of a whole-frame event), clear the pixels whose flag is exactly JUMP_DET.
    Returns the number of group-pixels cleared."""
    nints, ngroups, ny, nx = gdq.shape
    cleared = 0
    both = jump_bit | dnu_bit
    for i in range(nints):
        for g in range(ngroups):
            full = True
            for y in range(ny):
                for x in range(nx):
                    if (gdq[i, g, y, x] & both) == 0:
                        full = False
                        break
                if not full:
                    break
            if full:
                for y in range(ny):
                    for x in range(nx):
                        if gdq[i, g, y, x] == jump_bit:
                            gdq[i, g, y, x] = 0
                            cleared += 1
    return cleared


@njit(cache=True, inline="always")
def _is_neighbor_source(data, src, med_e, sig_e, gain, i, g, y, x, bad_bits, jump_bit,
                        min_sig, max_sig):
    if (src[i, g, y, x] & jump_bit) == 0:
        return False
    if (src[i, g, y, x] & bad_bits) != 0 or (src[i, g - 1, y, x] & bad_bits) != 0:
        return False
    d = (np.float64(data[i, g, y, x]) - np.float64(data[i, g - 1, y, x])) * np.float64(
        gain[y, x])
    r = abs(d - med_e[y, x]) / sig_e[y, x]
    return r < max_sig and r > min_sig


@njit(parallel=True, cache=True)
def flag_neighbors(data, src, med_e, sig_e, gain, min_sig, max_sig, bad_bits, jump_bit,
                   out_gdq, pixjump):
    """Flag the 4 neighbours of jumps whose ratio is in (min_sig, max_sig).

    ``src`` is the group DQ after detection (read only); each pixel of ``out_gdq`` looks at its
    own four neighbours (gather form, so no two threads write the same pixel). Neighbours
    with DO_NOT_USE or SATURATED are left alone. ``pixjump`` (ny, nx) bool marks the pixels
    with any JUMP_DET in ``src``: a pixel none of whose 4 neighbours has one is skipped at
    once (most pixels). Returns new flags per row (ny,).
    """
    nints, ngroups, ny, nx = data.shape
    counts = np.zeros(ny, dtype=np.int64)
    for y in prange(ny):
        for x in range(nx):
            if not ((y > 0 and pixjump[y - 1, x]) or (y < ny - 1 and pixjump[y + 1, x])
                    or (x > 0 and pixjump[y, x - 1]) or (x < nx - 1 and pixjump[y, x + 1])):
                continue
            for i in range(nints):
                for g in range(1, ngroups):
                    if (src[i, g, y, x] & (bad_bits | jump_bit)) != 0:
                        continue
                    hit = False
                    if y > 0 and _is_neighbor_source(data, src, med_e, sig_e, gain, i, g,
                                                     y - 1, x, bad_bits, jump_bit, min_sig,
                                                     max_sig):
                        hit = True
                    elif y < ny - 1 and _is_neighbor_source(data, src, med_e, sig_e, gain, i,
                                                            g, y + 1, x, bad_bits, jump_bit,
                                                            min_sig, max_sig):
                        hit = True
                    elif x > 0 and _is_neighbor_source(data, src, med_e, sig_e, gain, i, g,
                                                       y, x - 1, bad_bits, jump_bit, min_sig,
                                                       max_sig):
                        hit = True
                    elif x < nx - 1 and _is_neighbor_source(data, src, med_e, sig_e, gain, i,
                                                            g, y, x + 1, bad_bits, jump_bit,
                                                            min_sig, max_sig):
                        hit = True
                    if hit:
                        out_gdq[i, g, y, x] |= jump_bit
                        counts[y] += 1
    return counts


@njit(parallel=True, cache=True)
def flag_after_jumps(data, med_e, gain, e_thresh1, n1, e_thresh2, n2, bad_bits, jump_bit,
                     gdq):
    """Flag groups after jumps: a JUMP_DET group ``g`` whose difference above the median,
    ``(d - m)`` in electrons, is >= ``e_thresh1`` (resp. 2) gets groups ``g+1 .. g+n1`` (resp.
    n2) flagged too, at most ``ngroups - 2`` groups on, skipping DO_NOT_USE/SATURATED groups.

    Only jumps present on entry trigger (new flags do not cascade). Returns new flags per row.
    """
    nints, ngroups, ny, nx = data.shape
    counts = np.zeros(ny, dtype=np.int64)
    n1 = min(n1, ngroups - 2)
    n2 = min(n2, ngroups - 2)
    for y in prange(ny):
        reach = np.empty(ngroups, dtype=np.int64)
        for x in range(nx):
            g_ = np.float64(gain[y, x])
            m = med_e[y, x]
            for i in range(nints):
                last = -1
                for g in range(1, ngroups):
                    reach[g] = -1
                    if (gdq[i, g, y, x] & jump_bit) == 0:
                        continue
                    if (gdq[i, g, y, x] & bad_bits) != 0 or (gdq[i, g - 1, y, x] & bad_bits) != 0:
                        continue
                    e = (np.float64(data[i, g, y, x]) - np.float64(data[i, g - 1, y, x])) * g_ - m
                    r = -1
                    if n1 > 0 and e >= e_thresh1:
                        r = g + n1
                    if n2 > 0 and e >= e_thresh2 and g + n2 > r:
                        r = g + n2
                    reach[g] = r
                for g in range(1, ngroups):
                    if reach[g] > last:
                        last = reach[g]
                    if g <= last and (gdq[i, g, y, x] & (bad_bits | jump_bit)) == 0:
                        gdq[i, g, y, x] |= jump_bit
                        counts[y] += 1
    return counts


@njit(cache=True)
def drop_redundant_jumps(gdq, jump_bit, dnu_bit, sat_bit):
    """Remove JUMP_DET where DO_NOT_USE or SATURATED is also set (as the official step).
    Serial: one memory-bound pass over the group DQ, not worth a parallel compile."""
    nints, ngroups, ny, nx = gdq.shape
    for y in range(ny):
        for i in range(nints):
            for g in range(ngroups):
                for x in range(nx):
                    v = gdq[i, g, y, x]
                    if (v & jump_bit) != 0 and (v & (dnu_bit | sat_bit)) != 0:
                        gdq[i, g, y, x] = v & ~jump_bit


# --------------------------------------------------------------------------------------------
# Python wrapper
# --------------------------------------------------------------------------------------------


def _flag(flags: dict[str, int], name: str) -> int:
    for key in (name, name.upper(), name.lower()):
        if key in flags:
            return int(flags[key])
    raise KeyError(f"flags must give {name!r} (also accepted: {name.upper()!r})")


def _choose_mode(gdq: np.ndarray, dnu: int, p: dict[str, Any]) -> int:
    """Exposure-level choice between skip / iterative / single pass / sigma clipping."""
    nints, ngroups = gdq.shape[:2]
    all_dnu = np.zeros((nints, ngroups), dtype=bool)
    for i in range(nints):
        for g in range(ngroups):
            plane = gdq[i, g]
            # one pixel without DO_NOT_USE settles it (the usual case), else test the plane
            all_dnu[i, g] = bool(plane.flat[0] & dnu) and bool(
                np.all(np.bitwise_and(plane, dnu) != 0))
    flagged_per_int = all_dnu.sum(axis=1)
    min_usable_groups = ngroups - int(flagged_per_int.max())
    total_groups = nints * ngroups - int(flagged_per_int.sum())
    if p["only_use_ints"]:
        sigclip = nints >= p["minimum_sigclip_groups"]
    else:
        sigclip = total_groups >= p["minimum_sigclip_groups"]
    if sigclip:
        return _MODE_SIGCLIP
    if min_usable_groups < p["minimum_groups"]:
        return _MODE_SKIP
    if min_usable_groups - 1 >= p["min_diffs_single_pass"]:
        return _MODE_SINGLE
    return _MODE_ITERATIVE


def _check_params(params: dict[str, Any]) -> dict[str, Any]:
    unknown = set(params) - set(DEFAULT_PARAMS)
    if unknown:
        raise TypeError(f"unknown jump parameter(s): {sorted(unknown)}")
    p = {**DEFAULT_PARAMS, **params}
    for name in ("rejection_threshold", "three_group_rejection_threshold",
                 "four_group_rejection_threshold"):
        if not float(p[name]) >= 0:
            raise ValueError(f"{name} must be >= 0, got {p[name]!r}")
    for name in ("after_jump_flag_time1", "after_jump_flag_time2"):
        if not float(p[name]) >= 0:
            raise ValueError(f"{name} must be >= 0, got {p[name]!r}")
    return p


def detect_jumps(
    data: np.ndarray,
    groupdq: np.ndarray,
    readnoise: np.ndarray,
    gain: np.ndarray,
    *,
    nframes: int,
    frame_time: float,
    group_time: float,
    flags: dict[str, int],
    out: np.ndarray | None = None,
    amplifier: np.ndarray | None = None,
    lines_are_columns: bool = False,
    **params: Any,
) -> tuple[np.ndarray, JumpStats]:
    """Detect jumps with the two-point-difference method of the JWST ``jump`` step.

    Parameters
    ----------
    data : ndarray, (nints, ngroups, ny, nx) float32
        Ramps in DN (after saturation, superbias, refpix, linearity, dark).
    groupdq : ndarray, (nints, ngroups, ny, nx) uint8
        Group DQ; not modified (a new array is returned) unless it is ``out``.
    readnoise : ndarray, (ny, nx)
        READNOISE reference values in DN (CDS noise, i.e. of one group difference at
        nframes = 1).
    gain : ndarray, (ny, nx)
        Gain in e/DN. Pixels with a gain that is not finite and > 0 get no jumps.
    nframes : int
        Frames averaged per group.
    frame_time, group_time : float
        Seconds; ``group_time`` turns ``after_jump_flag_time1/2`` into group counts.
    flags : dict
        DQ bit values for ``do_not_use``, ``saturated`` and ``jump_det`` (keys in either case).
    out : ndarray, (nints, ngroups, ny, nx) uint8 C-contiguous, optional
        Group DQ to write; may be ``groupdq`` itself (flags added in place).
    amplifier : ndarray of int, optional
        With ``noise_aware``: the amplifier (output) index of each column, (nx,), or of each
        row, (ny,), when ``lines_are_columns``; default one amplifier.
    lines_are_columns : bool
        With ``noise_aware``: the detector's readout lines (where 1/f noise is common) are
        columns of these arrays (NIRSpec, NIRISS in the DMS orientation), not rows.
    **params
        The official step parameters, see :data:`DEFAULT_PARAMS` (``rejection_threshold``,
        ``three_group_rejection_threshold``, ``four_group_rejection_threshold``,
        ``flag_4_neighbors``, ``max_jump_to_flag_neighbors``, ``min_jump_to_flag_neighbors``
        (sigma), ``after_jump_flag_dn1/2`` (DN), ``after_jump_flag_time1/2`` (s),
        ``min_diffs_single_pass``, ``minimum_groups``, ``minimum_sigclip_groups``,
        ``only_use_ints``, and the large-event options ``expand_large_events`` ...), and
        webbflow's ``noise_aware`` (default True; False: the official test exactly): per-row,
        per-amplifier common offsets removed from the differences and a centre without the
        tested difference's neighbours (see :mod:`webbflow.kernels.jump_noise`). It changes
        the iterative and single-pass modes, not sigma clipping.

    Returns
    -------
    groupdq : ndarray, (nints, ngroups, ny, nx) uint8
        The input (a copy, or ``out``) with JUMP_DET (and, for large events, SATURATED) added.
    stats : JumpStats
    """
    p = _check_params(params)
    data = np.asarray(data)
    groupdq = np.asarray(groupdq)
    if data.ndim != 4:
        raise ValueError(f"data must be 4-D (nints, ngroups, ny, nx), got shape {data.shape}")
    if data.dtype != np.float32:
        raise TypeError(f"data must be float32, got {data.dtype}")
    if groupdq.shape != data.shape or groupdq.dtype != np.uint8:
        raise ValueError(f"groupdq must be uint8 of shape {data.shape}, got "
                         f"{groupdq.dtype} {groupdq.shape}")
    _, ngroups, ny, nx = data.shape
    readnoise = np.ascontiguousarray(readnoise, dtype=np.float32)
    gain = np.ascontiguousarray(gain, dtype=np.float32)
    if readnoise.shape != (ny, nx) or gain.shape != (ny, nx):
        raise ValueError(f"readnoise and gain must have shape {(ny, nx)}")
    if int(nframes) < 1:
        raise ValueError("nframes must be >= 1")
    if not float(group_time) > 0:
        raise ValueError("group_time must be > 0")
    dnu = _flag(flags, "do_not_use")
    sat = _flag(flags, "saturated")
    jump = _flag(flags, "jump_det")
    bad = dnu | sat

    data = np.ascontiguousarray(data)
    src = np.ascontiguousarray(groupdq)
    if out is None:
        out = src.copy()
    elif out.shape != src.shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise ValueError(f"out must be uint8 C-contiguous of shape {src.shape}")
    elif out is not src:
        out[...] = src
    if ngroups < 3:
        return out, JumpStats("skipped", 0, 0, 0, 0, 0)

    mode = _choose_mode(src, dnu, p)
    if mode == _MODE_SKIP:
        return out, JumpStats("skipped", 0, 0, 0, 0, 0)

    nfr = float(nframes)
    med_e = np.empty((ny, nx), dtype=np.float64)
    sig_e = np.empty((ny, nx), dtype=np.float64)
    thr = float(p["rejection_threshold"])
    if mode == _MODE_SIGCLIP:
        if src is out:
            src = out.copy()  # the input flags, read while new ones are added
        pixel_median_sigma(data, src, readnoise, gain, nfr, bad, med_e, sig_e)
        n_primary = int(detect_sigma_clip(data, src, thr, bool(p["only_use_ints"]), bad, jump,
                                          out).sum())
        n_primary -= int(clear_jump_only_planes(out, jump, dnu))
        mode_name = "sigma_clip"
        has_jump = (out & jump) != 0
        n_pix = int(np.any(has_jump & ((src & jump) == 0), axis=(0, 1)).sum())
        pixjump = np.any(has_jump, axis=(0, 1))
        del has_jump
    else:
        counts = np.zeros((ny, 2), dtype=np.int64)
        pixjump = np.empty((ny, nx), dtype=bool)
        # detection reads only DO_NOT_USE/SATURATED and adds only JUMP_DET: ``out`` serves as
        # its input flags too
        thr4 = float(p["four_group_rejection_threshold"])
        thr3 = float(p["three_group_rejection_threshold"])
        if p["noise_aware"]:
            off, seg = common_mode(data, out, readnoise, gain, nfr, bad, amplifier,
                                    bool(lines_are_columns))
            # always iterative: the single pass would test every difference against a mean
            # that still holds the hit, so a ramp's other differences would look low and be
            # flagged too (the official single pass uses a median); the skip bound keeps the
            # iterations to the few pixels that can hold a jump
            detect_pass_clean(data, out, readnoise, gain, nfr, False, thr, thr4,
                              thr3, STRICT_FACTOR, bad, jump, off, bool(lines_are_columns), seg,
                              out, med_e, sig_e, counts, pixjump)
        else:
            detect_pass(data, out, readnoise, gain, nfr, mode == _MODE_SINGLE, thr, thr4, thr3,
                        bad, jump, out, med_e, sig_e, counts, pixjump)
        n_primary, n_pix = (int(v) for v in counts.sum(axis=0))
        mode_name = ("single_pass" if mode == _MODE_SINGLE and not p["noise_aware"]
                     else "iterative")

    n_neigh = 0
    if p["flag_4_neighbors"] and pixjump.any():
        detected = out.copy()
        n_neigh = int(flag_neighbors(
            data, detected, med_e, sig_e, gain, float(p["min_jump_to_flag_neighbors"]),
            float(p["max_jump_to_flag_neighbors"]), bad, jump, out, pixjump).sum())
        del detected

    n1 = int(float(p["after_jump_flag_time1"]) // float(group_time))
    n2 = int(float(p["after_jump_flag_time2"]) // float(group_time))
    n_after = 0
    if n1 > 0 or n2 > 0:
        # the official step scales the DN thresholds by the median gain of the array
        gmed = float(np.nanmedian(np.where(gain > 0, gain, np.nan))) if np.any(gain > 0) else 0.0
        n_after = int(flag_after_jumps(
            data, med_e, gain, float(p["after_jump_flag_dn1"]) * gmed, n1,
            float(p["after_jump_flag_dn2"]) * gmed, n2, bad, jump, out).sum())

    drop_redundant_jumps(out, jump, dnu, sat)

    n_snow = 0
    if p["expand_large_events"]:
        from webbflow.kernels.snowball import flag_large_events

        n_snow = flag_large_events(
            out, jump_bit=jump, sat_bit=sat,
            min_sat_area=float(p["min_sat_area"]), min_jump_area=float(p["min_jump_area"]),
            expand_factor=float(p["expand_factor"]),
            sat_required_snowball=bool(p["sat_required_snowball"]),
            min_sat_radius_extend=float(p["min_sat_radius_extend"]),
            sat_expand=2.0 * float(p["sat_expand"]), edge_size=int(p["edge_size"]),
            max_extended_radius=2.0 * float(p["max_extended_radius"]),
            persist_groups=(int(float(p["snowball_time_masked_next_int"]) // float(group_time))
                            if p["mask_snowball_core_next_int"] else 0),
        )

    return out, JumpStats(mode_name, n_primary, n_neigh, n_after, n_snow, n_pix)
