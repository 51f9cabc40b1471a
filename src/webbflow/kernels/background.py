"""Sigma-clipped combination of background images along the first axis (numba).

Per pixel, the values of the N images are clipped iteratively as astropy's ``sigma_clip``
does with its defaults (centre: median, spread: population standard deviation, bounds
``centre -/+ sigma * std`` applied to the values still kept, non-finite values rejected;
iterate until nothing more is clipped or ``maxiters`` iterations), then the kept values are
averaged. The official background step combines its background exposures this way (first
over integrations, then over exposures).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["clipped_mean", "clipped_mean_stack"]


@njit(cache=True)
def _median_sorted(buf: np.ndarray, n: int) -> float:
    if n % 2 == 1:
        return buf[n // 2]
    return 0.5 * (buf[n // 2 - 1] + buf[n // 2])


@njit(cache=True)
def _clip_pixel(vals: np.ndarray, keep: np.ndarray, buf: np.ndarray, sigma: float,
                maxiters: int) -> None:
    """Mark in ``keep`` (bool [N]) the values of ``vals`` (float64 [N]) that survive."""
    n = vals.shape[0]
    for i in range(n):
        keep[i] = np.isfinite(vals[i])
    it = 0
    while maxiters < 0 or it < maxiters:
        m = 0
        for i in range(n):
            if keep[i]:
                buf[m] = vals[i]
                m += 1
        if m == 0:
            return
        buf[:m].sort()
        centre = _median_sorted(buf, m)
        mean = 0.0
        for i in range(m):
            mean += buf[i]
        mean /= m
        var = 0.0
        for i in range(m):
            var += (buf[i] - mean) ** 2
        std = np.sqrt(var / m)
        lo = centre - sigma * std
        hi = centre + sigma * std
        changed = False
        for i in range(n):
            if keep[i] and (vals[i] < lo or vals[i] > hi):
                keep[i] = False
                changed = True
        it += 1
        if not changed:
            return


@njit(parallel=True, cache=True)
def _clipped_mean_stack(stack: np.ndarray, var: np.ndarray, sigma: float, maxiters: int,
                        out: np.ndarray, out_var: np.ndarray, nkept: np.ndarray) -> None:
    n, ny, nx = stack.shape
    for y in prange(ny):
        vals = np.empty(n, dtype=np.float64)
        keep = np.empty(n, dtype=np.bool_)
        buf = np.empty(n, dtype=np.float64)
        for x in range(nx):
            for k in range(n):
                vals[k] = stack[k, y, x]
            _clip_pixel(vals, keep, buf, sigma, maxiters)
            s = 0.0
            sv = 0.0
            m = 0
            for k in range(n):
                if keep[k]:
                    s += vals[k]
                    sv += var[k, y, x]
                    m += 1
            nkept[y, x] = m
            if m == 0:
                out[y, x] = np.nan
                out_var[y, x] = np.nan
            else:
                out[y, x] = s / m
                out_var[y, x] = sv / m


def clipped_mean_stack(stack: np.ndarray, var: np.ndarray | None, sigma: float,
                       maxiters: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sigma-clipped mean of ``stack`` along axis 0.

    Parameters
    ----------
    stack : ndarray (N, ny, nx)
        Images (any float dtype; NaN = no value).
    var : ndarray (N, ny, nx) or None
        A companion array averaged over the same kept values (e.g. ERR**2); None: zeros.
    sigma : float
        Clipping threshold in standard deviations (both sides).
    maxiters : int or None
        Clipping iterations; None: until convergence.

    Returns
    -------
    mean : ndarray float64 (ny, nx)
        Mean of the kept values (NaN where none is kept).
    var_mean : ndarray float64 (ny, nx)
        Mean of ``var`` over the kept values.
    nkept : ndarray int32 (ny, nx)
        Number of kept values.
    """
    stack = np.ascontiguousarray(stack, dtype=np.float64)
    if stack.ndim != 3:
        raise ValueError(f"stack must be 3-D (N, ny, nx), got shape {stack.shape}")
    if var is None:
        var = np.zeros_like(stack)
    var = np.ascontiguousarray(var, dtype=np.float64)
    if var.shape != stack.shape:
        raise ValueError(f"var shape {var.shape} differs from stack shape {stack.shape}")
    out = np.empty(stack.shape[1:], dtype=np.float64)
    out_var = np.empty_like(out)
    nkept = np.empty(stack.shape[1:], dtype=np.int32)
    _clipped_mean_stack(stack, var, float(sigma), -1 if maxiters is None else int(maxiters),
                        out, out_var, nkept)
    return out, out_var, nkept


def clipped_mean(values: np.ndarray, sigma: float, maxiters: int | None) -> float:
    """Sigma-clipped mean of a 1-D array (same rules; NaN when nothing is kept)."""
    v = np.asarray(values, dtype=np.float64).reshape(-1, 1, 1)
    return float(clipped_mean_stack(v, None, sigma, maxiters)[0][0, 0])
