"""Small Detector1 kernels: superbias, group_scale, firstframe/lastframe, gain_scale,
persistence flagging, charge_migration.

Each function takes arrays in the science frame (data (nints, ngroups, ny, nx) float32 DN,
groupdq uint8 of the same shape, pixeldq (ny, nx) uint32), never modifies its inputs and
returns new arrays. DQ bit values are arguments. Facts from the official step documentation
and code (JWST pipeline, ``superbias``, ``group_scale``, ``firstframe``, ``lastframe``,
``gain_scale``, ``persistence``, ``charge_migration``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "charge_migration",
    "check_out",
    "flag_first_last_groups",
    "flag_persistence",
    "gain_scale",
    "group_scale",
    "sort_head",
    "subtract_superbias",
]

#: Shell-sort gaps (Ciura 2001, extended by x2.25), largest first
_GAPS = np.array([1750, 701, 301, 132, 57, 23, 10, 4, 1], dtype=np.int64)


@njit(cache=True)
def sort_head(buf, n):
    """Sort ``buf[:n]`` ascending in place (no NaN), without allocating: insertion sort for
    the short per-pixel vectors, Shell sort for long ones. Replaces ``np.sort``, which
    allocated a copy per call and made every kernel using it slow to compile."""
    start = 0 if n > 32 else _GAPS.size - 1
    for k in range(start, _GAPS.size):
        gap = _GAPS[k]
        for j in range(gap, n):
            v = buf[j]
            m = j
            while m >= gap and buf[m - gap] > v:
                buf[m] = buf[m - gap]
                m -= gap
            buf[m] = v


def check_out(out: np.ndarray | None, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """A new C-contiguous ``dtype`` array of ``shape``, or ``out`` checked to be one (kernels
    that write element by element accept their input as ``out``: in place)."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    if out.shape != tuple(shape) or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(f"out must be {np.dtype(dtype).name} C-contiguous of shape {shape}")
    return out


def _check4(data: np.ndarray) -> np.ndarray:
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError(f"data must be 4-D (nints, ngroups, ny, nx), got {data.shape}")
    return data


@njit(cache=True, parallel=True)
def _sub_plane(data, plane, out):
    nints, ngroups, ny, nx = data.shape
    for y in prange(ny):
        for i in range(nints):
            for g in range(ngroups):
                for x in range(nx):
                    out[i, g, y, x] = data[i, g, y, x] - plane[y, x]


@njit(cache=True, parallel=True)
def _scale(data, factor, out):
    flat = data.reshape(-1)
    o = out.reshape(-1)
    for k in prange(flat.size):
        o[k] = np.float32(np.float64(flat[k]) * factor)


def subtract_superbias(
    data: np.ndarray,
    pixeldq: np.ndarray,
    bias: np.ndarray,
    bias_dq: np.ndarray,
    zeroframe: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Subtract the superbias from every group.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
    pixeldq : (ny, nx) uint32
    bias : (ny, nx) float, DN
        Superbias cut to the subarray. NaN values are treated as 0 (official; no extra flag:
        the flags come from ``bias_dq``).
    bias_dq : (ny, nx) uint32
        OR-ed into the pixel DQ.
    zeroframe : (nints, ny, nx) float32, optional
        Also bias-subtracted; zeros (bad data) stay 0.
    out : (nints, ngroups, ny, nx) float32 C-contiguous, optional
        Where to write the data; may be ``data`` itself (in place).

    Returns
    -------
    data, pixeldq, zeroframe (or None)
    """
    data = _check4(data)
    b = np.nan_to_num(np.asarray(bias, dtype=np.float32), nan=0.0)
    if b.shape != data.shape[2:] or bias_dq.shape != data.shape[2:]:
        raise ValueError("bias/bias_dq do not match the data's (ny, nx)")
    out = check_out(out, data.shape, np.float32)
    _sub_plane(out if out is data else np.ascontiguousarray(data, dtype=np.float32),
               np.ascontiguousarray(b), out)
    zout = None
    if zeroframe is not None:
        zf = np.asarray(zeroframe, dtype=np.float32)
        zout = np.where(zf == 0.0, np.float32(0.0), zf - b[None]).astype(np.float32)
    return out, np.bitwise_or(np.asarray(pixeldq, np.uint32), bias_dq.astype(np.uint32)), zout


def group_scale(data: np.ndarray, nframes: int, frame_divisor: int | None) -> np.ndarray | None:
    """Rescale groups whose on-board sum was divided by FRMDIVSR instead of NFRAMES.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
    nframes : int
        NFRAMES.
    frame_divisor : int or None
        FRMDIVSR.

    Returns
    -------
    ``data * frame_divisor / nframes`` as float32, or None when the step is to be skipped
    (``frame_divisor`` missing or equal to ``nframes``). The ERR array is scaled by the same
    factor by the caller.
    """
    data = _check4(data)
    if frame_divisor is None or frame_divisor == nframes:
        return None
    out = np.empty(data.shape, dtype=np.float32)
    _scale(np.ascontiguousarray(data, dtype=np.float32), frame_divisor / nframes, out)
    return out


def gain_scale(data: np.ndarray, gain_factor: float) -> np.ndarray:
    """Multiply a rate/rateints (or any) array by the GAIN reference's GAINFACT.

    Parameters
    ----------
    data : array of float32, DN/s
    gain_factor : float

    Returns
    -------
    float32 array of the same shape (the caller scales ERR alike and VAR_* by its square).
    """
    d = np.ascontiguousarray(data, dtype=np.float32)
    out = np.empty(d.shape, dtype=np.float32)
    _scale(d, float(gain_factor), out)
    return out


def flag_first_last_groups(
    groupdq: np.ndarray,
    *,
    do_not_use: int,
    first: bool = False,
    last: bool = False,
    first_min_groups: int = 4,
    last_min_groups: int = 3,
) -> np.ndarray:
    """MIRI ``firstframe`` / ``lastframe``: flag the first / last group DO_NOT_USE.

    Parameters
    ----------
    groupdq : (nints, ngroups, ny, nx) uint8
    do_not_use : int
    first, last : bool
        Which flag(s) to set.
    first_min_groups, last_min_groups : int
        Official thresholds: firstframe acts only when ngroups > 3, lastframe when ngroups > 2.

    Returns
    -------
    (nints, ngroups, ny, nx) uint8 copy.
    """
    gdq = np.array(groupdq, dtype=np.uint8, copy=True)
    if gdq.ndim != 4:
        raise ValueError(f"groupdq must be 4-D, got {gdq.shape}")
    ngroups = gdq.shape[1]
    if first and ngroups >= first_min_groups:
        gdq[:, 0] |= np.uint8(do_not_use)
    if last and ngroups >= last_min_groups:
        gdq[:, -1] |= np.uint8(do_not_use)
    return gdq


def flag_persistence(
    pixeldq: np.ndarray, persistence: np.ndarray, *, flag_pers_cutoff: float, persistence_flag: int
) -> np.ndarray:
    """Flag pixels whose predicted persistence exceeds ``flag_pers_cutoff``.

    Only the flagging part of the official ``persistence`` step: the trap-capture/decay model
    that predicts the persistence is not implemented here.

    Parameters
    ----------
    pixeldq : (ny, nx) uint32
    persistence : (..., ny, nx) float, DN
        Predicted persistence (e.g. per group or per integration); the maximum over leading
        axes is compared with the cutoff.
    flag_pers_cutoff : float, DN
        Official default 40 DN.
    persistence_flag : int
        PERSISTENCE bit value.

    Returns
    -------
    (ny, nx) uint32
    """
    p = np.asarray(persistence, dtype=np.float64)
    peak = p.reshape(-1, *p.shape[-2:]).max(axis=0) if p.ndim > 2 else p
    flag = np.where(peak >= flag_pers_cutoff, np.uint32(persistence_flag), np.uint32(0))
    return np.bitwise_or(np.asarray(pixeldq, np.uint32), flag)


@njit(cache=True, parallel=True)
def _charge_migration_kernel(data, gdq, thr, dnu, flag, out):
    nints, ngroups, ny, nx = data.shape
    first = np.empty((ny, nx), dtype=np.int64)
    for i in range(nints):
        for y in prange(ny):
            for x in range(nx):
                f = ngroups
                for g in range(ngroups):
                    if data[i, g, y, x] > thr and gdq[i, g, y, x] != dnu:
                        f = g
                        break
                first[y, x] = f
        for y in prange(ny):
            for x in range(nx):
                f = first[y, x]
                if y > 0:
                    f = min(f, first[y - 1, x])
                if y < ny - 1:
                    f = min(f, first[y + 1, x])
                if x > 0:
                    f = min(f, first[y, x - 1])
                if x < nx - 1:
                    f = min(f, first[y, x + 1])
                for g in range(ngroups):
                    v = gdq[i, g, y, x]
                    out[i, g, y, x] = v | flag if g >= f else v


def charge_migration(
    data: np.ndarray,
    groupdq: np.ndarray,
    *,
    signal_threshold: float,
    do_not_use: int,
    chargeloss: int,
) -> np.ndarray:
    """Flag groups above ``signal_threshold`` and all later ones, with their 4 neighbours.

    A group triggers when its value is strictly above the threshold and its input group DQ is
    not exactly DO_NOT_USE (official test). From the first triggering group on, the pixel and
    its north/south/east/west neighbours get CHARGELOSS | DO_NOT_USE in every later group.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
    groupdq : (nints, ngroups, ny, nx) uint8
    signal_threshold : float, DN (official default 25000)
    do_not_use, chargeloss : int
        DQ bit values.

    Returns
    -------
    (nints, ngroups, ny, nx) uint8
    """
    data = _check4(data)
    if groupdq.shape != data.shape:
        raise ValueError("groupdq shape differs from data shape")
    out = np.empty(data.shape, dtype=np.uint8)
    _charge_migration_kernel(
        np.ascontiguousarray(data, dtype=np.float32),
        np.ascontiguousarray(groupdq, dtype=np.uint8),
        float(signal_threshold),
        np.uint8(do_not_use),
        np.uint8(do_not_use | chargeloss),
        out,
    )
    return out
