"""MIRI electromagnetic-interference (EMI) correction, the algorithms of the JWST ``emicorr``
step (jwst 3.0 documentation; the "joint" fit follows the step's write-up, the "sequential"
one E. Bergeron's ``fix_miri_emi.pro``). Independent implementation.

Timing model. MIRI reads 4 interleaved outputs at once, so columns ``4k .. 4k+3`` of a row share
one read time. In units of 10 us pixel clocks, quad-column ``k`` of row ``y`` of a frame is read
at ``y*rowclocks + k*nsamples``; a frame lasts ``ny*rowclocks + (1024 - ny)*7`` clocks; the
phase of a read at an EMI frequency ``f`` is ``t / P mod 1`` with ``P = 1 / f / 10 us``.

Joint (default): pixels whose scatter over groups (std, per integration) is below twice the
median scatter and whose PIXELDQ is 0 are summed per phase bin (one bin per waveform sample;
quad columns 1 and 2, the bad reference columns, left out). For 500 trial phase offsets the
linear-ramp-plus-scaled-waveform least squares has a closed form: chi2(c) = a c^2 + b c with
``c`` the waveform amplitude; the best offset is the vertex of a parabola through the lowest
chi2 and its two neighbours, the amplitude is that of the nearest trial offset at or after it.
The waveform is the reference's ``phase_amplitudes`` interpolated by a periodic cubic spline
(not-a-knot through the samples at phases (j + 0.5)/N plus one wrapped sample at each end).
Integrations follow each other with a phase step ``ngroups*dphase + frameclocks/P``
(``frameclocks`` only for FASTR1/SLOWR1). The fitted waveform is subtracted from all 4 outputs.

Sequential: per integration, a straight line fitted to groups 1..ngroups-2 and a self-superbias
(median, or minimum with <= 2 groups) are removed; the 4 outputs are averaged, quad columns 1
and 2 replaced by the mean of columns 0 and 3, each frame's median removed. Every read gets a
phase from the cumulative clock (rows, frame pads, and one frame per integration for R1
patterns); the first ``nints_to_phase`` integrations are binned in ``nbins`` phase bins
(sigma-clipped mean, 3 sigma, 5 iterations) to a phased-amplitude wave ``pa``. ``pa`` itself
(resampled nearest-lower to ``P`` samples) is the look-up table, or, with a reference waveform,
the reference rolled to the best Pearson correlation with ``pa`` and (``scale_reference``)
scaled by the slope of a line fit against it. ``noise = lut[int(phase*P)]`` is subtracted.

Deliberate differences: group scatter and float sums are float64 throughout (the official uses
float32 ``np.std`` and numpy's pairwise sums); the parabola vertex is computed in closed form
rather than by ``np.polyfit``. Results agree to float rounding.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["emi_clock_phases", "fit_joint", "phased_amplitudes", "sequential_correct",
           "sequential_lut",
           "spline_coefficients", "subtract_joint", "subtract_lut"]

NPHASES_OPT = 500


# --------------------------------------------------------------------------- periodic spline
@njit(cache=True)
def _spline_second_derivatives(y, h):
    """Not-a-knot cubic spline through ``y`` on a uniform grid of step ``h``: second
    derivatives M (len(y) >= 4). Interior rows M[i-1] + 4 M[i] + M[i+1] = 6/h^2 Δ²y[i]; the
    not-a-knot ends give M[1] and M[n-2] directly (6 M = rhs)."""
    n = y.shape[0]
    rhs = np.empty(n)
    for i in range(1, n - 1):
        rhs[i] = 6.0 * (y[i - 1] - 2.0 * y[i] + y[i + 1]) / (h * h)
    m = np.zeros(n)
    m[1] = rhs[1] / 6.0
    m[n - 2] = rhs[n - 2] / 6.0
    # Thomas algorithm on rows 2 .. n-3 with m[1], m[n-2] known
    nn = n - 4
    if nn > 0:
        cp = np.empty(nn)
        dp = np.empty(nn)
        for k in range(nn):
            i = k + 2
            d = rhs[i]
            if k == 0:
                d -= m[1]
            if k == nn - 1:
                d -= m[n - 2]
            if k == 0:
                cp[k] = 1.0 / 4.0
                dp[k] = d / 4.0
            else:
                den = 4.0 - cp[k - 1]
                cp[k] = 1.0 / den
                dp[k] = (d - dp[k - 1]) / den
        for k in range(nn - 1, -1, -1):
            m[k + 2] = dp[k] - (cp[k] * m[k + 3] if k < nn - 1 else 0.0)
    m[0] = 2.0 * m[1] - m[2]
    m[n - 1] = 2.0 * m[n - 2] - m[n - 3]
    return m


def spline_coefficients(wave: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knot values and second derivatives of the periodic waveform spline.

    wave : (N,) samples of one period at phases (j + 0.5)/N. Returns (y, M), both (N + 2,):
    knots at phases (j - 0.5)/N, j = 0..N+1, the ends wrapped (last sample first, first last).
    """
    wave = np.asarray(wave, dtype=np.float64).ravel()
    if wave.size < 2:
        raise ValueError("an EMI waveform needs at least 2 samples")
    y = np.concatenate([wave[-1:], wave, wave[:1]])
    return y, _spline_second_derivatives(y, 1.0 / wave.size)


@njit(cache=True)
def _spline_eval(y, m, p):
    """The spline of :func:`spline_coefficients` at phase ``p`` (0 <= p < 1)."""
    n = y.shape[0] - 2
    h = 1.0 / n
    j = int(np.floor(p * n + 0.5))
    if j < 0:
        j = 0
    if j > n:
        j = n
    x0 = (j - 0.5) / n
    a = (x0 + h - p)
    b = (p - x0)
    return (m[j] * a * a * a / (6.0 * h) + m[j + 1] * b * b * b / (6.0 * h)
            + (y[j] / h - m[j] * h / 6.0) * a + (y[j + 1] / h - m[j + 1] * h / 6.0) * b)


# --------------------------------------------------------------------------- joint algorithm
@njit(cache=True)
def emi_clock_phases(ny, nx4, rowclocks, nsamples, period):
    """Phase (0..1) of quad-column ``k`` of row ``y`` relative to the frame's first read:
    (ny, nx4) float64."""
    out = np.empty((ny, nx4))
    for y in range(ny):
        for k in range(nx4):
            t = float(y * rowclocks + k * nsamples)
            out[y, k] = (t / period) % 1.0
    return out


@njit(cache=True, parallel=True)
def _pixel_scatter(data, out):
    nints, ngroups, ny, nx = data.shape
    for y in prange(ny):
        for i in range(nints):
            for x in range(nx):
                s = 0.0
                for g in range(ngroups):
                    s += data[i, g, y, x]
                mean = s / ngroups
                ss = 0.0
                for g in range(ngroups):
                    d = data[i, g, y, x] - mean
                    ss += d * d
                out[i, y, x] = np.sqrt(ss / ngroups)


@njit(cache=True)
def _phase_sums(data, ok, phase, nphases):
    nints, ngroups, ny, nx = data.shape
    nx4 = nx // 4
    all_y = np.zeros((nints, nphases, ngroups))
    all_n = np.zeros((nints, nphases))
    for y in range(ny):
        for k in range(nx4):
            if k == 1 or k == 2:  # bad reference columns
                continue
            p = int(phase[y, k] * nphases)
            for ch in range(4):
                x = 4 * k + ch
                for i in range(nints):
                    if ok[i, y, x]:
                        all_n[i, p] += 1.0
                        for g in range(ngroups):
                            all_y[i, p, g] += data[i, g, y, x]
    return all_y, all_n


@njit(cache=True, parallel=True)
def _chi2_tables(all_y, all_n, ys, ms, dphase, phaselist):
    """a- and b-coefficients of chi2(c) = a c^2 + b c per trial offset and integration."""
    nints, nphases, ngroups = all_y.shape
    nopt = phaselist.shape[0]
    s_t = 0.0
    s_tt = 0.0
    for g in range(ngroups):
        s_t += g
        s_tt += g * g
    delta = ngroups * s_tt - s_t * s_t
    amat = np.zeros((nopt, nints))
    bmat = np.zeros((nopt, nints))
    for kk in prange(nopt):
        z = np.empty(ngroups)
        for p in range(nphases):
            base = (((p + 1) - 0.5) / nphases)
            s_z = 0.0
            s_tz = 0.0
            s_zz = 0.0
            for g in range(ngroups):
                ph = ((base + g * dphase) % 1.0 + phaselist[kk]) % 1.0
                zz = _spline_eval(ys, ms, ph)
                z[g] = zz
                s_z += zz
                s_tz += g * zz
                s_zz += zz * zz
            for i in range(nints):
                n_ = all_n[i, p]
                s_y = 0.0
                s_ty = 0.0
                s_yz = 0.0
                for g in range(ngroups):
                    v = all_y[i, p, g]
                    s_y += v
                    s_ty += g * v
                    s_yz += z[g] * v
                amat[kk, i] += n_ / delta * (-s_tt * s_z * s_z + 2.0 * s_t * s_z * s_tz
                                             - ngroups * s_tz * s_tz + s_zz * delta)
                bmat[kk, i] += (2.0 / delta) * (s_tt * s_z * s_y - s_t * s_tz * s_y
                                                - s_t * s_z * s_ty + ngroups * s_tz * s_ty)
                bmat[kk, i] -= 2.0 * s_yz
    return amat, bmat


@njit(cache=True)
def _nearest_trial(phaselist, phase, diff):
    """First trial offset at or after ``phase + diff`` (mod 1), as the official argmin."""
    best = 0
    bestv = np.inf
    for k in range(phaselist.shape[0]):
        v = abs((phaselist[k] - phase - diff) % 1.0)
        if v < bestv:
            bestv = v
            best = k
    return best


@njit(cache=True)
def _chi2_amplitude(amat, bmat, phaselist, phase, i_first, i_last, dphase_frame):
    a_ = 0.0
    b_ = 0.0
    for i in range(i_first, i_last):
        k = _nearest_trial(phaselist, phase, dphase_frame * i)
        a_ += amat[k, i]
        b_ += bmat[k, i]
    if abs(a_) <= 1e-8 or not np.isfinite(a_) or not np.isfinite(b_):
        return np.nan, 0.0
    c = -b_ / (2.0 * a_)
    return a_ * c * c + b_ * c, c


@njit(cache=True)
def _best_phase(phaselist, chisq):
    n = chisq.shape[0]
    ib = -1
    for k in range(n):
        if np.isfinite(chisq[k]) and (ib < 0 or chisq[k] < chisq[ib]):
            ib = k
    if ib < 0:
        return phaselist[0]
    im = ib - 1 if ib > 0 else n - 1
    ip = ib + 1 if ib < n - 1 else 0
    c0, c1, c2 = chisq[im], chisq[ib], chisq[ip]
    if not (np.isfinite(c0) and np.isfinite(c2)):
        return phaselist[ib]
    if c0 == c1 and c1 == c2:
        return phaselist[ib]
    x0, x1, x2 = phaselist[im], phaselist[ib], phaselist[ip]
    # parabola through the three points (Lagrange form), vertex -b / 2a
    d0 = (x0 - x1) * (x0 - x2)
    d1 = (x1 - x0) * (x1 - x2)
    d2 = (x2 - x0) * (x2 - x1)
    a = c0 / d0 + c1 / d1 + c2 / d2
    b = -(c0 * (x1 + x2) / d0 + c1 * (x0 + x2) / d1 + c2 * (x0 + x1) / d2)
    return -b / (2.0 * a)


@njit(cache=True)
def _fit_kernel(amat, bmat, phaselist, dphase_frame, separately):
    nopt, nints = amat.shape
    phases = np.empty(nints)
    amps = np.empty(nints)
    chisq = np.empty(nopt)
    if separately:
        for i in range(nints):
            for kk in range(nopt):
                chisq[kk] = _chi2_amplitude(amat, bmat, phaselist, phaselist[kk], i, i + 1,
                                            dphase_frame)[0]
            best = _best_phase(phaselist, chisq)
            phases[i] = best + i * dphase_frame
            amps[i] = _chi2_amplitude(amat, bmat, phaselist, best, i, i + 1, dphase_frame)[1]
    else:
        for kk in range(nopt):
            chisq[kk] = _chi2_amplitude(amat, bmat, phaselist, phaselist[kk], 0, nints,
                                        dphase_frame)[0]
        best = _best_phase(phaselist, chisq)
        amp = _chi2_amplitude(amat, bmat, phaselist, best, 0, nints, dphase_frame)[1]
        for i in range(nints):
            phases[i] = (best + i * dphase_frame) % 1.0
            amps[i] = amp
    return phases, amps


def fit_joint(data: np.ndarray, pixeldq: np.ndarray, wave: np.ndarray, *, nsamples: int,
              rowclocks: int, frameclocks: int, period: float, fit_ints_separately: bool = False
              ) -> tuple[np.ndarray, np.ndarray, float]:
    """Fit the phase and amplitude of EMI waveform ``wave`` to ramps (joint algorithm).

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN (nx a multiple of 4).
    pixeldq : (ny, nx) uint32; only pixels with 0 are used.
    wave : (N,) reference waveform over one period, DN.
    nsamples : 10-us samples per read (1 FAST, 9 SLOW); rowclocks, frameclocks: clocks per row
        and per reset frame (``frameclocks`` 0 unless FASTR1/SLOWR1); period : clocks per cycle.

    Returns
    -------
    phases : (nints,) phase offset of each integration's first read; amplitudes : (nints,)
    waveform scale; dphase : phase step between groups.
    """
    nints, ngroups, ny, nx = data.shape
    nx4 = nx // 4
    frametime = ny * rowclocks + (1024.0 - ny) * 7.0
    phase = emi_clock_phases(ny, nx4, int(rowclocks), int(nsamples), float(period))
    dphase = (frametime / period) % 1.0
    dphase_frame = dphase * ngroups + frameclocks / period
    scatter = np.empty((nints, ny, nx))
    _pixel_scatter(data, scatter)
    ok = (scatter < 2.0 * np.median(scatter)) & (pixeldq == 0)[None]
    ys, ms = spline_coefficients(wave)
    all_y, all_n = _phase_sums(data, ok, phase, ys.size - 2)
    phaselist = np.arange(NPHASES_OPT) * 1.0 / NPHASES_OPT
    amat, bmat = _chi2_tables(all_y, all_n, ys, ms, dphase, phaselist)
    phases, amps = _fit_kernel(amat, bmat, phaselist, dphase_frame, bool(fit_ints_separately))
    return phases, amps, dphase


@njit(cache=True, parallel=True)
def _subtract_joint_kernel(data, phase, dphase, phases, amps, ys, ms):
    nints, ngroups, ny, nx = data.shape
    nx4 = nx // 4
    for y in prange(ny):
        for i in range(nints):
            for g in range(ngroups):
                for k in range(nx4):
                    v = amps[i] * _spline_eval(ys, ms, (phase[y, k] + dphase * g + phases[i])
                                               % 1.0)
                    for ch in range(4):
                        x = 4 * k + ch
                        data[i, g, y, x] = np.float32(data[i, g, y, x] - v)


def subtract_joint(data: np.ndarray, wave: np.ndarray, phases: np.ndarray, amps: np.ndarray,
                   dphase: float, *, nsamples: int, rowclocks: int, period: float) -> None:
    """Subtract ``amps[i] * wave`` placed at ``phases[i]`` from every output, in place."""
    ny, nx = data.shape[2:]
    phase = emi_clock_phases(ny, nx // 4, int(rowclocks), int(nsamples), float(period))
    ys, ms = spline_coefficients(wave)
    _subtract_joint_kernel(data, phase, float(dphase), np.asarray(phases, np.float64),
                           np.asarray(amps, np.float64), ys, ms)


# ---------------------------------------------------------------------- sequential algorithm
@njit(cache=True)
def _median(vals):
    return np.median(vals)


@njit(cache=True)
def _clean_integration(ramp, out):
    """Line (groups 1..G-2) and self-superbias removed, outputs averaged, reference columns
    patched, frame median removed: ramp (G, ny, nx) -> out (G, ny, nx4)."""
    ngroups, ny, nx = ramp.shape
    nx4 = nx // 4
    n = ngroups - 2
    work = np.empty((ngroups, ny, nx), dtype=np.float32)  # float32 storage, as officially
    sx = 0.0
    sxx = 0.0
    for t in range(n):
        sx += t
        sxx += t * t
    buf = np.empty(n, dtype=np.float32)
    for y in range(ny):
        for x in range(nx):
            sy = 0.0
            sxy = 0.0
            for t in range(n):
                v = float(ramp[t + 1, y, x])
                sy += v
                sxy += t * v
            slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
            for g in range(ngroups):
                work[g, y, x] = np.float32(float(ramp[g, y, x]) - slope * g)
            for t in range(n):
                buf[t] = work[t + 1, y, x]
            if n <= 2:
                m0 = np.nanmin(buf)
            else:
                m0 = np.nanmedian(buf)
            for g in range(ngroups):
                work[g, y, x] = np.float32(work[g, y, x] - m0)
    frame = np.empty(ny * nx4)
    for g in range(ngroups):
        for y in range(ny):
            for k in range(nx4):
                out[g, y, k] = (work[g, y, 4 * k] + work[g, y, 4 * k + 1] + work[g, y, 4 * k + 2]
                                + work[g, y, 4 * k + 3]) / np.float32(4.0)
            if nx4 > 3:
                fix = (out[g, y, 0] + out[g, y, 3]) / 2.0
                out[g, y, 1] = fix
                out[g, y, 2] = fix
        for y in range(ny):
            for k in range(nx4):
                frame[y * nx4 + k] = out[g, y, k]
        med = np.median(frame)
        for y in range(ny):
            for k in range(nx4):
                out[g, y, k] -= med


@njit(cache=True)
def _sequential_phases(nints, ngroups, ny, nx4, nsamples, rowclocks, extra_rowclocks,
                       frameclocks_r1, period, last_col_extra):
    """Phase of every read of the exposure from the cumulative 10-us clock:
    (nints, ngroups, ny, nx4) float64."""
    out = np.empty((nints, ngroups, ny, nx4))
    start = 0.0
    for i in range(nints):
        for g in range(ngroups):
            for y in range(ny):
                base = np.uint64(start)
                for k in range(nx4):
                    t = np.uint64(k * nsamples) + base
                    if k == nx4 - 1:
                        t += np.uint64(last_col_extra)
                    ph = float(t) / period
                    out[i, g, y, k] = ph - float(np.uint64(ph))
                start += rowclocks
            start += extra_rowclocks
        start += frameclocks_r1
    return out


@njit(cache=True)
def _clipped_mean(vals):
    """astropy ``sigma_clipped_stats`` mean (3 sigma, 5 iterations, median centre, std)."""
    keep = vals[np.isfinite(vals)]
    if keep.size == 0:
        return np.nan
    for _ in range(5):
        med = np.median(keep)
        std = np.std(keep)
        sel = keep[(keep >= med - 3.0 * std) & (keep <= med + 3.0 * std)]
        if sel.size == keep.size:
            break
        keep = sel
        if keep.size == 0:
            return np.nan
    return np.mean(keep)


@njit(cache=True)
def _bin_kernel(phases, dd, nbins):
    flat_p = phases.ravel()
    flat_d = dd.ravel()
    idx = np.empty(flat_p.size, dtype=np.int64)
    counts = np.zeros(nbins + 1, dtype=np.int64)
    for j in range(flat_p.size):
        p = flat_p[j]
        b = int(p * nbins)
        while b > 0 and not (p > b / nbins):
            b -= 1
        while b < nbins and p > (b + 1) / nbins:
            b += 1
        if not (p > b / nbins) or b >= nbins:
            b = nbins  # outside every bin (phase 0)
        idx[j] = b
        counts[b] += 1
    order = np.argsort(idx, kind="mergesort")
    pa = np.empty(nbins)
    start = 0
    for b in range(nbins):
        vals = np.empty(counts[b])
        for j in range(counts[b]):
            vals[j] = flat_d[order[start + j]]
        start += counts[b]
        pa[b] = _clipped_mean(vals)
    return pa


def phased_amplitudes(data: np.ndarray, *, nsamples: int, rowclocks: int, frameclocks: int,
                      period: float, nbins: int, nints_to_phase: int, r1: bool,
                      xstart: int, xsize: int) -> tuple[np.ndarray, np.ndarray]:
    """Phase every read and bin the cleaned, output-averaged data (sequential algorithm).

    Returns
    -------
    pa : (nbins,) phased amplitude wave (DN, median removed).
    phases : (nints, ngroups, ny, nx // 4) phase (0..1) of every read.
    """
    nints, ngroups, ny, nx = data.shape
    nx4 = nx // 4
    dd = np.empty((nints, ngroups, ny, nx4))
    for i in range(min(nints_to_phase, nints)):
        _clean_integration(data[i], dd[i])
    colstop = int(xsize / 4 + xstart - 1)
    # official quirk, kept: full-frame rows push their last (reference) read by 3 + 2**32
    last_extra = 3 + 2**32 if colstop == 258 else 0
    phases = _sequential_phases(nints, ngroups, ny, nx4, int(nsamples), float(rowclocks),
                                (1024.0 - ny) * (4 + 3.0), float(frameclocks) if r1 else 0.0,
                                float(period), last_extra)
    n = min(nints_to_phase, nints)
    pa = _bin_kernel(np.ascontiguousarray(phases[:n]), dd[:n], int(nbins))
    return pa - np.median(pa), phases


def _rebin(arr: np.ndarray, new: float) -> np.ndarray:
    """Nearest-lower resampling of ``arr`` to ``new`` samples (IDL congrid without /INTERP)."""
    step = arr.size / new
    n = int(np.ceil(arr.size / step))
    idx = (np.arange(n) * step).astype(np.int64)
    return arr[np.minimum(idx, arr.size - 1)]


def sequential_lut(pa: np.ndarray, period: float, wave: np.ndarray | None,
                   scale_reference: bool) -> np.ndarray:
    """Noise look-up table over one period (about ``period`` samples): ``pa`` itself, or the
    reference ``wave`` rolled to the best correlation with ``pa`` (and scaled to it)."""
    lut = _rebin(pa, period)
    if wave is None:
        return lut
    wave = np.asarray(wave, np.float64)
    rpa = _rebin(pa, wave.size)
    cc = np.array([_corr(np.roll(wave, i), rpa) for i in range(wave.size)])
    nan = np.flatnonzero(np.isnan(cc))
    u = int(nan[0]) if nan.size else int(np.argmax(cc))
    lut_ref = _rebin(np.roll(wave, u), period)
    if scale_reference:
        n = min(lut_ref.size, lut.size)
        lut_ref = lut_ref * _line_slope(lut_ref[:n], lut[:n])
    return lut_ref


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else np.nan


def _line_slope(x: np.ndarray, y: np.ndarray) -> float:
    xm, ym = x.mean(), y.mean()
    sxx = ((x - xm) ** 2).sum()
    return float(((x - xm) * (y - ym)).sum() / sxx) if sxx > 0 else np.nan


@njit(cache=True, parallel=True)
def _subtract_lut_kernel(data, phases, lut, period):
    nints, ngroups, ny, nx = data.shape
    nx4 = nx // 4
    for y in prange(ny):
        for i in range(nints):
            for g in range(ngroups):
                for k in range(nx4):
                    j = int(phases[i, g, y, k] * period)
                    v = lut[j] if j < lut.shape[0] else np.nan
                    if not np.isfinite(v):
                        v = 0.0
                    for ch in range(4):
                        x = 4 * k + ch
                        data[i, g, y, x] = np.float32(data[i, g, y, x] - v)


def subtract_lut(data: np.ndarray, phases: np.ndarray, lut: np.ndarray, period: float) -> None:
    """Subtract ``lut[int(phase * period)]`` from every output of every read, in place
    (non-finite look-ups count as 0)."""
    _subtract_lut_kernel(data, phases, np.asarray(lut, np.float64), float(period))


def sequential_correct(data: np.ndarray, wave: np.ndarray | None, *, nsamples: int,
                       rowclocks: int, frameclocks: int, period: float, nbins: int | None,
                       nints_to_phase: int, r1: bool, xstart: int, xsize: int,
                       scale_reference: bool) -> np.ndarray:
    """One frequency of the sequential algorithm, in place; returns ``pa`` (nbins,)."""
    nb = int(period / 2.0) if nbins is None else int(nbins)
    if nb > 501:
        nb = 500
    pa, phases = phased_amplitudes(data, nsamples=nsamples, rowclocks=rowclocks,
                                   frameclocks=frameclocks, period=period, nbins=nb,
                                   nints_to_phase=nints_to_phase, r1=r1, xstart=xstart,
                                   xsize=xsize)
    lut = sequential_lut(pa, period, wave, scale_reference)
    subtract_lut(data, phases, lut, period)
    return pa
