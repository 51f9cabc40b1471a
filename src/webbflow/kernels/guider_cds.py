"""FGS guider correlated double sampling (GuiderPipeline ``guider_cds``).

Count rates per mode (official ``guider_cds``):

* ``"id"`` (FGS_ID-IMAGE, FGS_ID-STACK): ``min(g1 - g0 of integration 0, of integration 1) /
  group_time`` -> one plane.
* ``"cds"`` (FGS_ACQ1, FGS_ACQ2, FGS_TRACK): ``(g1 - g0) / group_time`` per integration.
* ``"fineguide"`` (FGS_FINEGUIDE): ``(mean of last 4 groups - mean of first 4) / group_time``
  per integration.

ERR = sqrt(var_rn + var_pn), var_rn = 2 (readnoise / group_time)^2 and
var_pn = max(difference / (gain * group_time), 0), where ``difference`` is the un-normalised
group difference (official formula). For ID modes the official ignores the reference files
and uses the constants gain 1.9713863, readnoise 21.0 DN; the caller passes those.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["guider_cds"]


@njit(cache=True, parallel=True)
def _cds_kernel(data, mode, gtime, gain, rn, sci, err):
    """mode 0: cds, 1: fineguide, 2: id. sci/err (nout, ny, nx) float32."""
    nints, ngroups, ny, nx = data.shape
    for y in prange(ny):
        for x in range(nx):
            var_rn = 2.0 * (np.float64(rn[y, x]) / gtime) ** 2
            if mode == 2:
                d0 = data[0, 1, y, x] - data[0, 0, y, x]
                d1 = data[1, 1, y, x] - data[1, 0, y, x]
                d = min(d0, d1)
                sci[0, y, x] = np.float32(np.float64(d) / gtime)
                vpn = max(np.float64(d) / (np.float64(gain[y, x]) * gtime), 0.0)
                err[0, y, x] = np.float32(np.sqrt(var_rn + vpn))
                continue
            for i in range(nints):
                if mode == 1:
                    a = 0.0
                    b = 0.0
                    for g in range(4):
                        a += np.float64(data[i, g, y, x])
                        b += np.float64(data[i, ngroups - 4 + g, y, x])
                    d = np.float32(b / 4.0 - a / 4.0)
                else:
                    d = data[i, 1, y, x] - data[i, 0, y, x]
                sci[i, y, x] = np.float32(np.float64(d) / gtime)
                vpn = max(np.float64(d) / (np.float64(gain[y, x]) * gtime), 0.0)
                err[i, y, x] = np.float32(np.sqrt(var_rn + vpn))


def guider_cds(
    data: np.ndarray,
    group_time: float,
    mode: str,
    gain: np.ndarray | float,
    readnoise: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray]:
    """Guider count-rate images.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
    group_time : float, s
        TGROUP.
    mode : {"id", "cds", "fineguide"}
        See the module docstring for the EXP_TYPE mapping.
    gain : (ny, nx) array or scalar, e/DN
    readnoise : (ny, nx) array or scalar, DN

    Returns
    -------
    sci : (nout, ny, nx) float32, DN/s  (nout = 1 for "id", nints otherwise)
    err : (nout, ny, nx) float32, DN/s
    """
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError(f"data must be 4-D (nints, ngroups, ny, nx), got {data.shape}")
    nints, ngroups, ny, nx = data.shape
    codes = {"cds": 0, "fineguide": 1, "id": 2}
    if mode not in codes:
        raise ValueError(f"mode must be one of {sorted(codes)}, got {mode!r}")
    if mode == "id" and (nints < 2 or ngroups < 2):
        raise ValueError("ID mode needs 2 integrations of at least 2 groups")
    if mode == "fineguide" and ngroups < 4:
        raise ValueError("FINEGUIDE mode needs at least 4 groups")
    if mode == "cds" and ngroups < 2:
        raise ValueError("CDS needs at least 2 groups")
    g = np.broadcast_to(np.asarray(gain, dtype=np.float32), (ny, nx))
    r = np.broadcast_to(np.asarray(readnoise, dtype=np.float32), (ny, nx))
    nout = 1 if mode == "id" else nints
    sci = np.empty((nout, ny, nx), dtype=np.float32)
    err = np.empty((nout, ny, nx), dtype=np.float32)
    _cds_kernel(
        np.ascontiguousarray(data, dtype=np.float32),
        codes[mode],
        float(group_time),
        np.ascontiguousarray(g),
        np.ascontiguousarray(r),
        sci,
        err,
    )
    return sci, err
