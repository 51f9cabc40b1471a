"""Inter-pixel capacitance correction (Detector1 ``ipc``).

Each group's science region (reference rows/columns excluded) is convolved with the IPC
deconvolution kernel from the reference file:

    out[y, x] = sum_{j, i} K[j, i] * S[y + (kh - 1 - j) - kh//2, x + (kw - 1 - i) - kw//2]

with ``S`` the science region, zero outside it (reference pixels never contribute), ``K`` either
``(kh, kw)`` or per pixel ``(kh, kw, ny, nx)`` (then ``K[j, i]`` is taken at the output pixel).
For a symmetric 3x3 kernel this is ``S - a * (sum of neighbours)`` when ``K`` has centre
``1 + 4a`` style values: the step "subtracts the kernel-convolved neighbours". Reference pixels
are copied unchanged. As officially, the off-centre terms are accumulated first and the centre
term last; here in float64 (officially float32), stored as float32. The correction can run in
place (``out=data``): no second 4-D array.

Not implemented: NIRSpec IRS2 layout.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["correct_ipc", "num_ref_pixels"]


@njit(cache=True, parallel=True)
def _ipc_inplace(planes, kern, is4d, b, t, left, right):
    """Convolve every plane of ``planes`` (nplanes, ny, nx) float32 in place.

    One thread per plane. Output rows are produced top-down from a ring of the ``kh``
    original rows they need (rows above are already overwritten); each output row is
    accumulated in a float64 row buffer term by term (off-centre terms in kernel order, the
    centre last), so the per-pixel summation order is fixed and the inner loop runs along
    ``x`` with no branches (a memory-bound stencil). Terms whose source pixel lies outside the
    science region are skipped, not added as zeros.
    """
    nplanes, ny, nx = planes.shape
    kh, kw = kern.shape[0], kern.shape[1]
    cj, ci = kh // 2, kw // 2
    y0, y1 = b, ny - t
    x0, x1 = left, nx - right
    if y1 <= y0 or x1 <= x0:
        return
    fast3 = kh == 3 and kw == 3 and not is4d
    for p in prange(nplanes):
        plane = planes[p]
        ring = np.empty((kh, nx), dtype=np.float32)
        acc = np.empty(nx, dtype=np.float64)
        loaded = y0  # next source row to copy into the ring
        for y in range(y0, y1):
            while loaded < y1 and loaded <= y + cj:
                slot = loaded % kh
                for x in range(x0, x1):
                    ring[slot, x] = plane[loaded, x]
                loaded += 1
            if fast3 and y0 < y < y1 - 1 and x1 - x0 >= 3:
                _row3x3(ring[(y + 1) % 3], ring[y % 3], ring[(y - 1) % 3], kern, x0, x1,
                        plane[y])
                for x in (x0, x1 - 1):
                    plane[y, x] = np.float32(_pixel(ring, kern, is4d, y, x, y0, y1, x0, x1))
                continue
            for x in range(x0, x1):
                acc[x] = 0.0
            for k in range(kh * kw + 1):
                if k == kh * kw:
                    j, i = cj, ci
                else:
                    j, i = k // kw, k % kw
                    if j == cj and i == ci:
                        continue
                sy = y + (kh - 1 - j) - cj
                if sy < y0 or sy >= y1:
                    continue
                dx = (kw - 1 - i) - ci
                xa = max(x0, x0 - dx)
                xb = min(x1, x1 - dx)
                src = ring[sy % kh]
                if is4d:
                    for x in range(xa, xb):
                        acc[x] += np.float64(kern[j, i, y, x]) * np.float64(src[x + dx])
                else:
                    w = kern[j, i, 0, 0]
                    for x in range(xa, xb):
                        acc[x] += w * np.float64(src[x + dx])
            for x in range(x0, x1):
                plane[y, x] = np.float32(acc[x])


@njit(cache=True)
def _row3x3(above, row, below, kern, x0, x1, out):
    """Interior of one output row for a constant 3x3 kernel: the nine terms of each pixel in
    registers, in :func:`_ipc_inplace`'s order (off-centre terms by kernel index, the centre
    last), so the sums are the same; one pass over x that the compiler vectorises.
    ``above``/``row``/``below`` are the original rows y+1, y, y-1 (float32)."""
    w00, w01, w02 = kern[0, 0, 0, 0], kern[0, 1, 0, 0], kern[0, 2, 0, 0]
    w10, w11, w12 = kern[1, 0, 0, 0], kern[1, 1, 0, 0], kern[1, 2, 0, 0]
    w20, w21, w22 = kern[2, 0, 0, 0], kern[2, 1, 0, 0], kern[2, 2, 0, 0]
    for x in range(x0 + 1, x1 - 1):
        acc = 0.0
        acc += w00 * np.float64(above[x + 1])
        acc += w01 * np.float64(above[x])
        acc += w02 * np.float64(above[x - 1])
        acc += w10 * np.float64(row[x + 1])
        acc += w12 * np.float64(row[x - 1])
        acc += w20 * np.float64(below[x + 1])
        acc += w21 * np.float64(below[x])
        acc += w22 * np.float64(below[x - 1])
        acc += w11 * np.float64(row[x])
        out[x] = np.float32(acc)


@njit(cache=True)
def _pixel(ring, kern, is4d, y, x, y0, y1, x0, x1):
    """One output pixel the general way (terms outside the science region skipped)."""
    kh, kw = kern.shape[0], kern.shape[1]
    cj, ci = kh // 2, kw // 2
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
        acc += np.float64(w) * np.float64(ring[sy % kh, sx])
    return acc


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
    data: np.ndarray,
    kernel: np.ndarray,
    nref: tuple[int, int, int, int] = (0, 0, 0, 0),
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Apply the IPC deconvolution kernel to every group.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
        Not modified unless it is ``out``.
    kernel : (kh, kw) or (kh, kw, ny, nx) float
        Deconvolution kernel (odd sizes), already cut to the science subarray when 4-D.
    nref : (bottom, top, left, right) int
        Reference rows/columns to exclude (see :func:`num_ref_pixels`).
    out : (nints, ngroups, ny, nx) float32 C-contiguous, optional
        Where to write the result; may be ``data`` itself (in place, no extra 4-D array).

    Returns
    -------
    (nints, ngroups, ny, nx) float32, DN (``out`` when given)
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
    out = _output_like(data, out)
    nints, ngroups, ny, nx = data.shape
    _ipc_inplace(out.reshape(nints * ngroups, ny, nx), k4, is4d, b, t, left, right)
    return out


def _output_like(data: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """``out`` holding a float32 C-contiguous copy of ``data`` (no copy when out is data)."""
    if out is None:
        return np.array(data, dtype=np.float32, copy=True, order="C")
    if out.shape != data.shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be float32 C-contiguous of shape {data.shape}")
    if out is not data:
        out[...] = data
    return out
