"""Reference-pixel correction (Detector1 ``refpix``), NIR detectors and MIRI full frame.

Follows the official ``refpix`` step's default (non-IRS2, "median" side algorithm) behaviour;
JWST pipeline documentation "Reference Pixel Correction" and the CCWG recommendation of 6/2013.

NIR (NIRCam, NIRISS, NIRSpec traditional readout, FGS), :func:`correct_refpix_nir`
    Every group is embedded in the full 2048 x 2048 frame (subarrays: outside pixels are 0 with
    DO_NOT_USE | REFERENCE_PIXEL in the DQ) and turned into detector orientation by the ops in
    ``dms_to_detector`` (table held by the caller: e.g. NRCA1 ``"x"``, NRCA2 ``"y"``, NRS1
    ``"t"``, NRS2 ``"txy"``, NIS ``"xyt"``, GUIDER1 ``"xy"``).

    * Full frame, or a subarray read through 4 outputs: for each amplifier (columns
      ``512a .. 512a+511``) the 4 bottom (rows 0-3) and 4 top (rows 2044-2047) reference rows
      give a 3-sigma-clipped mean of the pixels that are not DO_NOT_USE, separately for even
      and odd column indices (``odd_even_columns``; otherwise one mean). Top and bottom values
      are averaged (or whichever exists) and subtracted from the amplifier's columns.
      Reference pixels are identified by this geometry; the DQ only excludes DO_NOT_USE.
      With ``use_side_ref_pixels`` the left (columns 0-3) and right (2044-2047) reference
      pixels then give, per row, the median of the good pixels in a window of
      ``side_smoothing_length`` rows (made odd; rows reflected at the ends without repeating
      the edge row) by 4 columns; left and right medians are averaged (one if the other has no
      good pixel, 0 if neither) and ``side_gain`` times it is subtracted from the whole row.
    * Subarray read through 1 output: the reference pixels are those with REFERENCE_PIXEL and
      without DO_NOT_USE in the pixel DQ; one clipped mean for even and one for odd detector
      columns (or one mean) is subtracted from the whole group. No side correction.

MIRI full frame (1024 x 1032), :func:`correct_refpix_miri`
    The first group of each integration is subtracted; for groups 1.. and each of the 4
    amplifiers (interleaved columns ``k::4``), clipped means of the left (column k) and right
    (column 1028+k) reference pixels, separately for even/odd row indices
    (``odd_even_rows``), are averaged and subtracted from that amplifier's columns; the first
    group is added back. An integration stops being corrected at the first group whose
    reference pixels are all DO_NOT_USE. MIRI subarrays are skipped, as officially.

Deliberate differences: statistics in float64 (official: float32 clipped means and medians,
float64 side signal); non-finite values are excluded from the statistics (officially a NaN
reference pixel turns the amplifier's value into NaN); a single-output subarray with reference
pixels of only one column parity leaves the other parity uncorrected (officially an error).
Not implemented: NIRSpec IRS2 (``irs2`` mode), the "sirs" side algorithm, the zero frame,
the ``ovr_corr_mitigation_ftr`` / intermittent bad reference pixel handling.

Results do not depend on the thread count: each group is processed by one thread.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .ipc import _output_like
from .simple import sort_head

__all__ = [
    "RefpixResult",
    "correct_refpix_miri",
    "correct_refpix_nir",
    "sigma_clipped_mean",
]

# status values of RefpixResult.status
_OK = "COMPLETE"


class RefpixResult(NamedTuple):
    """data : corrected (nints, ngroups, ny, nx) float32 (a copy of the input when skipped);
    status : "COMPLETE" or "SKIPPED"; message : why skipped, or a warning ("" otherwise)."""

    data: np.ndarray
    status: str
    message: str


@njit(cache=True)
def _clipped_mean(vals, n, low, high):
    """3-sigma iterative clipping like scipy.stats.sigmaclip; vals[:n] is scratch, float64.

    Returns NaN when n == 0.
    """
    if n == 0:
        return np.nan
    while True:
        s = 0.0
        for k in range(n):
            s += vals[k]
        mean = s / n
        ss = 0.0
        for k in range(n):
            d = vals[k] - mean
            ss += d * d
        std = np.sqrt(ss / n)
        lo = mean - std * low
        hi = mean + std * high
        m = 0
        for k in range(n):
            v = vals[k]
            if v >= lo and v <= hi:
                vals[m] = v
                m += 1
        if m == n:
            return mean
        n = m
        if n == 0:
            return np.nan


@njit(cache=True)
def _avg_none(a, b):
    if np.isnan(a):
        return b
    if np.isnan(b):
        return a
    return 0.5 * (a + b)


@njit(cache=True)
def _det_value(plane, geo, r, c):
    """Value of detector pixel (r, c) of a DMS-frame (sub)array plane; NaN outside it.

    geo = (oy, ayr, ayc, ox, axr, axc, r0, c0): full-frame DMS row = oy + ayr*r + ayc*c,
    column = ox + axr*r + axc*c; (r0, c0) is the subarray's corner in the DMS full frame.
    """
    y = geo[0] + geo[1] * r + geo[2] * c - geo[6]
    x = geo[3] + geo[4] * r + geo[5] * c - geo[7]
    if y < 0 or x < 0 or y >= plane.shape[0] or x >= plane.shape[1]:
        return np.nan, -1, -1
    return plane[y, x], y, x


@njit(cache=True)
def _det_box_mean(plane, dq, dnu, geo, r0, r1, c0, c1, step, buf):
    """Clipped mean of detector-frame pixels rows r0:r1, columns c0:c1:step (visited in that
    order) whose DQ lacks DO_NOT_USE and whose value is finite; pixels outside the subarray
    count as DO_NOT_USE (the border of an embedded subarray)."""
    n = 0
    for r in range(r0, r1):
        for c in range(c0, c1, step):
            v, y, x = _det_value(plane, geo, r, c)
            if y >= 0 and (dq[y, x] & dnu) == 0 and np.isfinite(v):
                buf[n] = v
                n += 1
    return _clipped_mean(buf, n, 3.0, 3.0)


@njit(cache=True)
def _det_side_median(plane, dq, dnu, geo, c0, nrows, length, offs, width, out, buf):
    """Running median over ``length`` reflected detector rows (the edge row not repeated) x 4
    columns from ``c0`` of the good pixels, after the amplifier offsets ``offs`` (namps, 2)
    float32 are subtracted (as float32, like the plane update); NaN where none is good."""
    half = length // 2
    for i in range(nrows):
        n = 0
        for a in range(i, i + length):
            r = a - half
            if r < 0:
                r = -r
            elif r > nrows - 1:
                r = 2 * (nrows - 1) - r
            for c in range(c0, c0 + 4):
                v, y, x = _det_value(plane, geo, r, c)
                if y >= 0 and (dq[y, x] & dnu) == 0:
                    v = np.float32(v) - offs[c // width, c % 2]
                    if np.isfinite(v):
                        buf[n] = v
                        n += 1
        if n == 0:
            out[i] = np.nan
        else:
            sort_head(buf, n)
            if n % 2 == 1:
                out[i] = buf[n // 2]
            else:
                out[i] = 0.5 * (buf[n // 2 - 1] + buf[n // 2])


@njit(cache=True, parallel=True)
def _nir_inplace(planes, dq, dnu, geo, nfull, odd_even, use_side, length, side_gain, namps):
    """The 4-output NIR correction without embedding or reorienting: ``planes`` (nplanes, ny, nx)
    float32 stay in the DMS frame (a subarray placed by ``geo``, see :func:`_det_value`) and
    are corrected in place; statistics visit the detector-frame pixels in the same order and
    every pixel gets the same float32 operations, so the results are identical.
    """
    nplanes = planes.shape[0]
    nbad = np.zeros(nplanes, dtype=np.int64)
    for p in prange(nplanes):
        nbad[p] = _nir_plane(planes[p], dq, dnu, geo, nfull, odd_even, use_side, length,
                             side_gain, namps)
    return nbad.sum()


@njit(cache=True, inline="always")
def _nir_plane(plane, dq, dnu, geo, nfull, odd_even, use_side, length, side_gain, namps):
    """One plane of :func:`_nir_inplace` (inlined into its parallel loop). Returns the
    amplifiers left uncorrected."""
    width = nfull // namps
    nbad = 0
    buf = np.empty(4 * width, dtype=np.float64)
    offs = np.zeros((namps, 2), dtype=np.float32)
    for a in range(namps):
        c0 = a * width
        c1 = c0 + width
        if odd_even:
            ev = _avg_none(
                _det_box_mean(plane, dq, dnu, geo, 0, 4, c0, c1, 2, buf),
                _det_box_mean(plane, dq, dnu, geo, nfull - 4, nfull, c0, c1, 2, buf),
            )
            od = _avg_none(
                _det_box_mean(plane, dq, dnu, geo, 0, 4, c0 + 1, c1, 2, buf),
                _det_box_mean(plane, dq, dnu, geo, nfull - 4, nfull, c0 + 1, c1, 2, buf),
            )
            if np.isnan(ev) or np.isnan(od):
                nbad += 1
                continue
            # parity of the detector column index c (c0 is even)
            offs[a, 0] = np.float32(ev)
            offs[a, 1] = np.float32(od)
        else:
            m = _avg_none(
                _det_box_mean(plane, dq, dnu, geo, 0, 4, c0, c1, 1, buf),
                _det_box_mean(plane, dq, dnu, geo, nfull - 4, nfull, c0, c1, 1, buf),
            )
            if np.isnan(m):
                nbad += 1
                continue
            offs[a, 0] = np.float32(m)
            offs[a, 1] = np.float32(m)
    corr = np.zeros(nfull, dtype=np.float64)
    if use_side:
        left = np.empty(nfull, dtype=np.float64)
        right = np.empty(nfull, dtype=np.float64)
        sbuf = np.empty(4 * length, dtype=np.float64)
        _det_side_median(plane, dq, dnu, geo, 0, nfull, length, offs, width, left, sbuf)
        _det_side_median(plane, dq, dnu, geo, nfull - 4, nfull, length, offs, width, right,
                         sbuf)
        for r in range(nfull):
            s = _avg_none(left[r], right[r])
            if np.isnan(s):
                s = 0.0
            corr[r] = side_gain * s
    _apply_offsets(plane, geo, offs, width, corr, use_side)
    return nbad


@njit(cache=True, inline="always")
def _apply_offsets(plane, geo, offs, width, corr, use_side):
    """Subtract the amplifier offset of each pixel's detector column and, with ``use_side``,
    the side correction of its detector row: v = float32(float64(v - off) - corr[r]).

    Detector (r, c) of DMS pixel (y, x) is the transpose of the signed permutation in ``geo``
    (r = ayr*yy + axr*xx, c = ayc*yy + axc*xx with one of each pair zero), so the column term
    depends on x alone (or on y alone when transposed) and the row term on the other: both
    are tabulated once and the inner loop runs over contiguous x with no integer division.
    """
    ny, nx = plane.shape
    transposed = geo[2] != 0
    along_x_off = np.empty(nx, dtype=np.float32)
    along_x_corr = np.empty(nx, dtype=np.float64)
    for x in range(nx):
        xx = x + geo[7] - geo[3]
        c = geo[5] * xx
        along_x_off[x] = offs[c // width, c % 2] if not transposed else 0
        along_x_corr[x] = corr[geo[4] * xx] if transposed else 0.0
    for y in range(ny):
        yy = y + geo[6] - geo[0]
        row = plane[y]
        if not transposed:
            cr = corr[geo[1] * yy]
            if use_side:
                for x in range(nx):
                    row[x] = np.float32(np.float64(row[x] - along_x_off[x]) - cr)
            else:
                for x in range(nx):
                    row[x] = row[x] - along_x_off[x]
        else:
            c = geo[2] * yy
            off = offs[c // width, c % 2]
            if use_side:
                for x in range(nx):
                    row[x] = np.float32(np.float64(row[x] - off) - along_x_corr[x])
            else:
                for x in range(nx):
                    row[x] = row[x] - off


@njit(cache=True, parallel=True)
def _nir_single_output(planes, refmask, odd_even, col0):
    """Subtract clipped means of the masked reference pixels (by column parity) per plane.

    ``planes`` (nplanes, nrows, ncols) float32 and ``refmask`` (nrows, ncols) bool are in the
    detector orientation; ``col0`` is the detector column of their first column (its parity
    decides which columns are even)."""
    nplanes, nrows, ncols = planes.shape
    nref = 0
    for r in range(nrows):
        for c in range(ncols):
            if refmask[r, c]:
                nref += 1
    for p in prange(nplanes):
        plane = planes[p]
        buf = np.empty(max(nref, 1), dtype=np.float64)
        for parity in range(2 if odd_even else 1):
            n = 0
            for r in range(nrows):
                for c in range(ncols):
                    if refmask[r, c] and (not odd_even or (c + col0) % 2 == parity):
                        v = plane[r, c]
                        if np.isfinite(v):
                            buf[n] = v
                            n += 1
            m = _clipped_mean(buf, n, 3.0, 3.0)
            if np.isnan(m):
                continue
            m32 = np.float32(m)
            step = 2 if odd_even else 1
            for r in range(nrows):
                for c in range((parity + col0) % 2 if odd_even else 0, ncols, step):
                    plane[r, c] -= m32


@njit(cache=True, parallel=True)
def _miri_fullframe(data, dq, dnu, odd_even_rows):
    """data (nints, ngroups, 1024, 1032) float32 corrected in place; returns ints cut short."""
    nints, ngroups, nrows, ncols = data.shape
    stopped = np.zeros(nints, dtype=np.int64)
    for i in prange(nints):
        buf = np.empty(nrows, dtype=np.float64)
        first = data[i, 0].copy()
        for g in range(1, ngroups):
            plane = np.empty((nrows, ncols), dtype=np.float32)
            for r in range(nrows):
                for c in range(ncols):
                    plane[r, c] = data[i, g, r, c] - first[r, c]
            vals = np.empty((4, 2), dtype=np.float64)
            bad = False
            for a in range(4):
                for par in range(2 if odd_even_rows else 1):
                    r0 = par if odd_even_rows else 0
                    st = 2 if odd_even_rows else 1
                    n = 0
                    for r in range(r0, nrows, st):
                        v = plane[r, a]
                        if (dq[r, a] & dnu) == 0 and np.isfinite(v):
                            buf[n] = v
                            n += 1
                    lft = _clipped_mean(buf, n, 3.0, 3.0)
                    n = 0
                    for r in range(r0, nrows, st):
                        v = plane[r, ncols - 4 + a]
                        if (dq[r, ncols - 4 + a] & dnu) == 0 and np.isfinite(v):
                            buf[n] = v
                            n += 1
                    rgt = _clipped_mean(buf, n, 3.0, 3.0)
                    if np.isnan(lft) or np.isnan(rgt):
                        bad = True
                    vals[a, par] = 0.5 * (lft + rgt)
            if bad:
                stopped[i] = 1
                break
            for a in range(4):
                for r in range(nrows):
                    par = (r % 2) if odd_even_rows else 0
                    v32 = np.float32(vals[a, par])
                    for c in range(a, ncols, 4):
                        plane[r, c] -= v32
            for r in range(nrows):
                for c in range(ncols):
                    data[i, g, r, c] = plane[r, c] + first[r, c]
    return stopped.sum()


def sigma_clipped_mean(values: np.ndarray, low: float = 3.0, high: float = 3.0) -> float:
    """Iterative sigma-clipped mean (scipy.stats.sigmaclip semantics) of finite values; NaN if
    none."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)].copy()
    return float(_clipped_mean(v, v.size, float(low), float(high)))


def _apply_ops(a: np.ndarray, ops: str, inverse: bool = False) -> np.ndarray:
    """Apply orientation ops on the last two axes: 'x' flip columns, 'y' flip rows,
    't' transpose."""
    seq = reversed(ops) if inverse else ops
    for op in seq:
        if op == "x":
            a = a[..., :, ::-1]
        elif op == "y":
            a = a[..., ::-1, :]
        elif op == "t":
            a = np.swapaxes(a, -1, -2)
        else:
            raise ValueError(f"unknown orientation op {op!r} (use 'x', 'y', 't')")
    return a


def _detector_geometry(ops: str, nfull: int, r0: int, c0: int) -> np.ndarray:
    """(oy, ayr, ayc, ox, axr, axc, r0, c0) int64: the DMS full-frame pixel shown at detector
    (r, c) after ``_apply_ops(frame, ops)`` (see :func:`_det_value`)."""
    oy, ayr, ayc, ox, axr, axc = 0, 1, 0, 0, 0, 1
    last = nfull - 1
    for op in ops:
        if op == "x":  # new[r, c] = old[r, last - c]
            oy, ayc, ox, axc = oy + ayc * last, -ayc, ox + axc * last, -axc
        elif op == "y":  # new[r, c] = old[last - r, c]
            oy, ayr, ox, axr = oy + ayr * last, -ayr, ox + axr * last, -axr
        elif op == "t":  # new[r, c] = old[c, r]
            ayr, ayc, axr, axc = ayc, ayr, axc, axr
        else:
            raise ValueError(f"unknown orientation op {op!r} (use 'x', 'y', 't')")
    return np.array([oy, ayr, ayc, ox, axr, axc, r0, c0], dtype=np.int64)


def correct_refpix_nir(
    data: np.ndarray,
    pixeldq: np.ndarray,
    *,
    do_not_use: int,
    reference_pixel: int,
    xstart: int = 1,
    ystart: int = 1,
    noutputs: int = 4,
    dms_to_detector: str = "",
    odd_even_columns: bool = True,
    use_side_ref_pixels: bool = True,
    side_smoothing_length: int = 11,
    side_gain: float = 1.0,
    full_size: int = 2048,
    out: np.ndarray | None = None,
) -> RefpixResult:
    """Near-IR reference-pixel correction.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
        Science-frame (DMS) ramps, full frame or subarray. Not modified unless it is ``out``.
    pixeldq : (ny, nx) uint32
        Pixel DQ; ``do_not_use`` pixels are excluded, and for single-output subarrays the
        reference pixels are those flagged ``reference_pixel``.
    do_not_use, reference_pixel : int
        DQ bit values.
    xstart, ystart : int
        1-based DMS position of the subarray in the full frame (SUBSTRT1/2).
    noutputs : int
        NOUTPUTS: 4 uses the per-amplifier full-frame algorithm (also for subarrays), 1 the
        single-output subarray algorithm.
    dms_to_detector : str
        Orientation ops taking the DMS frame to detector coordinates ("x", "y", "t"; applied
        left to right; see the module docstring).
    odd_even_columns, use_side_ref_pixels, side_smoothing_length, side_gain
        As the official step parameters (defaults 1.0 gain, 11 rows).
    full_size : int
        Full-frame size (2048; smaller only for tests).
    out : (nints, ngroups, ny, nx) float32 C-contiguous, optional
        Where to write the data; may be ``data`` itself (in place). The 4-output algorithm
        works in the science frame with no embedded or reoriented copy.

    Returns
    -------
    RefpixResult
        status "SKIPPED" when the subarray does not fit in the full frame or a single-output
        subarray has no usable reference pixel.
    """
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError(f"data must be 4-D (nints, ngroups, ny, nx), got {data.shape}")
    nints, ngroups, ny, nx = data.shape
    if pixeldq.shape != (ny, nx):
        raise ValueError(f"pixeldq shape {pixeldq.shape} != {(ny, nx)}")
    r0, c0 = ystart - 1, xstart - 1
    if r0 < 0 or c0 < 0 or r0 + ny > full_size or c0 + nx > full_size:
        return RefpixResult(_unchanged(data, out), "SKIPPED", "subarray outside frame")
    length = int(side_smoothing_length)
    if length % 2 == 0:
        length += 1
    dnu = np.uint32(do_not_use)
    if (ny, nx) == (full_size, full_size) or noutputs == 4:
        result = _output_like(data, out)
        nbad = _nir_inplace(
            result.reshape(nints * ngroups, ny, nx), np.ascontiguousarray(pixeldq, np.uint32),
            dnu, _detector_geometry(dms_to_detector, full_size, r0, c0), full_size,
            bool(odd_even_columns), bool(use_side_ref_pixels), length, float(side_gain), 4)
        message = ""
        if nbad:
            message = f"{nbad} (group, amplifier) pairs had no good top/bottom reference pixels"
        return RefpixResult(result, _OK, message)

    # single-output subarray, in the detector orientation. Only its own pixels are used: the
    # reference pixels are those it contains (the frame around it would be DO_NOT_USE), and
    # they are visited in the detector frame's row order, with the column parity of the
    # full frame (its first detector column ``col0``).
    where = np.zeros((full_size, full_size), dtype=bool)
    where[r0 : r0 + ny, c0 : c0 + nx] = True
    col0 = int(np.flatnonzero(_apply_ops(where, dms_to_detector).any(axis=0))[0])
    ddq = _apply_ops(np.asarray(pixeldq, dtype=np.uint32), dms_to_detector)
    refmask = np.ascontiguousarray(((ddq & np.uint32(reference_pixel)) != 0)
                                   & ((ddq & dnu) == 0))
    if not refmask.any():
        return RefpixResult(_unchanged(data, out), "SKIPPED", "no reference pixels in subarray")
    planes = np.ascontiguousarray(
        _apply_ops(data.reshape(nints * ngroups, ny, nx), dms_to_detector), dtype=np.float32)
    _nir_single_output(planes, refmask, bool(odd_even_columns), col0)

    back = _apply_ops(planes, dms_to_detector, inverse=True)
    result = _output_like(back.reshape(nints, ngroups, ny, nx), out)
    return RefpixResult(result, _OK, "")


def _unchanged(data: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """The data left as they are: ``out`` (holding them) when given, else a float32 copy."""
    return data.astype(np.float32, copy=True) if out is None else _output_like(data, out)


def correct_refpix_miri(
    data: np.ndarray,
    pixeldq: np.ndarray,
    *,
    do_not_use: int,
    odd_even_rows: bool = True,
    is_subarray: bool = False,
    out: np.ndarray | None = None,
) -> RefpixResult:
    """MIRI reference-pixel correction (full frame only).

    Parameters
    ----------
    data : (nints, ngroups, 1024, 1032) float32, DN
        Not modified unless it is ``out``.
    pixeldq : (1024, 1032) uint32
    do_not_use : int
        DO_NOT_USE bit value; such reference pixels are ignored.
    odd_even_rows : bool
        Separate means for even and odd row indices.
    is_subarray : bool
        True returns "SKIPPED" (the official step skips MIRI subarrays).
    out : (nints, ngroups, 1024, 1032) float32 C-contiguous, optional
        Where to write the data; may be ``data`` itself (in place).

    Returns
    -------
    RefpixResult
    """
    data = np.asarray(data)
    if is_subarray:
        return RefpixResult(_unchanged(data, out), "SKIPPED", "MIRI subarray")
    if data.ndim != 4 or data.shape[-1] % 4 != 0 or data.shape[-1] < 8:
        raise ValueError(f"MIRI data must be (nints, ngroups, ny, 4k), got {data.shape}")
    if pixeldq.shape != data.shape[2:]:
        raise ValueError(f"pixeldq shape {pixeldq.shape} != {data.shape[2:]}")
    out = _output_like(data, out)
    stopped = _miri_fullframe(
        out, np.ascontiguousarray(pixeldq, dtype=np.uint32), np.uint32(do_not_use),
        bool(odd_even_rows),
    )  # fmt: skip
    msg = f"{stopped} integration(s) stopped at a group without good reference pixels"
    return RefpixResult(out, _OK, msg if stopped else "")
