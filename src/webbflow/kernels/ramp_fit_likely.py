"""Likelihood-based ("LIKELY") ramp fitting with chi-squared jump detection.

The official ``ramp_fit`` step's ``algorithm='LIKELY'`` (stcal ``likely_fit``), written from
Brandt (2024a, PASP 136, 045004, "Optimal Fitting and Debiasing for Detectors Read Out
Up-the-Ramp", paper I) and Brandt (2024b, PASP 136, 045005, "Likelihood-Based Jump Detection
and Cosmic Ray Rejection for Detectors Read Out Up-the-Ramp", paper II).

Model (paper I, sections 2-3). Resultant ``k`` is the mean of ``N_k`` reads at times
``t_{k,1..N_k}``; its mean time is ``tbar_k`` and its Poisson "variance time" is
``tau_k = sum_j (2 N_k - 2 j + 1) t_{k,j} / N_k^2`` (paper I eqs. 4, 11). For JWST MULTIACCUM
the reads of group ``k`` are at ``(k (nframes + groupgap) + j) * tframe``, ``j = 1..nframes``.
The fit works on the normalised resultant differences ``d_i = (r_{i+1} - r_i) / dt_i`` (DN/s,
``dt_i = tbar_{i+1} - tbar_i``), whose covariance for a count rate ``c`` (DN/s), gain ``g``
(e-/DN) and single-read noise ``s`` (DN) is tridiagonal (paper I eqs. 28-29):

    C_ii     = s^2 (1/N_i + 1/N_{i+1}) / dt_i^2 + (c/g) (tau_i + tau_{i+1} - 2 tbar_i) / dt_i^2
    C_i,i+1  = -s^2 / (N_{i+1} dt_i dt_{i+1}) + (c/g) (tbar_{i+1} - tau_{i+1}) / (dt_i dt_{i+1})

The generalised-least-squares rate is ``c_hat = 1' C^-1 d / 1' C^-1 1`` with variance
``1 / 1' C^-1 1`` and ``chi2 = d' C^-1 d - (1' C^-1 d)^2 / 1' C^-1 1`` (paper I eqs. 55-63).
Here ``C^-1 1`` and ``C^-1 d`` come from one LDL' sweep of the tridiagonal matrix (linear in the
number of resultants, like the paper's theta/phi recursions, but with no determinant to
rescale). Unusable differences are removed exactly: the marginal covariance of the kept
differences is the sub-matrix of ``C``, i.e. ``C`` with the masked rows decoupled.

Jump search (paper II, sections 3.1-3.2). Omitting difference ``j`` equals fitting one extra
free parameter on ``d_j``; its chi2 follows in closed form from ``C^-1 1``, ``C^-1 d`` and the
diagonal of ``C^-1`` (``(C^-1)_jj = 1 / (f_j + b_j - C_jj)`` from the forward and backward
pivots ``f``, ``b``; ``(C^-1)_j,j+1 = -C_j,j+1 / (f_j b_{j+1} - C_j,j+1^2)``), and likewise for
two adjacent differences (a 3x3 system). The largest chi2 improvement is dropped when it beats
its threshold (one omission: 20.25 = 4.5^2; two adjacent omissions, only across a resultant
of more than one read: 23.8), and the search repeats while more than three differences are
left. Dropping difference ``i`` flags JUMP_DET on resultant ``i + 1``.

Covariance rate and debiasing (paper I section 5). The covariance needs the rate it is
estimating; using the pixel's own noisy differences biases the fit. As officially, the jump
search uses the pixel's median difference (clipped at 0), and the final fit recomputes the
covariance from the search's fitted rate (clipped at 0) plus the average dark current, which
removes the first-order bias of a median-based weight. VAR_POISSON and VAR_RNOISE are the
weights ``w = C^-1 1 / 1' C^-1 1`` propagated through the Poisson and read-noise parts of ``C``
separately; ERR = sqrt(1 / 1' C^-1 1) = sqrt(VAR_POISSON + VAR_RNOISE).

Integrations combine (official ``compute_image_info``) by starting from the median of the
integration rates and twice re-weighting with ``1 / (var_p_i * rate / rate_i + var_r_i)``.

Everything is array-in, array-out; DQ bit values and thresholds are arguments. Pixels are
independent inside ``prange`` loops over rows, in float64, so results do not depend on the
number of threads. Entry point: :func:`fit_ramps_likely`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numba import njit, prange

from .ramp_fit_api import RampFitResult

__all__ = ["LIKELY_MIN_NGROUPS", "fit_ramps_likely", "resultant_covariance_terms",
           "resultant_times"]

#: The official LIKELY needs at least this many groups (the step falls back to OLS_C below).
LIKELY_MIN_NGROUPS = 4

_JIT = {"cache": True, "error_model": "numpy"}
_PJIT = {"cache": True, "error_model": "numpy", "parallel": True}


# --------------------------------------------------------------------------------------------
# read pattern -> covariance coefficients (tiny, per exposure)
# --------------------------------------------------------------------------------------------


def resultant_times(ngroups: int, nframes: int, groupgap: int, frame_time: float,
                    zeroframe: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean time, Poisson variance time and read count of each resultant.

    Parameters
    ----------
    ngroups, nframes, groupgap : int
        NGROUPS, NFRAMES, GROUPGAP; group ``k`` averages the reads at
        ``(k (nframes + groupgap) + j) * frame_time``, ``j = 1..nframes``.
    frame_time : float
        TFRAME in seconds.
    zeroframe : bool
        Split the first read of group 0 off as its own resultant (ZEROFRAME), as officially.

    Returns
    -------
    tbar, tau : ndarray, float64, (nres,)
        ``mean_j t_j`` and ``sum_j (2N - 2j + 1) t_j / N^2`` in seconds (paper I eqs. 4, 11).
    nreads : ndarray, float64, (nres,)
        Reads per resultant. ``nres = ngroups + zeroframe``.
    """
    reads = [(np.arange(1, nframes + 1) + k * (nframes + groupgap)) * float(frame_time)
             for k in range(ngroups)]
    if zeroframe:
        reads = [reads[0][:1], reads[0][1:], *reads[1:]]
    tbar = np.array([r.mean() for r in reads])
    tau = np.array([np.sum((2 * len(r) + 1 - 2 * np.arange(1, len(r) + 1)) * r) / len(r) ** 2
                    for r in reads])
    nreads = np.array([float(len(r)) for r in reads])
    return tbar, tau, nreads


def resultant_covariance_terms(tbar: np.ndarray, tau: np.ndarray,
                               nreads: np.ndarray) -> np.ndarray:
    """Coefficients of the covariance of the normalised resultant differences.

    Returns
    -------
    ndarray, float64, (5, nres - 1)
        Rows: ``dt`` (s); diagonal read-noise and Poisson coefficients (1/s^2 and 1/s);
        off-diagonal read-noise and Poisson coefficients (the last entry unused, 0). The
        covariance is ``s^2 * rn_coef + (c / g) * ph_coef`` (paper I eqs. 28-29).
    """
    dt = np.diff(tbar)
    out = np.zeros((5, dt.size))
    out[0] = dt
    out[1] = (1.0 / nreads[:-1] + 1.0 / nreads[1:]) / dt**2
    out[2] = (tau[:-1] + tau[1:] - 2.0 * tbar[:-1]) / dt**2
    out[3, :-1] = -1.0 / (nreads[1:-1] * dt[1:] * dt[:-1])
    out[4, :-1] = (tbar[1:-1] - tau[1:-1]) / (dt[1:] * dt[:-1])
    return out


# --------------------------------------------------------------------------------------------
# per-pixel helpers
# --------------------------------------------------------------------------------------------


@njit(**_JIT)
def _covariance(terms, rn2, rate_over_gain, use, alpha, beta):
    """Fill the masked tridiagonal covariance: ``alpha`` (n,), ``beta`` (n,) (beta[n-1] = 0).

    Unused differences are decoupled (alpha 1, beta 0) so they drop out of every solve.
    """
    n = alpha.shape[0]
    for i in range(n):
        if use[i]:
            alpha[i] = rn2 * terms[1, i] + rate_over_gain * terms[2, i]
        else:
            alpha[i] = 1.0
        if i + 1 < n and use[i] and use[i + 1]:
            beta[i] = rn2 * terms[3, i] + rate_over_gain * terms[4, i]
        else:
            beta[i] = 0.0


@njit(**_JIT)
def _solve(diffs, use, alpha, beta, fwd, w, z):
    """``w = C^-1 u`` and ``z = C^-1 (u * d)`` (u = use); ``fwd`` gets the forward pivots.

    Returns ``(sum w, sum d w, sum d z)`` = (1'C^-1 1, d'C^-1 1, d'C^-1 d) over used entries.
    """
    n = alpha.shape[0]
    for i in range(n):
        u = 1.0 if use[i] else 0.0
        d = diffs[i] if use[i] else 0.0
        if i == 0:
            fwd[0] = alpha[0]
            w[0] = u
            z[0] = d
        else:
            m = beta[i - 1] / fwd[i - 1]
            fwd[i] = alpha[i] - m * beta[i - 1]
            w[i] = u - m * w[i - 1]
            z[i] = d - m * z[i - 1]
    for i in range(n - 1, -1, -1):
        if i == n - 1:
            w[i] = w[i] / fwd[i]
            z[i] = z[i] / fwd[i]
        else:
            w[i] = (w[i] - beta[i] * w[i + 1]) / fwd[i]
            z[i] = (z[i] - beta[i] * z[i + 1]) / fwd[i]
    c0 = 0.0
    b0 = 0.0
    a0 = 0.0
    for i in range(n):
        if use[i]:
            c0 += w[i]
            b0 += diffs[i] * w[i]
            a0 += diffs[i] * z[i]
    return c0, b0, a0


@njit(**_JIT)
def _sym3(m00, m01, m02, m11, m12, m22, r0, r1, r2):
    """Solve the symmetric 3x3 system by Cramer's rule; return (x0, x1, x2, (M^-1)_00)."""
    c00 = m11 * m22 - m12 * m12
    c01 = m02 * m12 - m01 * m22
    c02 = m01 * m12 - m02 * m11
    det = m00 * c00 + m01 * c01 + m02 * c02
    c11 = m00 * m22 - m02 * m02
    c12 = m01 * m02 - m00 * m12
    c22 = m00 * m11 - m01 * m01
    x0 = (c00 * r0 + c01 * r1 + c02 * r2) / det
    x1 = (c01 * r0 + c11 * r1 + c12 * r2) / det
    x2 = (c02 * r0 + c12 * r1 + c22 * r2) / det
    return x0, x1, x2, c00 / det


@njit(**_JIT)
def _best_omission(diffs, use, alpha, beta, two_ok, fwd, bwd, w, z, c0, b0, a0):
    """Best chi2 improvements from omitting one or two adjacent differences (paper II).

    Returns ``(d1, j1, rate1, d2, j2, rate2, bad)``: the largest improvement for one omission
    (at ``j1``, with refitted rate ``rate1``) and for two (``j2, j2 + 1``); improvements are
    never below 0. ``bad`` is True when some improvement was not finite (then nothing may be
    dropped, as officially). Unusable differences give no improvement; a pair with one
    unusable member counts as omitting the other alone.
    """
    n = alpha.shape[0]
    for i in range(n - 1, -1, -1):
        if i == n - 1:
            bwd[i] = alpha[i]
        else:
            bwd[i] = alpha[i] - beta[i] * beta[i] / bwd[i + 1]
    chi2 = a0 - b0 * b0 / c0
    bad = not math.isfinite(chi2)
    d1 = 0.0
    j1 = -1
    rate1 = np.nan
    d2 = 0.0
    j2 = -1
    rate2 = np.nan
    prev_one = 0.0  # improvement from omitting difference i - 1 alone
    prev_rate = np.nan
    for i in range(n):
        one = 0.0
        rate = np.nan
        pii = 0.0
        if use[i]:
            pii = 1.0 / (fwd[i] + bwd[i] - alpha[i])
            det = c0 * pii - w[i] * w[i]
            a = (pii * b0 - w[i] * z[i]) / det
            b = (c0 * z[i] - w[i] * b0) / det
            one = chi2 - (a0 - a * b0 - b * z[i])
            rate = a
            if not math.isfinite(one):
                bad = True
            elif one > d1:
                d1 = one
                j1 = i
                rate1 = a
        if i > 0 and two_ok[i - 1]:
            k = i - 1
            if use[k] and use[i]:
                pkk = 1.0 / (fwd[k] + bwd[k] - alpha[k])
                pki = -beta[k] / (fwd[k] * bwd[i] - beta[k] * beta[k])
                a, b, c, _ = _sym3(c0, w[k], w[i], pkk, pki, pii, b0, z[k], z[i])
                two = chi2 - (a0 - a * b0 - b * z[k] - c * z[i])
                rate2_ = a
            elif use[k]:
                two = prev_one
                rate2_ = prev_rate
            elif use[i]:
                two = one
                rate2_ = rate
            else:
                two = 0.0
                rate2_ = np.nan
            if not math.isfinite(two):
                bad = True
            elif two > d2:
                d2 = two
                j2 = k
                rate2 = rate2_
        prev_one = one
        prev_rate = rate
    return d1, j1, rate1, d2, j2, rate2, bad


@njit(**_JIT)
def _median_finite(x, work):
    """Median of the finite entries of ``x`` (NaN if none); ``work`` is scratch (n,)."""
    m = 0
    for i in range(x.shape[0]):
        if math.isfinite(x[i]):
            work[m] = x[i]
            m += 1
    if m == 0:
        return np.nan
    v = work[:m]
    v.sort()
    h = m >> 1
    if m & 1:
        return v[h]
    return 0.5 * (v[h - 1] + v[h])


# --------------------------------------------------------------------------------------------
# image-level kernels (prange over rows; one integration at a time)
# --------------------------------------------------------------------------------------------


@njit(**_PJIT)
def fit_integration_likely(
    data_i, gdq_i, zf_i, use_zf, nframes, pixdq, rn, gain, dark, terms, two_ok,
    firstgroup, lastgroup, detect_jumps, thr_one, thr_two, dnu, sat, jump, no_gain,
    slope_o, dq_o, varp_o, varr_o, err_o, chisq_o, njumps_o,
):
    """Fit one integration of every pixel.

    Inputs: ``data_i`` float32 (ngroups, ny, nx) DN; ``gdq_i`` uint8 (ngroups, ny, nx);
    ``zf_i`` float32 (ny, nx) ZEROFRAME DN (read only when ``use_zf``: it becomes resultant 0,
    group 0 becomes ``(nframes g0 - zf) / (nframes - 1)``, both with group 0's DQ); ``pixdq``
    uint32, ``rn`` float64 single-read noise (DN), ``gain`` float32 (e-/DN), ``dark`` float32
    (DN/s), all (ny, nx); ``terms`` (5, nres - 1) from :func:`resultant_covariance_terms`;
    ``two_ok`` bool (nres - 1,) whether pair (i, i + 1) may be omitted together.
    Outputs (ny, nx): rate DN/s, DQ, VAR_POISSON, VAR_RNOISE (DN/s)^2, ERR DN/s, chi2 (float32)
    and the number of jumps found here (int32).
    """
    ngroups, ny, nx = data_i.shape
    nres = ngroups + (1 if use_zf else 0)
    n = nres - 1
    off = nres - ngroups
    for y in prange(ny):
        res = np.empty(nres, np.float64)
        qual = np.empty(nres, np.uint32)
        diffs = np.empty(n, np.float64)
        use = np.empty(n, np.bool_)
        use0 = np.empty(n, np.bool_)
        alpha = np.empty(n, np.float64)
        beta = np.empty(n, np.float64)
        fwd = np.empty(n, np.float64)
        bwd = np.empty(n, np.float64)
        w = np.empty(n, np.float64)
        z = np.empty(n, np.float64)
        work = np.empty(n, np.float64)
        for x in range(nx):
            for g in range(ngroups):
                q = np.uint32(gdq_i[g, y, x])
                if g < firstgroup or g > lastgroup:
                    q |= dnu
                qual[g + off] = q
                res[g + off] = np.float64(data_i[g, y, x])
            if use_zf:
                zf = np.float64(zf_i[y, x])
                qual[0] = qual[1]
                res[1] = (nframes * res[1] - zf) / (nframes - 1.0)
                res[0] = zf
            for i in range(n):
                diffs[i] = (res[i + 1] - res[i]) / terms[0, i]
                use[i] = (qual[i] == 0 and qual[i + 1] == 0 and math.isfinite(diffs[i]))
                use0[i] = use[i]
            g_ = np.float64(gain[y, x])
            rn2 = rn[y, x] * rn[y, x]
            q_pix = np.uint32(pixdq[y, x])
            if not (g_ > 0.0):
                q_pix |= dnu | no_gain
            # --- jump search with the median-difference covariance (paper II) -------------
            rate = np.nan
            c0 = 0.0
            b0 = 0.0
            nused = 0
            for i in range(n):
                if use[i]:
                    nused += 1
            guess = _median_finite(diffs, work)
            guess = guess if guess > 0.0 else (0.0 if math.isfinite(guess) else guess)
            _covariance(terms, rn2, guess / g_, use, alpha, beta)
            for it in range(n):
                c0, b0, a0 = _solve(diffs, use, alpha, beta, fwd, w, z)
                if it == 0:
                    rate = b0 / c0
                if not detect_jumps or (it > 0 and nused <= 3):
                    break
                d1, j1, r1, d2, j2, r2, bad = _best_omission(
                    diffs, use, alpha, beta, two_ok, fwd, bwd, w, z, c0, b0, a0)
                if bad:
                    break
                if d1 - thr_one > d2 - thr_two:
                    if not d1 > thr_one:
                        break
                    use[j1] = False
                    nused -= 1
                    rate = r1
                else:
                    if not d2 > thr_two:
                        break
                    nused -= use[j2] + use[j2 + 1]
                    use[j2] = False
                    use[j2 + 1] = False
                    rate = r2
                _covariance(terms, rn2, guess / g_, use, alpha, beta)
            # --- final fit with the debiased covariance rate (paper I section 5) --------------
            guess = (rate if rate > 0.0 else (0.0 if math.isfinite(rate) else rate)) \
                + np.float64(dark[y, x])
            rog = guess / g_
            _covariance(terms, rn2, rog, use, alpha, beta)
            c0, b0, a0 = _solve(diffs, use, alpha, beta, fwd, w, z)
            slope = b0 / c0
            vp = 0.0
            vr = 0.0
            for i in range(n):
                if use[i]:
                    wi = w[i] / c0
                    vp += wi * wi * rog * terms[2, i]
                    vr += wi * wi * rn2 * terms[1, i]
                    if i + 1 < n and use[i + 1]:
                        wj = w[i + 1] / c0
                        vp += 2.0 * wi * wj * rog * terms[4, i]
                        vr += 2.0 * wi * wj * rn2 * terms[3, i]
            err = math.sqrt(1.0 / c0)
            chi2 = a0 - b0 * b0 / c0
            if not (c0 > 0.0):
                slope = vp = vr = err = chi2 = np.nan
            # --- DQ (official dq_compress_sect) ---------------------------------------------
            nj = 0
            for i in range(n):
                if use0[i] and not use[i]:
                    qual[i + 1] |= jump
                    nj += 1
            q = q_pix
            all_bad = True
            for k in range(nres):
                qk = qual[k]
                if qk & jump:
                    q |= jump
                if qk & sat:
                    q |= sat
                if not (qk & (sat | dnu)):
                    all_bad = False
            if all_bad:
                q |= dnu
            if q_pix & no_gain:
                slope = vp = vr = err = chi2 = np.nan
            slope_o[y, x] = np.float32(slope)
            dq_o[y, x] = q
            varp_o[y, x] = np.float32(vp)
            varr_o[y, x] = np.float32(vr)
            err_o[y, x] = np.float32(err)
            chisq_o[y, x] = np.float32(chi2)
            njumps_o[y, x] = nj


@njit(**_PJIT)
def combine_integrations(slope_i, varp_i, varr_i, dq_i, dnu, slope_o, varp_o, varr_o, err_o,
                         dq_o):
    """Exposure-level rate from the (nints, ny, nx) integration results (nints > 1).

    Start from the median integration rate; twice, scale each integration's Poisson variance
    to that rate (``var_p_i * rate / rate_i``, 0 where the ratio is negative or not finite),
    weight by ``1 / (scaled var_p_i + var_r_i)`` (normalised over finite weights) and take the
    weighted mean. VAR_POISSON and VAR_RNOISE are the weighted sums ``sum w_i^2 var_i``;
    ERR = sqrt of their sum. DQ is the OR over integrations, with DO_NOT_USE only when every
    integration has it. Outputs (ny, nx) float32 / uint32.
    """
    nints, ny, nx = slope_i.shape
    for y in prange(ny):
        work = np.empty(nints, np.float64)
        vps = np.empty(nints, np.float64)
        wts = np.empty(nints, np.float64)
        for x in range(nx):
            q = np.uint32(0)
            ndnu = 0
            for i in range(nints):
                qi = dq_i[i, y, x]
                q |= qi
                if qi & dnu:
                    ndnu += 1
            q &= ~dnu
            if ndnu == nints:
                q |= dnu
            dq_o[y, x] = q
            for i in range(nints):
                work[i] = np.float64(slope_i[i, y, x])
            rate = _median_finite(work, wts)
            for _ in range(2):
                wsum = 0.0
                for i in range(nints):
                    si = np.float64(slope_i[i, y, x])
                    scale = rate / si
                    if not (math.isfinite(scale) and scale >= 0.0):
                        scale = 0.0
                    vps[i] = np.float64(varp_i[i, y, x]) * scale
                    wts[i] = 1.0 / (vps[i] + np.float64(varr_i[i, y, x]))
                    if math.isfinite(wts[i]):
                        wsum += wts[i]
                num = 0.0
                nfin = 0
                for i in range(nints):
                    t = np.float64(slope_i[i, y, x]) * (wts[i] / wsum)
                    if not math.isnan(t):
                        num += t
                        nfin += 1
                rate = num if nfin > 0 else np.nan
            vp = 0.0
            vr = 0.0
            np_fin = 0
            nr_fin = 0
            for i in range(nints):
                wn = wts[i] / wsum
                t = vps[i] * wn * wn
                if not math.isnan(t):
                    vp += t
                    np_fin += 1
                t = np.float64(varr_i[i, y, x]) * wn * wn
                if not math.isnan(t):
                    vr += t
                    nr_fin += 1
            if np_fin == 0:
                vp = np.nan
            if nr_fin == 0:
                vr = np.nan
            slope_o[y, x] = np.float32(rate)
            varp_o[y, x] = np.float32(vp)
            varr_o[y, x] = np.float32(vr)
            err_o[y, x] = np.float32(math.sqrt(vp + vr))


# --------------------------------------------------------------------------------------------
# Python entry point
# --------------------------------------------------------------------------------------------


def _image(name: str, arr, shape: tuple[int, int], dtype) -> np.ndarray:
    out = np.ascontiguousarray(arr, dtype=dtype)
    if out.shape != shape:
        raise ValueError(f"{name} has shape {out.shape}, expected {shape}")
    return out


def fit_ramps_likely(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    readnoise: np.ndarray,
    gain: np.ndarray,
    frame_time: float,
    nframes: int,
    groupgap: int,
    flags: Mapping[str, int],
    *,
    zeroframe: np.ndarray | None = None,
    average_dark_current: np.ndarray | None = None,
    firstgroup: int | None = None,
    lastgroup: int | None = None,
    detect_jumps: bool = True,
    threshold_one_omit: float = 20.25,
    threshold_two_omit: float = 23.8,
) -> tuple[RampFitResult, int]:
    """Fit every pixel's ramps by maximum likelihood (the official ``LIKELY`` algorithm).

    Parameters
    ----------
    data : ndarray, float32, (nints, ngroups, ny, nx)
        Ramps in DN (bias, dark and linearity corrected). ``ngroups >= 4``. Not modified.
    groupdq : ndarray, uint8, (nints, ngroups, ny, nx)
        GROUPDQ; a difference is used only when both of its groups have DQ 0 (so a JUMP_DET
        group from the ``jump`` step removes the two differences touching it). Not modified.
    pixeldq : ndarray, uint32, (ny, nx)
        PIXELDQ, OR-ed into the output DQ (it does not exclude pixels from the fit).
    readnoise : ndarray, float32, (ny, nx)
        READNOISE reference (CDS noise, DN); the single-read noise is ``readnoise / sqrt(2)``.
    gain : ndarray, float32, (ny, nx)
        GAIN (e-/DN). Pixels with gain <= 0 or NaN get NaN outputs and DO_NOT_USE |
        NO_GAIN_VALUE (a webbflow addition; officially they come out NaN, unflagged).
    frame_time : float
        TFRAME (s).
    nframes, groupgap : int
        NFRAMES and GROUPGAP, which fix the read times of every resultant.
    flags : mapping of str to int
        DQ bits ``DO_NOT_USE``, ``SATURATED``, ``JUMP_DET``, ``NO_GAIN_VALUE``.
    zeroframe : ndarray, float32, (nints, ny, nx), optional
        ZEROFRAME; used as an extra first resultant when ``nframes >= 2``, as officially.
    average_dark_current : ndarray, float32, (ny, nx), optional
        DN/s added to the rate that sets the final covariance.
    firstgroup, lastgroup : int, optional
        Groups outside ``[firstgroup, lastgroup]`` are treated as DO_NOT_USE.
    detect_jumps : bool
        Run the chi-squared jump search (always on in the official step).
    threshold_one_omit, threshold_two_omit : float
        Chi-squared improvements needed to drop one / two adjacent differences.

    Returns
    -------
    RampFitResult, int
        Rates (DN/s), DQ and variances ((DN/s)^2) per exposure and per integration (ERR =
        sqrt(VAR_POISSON + VAR_RNOISE) in both), and the number of jumps the search found.
        Pixels with no usable difference get NaN rate, variances and ERR, as officially.
    """
    data = np.asarray(data)
    groupdq = np.asarray(groupdq)
    if data.ndim != 4 or data.dtype != np.float32:
        raise ValueError(f"data must be float32 (nints, ngroups, ny, nx), got {data.dtype} "
                         f"{data.shape}")
    if groupdq.shape != data.shape or groupdq.dtype != np.uint8:
        raise ValueError(f"groupdq must be uint8 of shape {data.shape}")
    nints, ngroups, ny, nx = data.shape
    if ngroups < LIKELY_MIN_NGROUPS:
        raise ValueError(f"LIKELY needs at least {LIKELY_MIN_NGROUPS} groups, got {ngroups}")
    missing = [k for k in ("DO_NOT_USE", "SATURATED", "JUMP_DET", "NO_GAIN_VALUE")
               if k not in flags]
    if missing:
        raise KeyError(f"flags lacks {missing}")
    if int(nframes) < 1 or int(groupgap) < 0 or not frame_time > 0:
        raise ValueError(f"need nframes >= 1, groupgap >= 0, frame_time > 0; got {nframes}, "
                         f"{groupgap}, {frame_time}")
    shape2 = (ny, nx)
    pixdq = _image("pixeldq", pixeldq, shape2, np.uint32)
    rn = _image("readnoise", readnoise, shape2, np.float32).astype(np.float64) / math.sqrt(2.0)
    gain = _image("gain", gain, shape2, np.float32)
    dark = (np.zeros(shape2, np.float32) if average_dark_current is None
            else _image("average_dark_current", average_dark_current, shape2, np.float32))
    use_zf = zeroframe is not None and int(nframes) >= 2
    zf = (np.ascontiguousarray(zeroframe, np.float32) if use_zf
          else np.zeros((nints, 1, 1), np.float32))
    if use_zf and zf.shape != (nints, ny, nx):
        raise ValueError(f"zeroframe has shape {zf.shape}, expected {(nints, ny, nx)}")

    tbar, tau, nreads = resultant_times(ngroups, int(nframes), int(groupgap), float(frame_time),
                                        use_zf)
    terms = resultant_covariance_terms(tbar, tau, nreads)
    two_ok = nreads[1:-1] > 1  # pair (i, i+1) shares resultant i+1
    two_ok = np.append(two_ok, False)
    first = 0 if firstgroup is None else max(int(firstgroup), 0)
    last = ngroups - 1 if lastgroup is None else min(int(lastgroup), ngroups - 1)
    if first >= last:
        first, last = 0, ngroups - 1

    dnu = np.uint32(flags["DO_NOT_USE"])
    sat = np.uint32(flags["SATURATED"])
    jmp = np.uint32(flags["JUMP_DET"])
    nog = np.uint32(flags["NO_GAIN_VALUE"])
    cube = (nints, ny, nx)
    slope_i = np.empty(cube, np.float32)
    dq_i = np.empty(cube, np.uint32)
    varp_i = np.empty(cube, np.float32)
    varr_i = np.empty(cube, np.float32)
    err_i = np.empty(cube, np.float32)
    chisq = np.empty(shape2, np.float32)
    njumps = np.empty(shape2, np.int32)
    total_jumps = 0
    for i in range(nints):
        fit_integration_likely(
            np.ascontiguousarray(data[i]), np.ascontiguousarray(groupdq[i]),
            zf[i] if use_zf else zf[0], use_zf, float(nframes), pixdq, rn, gain, dark, terms,
            two_ok, first, last, bool(detect_jumps), float(threshold_one_omit),
            float(threshold_two_omit), dnu, sat, jmp, nog,
            slope_i[i], dq_i[i], varp_i[i], varr_i[i], err_i[i], chisq, njumps)
        total_jumps += int(njumps.sum())
    if nints == 1:
        res = RampFitResult(slope_i[0].copy(), dq_i[0].copy(), varp_i[0].copy(),
                            varr_i[0].copy(), err_i[0].copy(), slope_i, dq_i, varp_i, varr_i,
                            err_i)
        return res, total_jumps
    slope = np.empty(shape2, np.float32)
    dq = np.empty(shape2, np.uint32)
    varp = np.empty(shape2, np.float32)
    varr = np.empty(shape2, np.float32)
    err = np.empty(shape2, np.float32)
    combine_integrations(slope_i, varp_i, varr_i, dq_i, dnu, slope, varp, varr, err, dq)
    return RampFitResult(slope, dq, varp, varr, err, slope_i, dq_i, varp_i, varr_i,
                         err_i), total_jumps
