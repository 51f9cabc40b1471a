"""Ordinary-least-squares ramp fitting with optimal (SNR-dependent) weighting.

This module reproduces the JWST ``ramp_fit`` step's default algorithm (stcal ``OLS_C``):

* Each integration's ramp is cut into *segments*: runs of groups whose GROUPDQ is exactly 0.
  A group flagged only JUMP_DET ends the current segment and becomes the first group of the
  next one. Groups flagged DO_NOT_USE, SATURATED (or anything else) are dropped.
* Each segment of three or more groups is fitted by weighted least squares with the
  Fixsen et al. (2000, PASP 112, 1350) "optimal" weights ``|(i - i_mid) / i_mid| ** P``,
  where the exponent ``P`` follows the segment's signal-to-noise ratio (Regan 2007,
  JWST-STScI-001212). Two-group segments use their difference, one-group segments their value
  divided by the group time (or by the zeroth-group time ``(nframes + 1) * tframe / 2``).
* Segment variances: read noise ``12 R^2 / ((n^3 - n) t_g^2 g^2)`` with ``R`` the single-read
  noise in electrons, ``R = RN_CDS * g / sqrt(2 nframes)``; Poisson
  ``(rate_med + dark) / (t_g g (n - 1))`` with ``rate_med`` the pixel's median first
  difference rate averaged over integrations (zero when that is not positive).
* Segments combine into an integration, integrations into the exposure, by inverse variance.

References: stcal ramp_fitting documentation ("Description", "Special Cases", "Slope and
Variance Calculations", "Data Quality Propagation"); Fixsen et al. 2000.

Everything here is array-in, array-out: DQ bit values and exposure timings are arguments,
nothing is logged or read from disk. Every pixel is computed independently inside ``prange``
loops over image rows, in float64, so results are identical for any number of threads.
The public entry point is :func:`webbflow.kernels.ramp_fit_api.fit_ramps`.
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


# --------------------------------------------------------------------------------------------
# per-pixel helpers (serial, called from the prange loops)
# --------------------------------------------------------------------------------------------


@njit(**_JIT)
def _load_ramp(data_i, gdq_i, y, x, firstgroup, lastgroup, suppress, dnu, sat, ramp, qual):
    """Copy one pixel's ramp into float64 ``ramp`` and its effective GROUPDQ into ``qual``.

    Groups outside ``[firstgroup, lastgroup]`` get DO_NOT_USE; saturated groups become NaN.
    With ``suppress`` a ramp with exactly one good group is flagged DO_NOT_USE throughout
    (stcal ``suppress_one_good_group_ramps``). Returns the number of good (DQ == 0) groups.
    """
    ngroups = ramp.shape[0]
    ngood = 0
    for g in range(ngroups):
        q = np.uint32(gdq_i[g, y, x])
        if g < firstgroup or g > lastgroup:
            q |= dnu
        qual[g] = q
        if q & sat:
            ramp[g] = np.nan
        else:
            ramp[g] = np.float64(data_i[g, y, x])
        if q == 0:
            ngood += 1
    if suppress and ngood == 1:
        for g in range(ngroups):
            qual[g] |= dnu
        ngood = 0
    return ngood


@njit(**_JIT)
def _integration_median_rate(ramp, qual, is_0th, group_time, one_group_time, dnu, jump, work):
    """Median first-difference rate (DN/s) of one integration of one pixel (NaN if none).

    DO_NOT_USE and saturated groups are excluded, as are differences ending on a JUMP_DET group.
    If no difference survives but the first group is usable, its value / group time is used.
    A ramp whose only good group is the zeroth uses that group / zeroth-group time.
    """
    ngroups = ramp.shape[0]
    if is_0th:
        return ramp[0] / one_group_time
    first = np.nan if qual[0] & dnu else ramp[0] / group_time
    n = 0
    prev = first
    for k in range(ngroups - 1):
        cur = np.nan if qual[k + 1] & dnu else ramp[k + 1] / group_time
        if not (qual[k + 1] & jump):
            d = cur - prev
            if not math.isnan(d):
                work[n] = d
                n += 1
        prev = cur
    if n == 0:
        return first
    w = work[:n]
    w.sort()
    half = n >> 1
    if n & 1:
        return w[half]
    return (w[half] + w[half - 1]) / 2.0


@njit(**_JIT)
def _find_segments(qual, jump, seg_start, seg_len):
    """Fill ``seg_start``/``seg_len`` with the ramp's segments; return how many there are.

    A segment is a run of groups with DQ == 0, extended one group back over a group flagged
    exactly JUMP_DET. One-group segments are dropped when a longer segment exists; if all are
    one group long only the first is kept.
    """
    ngroups = qual.shape[0]
    nseg = 0
    maxlen = 0
    in_seg = False
    start = 0
    for g in range(ngroups + 1):
        good = g < ngroups and qual[g] == 0
        if good and not in_seg:
            start = g - 1 if (g > 0 and qual[g - 1] == jump) else g
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


@njit(**_JIT)
def _snr_power(snr):
    """Optimal-weighting exponent P for a segment SNR (Fixsen et al. 2000 table)."""
    if snr < 5.0:
        return 0.0
    if snr < 10.0:
        return 0.4
    if snr < 20.0:
        return 1.0
    if snr < 50.0:
        return 3.0
    if snr < 100.0:
        return 6.0
    return 10.0


@njit(**_JIT)
def _fit_segment(ramp, start, length, timing, group_time, rn_e, gain, med_rate, dark):
    """Slope (DN/s), Poisson and read-noise variances (DN^2/s^2) of one segment."""
    if length == 1:
        slope = ramp[start] / timing
        pden = timing * gain
        rden = 6.0
    elif length == 2:
        slope = (ramp[start + 1] - ramp[start]) / group_time
        timing = group_time
        pden = group_time * gain
        rden = 6.0
    else:
        # SNR of the segment from its end-to-end difference, in electrons.
        diff = ramp[start + length - 1] - ramp[start]
        den = rn_e * rn_e + diff * gain
        if den <= 0.0 or gain == 0.0:
            snr = 0.0
        else:
            snr = diff * gain / math.sqrt(den)
            if snr < 0.0:
                snr = 0.0
        power = np.float32(_snr_power(snr))
        mid = (length - 1) / 2.0
        invmid = 1.0 / mid
        invrn2 = 1.0 / (rn_e * rn_e)
        sw = sx = sxx = sy = sxy = 0.0
        for i in range(length):
            # P is applied in single precision as the official C code does with powf; numba's
            # float32 ** float32 calls the same libm powf (checked bit for bit).
            base = np.float32(abs((i - mid) * invmid))
            w = np.float64(base**power) * invrn2
            xv = np.float64(i + start)
            d = ramp[start + i]
            if math.isnan(d):
                d = 0.0
            xw = xv * w
            sw += w
            sx += xw
            sxx += xv * xw
            sy += d * w
            sxy += d * xw
        invden = 1.0 / (sw * sxx - sx * sx)
        slope = (sw * sxy - sx * sy) * invden / group_time
        timing = group_time
        pden = group_time * gain * (length - 1.0)
        rden = np.float64(length) ** 3 - length
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


# --------------------------------------------------------------------------------------------
# image-level kernels (prange over rows; one integration at a time)
# --------------------------------------------------------------------------------------------


@njit(**_PJIT)
def prepare_pixels(readnoise, gain, pixeldq, nframes, dnu, no_gain, rn_e, pixdq_out):
    """Single-read noise in electrons and the pixel DQ carried into both outputs.

    ``rn_e = readnoise * gain / sqrt(2 nframes)`` (float32, as the official pipeline stores
    it). Pixels with gain <= 0 or NaN get DO_NOT_USE | NO_GAIN_VALUE; pixels with a non-finite
    read noise get DO_NOT_USE (a webbflow addition: the official code silently returns NaN).
    Shapes: all (ny, nx).
    """
    ny, nx = gain.shape
    root = math.sqrt(2.0 * nframes)
    for y in prange(ny):
        for x in range(nx):
            g = np.float64(gain[y, x])
            rn = np.float64(readnoise[y, x])
            rn_e[y, x] = np.float32(rn * (g / root))
            q = np.uint32(pixeldq[y, x])
            if not (g > 0.0):
                q |= dnu | no_gain
            if not math.isfinite(rn):
                q |= dnu
            pixdq_out[y, x] = q


@njit(**_PJIT)
def accumulate_median_rate(
    data_i, gdq_i, firstgroup, lastgroup, suppress, group_time, one_group_time,
    dnu, sat, jump, rate_sum,
):
    """Add one integration's median rate (NaN counted as 0) to ``rate_sum`` (ny, nx) float64.

    ``data_i`` float32 (ngroups, ny, nx) DN, ``gdq_i`` uint8 of the same shape. For
    ngroups == 1 the zeroth-group rate is added without NaN protection, as officially.
    """
    ngroups, ny, nx = data_i.shape
    for y in prange(ny):
        ramp = np.empty(ngroups, np.float64)
        qual = np.empty(ngroups, np.uint32)
        work = np.empty(ngroups, np.float64)
        for x in range(nx):
            ngood = _load_ramp(data_i, gdq_i, y, x, firstgroup, lastgroup, suppress,
                               dnu, sat, ramp, qual)
            if ngroups == 1:
                rate_sum[y, x] += ramp[0] / one_group_time
                continue
            is_0th = (not suppress) and ngood == 1 and qual[0] == 0
            m = _integration_median_rate(ramp, qual, is_0th, group_time, one_group_time,
                                         dnu, jump, work)
            if not math.isnan(m):
                rate_sum[y, x] += m


@njit(**_PJIT)
def fit_integration(
    data_i, gdq_i, pixdq, rn_e, gain, dark, med_rate,
    firstgroup, lastgroup, suppress, group_time, one_group_time,
    dnu, sat, jump,
    slope_o, dq_o, varp_o, varr_o, err_o,
    acc_invp, acc_invr, acc_inve, acc_num, n_dnu, n_sat, any_jump,
):
    """Fit one integration of every pixel and update the exposure accumulators.

    Inputs: ``data_i`` float32 (ngroups, ny, nx) DN; ``gdq_i`` uint8 (ngroups, ny, nx);
    ``pixdq`` uint32, ``rn_e`` float32 (electrons), ``gain`` float32 (e-/DN), ``dark`` float32
    (DN/s), ``med_rate`` float64 (DN/s), all (ny, nx).
    Outputs (ny, nx) for this integration: ``slope_o`` DN/s, ``dq_o`` uint32, ``varp_o``,
    ``varr_o`` (DN/s)^2, ``err_o`` DN/s = sqrt(1 / sum_s 1 / (var_p_s + var_r_s)) (float32).
    Accumulators (ny, nx): float64 inverse-variance sums and weighted slope sum, int32 counts of
    integrations flagged DO_NOT_USE / SATURATED, uint8 "any JUMP_DET seen".
    """
    ngroups, ny, nx = data_i.shape
    invalid = dnu | sat
    for y in prange(ny):
        ramp = np.empty(ngroups, np.float64)
        qual = np.empty(ngroups, np.uint32)
        seg_start = np.empty(ngroups, np.int64)
        seg_len = np.empty(ngroups, np.int64)
        for x in range(nx):
            ngood = _load_ramp(data_i, gdq_i, y, x, firstgroup, lastgroup, suppress,
                               dnu, sat, ramp, qual)
            q = np.uint32(pixdq[y, x])
            n_sat_g = 0
            n_bad_g = 0
            for g in range(ngroups):
                if qual[g] & jump:
                    q |= jump
                if qual[g] & sat:
                    n_sat_g += 1
                if qual[g] & invalid:
                    n_bad_g += 1
            if q & jump:
                any_jump[y, x] = 1
            slope = 0.0
            var_p = 0.0
            var_r = 0.0
            err = 0.0
            nseg = 0
            if qual[0] & sat:
                q |= invalid
            elif n_bad_g < ngroups:
                nseg = _find_segments(qual, jump, seg_start, seg_len)
            if n_bad_g == ngroups:
                q |= dnu
                if n_sat_g == ngroups:
                    q |= sat
            if nseg > 0:
                is_0th = (not suppress) and ngood == 1 and qual[0] == 0
                t1 = one_group_time if is_0th else group_time
                g_ = np.float64(gain[y, x])
                r_ = np.float64(rn_e[y, x])
                d_ = np.float64(dark[y, x])
                m_ = med_rate[y, x]
                invp = 0.0
                invr = 0.0
                inve = 0.0
                num = 0.0
                for s in range(nseg):
                    sl, vp, vr = _fit_segment(ramp, seg_start[s], seg_len[s], t1, group_time,
                                              r_, g_, m_, d_)
                    ve = vp + vr
                    invr += 1.0 / vr
                    if vp > 0.0:
                        invp += 1.0 / vp
                    inve += 1.0 / ve
                    num += sl / ve
                if invp > 0.0:
                    var_p = 1.0 / invp
                if var_p >= _LARGE_VARIANCE_THRESHOLD:
                    var_p = 0.0
                var_r = 1.0 / invr
                if var_r >= _LARGE_VARIANCE_THRESHOLD:
                    var_r = 0.0
                if q & invalid:
                    slope = np.nan
                    var_p = 0.0
                    var_r = 0.0
                else:
                    var_e = 1.0 / inve
                    slope = num * var_e
                    err = 0.0 if var_e > _LARGE_VARIANCE_THRESHOLD else math.sqrt(var_e)
                if invp > 0.0:
                    acc_invp[y, x] += invp
                acc_invr[y, x] += invr
                acc_inve[y, x] += inve
                acc_num[y, x] += num
            if q & dnu:
                n_dnu[y, x] += 1
                slope = np.nan
            if q & sat:
                n_sat[y, x] += 1
                slope = np.nan
            slope_o[y, x] = np.float32(slope)
            dq_o[y, x] = q
            varp_o[y, x] = np.float32(var_p)
            varr_o[y, x] = np.float32(var_r)
            err_o[y, x] = np.float32(err)


@njit(**_PJIT)
def finish_exposure(
    pixdq, nints, acc_invp, acc_invr, acc_inve, acc_num, n_dnu, n_sat, any_jump,
    dnu, sat, jump, slope_o, dq_o, varp_o, varr_o, err_o,
):
    """Combine the accumulators into the exposure-level (ny, nx) float32 outputs.

    slope = sum_s(slope_s / var_s) / sum_s(1 / var_s) over all segments of all integrations;
    VAR_POISSON = 1 / sum_i(1 / var_p_i), VAR_RNOISE = 1 / sum_i(1 / var_r_i),
    ERR = sqrt(VAR_POISSON + VAR_RNOISE). DO_NOT_USE / SATURATED are set when every integration
    has them; JUMP_DET when any integration has it. Flagged pixels get NaN slope and zeros.
    """
    ny, nx = pixdq.shape
    invalid = dnu | sat
    for y in prange(ny):
        for x in range(nx):
            q = np.uint32(pixdq[y, x])
            if any_jump[y, x]:
                q |= jump
            if n_dnu[y, x] == nints:
                q |= dnu
            if n_sat[y, x] == nints:
                q |= sat
            vp = acc_invp[y, x]
            if vp > 0.0:
                vp = 1.0 / vp
            if vp >= _LARGE_VARIANCE_THRESHOLD or vp < 0.0:
                vp = 0.0
            vr = acc_invr[y, x]
            if vr > 0.0:
                vr = 1.0 / vr
            if vr >= _LARGE_VARIANCE_THRESHOLD:
                vr = 0.0
            err = math.sqrt(vp + vr)
            if q & invalid:
                slope = np.nan
                vp = 0.0
                vr = 0.0
                err = 0.0
            else:
                slope = acc_num[y, x] / acc_inve[y, x]
            slope_o[y, x] = np.float32(slope)
            dq_o[y, x] = q
            varp_o[y, x] = np.float32(vp)
            varr_o[y, x] = np.float32(vr)
            err_o[y, x] = np.float32(err)
