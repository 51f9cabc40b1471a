"""Saturation and A/D-floor flagging of up-the-ramp data (Detector1 ``saturation``).

Algorithm (after the official ``saturation`` step, stcal implementation; JWST pipeline
documentation "Saturation Checking" and "Charge Migration"):

1. Thresholds that are NaN, or whose reference DQ carries NO_SAT_CHECK, are replaced by
   ``atod_limit + 1`` so that they never trip; NaN thresholds gain NO_SAT_CHECK, and the whole
   reference DQ is OR-ed into the pixel DQ.
2. Forward pass, per integration and group: a group at or above its threshold is SATURATED
   and so are all later groups of that pixel. In every group, the SATURATED set (this running
   tally plus SATURATED flags already present in that group on input) is grown by a
   ``(2n+1) x (2n+1)`` square (``n = n_pix_grow_sat``; edges clipped, no wrap). Values ``<= 0``
   get AD_FLOOR | DO_NOT_USE in that group only (not grown).
3. Read-pattern mode (only when a frame read pattern is given): a group averaged over several
   frames can be below threshold although its last frames saturated.

   * Backward pass, groups ``ngroups-2 .. 0``: a group not already SATURATED or DO_NOT_USE,
     whose next group is SATURATED and whose value is at or above ``threshold * mean(frames) /
     last(frame)`` (factor 1 for NO_SAT_CHECK pixels; the pass is skipped for groups whose
     factor is exactly 1) gets ``partial_flag`` (official: DO_NOT_USE, not SATURATED), grown by
     the same square.
   * Second-group pass (``ngroups > 2``): group 1 gets ``partial_flag`` (not grown) when
     (a) the rate from group 0 would not saturate by the last frame of group 2,
     ``(g0 - bias) / mean(frames0) * last(frames2) + bias < threshold``,
     (b) ``g1 - g0 > (threshold - g0) / nframes(group 1)``, and (c) group 2 is SATURATED but
     group 1 is not. ``bias`` is the superbias when available, else 0.

The official code builds the read pattern as if there were no dropped frames
(``[g*nframes + 1 ... g*nframes + nframes]``, GROUPGAP ignored); :func:`frame_read_pattern`
reproduces that by default and can include GROUPGAP on request.

Results are bitwise identical whatever the numba thread count: every output element is
written by exactly one thread from integer/bool logic or from the same float expression.
Only the two sweeps over the whole ramp are parallel (rows); the light passes (square
growth, read-pattern checks) are serial, which keeps the compile time down.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["flag_saturation", "frame_read_pattern"]


@njit(cache=True)
def _dilate_or(src, rowany, n, out, flag, tmp):
    """OR ``flag`` into ``out`` wherever a (2n+1)^2 box around the pixel touches ``src``.

    src : (ny, nx) bool; rowany : (ny,) bool, True for rows of ``src`` holding any True
    (rows without are skipped: most rows of a frame have no saturated pixel); out : (ny, nx)
    uint8, updated in place; tmp : (ny, nx) bool scratch. Separable: a row maximum then a
    column maximum (equivalent to a square binary dilation with zero padding).
    """
    ny, nx = src.shape
    if n <= 0:
        for y in range(ny):
            if rowany[y]:
                for x in range(nx):
                    if src[y, x]:
                        out[y, x] |= flag
        return
    for y in range(ny):
        if not rowany[y]:
            continue
        for x in range(nx):
            x0 = max(0, x - n)
            x1 = min(nx - 1, x + n)
            hit = False
            for xx in range(x0, x1 + 1):
                if src[y, xx]:
                    hit = True
                    break
            tmp[y, x] = hit
    for y in range(ny):
        y0 = max(0, y - n)
        y1 = min(ny - 1, y + n)
        near = False
        for yy in range(y0, y1 + 1):
            if rowany[yy]:
                near = True
                break
        if not near:
            continue
        for x in range(nx):
            for yy in range(y0, y1 + 1):
                if rowany[yy] and tmp[yy, x]:
                    out[y, x] |= flag
                    break


@njit(cache=True)
def _min_filter(a, n, out, tmp):
    """out = minimum of ``a`` (ny, nx) int32 over the (2n+1)^2 square around each pixel
    (edges clipped); separable, rows then columns; tmp (ny, nx) int32 scratch."""
    ny, nx = a.shape
    for y in range(ny):
        for x in range(nx):
            m = a[y, x]
            for xx in range(max(0, x - n), min(nx, x + n + 1)):
                if a[y, xx] < m:
                    m = a[y, xx]
            tmp[y, x] = m
    for y in range(ny):
        for x in range(nx):
            m = tmp[y, x]
            for yy in range(max(0, y - n), min(ny, y + n + 1)):
                if tmp[yy, x] < m:
                    m = tmp[yy, x]
            out[y, x] = m


@njit(cache=True, parallel=True)
def _first_saturated(data, gdq, thresh, saturated, low, first, insat):
    """One integration, rows in parallel: ``first`` (ny, nx) = first group at or above
    ``thresh`` (ngroups if none); ``low`` OR-ed where a group is <= 0; ``insat`` (ngroups,
    ny): the row has SATURATED on input in that group. data, gdq (ngroups, ny, nx)."""
    ny = data.shape[1]
    for y in prange(ny):
        _first_saturated_row(data, gdq, thresh, saturated, low, first, insat, y)


@njit(cache=True, inline="always")
def _first_saturated_row(data, gdq, thresh, saturated, low, first, insat, y):
    ngroups, _, nx = data.shape
    for x in range(nx):
        first[y, x] = ngroups
    for g in range(ngroups):
        insat[g, y] = False
        for x in range(nx):
            v = data[g, y, x]
            if first[y, x] == ngroups and v >= thresh[y, x]:
                first[y, x] = g
            if v <= 0:
                gdq[g, y, x] |= low
            if (gdq[g, y, x] & saturated) != 0:
                insat[g, y] = True


@njit(cache=True, parallel=True)
def _flag_from(grown, flag, gdq):
    """OR ``flag`` into gdq (ngroups, ny, nx) for every group g >= grown (ny, nx)."""
    ny = gdq.shape[1]
    for y in prange(ny):
        _flag_from_row(grown, flag, gdq, y)


@njit(cache=True, inline="always")
def _flag_from_row(grown, flag, gdq, y):
    ngroups, _, nx = gdq.shape
    for g in range(ngroups):
        for x in range(nx):
            if g >= grown[y, x]:
                gdq[g, y, x] |= flag


@njit(cache=True)
def _saturation_kernel(
    data,
    gdq,
    thresh,
    nosat,
    n_grow,
    use_rp,
    dilution,
    mean0,
    last2,
    n1,
    bias,
    saturated,
    do_not_use,
    ad_floor,
    partial_flag,
):
    """Flag one exposure in place.

    data (nints, ngroups, ny, nx) float32; gdq same shape uint8 (updated in place);
    thresh (ny, nx) float32 already cleaned (no NaN); nosat (ny, nx) bool;
    dilution (ngroups,) float64 = mean(frames)/last(frame); bias (ny, nx) float32.
    """
    nints, ngroups, ny, nx = data.shape
    first = np.empty((ny, nx), dtype=np.int32)
    grown = np.empty((ny, nx), dtype=np.int32)
    tmp_i = np.empty((ny, nx), dtype=np.int32)
    src = np.zeros((ny, nx), dtype=np.bool_)
    tmp = np.zeros((ny, nx), dtype=np.bool_)
    rowany = np.zeros(ny, dtype=np.bool_)
    insat = np.zeros((ngroups, ny), dtype=np.bool_)
    low = np.uint8(ad_floor | do_not_use)
    for i in range(nints):
        # forward pass, in three sweeps instead of one dilation per group: a pixel saturates
        # for good at its first group at or above threshold, so the square-grown running
        # tally of group g is {g >= min of that first group over the square}
        _first_saturated(data[i], gdq[i], thresh, saturated, low, first, insat)
        _min_filter(first, n_grow, grown, tmp_i)
        # SATURATED already present on input (rare) is grown group by group, as before
        for g in range(ngroups):
            any_in = False
            for y in range(ny):
                if insat[g, y]:
                    any_in = True
                    break
            if not any_in:
                continue
            for y in range(ny):
                rowany[y] = insat[g, y]
                if insat[g, y]:
                    for x in range(nx):
                        src[y, x] = (gdq[i, g, y, x] & saturated) != 0
            _dilate_or(src, rowany, n_grow, gdq[i, g], saturated, tmp)
        _flag_from(grown, saturated, gdq[i])
        if not use_rp:
            continue
        # backward pass for groups whose average hides saturating frames
        for g in range(ngroups - 2, -1, -1):
            if dilution[g] == 1.0:
                continue
            for y in range(ny):
                anyrow = False
                for x in range(nx):
                    if (gdq[i, g + 1, y, x] & saturated) == 0:
                        src[y, x] = False
                        continue
                    fac = 1.0 if nosat[y, x] else dilution[g]
                    hit = (
                        np.float64(data[i, g, y, x]) >= np.float64(thresh[y, x]) * fac
                        and (gdq[i, g, y, x] & (saturated | do_not_use)) == 0
                    )
                    src[y, x] = hit
                    anyrow = anyrow or hit
                rowany[y] = anyrow
            any_hit = False
            for y in range(ny):
                if rowany[y]:
                    any_hit = True
                    break
            if any_hit:
                _dilate_or(src, rowany, n_grow, gdq[i, g], partial_flag, tmp)
        # second group saturating inside its frame average
        if ngroups > 2:
            for y in range(ny):
                for x in range(nx):
                    g0 = data[i, 0, y, x]
                    b = bias[y, x]
                    thr = thresh[y, x]
                    pred3 = np.float64(g0 - b) / mean0 * last2 + np.float64(b)
                    c1 = pred3 < np.float64(thr)
                    c2 = (data[i, 1, y, x] - g0) > (thr - g0) / np.float32(n1)
                    c3 = (gdq[i, 2, y, x] & saturated) != 0 and (gdq[i, 1, y, x] & saturated) == 0
                    if c1 and c2 and c3:
                        gdq[i, 1, y, x] |= partial_flag


def frame_read_pattern(
    ngroups: int, nframes: int, groupgap: int = 0, include_groupgap: bool = False
) -> np.ndarray:
    """1-based indices of the frames averaged into each group.

    Parameters
    ----------
    ngroups, nframes, groupgap : int
        Exposure read pattern (NGROUPS, NFRAMES, GROUPGAP).
    include_groupgap : bool
        False (official behaviour): frames of group g are ``g*nframes + 1 .. (g+1)*nframes``,
        as if no frames were dropped. True: ``g*(nframes+groupgap) + 1 .. + nframes``, the
        physical frame numbers.

    Returns
    -------
    (ngroups, nframes) int64 array.
    """
    stride = nframes + groupgap if include_groupgap else nframes
    g = np.arange(ngroups, dtype=np.int64)[:, None]
    f = np.arange(nframes, dtype=np.int64)[None, :]
    return g * stride + f + 1


def flag_saturation(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    sat_thresh: np.ndarray,
    sat_dq: np.ndarray,
    *,
    saturated: int,
    do_not_use: int,
    ad_floor: int,
    no_sat_check: int,
    atod_limit: float = 65535.0,
    n_pix_grow_sat: int = 1,
    read_pattern=None,
    bias: np.ndarray | None = None,
    partial_flag: int | None = None,
    zeroframe: np.ndarray | None = None,
    out: np.ndarray | None = None,
):
    """Flag saturated and A/D-floor groups.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
        Raw ramps (science frame). Not modified.
    groupdq : (nints, ngroups, ny, nx) uint8
        Input group DQ. Not modified unless it is ``out``.
    pixeldq : (ny, nx) uint32
        Input pixel DQ. Not modified.
    sat_thresh : (ny, nx) float, DN
        Saturation thresholds, already cut to the science subarray; NaN = no check.
    sat_dq : (ny, nx) uint32
        DQ of the saturation reference.
    saturated, do_not_use, ad_floor, no_sat_check : int
        DQ bit values (SATURATED, DO_NOT_USE, AD_FLOOR fit in the uint8 group DQ).
    atod_limit : float
        A-to-D limit; unchecked pixels get ``atod_limit + 1``.
    n_pix_grow_sat : int
        Half-width of the square grown around saturated pixels (0: no growth).
    read_pattern : sequence of sequences, or (ngroups, nframes) int array, or None
        1-based frame numbers of each group (see :func:`frame_read_pattern`). None disables the
        read-pattern passes (official behaviour when the step is not given one).
    bias : (ny, nx) float, DN, optional
        Superbias used by the second-group test; zeros when None.
    partial_flag : int, optional
        Flag set by the read-pattern passes; defaults to ``do_not_use`` as officially.
    zeroframe : (nints, ny, nx) float32, optional
        ZEROFRAME; a copy is returned with saturated (grown) or ``<= 0`` values set to 0.
    out : (nints, ngroups, ny, nx) uint8 C-contiguous, optional
        Group DQ to write; may be ``groupdq`` itself (flags added in place, no copy).

    Returns
    -------
    groupdq : (nints, ngroups, ny, nx) uint8
    pixeldq : (ny, nx) uint32
        ``pixeldq | sat_dq`` (NO_SAT_CHECK added for NaN thresholds).
    zeroframe : (nints, ny, nx) float32 or None
    """
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError(f"data must be 4-D (nints, ngroups, ny, nx), got {data.shape}")
    nints, ngroups, ny, nx = data.shape
    if groupdq.shape != data.shape:
        raise ValueError(f"groupdq shape {groupdq.shape} != data shape {data.shape}")
    for name, arr in (("pixeldq", pixeldq), ("sat_thresh", sat_thresh), ("sat_dq", sat_dq)):
        if arr.shape != (ny, nx):
            raise ValueError(f"{name} shape {arr.shape} != {(ny, nx)}")
    if n_pix_grow_sat < 0:
        raise ValueError("n_pix_grow_sat must be >= 0")
    data32 = np.ascontiguousarray(data, dtype=np.float32)
    if out is None:
        gdq = np.array(groupdq, dtype=np.uint8, copy=True, order="C")
    elif out.shape != data.shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise ValueError(f"out must be uint8 C-contiguous of shape {data.shape}")
    else:
        gdq = out
        if out is not groupdq:
            gdq[...] = groupdq

    thr = np.array(sat_thresh, dtype=np.float32, copy=True)
    sdq = np.array(sat_dq, dtype=np.uint32, copy=True)
    nan = np.isnan(thr)
    sdq[nan] |= np.uint32(no_sat_check)
    nosat = ((sdq & np.uint32(no_sat_check)) == np.uint32(no_sat_check)) | nan
    thr[nosat] = np.float32(atod_limit + 1)

    if partial_flag is None:
        partial_flag = do_not_use
    use_rp = read_pattern is not None
    dilution = np.ones(ngroups, dtype=np.float64)
    mean0, last2, n1 = 1.0, 1.0, 1
    if use_rp:
        rp = [np.asarray(r, dtype=np.float64).ravel() for r in read_pattern]
        if len(rp) < ngroups:
            raise ValueError(f"read_pattern has {len(rp)} groups, data has {ngroups}")
        for g in range(ngroups):
            dilution[g] = np.mean(rp[g]) / rp[g][-1]
        mean0 = float(np.mean(rp[0]))
        if ngroups > 2:
            last2 = float(rp[2][-1])
            n1 = len(rp[1])
    b = (
        np.zeros((ny, nx), dtype=np.float32)
        if bias is None
        else np.ascontiguousarray(bias, dtype=np.float32)
    )
    if b.shape != (ny, nx):
        raise ValueError(f"bias shape {b.shape} != {(ny, nx)}")

    _saturation_kernel(
        data32,
        gdq,
        thr,
        nosat,
        int(n_pix_grow_sat),
        use_rp,
        dilution,
        mean0,
        last2,
        int(n1),
        b,
        np.uint8(saturated),
        np.uint8(do_not_use),
        np.uint8(ad_floor),
        np.uint8(partial_flag),
    )
    pdq = np.bitwise_or(np.asarray(pixeldq, dtype=np.uint32), sdq)

    zout = None
    if zeroframe is not None:
        zf = np.ascontiguousarray(zeroframe, dtype=np.float32)
        if zf.shape != (nints, ny, nx):
            raise ValueError(f"zeroframe shape {zf.shape} != {(nints, ny, nx)}")
        zdq = np.zeros((nints, 1, ny, nx), dtype=np.uint8)
        _saturation_kernel(
            zf[:, None],
            zdq,
            thr,
            nosat,
            int(n_pix_grow_sat),
            False,
            dilution[:1],
            1.0,
            1.0,
            1,
            b,
            np.uint8(saturated),
            np.uint8(do_not_use),
            np.uint8(ad_floor),
            np.uint8(partial_flag),
        )
        zout = np.where(zdq[:, 0] != 0, np.float32(0.0), zf)
    return gdq, pdq, zout
