"""Classical non-linearity correction (Detector1 ``linearity``).

``corrected = sum_k c_k * raw**k`` per pixel, evaluated by Horner's rule in float64 and stored
as float32 (the official code evaluates in float32; differences are at the float32 rounding
level). Groups flagged SATURATED keep their raw value. Pixels get "benign" coefficients
(0, 1, 0, ...) that leave them unchanged when:

* the linearity reference DQ has NO_LIN_CORR (the reference DQ is OR-ed into the pixel DQ),
* any coefficient is NaN (NO_LIN_CORR added to the pixel DQ),
* the linear coefficient c_1 is 0 (NO_LIN_CORR added to the pixel DQ).

Not implemented: the read-level correction with inverse coefficients, the zero frame.
Reference: WFC3 Data Handbook ch. 6.5; JWST pipeline documentation, ``linearity`` step.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .simple import check_out

__all__ = ["apply_linearity", "prepare_linearity_coeffs"]


@njit(cache=True, parallel=True)
def _prepare_kernel(coeffs, lin_dq, no_lin_corr, out_coeffs, flag_out):
    """Benign coefficients where flagged/NaN/zero linear term; flag_out gets NO_LIN_CORR."""
    ncoeffs, ny, nx = coeffs.shape
    for y in prange(ny):
        for x in range(nx):
            flagged = (lin_dq[y, x] & no_lin_corr) == no_lin_corr
            has_nan = False
            for k in range(ncoeffs):
                if np.isnan(coeffs[k, y, x]):
                    has_nan = True
            bad = flagged or has_nan or (ncoeffs > 1 and coeffs[1, y, x] == 0.0)
            for k in range(ncoeffs):
                if bad:
                    out_coeffs[k, y, x] = 1.0 if k == 1 else 0.0
                else:
                    out_coeffs[k, y, x] = coeffs[k, y, x]
            flag_out[y, x] = lin_dq[y, x]
            if has_nan or (not flagged and ncoeffs > 1 and coeffs[1, y, x] == 0.0):
                flag_out[y, x] |= no_lin_corr


@njit(cache=True, parallel=True)
def _linearity_kernel(data, gdq, coeffs, lin_dq, no_lin_corr, saturated, out, flag_out):
    """Correct ``data`` into ``out`` (may be the same array), cleaning the coefficients row
    by row on the fly (:func:`_prepare_kernel`'s rules: no cleaned copy of the reference);
    ``flag_out`` (ny, nx) uint32 receives the flags to OR into the pixel DQ."""
    ny = data.shape[2]
    for y in prange(ny):
        _linearity_row(data, gdq, coeffs, lin_dq, no_lin_corr, saturated, out, flag_out, y)


@njit(cache=True, inline="always")
def _linearity_row(data, gdq, coeffs, lin_dq, no_lin_corr, saturated, out, flag_out, y):
    """Row ``y`` of :func:`_linearity_kernel`: cleaned float64 coefficients of the row, then
    Horner's rule one coefficient at a time along the whole row (loops over x that the
    compiler vectorises; the same operations per pixel as a per-pixel Horner loop). The
    inner loops index 1-D row views: with the 4-D ``data[i, g, y, x]`` and 2-D
    ``c[k, x]`` inside them the loops did not vectorise."""
    nints, ngroups, _, nx = data.shape
    ncoeffs = coeffs.shape[0]
    c = np.empty((ncoeffs, nx), dtype=np.float64)
    has_nan = np.zeros(nx, dtype=np.bool_)
    for k in range(ncoeffs):
        src = coeffs[k, y]
        ck = c[k]
        for x in range(nx):
            ck[x] = np.float64(src[x])
            has_nan[x] |= np.isnan(ck[x])
    dq_row = lin_dq[y]
    flag_row = flag_out[y]
    for x in range(nx):
        flagged = (dq_row[x] & no_lin_corr) == no_lin_corr
        zero_lin = ncoeffs > 1 and c[1, x] == 0.0
        if flagged or has_nan[x] or zero_lin:
            for k in range(ncoeffs):
                c[k, x] = 1.0 if k == 1 else 0.0
        flag_row[x] = dq_row[x]
        if has_nan[x] or (not flagged and zero_lin):
            flag_row[x] |= no_lin_corr
    top = c[ncoeffs - 1]
    r = np.empty(nx, dtype=np.float64)
    acc = np.empty(nx, dtype=np.float64)
    for i in range(nints):
        for g in range(ngroups):
            d_row = data[i, g, y]
            q_row = gdq[i, g, y]
            o_row = out[i, g, y]
            for x in range(nx):
                r[x] = np.float64(d_row[x])
                acc[x] = top[x]
            for k in range(ncoeffs - 2, -1, -1):
                ck = c[k]
                for x in range(nx):
                    acc[x] = acc[x] * r[x] + ck[x]
            for x in range(nx):
                if (q_row[x] & saturated) != 0:
                    o_row[x] = d_row[x]
                else:
                    o_row[x] = np.float32(acc[x])


def prepare_linearity_coeffs(
    coeffs: np.ndarray, lin_dq: np.ndarray, *, no_lin_corr: int
) -> tuple[np.ndarray, np.ndarray]:
    """Replace unusable coefficients by the identity polynomial.

    Parameters
    ----------
    coeffs : (ncoeffs, ny, nx) float
        Polynomial coefficients, c_0 first (DN^(1-k)).
    lin_dq : (ny, nx) uint32
        DQ of the linearity reference.
    no_lin_corr : int
        NO_LIN_CORR bit value.

    Returns
    -------
    coeffs : (ncoeffs, ny, nx) float64
        Cleaned copy.
    pixeldq_add : (ny, nx) uint32
        Flags to OR into the science pixel DQ (``lin_dq`` plus NO_LIN_CORR where NaN or c_1 == 0).
    """
    c = np.ascontiguousarray(coeffs)
    if c.ndim != 3 or c.shape[0] < 2:
        raise ValueError(f"coeffs must be (ncoeffs>=2, ny, nx), got {c.shape}")
    if lin_dq.shape != c.shape[1:]:
        raise ValueError(f"lin_dq shape {lin_dq.shape} != {c.shape[1:]}")
    out = np.empty(c.shape, dtype=np.float64)
    flags = np.empty(c.shape[1:], dtype=np.uint32)
    _prepare_kernel(
        c.astype(np.float64),
        np.ascontiguousarray(lin_dq, dtype=np.uint32),
        np.uint32(no_lin_corr),
        out,
        flags,
    )
    return out, flags


def apply_linearity(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    coeffs: np.ndarray,
    lin_dq: np.ndarray,
    *,
    saturated: int,
    no_lin_corr: int,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Correct ramps for classical non-linearity.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
        Ramps (after superbias and reference-pixel correction). Not modified unless it is
        ``out``.
    groupdq : (nints, ngroups, ny, nx) uint8
        Groups with ``saturated`` set are not corrected.
    pixeldq : (ny, nx) uint32
    coeffs : (ncoeffs, ny, nx) float
        Coefficients c_0..c_{n-1}, already cut to the science subarray.
    lin_dq : (ny, nx) uint32
        DQ of the linearity reference.
    saturated, no_lin_corr : int
        DQ bit values.
    out : (nints, ngroups, ny, nx) float32 C-contiguous, optional
        Where to write the data; may be ``data`` itself (in place).

    Returns
    -------
    data : (nints, ngroups, ny, nx) float32, DN (linearised)
    pixeldq : (ny, nx) uint32
    """
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError(f"data must be 4-D (nints, ngroups, ny, nx), got {data.shape}")
    if groupdq.shape != data.shape:
        raise ValueError(f"groupdq shape {groupdq.shape} != data shape {data.shape}")
    if coeffs.shape[1:] != data.shape[2:] or pixeldq.shape != data.shape[2:]:
        raise ValueError("coeffs/pixeldq do not match the data's (ny, nx)")
    c = np.asarray(coeffs)
    if c.ndim != 3 or c.shape[0] < 2:
        raise ValueError(f"coeffs must be (ncoeffs>=2, ny, nx), got {c.shape}")
    # float32 references stay float32 (widened per pixel in the kernel: same values)
    c = np.ascontiguousarray(c, dtype=np.float32 if c.dtype == np.float32 else np.float64)
    out = check_out(out, data.shape, np.float32)
    add = np.empty(data.shape[2:], dtype=np.uint32)
    _linearity_kernel(
        out if out is data else np.ascontiguousarray(data, dtype=np.float32),
        np.ascontiguousarray(groupdq, dtype=np.uint8),
        c,
        np.ascontiguousarray(lin_dq, dtype=np.uint32),
        np.uint32(no_lin_corr),
        np.uint8(saturated),
        out,
        add,
    )
    return out, np.bitwise_or(np.asarray(pixeldq, dtype=np.uint32), add)
