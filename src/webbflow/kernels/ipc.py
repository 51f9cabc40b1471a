"""Inter-pixel capacitance correction (Detector1 ``ipc``).

Each group's science region (reference rows/columns excluded) is convolved with the IPC
deconvolution kernel from the reference file:

    out[y, x] = sum_{j, i} K[j, i] * S[y + (kh - 1 - j) - kh//2, x + (kw - 1 - i) - kw//2]

with ``S`` the science region, zero outside it (reference pixels never contribute), ``K`` either
``(kh, kw)`` or per pixel ``(kh, kw, ny, nx)`` (then ``K[j, i]`` is taken at the output pixel).
For a symmetric 3x3 kernel this is ``S - a * (sum of neighbours)`` when ``K`` has centre
``1 + 4a`` style values: the step "subtracts the kernel-convolved neighbours". Reference pixels
are copied unchanged. As officially, the off-centre terms are accumulated first and the centre
term last; here in float64 (officially float32), stored as float32.

Not implemented: NIRSpec IRS2 layout.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["correct_ipc", "num_ref_pixels"]


@njit(cache=True, parallel=True)
def _ipc_kernel(data, kern, is4d, b, t, left, right, out):
    nints, ngroups, ny, nx = data.shape
    kh, kw = kern.shape[0], kern.shape[1]
    cj, ci = kh // 2, kw // 2
    y0, y1 = b, ny - t
    x0, x1 = left, nx - right
    nplanes = nints * ngroups
    for p in prange(nplanes):
        i_ = p // ngroups
        g = p % ngroups
        for y in range(ny):
            for x in range(nx):
                out[i_, g, y, x] = data[i_, g, y, x]
        for y in range(y0, y1):
            for x in range(x0, x1):
                acc = 0.0
                for k in range(kh * kw + 1):
                    if k == kh * kw:
                        j, i = cj, ci
                    else:
                        j, i = k // kw, k % kw
                        if j == cj and i == ci:
                            continue
                    sy = y + (kh - 1 - j) - cj
                    sx = x + (kw - 1 - i) - ci
                    if sy < y0 or sy >= y1 or sx < x0 or sx >= x1:
                        continue
                    w = kern[j, i, y, x] if is4d else kern[j, i, 0, 0]
                    acc += np.float64(w) * np.float64(data[i_, g, sy, sx])
                out[i_, g, y, x] = np.float32(acc)


def num_ref_pixels(
    xstart: int, ystart: int, xsize: int, ysize: int, *, miri: bool = False
) -> tuple[int, int, int, int]:
    """Reference rows/columns inside a (sub)array: (bottom, top, left, right).

    ``xstart``/``ystart`` are 1-based (SUBSTRT1/2). NIR: 4-pixel border of a 2048 frame;
    MIRI: columns 0-3 and 1028-1031 only.
    """
    x0, y0 = xstart - 1, ystart - 1
    if miri:
        return 0, 0, max(0, 4 - x0), max(0, x0 + xsize - 1028)
    return (
        max(0, 4 - y0),
        max(0, y0 + ysize - 2044),
        max(0, 4 - x0),
        max(0, x0 + xsize - 2044),
    )


def correct_ipc(
    data: np.ndarray, kernel: np.ndarray, nref: tuple[int, int, int, int] = (0, 0, 0, 0)
) -> np.ndarray:
    """Apply the IPC deconvolution kernel to every group.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
        Not modified.
    kernel : (kh, kw) or (kh, kw, ny, nx) float
        Deconvolution kernel (odd sizes), already cut to the science subarray when 4-D.
    nref : (bottom, top, left, right) int
        Reference rows/columns to exclude (see :func:`num_ref_pixels`).

    Returns
    -------
    (nints, ngroups, ny, nx) float32, DN
    """
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError(f"data must be 4-D (nints, ngroups, ny, nx), got {data.shape}")
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim == 2:
        k4 = np.ascontiguousarray(k[:, :, None, None])
        is4d = False
    elif k.ndim == 4 and k.shape[2:] == data.shape[2:]:
        k4 = np.ascontiguousarray(k)
        is4d = True
    else:
        raise ValueError(f"kernel shape {k.shape} incompatible with data {data.shape}")
    if k4.shape[0] % 2 == 0 or k4.shape[1] % 2 == 0:
        raise ValueError(f"kernel sizes must be odd, got {k4.shape[:2]}")
    b, t, left, right = (int(v) for v in nref)
    out = np.empty(data.shape, dtype=np.float32)
    _ipc_kernel(np.ascontiguousarray(data, dtype=np.float32), k4, is4d, b, t, left, right, out)
    return out
