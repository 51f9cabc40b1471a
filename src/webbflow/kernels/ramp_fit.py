"""Ordinary-least-squares ramp fitting with optimal (SNR-dependent) weighting.

This module reproduces the JWST ``ramp_fit`` step's default algorithm (stcal 1.20 ``OLS_C``,
jwst 3.0):

* Each integration's ramp is cut into *segments*: runs of groups whose GROUPDQ (PERSISTENCE
  ignored) is 0. A group flagged exactly JUMP_DET ends the current segment and becomes the
  first group of the next one (the jump difference itself is not fitted, the jump group's
  value is the next segment's start). Groups flagged DO_NOT_USE, SATURATED (or anything
  else) are dropped. One-group segments are dropped when a longer segment exists; when all
  are one group long only the first is kept.
* Each segment of three or more groups is fitted by weighted least squares with the
  Fixsen et al. (2000, PASP 112, 1350) "optimal" weights ``|(i - i_mid) / i_mid| ** P``,
  where the exponent ``P`` follows the segment's own signal-to-noise ratio (end-to-end
  difference, Regan 2007, JWST-STScI-001212). Two-group segments use their difference,
  one-group segments their value divided by the group time (or by the zeroth-group time
  ``(nframes + 1) * tframe / 2``).
* Segment variances: read noise ``12 R^2 / ((n^3 - n) t_g^2 g^2)`` with ``R`` the single-read
  noise in electrons, ``R = RN_CDS * g / sqrt(2 nframes)``; Poisson
  ``(rate_med + dark) / (t_g g (n - 1))`` with ``rate_med`` the pixel's median first
  difference rate averaged over integrations (differences ending on a JUMP_DET group
  excluded; zero when not positive).
* Combination (JP-4318, stcal >= 1.15): segment slopes are averaged with *read-noise*
  inverse-variance weights, within an integration and over integrations
  (``slope = sum_s(slope_s / var_r_s) / sum_s(1 / var_r_s)``); VAR_POISSON and VAR_RNOISE
  combine by inverse variance separately. The older total-variance weighting biases
  jump-split ramps (a short segment's Poisson variance depends on the pixel's own rate).
* DQ as the official C code sets it: an integration is DO_NOT_USE when every group is
  DO_NOT_USE or SATURATED, SATURATED | DO_NOT_USE when its first group is saturated, and
  SATURATED (without losing its rate) when any group saturated; the exposure is
  DO_NOT_USE / SATURATED when every integration is, and SATURATED when any integration
  saturated partially; JUMP_DET and PERSISTENCE propagate from any group.

References: stcal ramp_fitting documentation ("Description", "Special Cases", "Slope and
Variance Calculations", "Data Quality Propagation"); Fixsen et al. 2000.

Everything here is array-in, array-out: DQ bit values and exposure timings are arguments,
nothing is logged or read from disk. Every pixel is computed independently (all of its
integrations at once, in float64) inside one ``prange`` loop over image rows, so results are
identical for any number of threads. The public entry point is
:func:`webbflow.kernels.ramp_fit_api.fit_ramps`.

Speed notes (full frame 2048^2 x 10 groups, 2 threads; see ``ramp_fit_api``): one pass over
the ramp cube (median rate and fits share the per-pixel load); the ``powf`` weights come from
a table over (segment length, exponent, group) computed once per call, which is bit-identical
to calling ``powf`` per group (the C code's float32 power) and removes ~80 % of the former
run time; the median of <= ngroups-1 differences is a branchless insertion (max/min, no
data-dependent branch: the former shifting insertion sort mispredicted on noise and cost
~40 % of the kernel); the read-noise denominator n^3 - n is integer arithmetic (no pow).
Unflagged pixels (the large majority; groups DO_NOT_USE in every pixel, like MIRI's last
group, allowed) take a row path, :func:`_fit_clean_row`: the same arithmetic one step at a
time across the row, so that the divisions of many pixels overlap and the loops vectorise
(median by a sorting network across the row), bit-identical to the per-pixel path (1.30 ->
0.61 s CPU on the NIRCam full frame, 0.36 -> 0.14 s on the MIRI one, one thread).
Rows are visited in an interleaved order so that each thread's contiguous share of the
``prange`` spreads over the whole detector (bright or saturated regions cost
differently). Tried and dropped: copying each row block into a contiguous float64 buffer
first (no gain; the strided reads of one row stay in L2).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# Variances at or above this value are reported as 0, as the official pipeline does (the
# historical LARGE_VARIANCE_THRESHOLD). A literal, not a module global read by the kernels.
_LARGE_VARIANCE_THRESHOLD = 1.0e6

# error_model="numpy": divisions by zero give inf/nan (as in C) instead of raising.
_JIT = {"cache": True, "error_model": "numpy"}
_PJIT = {"cache": True, "error_model": "numpy", "parallel": True}
# Per-pixel helpers are inlined into the prange loop at numba-IR level: a call that passes
# arrays costs reference-count updates, which dominated the run time before.
_IJIT = {"cache": True, "error_model": "numpy", "inline": "always"}


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------


@njit(**_IJIT)
def _snr_power_index(snr):
    """Index into :func:`weight_table`'s exponents (0, 0.4, 1, 3, 6, 10) for a segment SNR
    (Fixsen et al. 2000 table)."""
    if snr < 5.0:
        return 0
    if snr < 10.0:
        return 1
    if snr < 20.0:
        return 2
    if snr < 50.0:
        return 3
    if snr < 100.0:
        return 4
    return 5


@njit(**_JIT)
def weight_table(ngroups):
    """Optimal weights ``|(i - mid) / mid| ** P`` for every segment length and exponent.

    Returns float64 (ngroups + 1, 6, ngroups): ``[n, p, i]`` is the weight of group ``i`` of
    an ``n``-group segment (n >= 3) for the exponent ``(0, 0.4, 1, 3, 6, 10)[p]``. The power
    is taken in single precision (``powf``), as the official C code does; numba's
    float32 ** float32 calls the same libm powf (checked bit for bit).
    """
    powers = np.array([0.0, 0.4, 1.0, 3.0, 6.0, 10.0], dtype=np.float32)
    tab = np.zeros((ngroups + 1, 6, max(ngroups, 1)), dtype=np.float64)
    for n in range(3, ngroups + 1):
        mid = (n - 1) / 2.0
        invmid = 1.0 / mid
        for p in range(6):
            for i in range(n):
                base = np.float32(abs((i - mid) * invmid))
                tab[n, p, i] = np.float64(base ** powers[p])
    return tab


# --------------------------------------------------------------------------------------------
# per-pixel helpers (serial, called from the prange loop)
# --------------------------------------------------------------------------------------------


@njit(**_IJIT)
def _load_integration(data, gdq, i, y, x, firstgroup, lastgroup, suppress, dnu, sat, pers,
                      ramp, qual):
    """Copy integration ``i`` of one pixel into float64 ``ramp[i]`` and uint32 ``qual[i]``.

    Groups outside ``[firstgroup, lastgroup]`` get DO_NOT_USE; saturated groups become NaN.
    With ``suppress`` a ramp with exactly one good group (PERSISTENCE ignored) is flagged
    DO_NOT_USE throughout (stcal ``suppress_one_good_group_ramps``). Returns the number of
    groups whose DQ is exactly 0 afterwards.
    """
    ngroups = ramp.shape[1]
    npers = ~pers
    ngood_np = 0
    ngood = 0
    for g in range(ngroups):
        q = np.uint32(gdq[i, g, y, x])
        if g < firstgroup or g > lastgroup:
            q |= dnu
        qual[i, g] = q
        if q & sat:
            ramp[i, g] = np.nan
        else:
            ramp[i, g] = np.float64(data[i, g, y, x])
        if (q & npers) == 0:
            ngood_np += 1
        if q == 0:
            ngood += 1
    if suppress and ngood_np == 1:
        for g in range(ngroups):
            qual[i, g] |= dnu
        ngood = 0
    return ngood


@njit(**_IJIT)
def _integration_median_rate(ramp, qual, i, group_time, dnu, jump, work):
    """Median first-difference rate (DN/s) of one integration of one pixel (NaN if none).

    DO_NOT_USE and saturated (NaN) groups are excluded, as are differences ending on a
    JUMP_DET group. If no difference survives, the first group's value / group time is used
    (NaN when that group is unusable).
    """
    ngroups = ramp.shape[1]
    first = np.nan if qual[i, 0] & dnu else ramp[i, 0] / group_time
    n = 0
    prev = first
    for k in range(ngroups - 1):
        cur = np.nan if qual[i, k + 1] & dnu else ramp[i, k + 1] / group_time
        if not (qual[i, k + 1] & jump):
            d = cur - prev
            if not math.isnan(d):
                # branchless insertion as the values arrive (n <= ngroups - 1 is small):
                # the new j-th smallest is max(old (j-1)-th, min(old j-th, d))
                hi = d
                for j in range(n, 0, -1):
                    a = work[j - 1]
                    work[j] = a if a > hi else hi
                    hi = hi if a > hi else a
                work[0] = hi
                n += 1
        prev = cur
    if n == 0:
        return first
    half = n >> 1
    if n & 1:
        return work[half]
    return (work[half] + work[half - 1]) / 2.0


@njit(**_IJIT)
def _find_segments(qual, i, jump, pers, seg_start, seg_len):
    """Fill ``seg_start``/``seg_len`` with the ramp's segments; return how many there are.

    A segment is a run of groups with DQ == 0 (PERSISTENCE ignored), extended one group back
    over a group flagged exactly JUMP_DET. One-group segments are dropped when a longer
    segment exists; if all are one group long only the first is kept.
    """
    ngroups = qual.shape[1]
    npers = ~pers
    nseg = 0
    maxlen = 0
    in_seg = False
    start = 0
    for g in range(ngroups + 1):
        good = g < ngroups and (qual[i, g] & npers) == 0
        if good and not in_seg:
            start = g - 1 if (g > 0 and (qual[i, g - 1] & npers) == jump) else g
            in_seg = True
        elif not good and in_seg:
            length = g - start
            in_seg = False
            if length == 1 and maxlen > 1:
                continue
            seg_start[nseg] = start
            seg_len[nseg] = length
            nseg += 1
            maxlen = max(maxlen, length)
    if nseg < 2:
        return nseg
    if maxlen < 2:
        return 1
    kept = 0
    for s in range(nseg):
        if seg_len[s] > 1:
            seg_start[kept] = seg_start[s]
            seg_len[kept] = seg_len[s]
            kept += 1
    return kept


@njit(**_IJIT)
def _segment_slope(ramp, i, start, length, group_time, rn_e, gain, wtab):
    """Optimally weighted OLS slope (DN/s) of a segment of three or more groups."""
    # SNR of the segment from its own end-to-end difference, in electrons.
    diff = ramp[i, start + length - 1] - ramp[i, start]
    den = rn_e * rn_e + diff * gain
    if den <= 0.0 or gain == 0.0:
        snr = 0.0
    else:
        snr = diff * gain / math.sqrt(den)
        if snr < 0.0:
            snr = 0.0
    p = _snr_power_index(snr)
    invrn2 = 1.0 / (rn_e * rn_e)
    sw = sx = sxx = sy = sxy = 0.0
    for k in range(length):
        w = wtab[length, p, k] * invrn2
        xv = np.float64(k + start)
        d = ramp[i, start + k]
        if math.isnan(d):
            d = 0.0
        xw = xv * w
        sw += w
        sx += xw
        sxx += xv * xw
        sy += d * w
        sxy += d * xw
    return (sw * sxy - sx * sy) * (1.0 / (sw * sxx - sx * sx)) / group_time


@njit(**_IJIT)
def _fit_segment(ramp, i, start, length, t1, group_time, rn_e, gain, med_rate, dark, wtab):
    """Slope (DN/s), Poisson and read-noise variances (DN^2/s^2) of one segment of ``ramp[i]``.

    ``t1`` is the time of a one-group segment (group time, or the zeroth-group time).
    """
    if length == 1:
        slope = ramp[i, start] / t1
        timing = t1
        pden = t1 * gain
        rden = 6.0
    elif length == 2:
        slope = (ramp[i, start + 1] - ramp[i, start]) / group_time
        timing = group_time
        pden = group_time * gain
        rden = 6.0
    else:
        slope = _segment_slope(ramp, i, start, length, group_time, rn_e, gain, wtab)
        timing = group_time
        pden = group_time * gain * (length - 1.0)
        rden = np.float64(length * length * length - length)  # exact, no pow call
    if med_rate > 0.0:
        var_p = (med_rate + dark) / pden
    else:
        var_p = dark / pden
    if length > 2 and (gain <= 0.0 or math.isnan(gain)):
        var_r = 0.0
    else:
        r = rn_e / timing
        var_r = 12.0 * r * r / (rden * gain * gain)
    return slope, var_p, var_r


@njit(**_IJIT)
def _variances(invp, invr):
    """VAR_POISSON and VAR_RNOISE of an integration from its segments' summed inverse
    variances (0 where a sum is 0 or the variance reaches the large-variance threshold)."""
    var_p = 1.0 / invp if invp > 0.0 else 0.0
    if var_p >= _LARGE_VARIANCE_THRESHOLD:
        var_p = 0.0
    var_r = 1.0 / invr
    if var_r >= _LARGE_VARIANCE_THRESHOLD:
        var_r = 0.0
    return var_p, var_r


@njit(**_JIT)
def _usable_groups(gdq, firstgroup, lastgroup, dnu):
    """Per integration, the first and last group of [firstgroup, lastgroup] that is not
    DO_NOT_USE in every pixel (e.g. MIRI's last group, flagged by ``lastframe``): int64
    (nints,) each; ``hi - lo + 1`` usable groups at most."""
    nints, ngroups = gdq.shape[0], gdq.shape[1]
    lo_i = np.empty(nints, np.int64)
    hi_i = np.empty(nints, np.int64)
    for i in range(nints):
        lo = max(firstgroup, 0)
        hi = min(lastgroup, ngroups - 1)
        while lo <= hi and _plane_all_flagged(gdq, i, lo, dnu):
            lo += 1
        while hi >= lo and _plane_all_flagged(gdq, i, hi, dnu):
            hi -= 1
        lo_i[i] = lo
        hi_i[i] = hi
    return lo_i, hi_i


@njit(**_IJIT)
def _plane_all_flagged(gdq, i, g, bit):
    """True when every pixel of group ``g`` of integration ``i`` has ``bit``."""
    for y in range(gdq.shape[2]):
        for x in range(gdq.shape[3]):
            if (np.uint32(gdq[i, g, y, x]) & bit) == 0:
                return False
    return True


# --------------------------------------------------------------------------------------------
# clean pixels of a row, side by side
# --------------------------------------------------------------------------------------------


@njit(**_IJIT)
def _fit_clean_row(data, gdq, pixeldq, readnoise, gain, dark, wtab, y, root, group_time,
                   invalid, dnu, lo_i, hi_i, clean, slope_o, dq_o, varp_o, varr_o, err_o,
                   slope_i, dq_i, varp_i, varr_i, err_i):
    """Fit the *clean* pixels of row ``y`` and mark them in ``clean`` (bool (nx,)).

    Clean: in each integration ``i`` the groups ``lo_i[i] .. hi_i[i]`` (at least three,
    from :func:`_usable_groups`) have GROUPDQ 0 and finite values and the others DO_NOT_USE
    alone (or 0 outside [firstgroup, lastgroup]); the pixel DQ has neither DO_NOT_USE nor
    SATURATED, gain > 0 and the read noise is finite. Such a pixel's ramp is one segment,
    ``lo .. hi``, in each integration, so :func:`fit_all`'s
    per-pixel path reduces to straight-line arithmetic, done here one step at a time across
    the row's pixels (loops over x that overlap many pixels' divisions and vectorise) with,
    per pixel, exactly the operations of the per-pixel path in the same order: the results
    are bit-identical. The median of the differences is taken by an odd-even transposition
    sort across the row (the same sorted values as the per-pixel insertion).
    """
    nints, ngroups, _, nx = data.shape
    other = ~dnu
    for x in range(nx):
        ok = (np.uint32(pixeldq[y, x]) & invalid) == 0 and gain[y, x] > 0.0 \
            and math.isfinite(readnoise[y, x])
        if ok:
            for i in range(nints):
                for g in range(ngroups):
                    q = np.uint32(gdq[i, g, y, x])
                    if lo_i[i] <= g <= hi_i[i]:
                        ok = q == 0 and math.isfinite(data[i, g, y, x])
                    else:
                        ok = (q & other) == 0
                    if not ok:
                        break
                if not ok:
                    break
        clean[x] = ok
    d = np.empty((max(ngroups - 1, 1), nx), np.float64)
    msum = np.zeros(nx, np.float64)
    for i in range(nints):
        # first differences of group / group_time, sorted across the row
        lo = lo_i[i]
        nd = hi_i[i] - lo
        for k in range(nd):
            for x in range(nx):
                d[k, x] = (np.float64(data[i, lo + k + 1, y, x]) / group_time
                           - np.float64(data[i, lo + k, y, x]) / group_time)
        for rnd in range(nd):
            for k in range(rnd & 1, nd - 1, 2):
                for x in range(nx):
                    a = d[k, x]
                    b = d[k + 1, x]
                    d[k, x] = a if a < b else b
                    d[k + 1, x] = b if a < b else a
        half = nd >> 1
        for x in range(nx):
            if nd & 1:
                msum[x] += d[half, x]
            else:
                msum[x] += (d[half, x] + d[half - 1, x]) / 2.0
    a_invp = np.zeros(nx, np.float64)
    a_invr = np.zeros(nx, np.float64)
    a_num = np.zeros(nx, np.float64)
    sw = np.empty(nx, np.float64)
    sx = np.empty(nx, np.float64)
    sxx = np.empty(nx, np.float64)
    sy = np.empty(nx, np.float64)
    sxy = np.empty(nx, np.float64)
    pidx = np.empty(nx, np.int64)
    invrn2 = np.empty(nx, np.float64)
    r_e = np.empty(nx, np.float64)
    for x in range(nx):
        g_ = np.float64(gain[y, x])
        r_e[x] = np.float64(np.float32(np.float64(readnoise[y, x]) * (g_ / root)))
    for i in range(nints):
        lo = lo_i[i]
        n = hi_i[i] - lo + 1
        pden_n = n - 1.0
        rden = np.float64(n * n * n - n)
        for x in range(nx):
            g_ = np.float64(gain[y, x])
            rn_e = r_e[x]
            diff = np.float64(data[i, lo + n - 1, y, x]) - np.float64(data[i, lo, y, x])
            den = rn_e * rn_e + diff * g_
            snr = 0.0
            if den > 0.0:
                snr = diff * g_ / math.sqrt(den)
                if snr < 0.0:
                    snr = 0.0
            pidx[x] = _snr_power_index(snr)
            invrn2[x] = 1.0 / (rn_e * rn_e)
            sw[x] = 0.0
            sx[x] = 0.0
            sxx[x] = 0.0
            sy[x] = 0.0
            sxy[x] = 0.0
        for k in range(n):
            xv = np.float64(k + lo)
            for x in range(nx):
                w = wtab[n, pidx[x], k] * invrn2[x]
                dv = np.float64(data[i, lo + k, y, x])
                xw = xv * w
                sw[x] += w
                sx[x] += xw
                sxx[x] += xv * xw
                sy[x] += dv * w
                sxy[x] += dv * xw
        for x in range(nx):
            if not clean[x]:
                continue
            g_ = np.float64(gain[y, x])
            slope = (sw[x] * sxy[x] - sx[x] * sy[x]) * (
                1.0 / (sw[x] * sxx[x] - sx[x] * sx[x])) / group_time
            med_rate = msum[x] / nints
            pden = group_time * g_ * pden_n
            d_ = np.float64(dark[y, x])
            if med_rate > 0.0:
                vp = (med_rate + d_) / pden
            else:
                vp = d_ / pden
            rr = r_e[x] / group_time
            vr = 12.0 * rr * rr / (rden * g_ * g_)
            invr = 1.0 / vr
            invp = 0.0
            if vp > 0.0:
                invp = 1.0 / vp
            inve = 1.0 / (vp + vr)
            num = slope / vr
            var_p, var_r = _variances(invp, invr)
            var_e = 1.0 / inve
            err = 0.0 if var_e > _LARGE_VARIANCE_THRESHOLD else math.sqrt(var_e)
            if invp > 0.0:
                a_invp[x] += invp
            a_invr[x] += invr
            a_num[x] += num
            slope_i[i, y, x] = np.float32(num * var_r)
            dq_i[i, y, x] = np.uint32(pixeldq[y, x])
            varp_i[i, y, x] = np.float32(var_p)
            varr_i[i, y, x] = np.float32(var_r)
            err_i[i, y, x] = np.float32(err)
    for x in range(nx):
        if not clean[x]:
            continue
        vp = a_invp[x]
        if vp > 0.0:
            vp = 1.0 / vp
        if vp >= _LARGE_VARIANCE_THRESHOLD or vp < 0.0:
            vp = 0.0
        vr = a_invr[x]
        if vr > 0.0:
            vr = 1.0 / vr
        if vr >= _LARGE_VARIANCE_THRESHOLD:
            vr = 0.0
        slope_o[y, x] = np.float32(a_num[x] * vr)
        dq_o[y, x] = np.uint32(pixeldq[y, x])
        varp_o[y, x] = np.float32(vp)
        varr_o[y, x] = np.float32(vr)
        err_o[y, x] = np.float32(math.sqrt(vp + vr))


# --------------------------------------------------------------------------------------------
# the image kernel
# --------------------------------------------------------------------------------------------


@njit(**_PJIT)
def fit_all(
    data, gdq, pixeldq, readnoise, gain, dark, row_order, wtab,
    nframes, firstgroup, lastgroup, suppress, group_time, one_group_time,
    dnu, sat, jump, pers, no_gain,
    slope_o, dq_o, varp_o, varr_o, err_o,
    slope_i, dq_i, varp_i, varr_i, err_i,
):
    """Fit every pixel's ramps: exposure (rate) and per-integration (rateints) outputs.

    Inputs: ``data`` float32 (nints, ngroups, ny, nx) DN; ``gdq`` uint8 of the same shape;
    ``pixeldq`` uint32, ``readnoise`` float32 (CDS read noise, DN), ``gain`` float32 (e-/DN),
    ``dark`` float32 (DN/s), all (ny, nx); ``row_order`` int64 (ny,) a permutation of the
    rows (load balance only); ``wtab`` from :func:`weight_table`.
    Outputs: ``slope_o`` DN/s, ``dq_o`` uint32, ``varp_o``, ``varr_o`` (DN/s)^2, ``err_o``
    DN/s = sqrt(VAR_POISSON + VAR_RNOISE), all float32 (ny, nx) but DQ; the ``*_i``
    equivalents (nints, ny, nx), where ERR = sqrt(1 / sum_s 1 / (var_p_s + var_r_s)).

    Pixels with gain <= 0 or NaN get DO_NOT_USE | NO_GAIN_VALUE; pixels with a non-finite
    read noise get DO_NOT_USE (a webbflow addition: the official code silently returns NaN).
    The single-read noise in electrons ``readnoise * gain / sqrt(2 nframes)`` is rounded to
    float32 as the official pipeline stores it.
    """
    nints, ngroups, ny, nx = data.shape
    invalid = dnu | sat
    root = math.sqrt(2.0 * nframes)
    lo_i, hi_i = _usable_groups(gdq, firstgroup, lastgroup, dnu)
    fast = nints > 0 and np.all(hi_i - lo_i >= 2)
    for j in prange(ny):
        y = row_order[j]
        ramps = np.empty((nints, ngroups), np.float64)
        quals = np.empty((nints, ngroups), np.uint32)
        ngood = np.empty(nints, np.int64)
        work = np.empty(max(ngroups, 1), np.float64)
        seg_start = np.empty(ngroups, np.int64)
        seg_len = np.empty(ngroups, np.int64)
        clean = np.zeros(nx, np.bool_)
        if fast:
            _fit_clean_row(data, gdq, pixeldq, readnoise, gain, dark, wtab, y, root,
                           group_time, invalid, dnu, lo_i, hi_i, clean, slope_o, dq_o,
                           varp_o, varr_o, err_o, slope_i, dq_i, varp_i, varr_i, err_i)
        for x in range(nx):
            if clean[x]:
                continue
            g_ = np.float64(gain[y, x])
            rn = np.float64(readnoise[y, x])
            r_ = np.float64(np.float32(rn * (g_ / root)))
            d_ = np.float64(dark[y, x])
            pdq = np.uint32(pixeldq[y, x])
            if not (g_ > 0.0):
                pdq |= dnu | no_gain
            if not math.isfinite(rn):
                pdq |= dnu

            # Load every integration; median rate averaged over integrations.
            msum = 0.0
            for i in range(nints):
                ngood[i] = _load_integration(data, gdq, i, y, x, firstgroup, lastgroup,
                                             suppress, dnu, sat, pers, ramps, quals)
                if ngroups == 1:
                    m = ramps[i, 0] / one_group_time  # official: no NaN protection here
                elif (not suppress) and ngood[i] == 1 and quals[i, 0] == 0:
                    m = ramps[i, 0] / one_group_time
                else:
                    m = _integration_median_rate(ramps, quals, i, group_time, dnu, jump,
                                                 work)
                    if math.isnan(m):
                        m = 0.0
                msum += m
            med_rate = msum / nints

            q_rate = pdq
            n_dnu = 0
            n_sat = 0
            part_sat = False
            a_invp = 0.0
            a_invr = 0.0
            a_num = 0.0
            for i in range(nints):
                q = pdq
                n_sat_g = 0
                n_bad_g = 0
                for g in range(ngroups):
                    qg = quals[i, g]
                    q |= qg & (jump | pers)
                    if qg & sat:
                        n_sat_g += 1
                    if qg & invalid:
                        n_bad_g += 1
                q_rate |= q & (jump | pers)
                slope = 0.0
                var_p = 0.0
                var_r = 0.0
                err = 0.0
                nseg = 0
                if quals[i, 0] & sat:
                    q |= invalid
                    slope = np.nan
                elif n_bad_g < ngroups:
                    nseg = _find_segments(quals, i, jump, pers, seg_start, seg_len)
                if n_bad_g == ngroups:
                    q |= dnu
                    if n_sat_g == ngroups:
                        q |= sat
                elif nseg > 0:
                    is_0th = (not suppress) and ngood[i] == 1 and quals[i, 0] == 0
                    t1 = one_group_time if is_0th else group_time
                    invp = 0.0
                    invr = 0.0
                    inve = 0.0
                    num = 0.0
                    for s in range(nseg):
                        sl, vp, vr = _fit_segment(ramps, i, seg_start[s], seg_len[s], t1,
                                                  group_time, r_, g_, med_rate, d_, wtab)
                        invr += 1.0 / vr
                        if vp > 0.0:
                            invp += 1.0 / vp
                        inve += 1.0 / (vp + vr)
                        num += sl / vr
                    var_p, var_r = _variances(invp, invr)
                    if q & invalid:
                        slope = np.nan
                        var_p = 0.0
                        var_r = 0.0
                    else:
                        var_e = 1.0 / inve
                        slope = num * var_r
                        err = 0.0 if var_e > _LARGE_VARIANCE_THRESHOLD else math.sqrt(var_e)
                    if invp > 0.0:
                        a_invp += invp
                    a_invr += invr
                    a_num += num
                if q & dnu:
                    n_dnu += 1
                    slope = np.nan
                if q & sat:
                    n_sat += 1
                    slope = np.nan
                if n_sat_g > 0:
                    # partial saturation: flagged, the rate of the earlier groups is kept
                    q |= sat
                    part_sat = True
                slope_i[i, y, x] = np.float32(slope)
                dq_i[i, y, x] = q
                varp_i[i, y, x] = np.float32(var_p)
                varr_i[i, y, x] = np.float32(var_r)
                err_i[i, y, x] = np.float32(err)

            # Exposure level.
            if n_dnu == nints:
                q_rate |= dnu
            if n_sat == nints:
                q_rate |= sat
            vp = a_invp
            if vp > 0.0:
                vp = 1.0 / vp
            if vp >= _LARGE_VARIANCE_THRESHOLD or vp < 0.0:
                vp = 0.0
            vr = a_invr
            if vr > 0.0:
                vr = 1.0 / vr
            if vr >= _LARGE_VARIANCE_THRESHOLD:
                vr = 0.0
            err = math.sqrt(vp + vr)
            if q_rate & invalid:
                slope = np.nan
                vp = 0.0
                vr = 0.0
                err = 0.0
            else:
                slope = a_num * vr
            if part_sat:
                q_rate |= sat
            slope_o[y, x] = np.float32(slope)
            dq_o[y, x] = q_rate
            varp_o[y, x] = np.float32(vp)
            varr_o[y, x] = np.float32(vr)
            err_o[y, x] = np.float32(err)
