"""MIRI reset-anomaly correction: subtract the RESET reference from the first groups.

Science integration ``i`` (absolute, ``integration_start - 1 + k`` for row ``k`` of the data)
uses reference integration ``min(i, reset_nints - 1)``; only the first
``min(ngroups, reset_ngroups)`` groups are corrected. NaNs in the reference count as 0. The ERR
array is not changed (the official step leaves its quadrature sum stubbed out).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["subtract_reset"]


@njit(cache=True, parallel=True)
def _subtract_kernel(data, ref, istart, nref_ints, ngroups_corr):
    nk, _, ny, nx = data.shape
    for y in prange(ny):
        for k in range(nk):
            ir = min(istart + k, nref_ints - 1)
            for g in range(ngroups_corr):
                for x in range(nx):
                    v = ref[ir, g, y, x]
                    if not np.isnan(v):
                        data[k, g, y, x] = data[k, g, y, x] - v


def subtract_reset(data: np.ndarray, reset: np.ndarray, *, istart: int = 0,
                   reset_nints: int | None = None, reset_ngroups: int | None = None) -> None:
    """Subtract ``reset`` from ``data`` in place.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN.
    reset : (reset_nints, reset_ngroups, ny, nx) float32, DN.
    istart : absolute 0-based index of the first integration in ``data`` (segmented data).
    reset_nints, reset_ngroups : the reference's NINTS/NGROUPS (default: its shape; never more
        than its shape).
    """
    if data.ndim != 4 or reset.ndim != 4 or data.shape[2:] != reset.shape[2:]:
        raise ValueError(f"reset {reset.shape} does not match data {data.shape}")
    rn = reset.shape[0] if reset_nints is None else min(int(reset_nints), reset.shape[0])
    rg = reset.shape[1] if reset_ngroups is None else min(int(reset_ngroups), reset.shape[1])
    _subtract_kernel(data, np.ascontiguousarray(reset, dtype=np.float32), int(istart),
                     max(rn, 1), min(rg, data.shape[1]))
