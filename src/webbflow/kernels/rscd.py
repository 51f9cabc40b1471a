"""MIRI reset-switch charge decay (RSCD): flag the first groups of each integration DO_NOT_USE.

The official jwst 3.0 ``rscd`` step no longer corrects the decay; it flags the first ``skip``
groups (``group_skip1`` for integration 1, ``group_skip`` for integrations 2 and later, from the
RSCD reference) so ramp fitting ignores them. Rules (jwst 3.0 documentation and behaviour):

* ``ngroups < 3``: nothing is flagged (the step is SKIPPED);
* ``ngroups <= 5``: one group is flagged in every integration;
* otherwise ``skip`` is lowered to ``ngroups - 3`` when fewer than ``skip + 3`` groups exist;
* saturation back-off, per block of integrations (integration 1; integrations 2+): starting at
  1-based group ``m = skip + 2`` and going down to 2, while some pixel of the block is
  SATURATED in group ``m`` (0-based ``m - 1``) and not in group 1, those pixels flag one group
  fewer (never below 0). Pixels lowered in any integration get FLUX_ESTIMATED.

``flag_rscd_block`` returns the per-pixel numbers and the counts the official step records in
INT1BORS/INT2BORS (pixels lowered) and INT1UGP1/INT2UGP1 (pixels left with 0 flagged groups,
counted only when the first back-off level found saturation, as officially).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["apply_rscd_flags", "flag_rscd_block", "rscd_skip_groups"]


def rscd_skip_groups(ngroups: int, nints: int, skip_int1: int, skip_int2p: int
                     ) -> tuple[int, int] | None:
    """Groups to flag in integration 1 and in integrations 2+, or None when ``ngroups < 3``.

    A negative ``skip_int1`` (reference of the deprecated layout) means 1.
    """
    if ngroups < 3:
        return None
    s1 = 1 if skip_int1 < 0 else int(skip_int1)
    s2 = int(skip_int2p)
    if ngroups <= 5:
        s1 = s2 = 1
    if ngroups < s1 + 3:
        s1 = max(0, ngroups - 3)
    if nints > 1 and ngroups < s2 + 3:
        s2 = max(0, ngroups - 3)
    return s1, s2


@njit(cache=True, parallel=True)
def _problem(gdq, i0, i1, group, sat_bit, out):
    """out[k, y, x]: SATURATED in ``group`` and not in group 0, integrations i0..i1-1."""
    ny, nx = gdq.shape[2], gdq.shape[3]
    n = 0
    for y in prange(ny):
        for k in range(i1 - i0):
            for x in range(nx):
                v = ((gdq[i0 + k, group, y, x] & sat_bit) != 0
                     and (gdq[i0 + k, 0, y, x] & sat_bit) == 0)
                out[k, y, x] = v
    for k in range(i1 - i0):
        for y in range(ny):
            for x in range(nx):
                if out[k, y, x]:
                    n += 1
    return n


def flag_rscd_block(gdq: np.ndarray, i0: int, i1: int, skip: int, *, sat_bit: int
                    ) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Per-pixel groups to flag for integrations ``i0 .. i1 - 1`` with saturation back-off.

    Parameters
    ----------
    gdq : (nints, ngroups, ny, nx) uint8 group DQ.
    i0, i1 : integration range (0-based, end excluded).
    skip : groups to flag before back-off (``ngroups >= skip + 3`` assumed).

    Returns
    -------
    skip_array : (i1 - i0, ny, nx) int32, groups to flag per pixel and integration.
    lowered : (ny, nx) bool, pixels lowered in some integration (to get FLUX_ESTIMATED).
    n_lowered, n_one_group : int, the INTxBORS and INTxUGP1 counts.
    """
    ny, nx = gdq.shape[2:]
    skip_array = np.full((i1 - i0, ny, nx), skip, dtype=np.int32)
    problem = np.zeros((i1 - i0, ny, nx), dtype=np.bool_)
    m = skip + 2
    n = _problem(gdq, i0, i1, m - 1, np.uint8(sat_bit), problem)
    first = n
    while n > 0 and m > 1:
        skip_array[problem] = np.maximum(skip_array[problem] - 1, 0)
        m -= 1
        n = _problem(gdq, i0, i1, m - 1, np.uint8(sat_bit), problem)
    if first == 0:
        return skip_array, np.zeros((ny, nx), dtype=bool), 0, 0
    lowered = np.any(skip_array < skip, axis=0)
    n_one = int(np.any(skip_array == 0, axis=0).sum())
    return skip_array, lowered, int(lowered.sum()), n_one


@njit(cache=True, parallel=True)
def _apply_kernel(gdq, i0, skip_array, dnu_bit):
    nk, ny, nx = skip_array.shape
    ngroups = gdq.shape[1]
    for y in prange(ny):
        for k in range(nk):
            for x in range(nx):
                for g in range(min(skip_array[k, y, x], ngroups)):
                    gdq[i0 + k, g, y, x] |= dnu_bit


def apply_rscd_flags(gdq: np.ndarray, i0: int, skip_array: np.ndarray, *, dnu_bit: int) -> None:
    """OR DO_NOT_USE into groups ``0 .. skip_array[k] - 1`` of integration ``i0 + k``, in place.

    gdq : (nints, ngroups, ny, nx) uint8; skip_array : (n, ny, nx) int32.
    """
    if gdq.dtype != np.uint8 or gdq.ndim != 4 or skip_array.shape[1:] != gdq.shape[2:]:
        raise ValueError("gdq must be 4-D uint8 and skip_array (n, ny, nx)")
    _apply_kernel(gdq, int(i0), np.ascontiguousarray(skip_array, dtype=np.int32),
                  np.uint8(dnu_bit))
