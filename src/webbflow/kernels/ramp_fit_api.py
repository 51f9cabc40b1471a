"""Python entry point of the ramp-fitting kernels: validates inputs, allocates outputs.

:func:`fit_ramps` runs the numba kernels of :mod:`webbflow.kernels.ramp_fit` one integration
at a time (two passes: the pixel median rate needs every integration before any segment can
be given its Poisson variance), so its working memory is the outputs plus a few (ny, nx)
float64 accumulators; the input cube is only read.
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
        DO_NOT_USE / SATURATED if every integration has it.
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
        ``NO_GAIN_VALUE`` (e.g. 1, 2, 4 and 524288 for JWST).
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
    DQ follows the official C code, not its prose documentation: an integration is flagged
    SATURATED only when its first group (hence, normally, every group) is saturated, and
    DO_NOT_USE when every group is DO_NOT_USE or SATURATED; such integrations get a NaN rate and
    zero variances. An integration that has usable groups but no segment (e.g. a JUMP_DET
    zeroth group followed by saturation) gets rate 0 and is not flagged, as officially.

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
    first, last = _group_range(firstgroup, lastgroup, ngroups)
    suppress = bool(suppress_one_group) and ngroups > 1
    # The official C extension reads the times as C floats.
    tgroup = float(np.float32(group_time))
    tframe = float(np.float32(frame_time))
    one_group_time = (float(nframes) + 1.0) * tframe / 2.0

    rn_e = np.empty(shape2, np.float32)
    pixdq = np.empty(shape2, np.uint32)
    _k.prepare_pixels(readnoise, gain, pixeldq, int(nframes), dnu, no_gain, rn_e, pixdq)

    # Pass 1: the pixel's median rate, averaged over integrations.
    rate_sum = np.zeros(shape2, np.float64)
    for i in range(nints):
        _k.accumulate_median_rate(
            np.ascontiguousarray(data[i]), np.ascontiguousarray(groupdq[i]), first, last,
            suppress, tgroup, one_group_time, dnu, sat, jump, rate_sum,
        )
    med_rate = rate_sum / float(nints)

    # Pass 2: fit each integration, accumulating the exposure-level sums.
    cube = (nints, ny, nx)
    slope_i = np.empty(cube, np.float32)
    dq_i = np.empty(cube, np.uint32)
    varp_i = np.empty(cube, np.float32)
    varr_i = np.empty(cube, np.float32)
    err_i = np.empty(cube, np.float32)
    acc = [np.zeros(shape2, np.float64) for _ in range(4)]
    n_dnu = np.zeros(shape2, np.int32)
    n_sat = np.zeros(shape2, np.int32)
    any_jump = np.zeros(shape2, np.uint8)
    for i in range(nints):
        _k.fit_integration(
            np.ascontiguousarray(data[i]), np.ascontiguousarray(groupdq[i]), pixdq, rn_e, gain,
            dark, med_rate, first, last, suppress, tgroup, one_group_time, dnu, sat, jump,
            slope_i[i], dq_i[i], varp_i[i], varr_i[i], err_i[i], *acc, n_dnu, n_sat, any_jump,
        )

    slope = np.empty(shape2, np.float32)
    dq = np.empty(shape2, np.uint32)
    varp = np.empty(shape2, np.float32)
    varr = np.empty(shape2, np.float32)
    err = np.empty(shape2, np.float32)
    _k.finish_exposure(pixdq, nints, *acc, n_dnu, n_sat, any_jump, dnu, sat, jump,
                       slope, dq, varp, varr, err)
    return RampFitResult(slope, dq, varp, varr, err, slope_i, dq_i, varp_i, varr_i, err_i)
