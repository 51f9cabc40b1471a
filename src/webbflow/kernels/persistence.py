"""Persistence from charge traps: decay of filled traps into the ramp, capture during it.

The model of the official ``persistence`` step (JWST pipeline up to 1.x; M. Regan's trap
model; documentation "persistence: description"), with trap families k (rows of the TRAPPARS
table: capture0 = a0, capture1 = -1/tau_c, capture2 = a2, decay_param = -1/tau_d):

* decay over a time dt: ``n_decays = filled_k * (1 - exp(-dt / tau_d))``, tau_d = 1/|decay_param|
  (no decay when decay_param is 0);
* in each group the traps decay over TGROUP; the persistence subtracted from group g is the sum
  over families of the decays since the start of the integration (DN); at the start of every
  integration after the first, NRESETS * TFRAME of decay is removed from the state first (it is
  not in the ramp);
* at the end of each integration traps capture charge (x 2, the SCALEFACTOR for freed charge):
  ramp part ``2 D s^2 (dt^2 (a0 + a2) / 2 + a0 (dt tau + tau^2) exp(-dt/tau) - a0 tau^2)``
  with D the trap density, s the slope in (fraction of PERSAT) / s, tau = 1/|capture1| and
  ``dt = ngroups TGROUP + nresets TFRAME - nsat TGROUP`` (nsat: groups above PERSAT);
  saturated part (nsat > 0): ``filled = ramp' + (D a0 - (ramp' - D a2)) (1 - exp(-|c1| nsat
  TGROUP))`` where ramp' = D a2 when all groups are above PERSAT; cosmic rays (JUMP_DET in
  group g >= 1): ``2 D max(jump, 0) (a0 (1 - exp(capture1 (ngroups - g - 0.5) TGROUP)) + a2)``
  with jump = data[g] - data[g-1] - slope_per_group, using the corrected data;
* the slope is estimated before the correction, per integration: the mean of the group
  differences after dropping saturated differences and the (number of JUMP_DET groups)
  largest others; 0 if nothing is left. One group: the slope is the group's value.

The state ``traps`` (nfamilies, NY, NX) covers the whole detector (the trap-density frame);
the science data (ny, nx) sit at rows y0.., columns x0.. of it. Pixels outside the science
window only decay. Computed in float64.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

__all__ = ["SCALEFACTOR", "PersistenceResult", "decay_traps", "trap_persistence"]

#: charge freed from traps counts double, compared with photo-electrons (official)
SCALEFACTOR = 2.0


class PersistenceResult(NamedTuple):
    """Outputs of :func:`trap_persistence`."""

    data: np.ndarray  # (nints, ngroups, ny, nx) float32, DN, persistence subtracted
    flagged: np.ndarray  # (ny, nx) bool, persistence >= cutoff in some group
    traps: np.ndarray  # (nfamilies, NY, NX) float64, filled traps at the end
    persistence: np.ndarray | None  # (nints, ngroups, ny, nx) float32, DN, when asked


def _decay_fraction(rate: np.ndarray, dt: float) -> np.ndarray:
    """1 - exp(-dt |rate|) per family (0 where the rate is 0)."""
    out = np.zeros(rate.shape, dtype=np.float64)
    for k, r in enumerate(rate):
        if r != 0.0:
            out[k] = 1.0 - math.exp(-dt * abs(float(r)))
    return out


@njit(cache=True, parallel=True)
def _decay_kernel(traps, frac):
    nfam, ny, nx = traps.shape
    for y in prange(ny):
        for k in range(nfam):
            for x in range(nx):
                traps[k, y, x] -= traps[k, y, x] * frac[k]


def decay_traps(traps: np.ndarray, decay_param: np.ndarray, dt: float) -> np.ndarray:
    """Filled traps after ``dt`` seconds of decay (a new array).

    Parameters
    ----------
    traps : (nfamilies, ny, nx), filled traps
    decay_param : (nfamilies,), 1/s (negative: -1/tau_d)
    dt : float, s
    """
    out = np.array(traps, dtype=np.float64, copy=True, order="C")
    frac = _decay_fraction(np.asarray(decay_param, dtype=np.float64), float(dt))
    if out.ndim != 3 or frac.shape[0] != out.shape[0]:
        raise ValueError(f"traps {out.shape} need one decay parameter per plane, got "
                         f"{frac.shape[0]}")
    _decay_kernel(out, frac)
    return out


@njit(cache=True)
def _slope(data, gdq, integ, y, x, sat_flag, jump_flag, buf):
    """Slope (DN/group) from the sorted non-saturated differences, CR-affected ones dropped."""
    ngroups = data.shape[1]
    if ngroups == 1:
        return np.float64(data[integ, 0, y, x])
    n_cr = 0
    for g in range(ngroups):
        if gdq[integ, g, y, x] & jump_flag:
            n_cr += 1
    n = 0
    for g in range(1, ngroups):
        if gdq[integ, g, y, x] & sat_flag:
            continue
        buf[n] = np.float64(data[integ, g, y, x]) - np.float64(data[integ, g - 1, y, x])
        n += 1
    keep = n - n_cr
    if keep <= 0:
        return 0.0
    # insertion sort of the n differences (short vectors)
    for i in range(1, n):
        v = buf[i]
        j = i - 1
        while j >= 0 and buf[j] > v:
            buf[j + 1] = buf[j]
            j -= 1
        buf[j + 1] = v
    total = 0.0
    for i in range(keep):
        total += buf[i]
    return total / keep


@njit(cache=True, parallel=True)
def _trap_kernel(data, gdq, traps, y0, x0, density, persat, persat_ok, a0, c1, a2, dgroup,
                 dreset, nresets, tframe, tgroup, sat_flag, jump_flag, cutoff, do_flag,
                 flagged, pers_out, save_pers):
    nints, ngroups, ny, nx = data.shape
    nfam, det_ny, det_nx = traps.shape
    for yy in prange(det_ny):
        cum = np.zeros(nfam)
        buf = np.zeros(max(ngroups, 1))
        y = yy - y0
        for xx in range(det_nx):
            x = xx - x0
            inside = 0 <= y < ny and 0 <= x < nx
            for integ in range(nints):
                if integ > 0:
                    for k in range(nfam):
                        traps[k, yy, xx] -= traps[k, yy, xx] * dreset[integ, k]
                for k in range(nfam):
                    cum[k] = 0.0
                grp_slope = 0.0
                slope = 0.0
                if inside:
                    grp_slope = _slope(data, gdq, integ, y, x, sat_flag, jump_flag, buf)
                    if persat_ok[y, x]:
                        slope = grp_slope / (persat[y, x] * tgroup)
                for g in range(ngroups):
                    pers = 0.0
                    for k in range(nfam):
                        d = traps[k, yy, xx] * dgroup[k]
                        cum[k] += d
                        traps[k, yy, xx] -= d
                        pers += cum[k]
                    if inside:
                        data[integ, g, y, x] = np.float32(np.float64(data[integ, g, y, x])
                                                          - pers)
                        if save_pers:
                            pers_out[integ, g, y, x] = np.float32(pers)
                        if do_flag and pers >= cutoff:
                            flagged[y, x] = True
                if not inside:
                    continue
                # captures during this integration
                nsat = 0
                if persat_ok[y, x]:
                    for g in range(ngroups):
                        if data[integ, g, y, x] > persat[y, x]:
                            nsat += 1
                sattime = nsat * tgroup
                dt = ngroups * tgroup + nresets[integ] * tframe - sattime
                dens = density[y, x]
                for k in range(nfam):
                    tau = 1.0e10 if c1[k] == 0.0 else 1.0 / abs(c1[k])
                    filled = (dens * slope * slope
                              * (dt * dt * (a0[k] + a2[k]) / 2.0
                                 + a0[k] * (dt * tau + tau * tau) * math.exp(-dt / tau)
                                 - a0[k] * tau * tau)) * 2.0
                    if nsat > 0:
                        if nsat == ngroups:
                            filled = dens * a2[k]
                        exp_filled = filled - dens * a2[k]
                        empty = dens * a0[k] - exp_filled
                        filled = filled + empty * (1.0 - math.exp(-abs(c1[k]) * sattime))
                    cr = 0.0
                    for g in range(1, ngroups):
                        if gdq[integ, g, y, x] & jump_flag:
                            jump = (np.float64(data[integ, g, y, x])
                                    - np.float64(data[integ, g - 1, y, x])) - grp_slope
                            if jump < 0.0:
                                jump = 0.0
                            delta_t = (ngroups - g - 0.5) * tgroup
                            cr += dens * jump * (a0[k] * (1.0 - math.exp(c1[k] * delta_t))
                                                 + a2[k])
                    traps[k, yy, xx] += filled + cr * 2.0


def trap_persistence(
    data: np.ndarray,
    groupdq: np.ndarray,
    traps: np.ndarray,
    origin: tuple[int, int],
    trap_density: np.ndarray,
    persat: np.ndarray,
    persat_ok: np.ndarray,
    trappars: dict[str, np.ndarray],
    *,
    frame_time: float,
    group_time: float,
    nresets: np.ndarray,
    saturated: int,
    jump_det: int,
    flag_cutoff: float | None,
    save_persistence: bool = False,
) -> PersistenceResult:
    """Subtract trap-release persistence from a ramp and update the traps-filled state.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
    groupdq : (nints, ngroups, ny, nx) uint8
    traps : (nfamilies, NY, NX), filled traps at the start of the exposure (NaN-free)
    origin : (y0, x0), 0-based position of the science window in ``traps``
    trap_density : (ny, nx), traps per pixel (0 where unusable)
    persat : (ny, nx), DN, persistence saturation level
    persat_ok : (ny, nx) bool, False where PERSAT is DO_NOT_USE (slope 0, never saturated)
    trappars : dict of (nfamilies,) float64 arrays ``capture0``, ``capture1``, ``capture2``,
        ``decay_param`` (1/s for capture1 and decay_param)
    frame_time, group_time : float, s
    nresets : (nints,) int, resets before each integration
    saturated, jump_det : int, GROUPDQ bit values
    flag_cutoff : float or None, DN; pixels whose persistence reaches it are ``flagged``
    save_persistence : bool, return the subtracted persistence

    Returns
    -------
    PersistenceResult
    """
    data = np.array(data, dtype=np.float32, copy=True, order="C")
    if data.ndim != 4 or np.shape(groupdq) != data.shape:
        raise ValueError(f"data {data.shape} and groupdq {np.shape(groupdq)} must be the same "
                         "4-D shape")
    nints, _, ny, nx = data.shape
    state = np.array(traps, dtype=np.float64, copy=True, order="C")
    y0, x0 = int(origin[0]), int(origin[1])
    if state.ndim != 3 or y0 < 0 or x0 < 0 or y0 + ny > state.shape[1] \
            or x0 + nx > state.shape[2]:
        raise ValueError(f"traps {state.shape} do not contain the science window {ny}x{nx} at "
                         f"row {y0}, column {x0}")
    cols = {name: np.ascontiguousarray(trappars[name], dtype=np.float64)
            for name in ("capture0", "capture1", "capture2", "decay_param")}
    nfam = state.shape[0]
    if any(c.shape != (nfam,) for c in cols.values()):
        raise ValueError(f"trappars must have one row per traps plane ({nfam})")
    nresets = np.ascontiguousarray(np.broadcast_to(nresets, (nints,)), dtype=np.int64)
    dgroup = _decay_fraction(cols["decay_param"], group_time)
    dreset = np.stack([_decay_fraction(cols["decay_param"], frame_time * n) for n in nresets])
    flagged = np.zeros((ny, nx), dtype=np.bool_)
    pers = (np.zeros(data.shape, np.float32) if save_persistence
            else np.zeros((1, 1, 1, 1), np.float32))
    _trap_kernel(
        data, np.ascontiguousarray(groupdq, dtype=np.uint8), state, y0, x0,
        np.ascontiguousarray(trap_density, dtype=np.float64),
        np.ascontiguousarray(persat, dtype=np.float64),
        np.ascontiguousarray(persat_ok, dtype=np.bool_),
        cols["capture0"], cols["capture1"], cols["capture2"], dgroup, dreset, nresets,
        float(frame_time), float(group_time), np.uint8(saturated), np.uint8(jump_det),
        0.0 if flag_cutoff is None else float(flag_cutoff), flag_cutoff is not None,
        flagged, pers, bool(save_persistence))
    return PersistenceResult(data, flagged, state, pers if save_persistence else None)
