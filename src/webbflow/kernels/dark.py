"""Dark-current subtraction (Detector1 ``dark_current``).

The dark reference is a stack of planes recorded with its own read pattern
(``dark_nframes``, ``dark_groupgap``; NIRCam/NIRISS/NIRSpec darks are single frames,
``1, 0``). When the science read pattern (``nframes``, ``groupgap``) is the same, the first
``ngroups`` dark planes are subtracted directly. Otherwise science group ``g`` uses the mean of
dark planes ``[g*(nframes+groupgap), g*(nframes+groupgap) + nframes)``; as in the official
code these are indices into the dark *planes*, which are frames for a frame-by-frame dark.

Checks, as officially (the step records SKIPPED and leaves the data unchanged):

* too few dark frames: ``ngroups*nframes + (ngroups-1)*groupgap`` exceeds
  ``dark_ngroups*dark_nframes + (dark_ngroups-1)*dark_groupgap``;
* ``dark_nframes > nframes`` or ``dark_groupgap > groupgap``.

NaN dark values count as 0. MIRI darks have an integration axis: science integration ``i``
uses dark integration ``i`` while ``i < dark_nints`` and ``int_start == 1``, the last dark
integration otherwise. The dark DQ (collapsed over integrations with OR for MIRI) is OR-ed into
the pixel DQ. The science ERR array is not changed (official behaviour).

Deliberate differences: the frame mean accumulates in float64 (the official mean is in
float32); every dark integration is averaged, whereas the official averages only the first
``min(dark_nints, nints)`` and would subtract zeros for segmented data (``int_start > 1``) when
``dark_nints > nints``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .simple import check_out

__all__ = ["DarkResult", "average_dark_frames", "dark_frames_sufficient", "dark_planes_used",
           "subtract_dark"]


class DarkResult(NamedTuple):
    """Output of :func:`subtract_dark`.

    data : (nints, ngroups, ny, nx) float32 DN (input returned unchanged, as a copy, if skipped)
    pixeldq : (ny, nx) uint32
    averaged_dark : (dark_nints, ngroups, ny, nx) float32 DN, or None when skipped (or not
        asked for)
    applied : bool, False when the step must be recorded SKIPPED
    message : str, why it was skipped ("" when applied)
    """

    data: np.ndarray
    pixeldq: np.ndarray
    averaged_dark: np.ndarray | None
    applied: bool
    message: str


@njit(cache=True, parallel=True)
def _average_kernel(dark, ngroups, nframes, groupgap, out):
    """dark (dnints, dplanes, ny, nx) float32 -> out (dnints, ngroups, ny, nx) float32."""
    dnints = dark.shape[0]
    ny, nx = dark.shape[2], dark.shape[3]
    for y in prange(ny):
        for d in range(dnints):
            for g in range(ngroups):
                start = g * (nframes + groupgap)
                for x in range(nx):
                    acc = 0.0
                    for f in range(start, start + nframes):
                        v = dark[d, f, y, x]
                        if not np.isnan(v):
                            acc += np.float64(v)
                    out[d, g, y, x] = np.float32(acc / nframes)


@njit(cache=True, parallel=True)
def _subtract_kernel(data, dark, int_start, out):
    """out = data - dark (NaN dark values count as 0); dark (dnints, >= ngroups, ny, nx)."""
    nints, ngroups, ny, nx = data.shape
    dnints = dark.shape[0]
    for y in prange(ny):
        for i in range(nints):
            d = i if (i < dnints and int_start == 1) else dnints - 1
            for g in range(ngroups):
                for x in range(nx):
                    dv = dark[d, g, y, x]
                    if np.isnan(dv):
                        dv = np.float32(0.0)
                    out[i, g, y, x] = data[i, g, y, x] - dv


def dark_frames_sufficient(
    ngroups: int,
    nframes: int,
    groupgap: int,
    dark_ngroups: int,
    dark_nframes: int = 1,
    dark_groupgap: int = 0,
) -> tuple[bool, str]:
    """Whether a dark with this read pattern can serve the science read pattern."""
    sci_total = ngroups * nframes + (ngroups - 1) * groupgap
    drk_total = dark_ngroups * dark_nframes + (dark_ngroups - 1) * dark_groupgap
    if sci_total > drk_total:
        return False, (
            f"dark has {drk_total} frames, science needs {sci_total} "
            f"(ngroups={ngroups}, nframes={nframes}, groupgap={groupgap})"
        )
    if dark_nframes > nframes or dark_groupgap > groupgap:
        return False, (
            f"dark nframes/groupgap ({dark_nframes}/{dark_groupgap}) exceed the science's "
            f"({nframes}/{groupgap})"
        )
    return True, ""


def dark_planes_used(ngroups: int, nframes: int, groupgap: int, dark_nframes: int = 1,
                     dark_groupgap: int = 0) -> np.ndarray:
    """Indices of the dark planes that :func:`subtract_dark` reads, in the order it reads them.

    The first ``ngroups`` planes when the read patterns match, else ``nframes`` consecutive
    planes from ``g * (nframes + groupgap)`` for each science group ``g`` (the frames of a
    group gap are never read: a DEEP8 exposure of 20 groups uses 160 of a 388-frame dark).

    Returns
    -------
    (n,) int64, increasing.
    """
    if nframes == dark_nframes and groupgap == dark_groupgap:
        return np.arange(ngroups, dtype=np.int64)
    starts = np.arange(ngroups, dtype=np.int64) * (nframes + groupgap)
    return (starts[:, None] + np.arange(nframes, dtype=np.int64)[None, :]).ravel()


def average_dark_frames(dark: np.ndarray, ngroups: int, nframes: int, groupgap: int) -> np.ndarray:
    """Average dark planes into the science read pattern.

    Parameters
    ----------
    dark : (dark_planes, ny, nx) or (dark_nints, dark_planes, ny, nx) float, DN
    ngroups, nframes, groupgap : int
        Science read pattern.

    Returns
    -------
    (ngroups, ny, nx) or (dark_nints, ngroups, ny, nx) float32, DN (NaN counted as 0).
    """
    d = np.asarray(dark)
    squeeze = d.ndim == 3
    d4 = np.ascontiguousarray(d[None] if squeeze else d, dtype=np.float32)
    if d4.ndim != 4:
        raise ValueError(f"dark must be 3-D or 4-D, got {d.shape}")
    need = (ngroups - 1) * (nframes + groupgap) + nframes
    if need > d4.shape[1]:
        raise ValueError(f"dark has {d4.shape[1]} planes, {need} needed")
    out = np.empty((d4.shape[0], ngroups, *d4.shape[2:]), dtype=np.float32)
    _average_kernel(d4, ngroups, nframes, groupgap, out)
    return out[0] if squeeze else out


def subtract_dark(
    data: np.ndarray,
    pixeldq: np.ndarray,
    dark: np.ndarray,
    dark_dq: np.ndarray,
    *,
    nframes: int,
    groupgap: int,
    dark_nframes: int = 1,
    dark_groupgap: int = 0,
    int_start: int = 1,
    out: np.ndarray | None = None,
    keep_average: bool = True,
    dark_planes: int | None = None,
) -> DarkResult:
    """Subtract a (frame-averaged) dark from ramps.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
        Not modified unless it is ``out``.
    pixeldq : (ny, nx) uint32
    dark : (dark_ngroups, ny, nx) or (dark_nints, dark_ngroups, ny, nx) float, DN
        Dark reference already cut to the science subarray.
    dark_dq : (ny, nx), (dark_nints, ny, nx) or (dark_nints, n, ny, nx) uint32
        Dark reference DQ (OR-ed over the leading axes: the MIRI layout is 4-D).
    nframes, groupgap : int
        Science NFRAMES, GROUPGAP.
    dark_nframes, dark_groupgap : int
        The dark's NFRAMES, GROUPGAP.
    int_start : int
        INTSTART of the science segment (1-based); only matters for 4-D darks.
    out : (nints, ngroups, ny, nx) float32 C-contiguous, optional
        Where to write the data; may be ``data`` itself (in place; left untouched when the
        subtraction is skipped).
    keep_average : bool
        False: ``averaged_dark`` is None (no NaN-cleaned copy of the dark is made when the
        read patterns match).
    dark_planes : int, optional
        The number of planes of the dark reference when ``dark`` holds only the planes
        :func:`dark_planes_used` lists, in that order (the rest were never read); the checks
        use it and the averaging reads the held planes. Same result as the whole dark.

    Returns
    -------
    DarkResult
    """
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError(f"data must be 4-D (nints, ngroups, ny, nx), got {data.shape}")
    _nints, ngroups, ny, nx = data.shape
    d = np.asarray(dark)
    d4 = d[None] if d.ndim == 3 else d
    if d4.ndim != 4 or d4.shape[2:] != (ny, nx):
        raise ValueError(f"dark shape {d.shape} does not match science {(ny, nx)}")
    ddq = np.asarray(dark_dq, dtype=np.uint32)
    if ddq.ndim > 2:  # MIRI: (dark_nints, 1 or ngroups, ny, nx), OR-ed over the planes
        ddq = np.bitwise_or.reduce(ddq.reshape(-1, *ddq.shape[-2:]), axis=0)
    if ddq.shape != (ny, nx) or pixeldq.shape != (ny, nx):
        raise ValueError("dark_dq/pixeldq do not match the science (ny, nx)")

    compact = dark_planes is not None
    ok, why = dark_frames_sufficient(
        ngroups, nframes, groupgap, dark_planes if compact else d4.shape[1], dark_nframes,
        dark_groupgap
    )
    if not ok:
        kept = data if out is data else data.astype(np.float32, copy=True)
        return DarkResult(kept, pixeldq.copy(), None, False, why)
    if compact:
        used = dark_planes_used(ngroups, nframes, groupgap, dark_nframes, dark_groupgap)
        if d4.shape[1] != used.size or used[-1] >= dark_planes:
            raise ValueError(f"dark holds {d4.shape[1]} planes; this read pattern uses "
                             f"{used.size} of {dark_planes}")

    if nframes == dark_nframes and groupgap == dark_groupgap:
        avg = np.ascontiguousarray(d4, dtype=np.float32)  # the kernel reads groups :ngroups
    else:
        # the held planes are the used ones: group g's frames follow one another
        avg = average_dark_frames(d4, ngroups, nframes, 0 if compact else groupgap)
    out = check_out(out, data.shape, np.float32)
    _subtract_kernel(out if out is data else np.ascontiguousarray(data, dtype=np.float32),
                     avg, int(int_start), out)
    pdq = np.bitwise_or(np.asarray(pixeldq, dtype=np.uint32), ddq)
    averaged = None
    if keep_average:
        averaged = np.nan_to_num(avg[:, :ngroups], nan=0.0).astype(np.float32, copy=False)
        averaged = averaged if d.ndim == 4 else averaged[0]
    return DarkResult(out, pdq, averaged, True, "")
