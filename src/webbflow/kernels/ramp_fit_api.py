"""Python entry point of the ramp-fitting kernels: validates inputs, allocates outputs.

:func:`fit_ramps` runs :func:`webbflow.kernels.ramp_fit.fit_all` once: a single pass over the
ramp cube, every pixel with all its integrations at once (the pixel median rate needs every
integration before any segment can be given its Poisson variance). Its working memory is the
outputs and a few small per-row buffers; the input cube is only read (no copy when it is
C-contiguous).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from webbflow.kernels import ramp_fit as _k

__all__ = ["REQUIRED_FLAGS", "RampFitResult", "fit_ramps"]

#: DQ flag names :func:`fit_ramps` needs in its ``flags`` argument (values are bit masks).
REQUIRED_FLAGS = ("DO_NOT_USE", "SATURATED", "JUMP_DET", "NO_GAIN_VALUE")


@dataclass(frozen=True)
class RampFitResult:
    """Outputs of :func:`fit_ramps`; all in DN/s (variances in (DN/s)^2).

    Attributes
    ----------
    slope, var_poisson, var_rnoise, err : ndarray, float32, (ny, nx)
        Exposure-level rate ("rate" product SCI, VAR_POISSON, VAR_RNOISE, ERR);
        ERR = sqrt(VAR_POISSON + VAR_RNOISE).
    dq : ndarray, uint32, (ny, nx)
        Exposure-level DQ: PIXELDQ | gain flags | JUMP_DET if any integration had a jump |
        DO_NOT_USE / SATURATED if every integration has it | SATURATED if any group saturated.
    slope_ints, var_poisson_ints, var_rnoise_ints, err_ints : ndarray, float32, (nints, ny, nx)
        Per-integration values ("rateints" product). ERR here is
        sqrt(1 / sum_s 1 / (var_p_s + var_r_s)) over the integration's segments, as officially.
    dq_ints : ndarray, uint32, (nints, ny, nx)
        Per-integration DQ.
    """

    slope: np.ndarray
    dq: np.ndarray
    var_poisson: np.ndarray
    var_rnoise: np.ndarray
    err: np.ndarray
    slope_ints: np.ndarray
    dq_ints: np.ndarray
    var_poisson_ints: np.ndarray
    var_rnoise_ints: np.ndarray
    err_ints: np.ndarray


def _image(name: str, arr, shape: tuple[int, int], dtype) -> np.ndarray:
    out = np.ascontiguousarray(arr, dtype=dtype)
    if out.shape != shape:
        raise ValueError(f"{name} has shape {out.shape}, expected {shape}")
    return out


def _group_range(firstgroup: int | None, lastgroup: int | None, ngroups: int) -> tuple[int, int]:
    """Mirror the official ``firstgroup``/``lastgroup`` handling (jwst ``set_groupdq``)."""
    first = 0 if firstgroup is None else max(int(firstgroup), 0)
    last = ngroups - 1 if lastgroup is None else min(int(lastgroup), ngroups - 1)
    if first >= last:  # the official pipeline ignores contradictory selectors
        first, last = 0, ngroups - 1
    return first, last


def fit_ramps(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    readnoise: np.ndarray,
    gain: np.ndarray,
    group_time: float,
    frame_time: float,
    nframes: int,
    groupgap: int,
    flags: Mapping[str, int],
    suppress_one_group: bool = True,
    weighting: str = "optimal",
    *,
    average_dark_current: np.ndarray | None = None,
    firstgroup: int | None = None,
    lastgroup: int | None = None,
) -> RampFitResult:
    """Fit every pixel's ramps by optimally weighted OLS (the official ``OLS_C`` algorithm).

    Parameters
    ----------
    data : ndarray, float32, (nints, ngroups, ny, nx)
        Ramps in DN, already bias/dark/linearity corrected. Not modified.
    groupdq : ndarray, uint8, (nints, ngroups, ny, nx)
        GROUPDQ. A group is used when its value is 0; a group flagged only JUMP_DET starts a
        new segment. Not modified.
    pixeldq : ndarray, uint32, (ny, nx)
        PIXELDQ, OR-ed into both output DQ arrays.
    readnoise : ndarray, float32, (ny, nx)
        READNOISE reference values: CDS read noise in DN. Converted internally to the
        single-read noise in electrons, ``readnoise * gain / sqrt(2 * nframes)``, as officially.
    gain : ndarray, float32, (ny, nx)
        GAIN reference values in e-/DN. Pixels with gain <= 0 or NaN are flagged
        DO_NOT_USE | NO_GAIN_VALUE and get NaN rates.
    group_time, frame_time : float
        TGROUP and TFRAME in seconds (rounded to float32 first, as the official C code reads
        them). A ramp whose only good group is the zeroth one (``suppress_one_group=False``)
        uses the time ``(nframes + 1) * frame_time / 2``.
    nframes, groupgap : int
        NFRAMES and GROUPGAP. ``groupgap`` does not enter the OLS outputs (officially it only
        enters the optional pedestal); it is validated and accepted for a uniform signature.
    flags : mapping of str to int
        DQ bit values; must contain ``DO_NOT_USE``, ``SATURATED``, ``JUMP_DET`` and
        ``NO_GAIN_VALUE`` (e.g. 1, 2, 4 and 524288 for JWST); ``PERSISTENCE`` (32) is
        optional: groups flagged with it still count as good, and the flag propagates.
    suppress_one_group : bool, default True
        Flag DO_NOT_USE every group of an integration that has exactly one good group, so it
        yields no rate (ignored when ngroups == 1), as the official step's default.
    weighting : {"optimal"}
        The only weighting the official OLS offers.
    average_dark_current : ndarray, float32, (ny, nx), optional
        Average dark current in DN/s added to the Poisson variance (officially from the dark
        step); zero when omitted.
    firstgroup, lastgroup : int, optional
        Zero-based first and last groups to use; groups outside are treated as DO_NOT_USE.

    Returns
    -------
    RampFitResult
        Exposure-level (ny, nx) and per-integration (nints, ny, nx) rates, DQ and variances.

    Notes
    -----
    Segment slopes combine with read-noise inverse-variance weights (stcal JP-4318), within
    an integration and over integrations; the variances combine by inverse variance.

    DQ follows the official C code, not its prose documentation: an integration is flagged
    DO_NOT_USE | SATURATED with a NaN rate and zero variances when its first group (hence,
    normally, every group) is saturated, DO_NOT_USE when every group is DO_NOT_USE or
    SATURATED, and SATURATED alone, keeping the rate of its earlier groups, when only some
    groups saturated (the exposure DQ then has SATURATED too). An integration that has usable
    groups but no segment (e.g. a JUMP_DET zeroth group followed by saturation) gets rate 0
    and is not flagged, as officially.

    Deliberate differences from the official pipeline:

    * pixels whose read noise is not finite are flagged DO_NOT_USE (NaN rate, zero variances);
      officially they come out as unflagged NaNs;
    * when every pixel saturates in its first group the official step returns no product; here
      the arrays are returned, all NaN and flagged;
    * not implemented here: ZEROFRAME substitution for saturated ramps, the CHARGELOSS
      read-noise recomputation, the optional "fitopt" segment product, and the MIRI trimming of
      all-DO_NOT_USE leading/trailing groups (a step-level decision in the official code).
    """
    if weighting != "optimal":
        raise ValueError(f"weighting must be 'optimal', not {weighting!r}")
    data = np.asarray(data)
    groupdq = np.asarray(groupdq)
    if data.ndim != 4:
        raise ValueError(f"data must be 4-D (nints, ngroups, ny, nx), got shape {data.shape}")
    if data.dtype != np.float32:
        raise TypeError(f"data must be float32, got {data.dtype}")
    if groupdq.dtype != np.uint8:
        raise TypeError(f"groupdq must be uint8, got {groupdq.dtype}")
    if groupdq.shape != data.shape:
        raise ValueError(f"groupdq shape {groupdq.shape} differs from data shape {data.shape}")
    missing = [name for name in REQUIRED_FLAGS if name not in flags]
    if missing:
        raise KeyError(f"flags lacks {missing}")
    if int(nframes) < 1 or int(groupgap) < 0:
        raise ValueError(f"need nframes >= 1 and groupgap >= 0, got {nframes}, {groupgap}")
    if not (group_time > 0 and frame_time > 0):
        raise ValueError(f"group_time and frame_time must be > 0, got {group_time}, {frame_time}")

    nints, ngroups, ny, nx = data.shape
    shape2 = (ny, nx)
    pixeldq = _image("pixeldq", pixeldq, shape2, np.uint32)
    readnoise = _image("readnoise", readnoise, shape2, np.float32)
    gain = _image("gain", gain, shape2, np.float32)
    if average_dark_current is None:
        dark = np.zeros(shape2, np.float32)
    else:
        dark = _image("average_dark_current", average_dark_current, shape2, np.float32)

    dnu = np.uint32(flags["DO_NOT_USE"])
    sat = np.uint32(flags["SATURATED"])
    jump = np.uint32(flags["JUMP_DET"])
    no_gain = np.uint32(flags["NO_GAIN_VALUE"])
    pers = np.uint32(flags.get("PERSISTENCE", 0))
    first, last = _group_range(firstgroup, lastgroup, ngroups)
    suppress = bool(suppress_one_group) and ngroups > 1
    # The official C extension reads the times as C floats.
    tgroup = float(np.float32(group_time))
    tframe = float(np.float32(frame_time))
    one_group_time = (float(nframes) + 1.0) * tframe / 2.0

    cube = (nints, ny, nx)
    res = RampFitResult(
        slope=np.empty(shape2, np.float32), dq=np.empty(shape2, np.uint32),
        var_poisson=np.empty(shape2, np.float32), var_rnoise=np.empty(shape2, np.float32),
        err=np.empty(shape2, np.float32), slope_ints=np.empty(cube, np.float32),
        dq_ints=np.empty(cube, np.uint32), var_poisson_ints=np.empty(cube, np.float32),
        var_rnoise_ints=np.empty(cube, np.float32), err_ints=np.empty(cube, np.float32))
    _k.fit_all(
        np.ascontiguousarray(data), np.ascontiguousarray(groupdq), pixeldq, readnoise, gain,
        dark, _row_order(ny), _k.weight_table(ngroups), int(nframes), first, last, suppress,
        tgroup, one_group_time, dnu, sat, jump, pers, no_gain,
        res.slope, res.dq, res.var_poisson, res.var_rnoise, res.err,
        res.slope_ints, res.dq_ints, res.var_poisson_ints, res.var_rnoise_ints, res.err_ints)
    return res


def _row_order(ny: int, stride: int = 16) -> np.ndarray:
    """Rows 0, 16, 32, ..., 1, 17, ...: numba hands each thread a contiguous share of the
    ``prange`` iterations, so interleaving spreads every share over the whole detector."""
    return np.concatenate([np.arange(k, ny, stride) for k in range(min(stride, ny))]
                          ).astype(np.int64)
