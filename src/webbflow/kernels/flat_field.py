"""Imaging flat field: divide (or multiply) by a FLAT and propagate DQ, ERR and variances.

Facts from the official ``flat_field`` step (image-based flats, every mode except NIRSpec
spectroscopy):

* the flat is repaired first: a NaN or zero flat value adds DO_NOT_USE | NO_FLAT_FIELD to the
  flat DQ; NO_FLAT_FIELD in the flat DQ adds DO_NOT_USE; wherever the flat DQ then has
  DO_NOT_USE the flat value becomes 1 (no correction);
* ``SCI /= FLAT``; ``VAR_FLAT = SCI**2 / FLAT**2 * FLAT_ERR**2`` with SCI *after* the division;
  ``VAR_POISSON`` and ``VAR_RNOISE`` are divided by ``FLAT**2``;
  ``ERR = sqrt(VAR_POISSON + VAR_RNOISE + VAR_FLAT)``;
* ``inverse``: ``SCI *= FLAT``, ``VAR_FLAT = 0``, the two variances are multiplied by
  ``FLAT**2`` and ``ERR = sqrt(VAR_POISSON + VAR_RNOISE)``;
* guider data (no variance arrays): ``ERR = sqrt(ERR**2 + VAR_FLAT)`` (unchanged when inverse);
* ``DQ |= flat DQ``; then NaNs and DO_NOT_USE are made to agree: a pixel NaN in any of SCI,
  ERR or the variances, or DO_NOT_USE in DQ, becomes NaN everywhere and DO_NOT_USE (DQ only
  when it has SCI's shape: a 2-D guider DQ under a 3-D SCI is left alone, as officially).

All arithmetic is float32, in the official order of operations, so results are bitwise those
of the official NumPy expressions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

__all__ = ["FlatResult", "apply_flat", "prepare_flat"]


class FlatResult(NamedTuple):
    """Flat-fielded arrays, each (nplanes, ny, nx) or (ny, nx) as given."""

    data: np.ndarray
    dq: np.ndarray
    err: np.ndarray
    var_poisson: np.ndarray | None
    var_rnoise: np.ndarray | None
    var_flat: np.ndarray


@njit(cache=True, parallel=True)
def _prepare_kernel(flat, flat_dq, do_not_use, no_flat_field, out, out_dq):
    ny, nx = flat.shape
    bad = do_not_use | no_flat_field
    for y in prange(ny):
        for x in range(nx):
            f = flat[y, x]
            q = flat_dq[y, x]
            if np.isnan(f) or f == 0.0:
                q |= bad
            if q & no_flat_field:
                q |= do_not_use
            out[y, x] = np.float32(1.0) if q & do_not_use else f
            out_dq[y, x] = q


def prepare_flat(
    flat: np.ndarray, flat_dq: np.ndarray, do_not_use: int, no_flat_field: int
) -> tuple[np.ndarray, np.ndarray]:
    """Repair a flat: bad values (NaN, 0, NO_FLAT_FIELD, DO_NOT_USE) become 1, flagged.

    Parameters
    ----------
    flat : (ny, nx) float32, dimensionless
    flat_dq : (ny, nx) uint32, standard DQ bits
    do_not_use, no_flat_field : int
        DQ bit values.

    Returns
    -------
    flat : (ny, nx) float32
    flat_dq : (ny, nx) uint32, with DO_NOT_USE | NO_FLAT_FIELD where the flat was unusable
    """
    flat = np.ascontiguousarray(flat, dtype=np.float32)
    flat_dq = np.ascontiguousarray(flat_dq, dtype=np.uint32)
    if flat.ndim != 2 or flat_dq.shape != flat.shape:
        raise ValueError(f"flat {flat.shape} and flat_dq {flat_dq.shape} must be the same 2-D "
                         "shape")
    out = np.empty_like(flat)
    out_dq = np.empty_like(flat_dq)
    _prepare_kernel(flat, flat_dq, np.uint32(do_not_use), np.uint32(no_flat_field), out, out_dq)
    return out, out_dq


@njit(cache=True, parallel=True)
def _apply_kernel(data, dq, err, vp, vr, flat, ferr, fdq, inverse, has_var, dq_planes,
                  do_not_use, vf):
    nplanes, ny, nx = data.shape
    for y in prange(ny):
        for x in range(nx):
            f = flat[y, x]
            fsq = f * f
            fe = ferr[y, x]
            for p in range(nplanes):
                d = data[p, y, x]
                if not inverse:
                    d = d / f
                    v_f = d * d / fsq * (fe * fe)
                else:
                    d = d * f
                    v_f = np.float32(0.0)
                data[p, y, x] = d
                vf[p, y, x] = v_f
                if has_var:
                    if not inverse:
                        a = vp[p, y, x] / fsq
                        b = vr[p, y, x] / fsq
                        e = np.sqrt(a + b + v_f)
                    else:
                        a = vp[p, y, x] * fsq
                        b = vr[p, y, x] * fsq
                        e = np.sqrt(a + b)
                    vp[p, y, x] = a
                    vr[p, y, x] = b
                    err[p, y, x] = e
                elif not inverse:
                    e0 = err[p, y, x]
                    err[p, y, x] = np.sqrt(e0 * e0 + v_f)
                if dq_planes:
                    dq[p, y, x] |= fdq[y, x]
            if not dq_planes:
                dq[0, y, x] |= fdq[y, x]
            # match NaNs and DO_NOT_USE
            for p in range(nplanes):
                bad = (np.isnan(data[p, y, x]) or np.isnan(err[p, y, x])
                       or np.isnan(vf[p, y, x]))
                if has_var:
                    bad = bad or np.isnan(vp[p, y, x]) or np.isnan(vr[p, y, x])
                if dq_planes:
                    bad = bad or (dq[p, y, x] & do_not_use) != 0
                    if bad:
                        dq[p, y, x] |= do_not_use
                if bad:
                    data[p, y, x] = np.nan
                    err[p, y, x] = np.nan
                    vf[p, y, x] = np.nan
                    if has_var:
                        vp[p, y, x] = np.nan
                        vr[p, y, x] = np.nan


def _as3d(arr: np.ndarray | None, dtype: str) -> np.ndarray | None:
    if arr is None:
        return None
    out = np.array(arr, dtype=dtype, copy=True, order="C")
    return out[None] if out.ndim == 2 else out


def apply_flat(
    data: np.ndarray,
    dq: np.ndarray,
    err: np.ndarray,
    var_poisson: np.ndarray | None,
    var_rnoise: np.ndarray | None,
    flat: np.ndarray,
    flat_err: np.ndarray,
    flat_dq: np.ndarray,
    *,
    do_not_use: int,
    inverse: bool = False,
) -> FlatResult:
    """Flat-field one image or cube (inputs are not modified).

    Parameters
    ----------
    data : (ny, nx) or (nplanes, ny, nx) float32, DN/s (or any unit)
    dq : uint32, SCI's shape, or (ny, nx) under a 3-D SCI (guider: left out of NaN matching)
    err : float32, SCI's shape
    var_poisson, var_rnoise : float32, SCI's shape, or both None (guider data)
    flat, flat_err, flat_dq : (ny, nx), already repaired by :func:`prepare_flat`
    do_not_use : int
        DO_NOT_USE bit value.
    inverse : bool
        Multiply instead of divide (official ``inverse``).

    Returns
    -------
    FlatResult
        New arrays with the input shapes; ``var_flat`` has SCI's shape.
    """
    data = np.asarray(data)
    if data.ndim not in (2, 3):
        raise ValueError(f"data must be 2-D or 3-D, got {data.shape}")
    pix = data.shape[-2:]
    for name, arr in (("flat", flat), ("flat_err", flat_err), ("flat_dq", flat_dq)):
        if np.shape(arr) != pix:
            raise ValueError(f"{name} shape {np.shape(arr)} does not match the data {pix}")
    has_var = var_poisson is not None and var_rnoise is not None
    dq_planes = np.shape(dq) == data.shape
    if not dq_planes and np.shape(dq) != pix:
        raise ValueError(f"dq shape {np.shape(dq)} matches neither {data.shape} nor {pix}")
    d3 = _as3d(data, "float32")
    e3 = _as3d(err, "float32")
    q3 = _as3d(dq, "uint32")
    vp3 = _as3d(var_poisson, "float32") if has_var else np.zeros((1, 1, 1), np.float32)
    vr3 = _as3d(var_rnoise, "float32") if has_var else np.zeros((1, 1, 1), np.float32)
    vf3 = np.empty_like(d3)
    _apply_kernel(d3, q3, e3, vp3, vr3, np.ascontiguousarray(flat, dtype=np.float32),
                  np.ascontiguousarray(flat_err, dtype=np.float32),
                  np.ascontiguousarray(flat_dq, dtype=np.uint32), bool(inverse), has_var,
                  dq_planes, np.uint32(do_not_use), vf3)

    def back(arr: np.ndarray, like_ndim: int) -> np.ndarray:
        return arr[0] if like_ndim == 2 else arr

    nd = data.ndim
    return FlatResult(
        back(d3, nd), back(q3, np.ndim(dq)), back(e3, nd),
        back(vp3, nd) if has_var else None, back(vr3, nd) if has_var else None, back(vf3, nd))
