"""Drizzle (variable-pixel linear reconstruction) of one input image onto an output grid.

Algorithm (Fruchter & Hook 2002, PASP 114, 144; the DrizzlePac handbook; as the official
``resample`` step applies it through the ``drizzle`` library):

* ``pixmap[j, i] = (x, y)``: where the centre of input pixel ``(i, j)`` lands on the output
  grid (0-based, output pixel ``(ii, jj)`` covers ``[ii - 0.5, ii + 0.5] x [jj - 0.5, jj + 0.5]``).
  NaN marks input pixels with no valid mapping.
* Each input pixel is shrunk by ``pixfrac`` into a "drop". Its value ``d`` (times ``iscale``)
  is averaged into every output pixel the drop touches with weight
  ``dow = w * overlap``: ``out = (out * W + dow * d) / (W + dow)``, ``W += dow``, stored in
  float32 like the official library, so a pixel's value is a weighted mean of surface
  brightness (constant brightness stays constant; total flux = sum of brightness x area is
  conserved by the flux-conserving kernels).
* kernels (``overlap``):

  - ``square``: the drop's four corners ``(i +- pixfrac/2, j +- pixfrac/2)`` are mapped by
    bilinear interpolation of ``pixmap`` (extrapolating from the edge cell at the borders);
    overlap = exact area of the quadrilateral clipped to the output pixel (Sutherland-Hodgman
    clipping, then the shoelace formula) divided by the quadrilateral's area (the Jacobian);
  - ``point``: all weight into the output pixel nearest the mapped centre;
  - ``turbo``: an axis-aligned square of side ``pixfrac / pscale_ratio`` output pixels around
    the mapped centre; overlap = clipped area / square area (fast, approximate for rotations);
  - ``gaussian`` (FWHM ``pixfrac`` input pixels), ``lanczos2``/``lanczos3``: kernel values
    evaluated at the output pixel centres. Like officially, these three do NOT conserve flux.

* Only input pixels whose mapped centre lies on the output grid contribute (the official
  library scans only the part of the input inside the output outline), so drops straddling
  the output border add nothing from outside it.
* ``dow == 0`` leaves a pixel untouched; a context bit is set where ``dow > 0``.
* Several layers may be drizzled with the same drops in one pass (the science image and the
  square roots of its variances). Each layer names a weight slot; layers of one slot share
  its weight image.

Everything here is serial: the accumulation into one output pixel happens in input-pixel
order, so results are bitwise identical whatever the numba thread count.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "FLUX_CONSERVING",
    "KERNELS",
    "combine_variance",
    "drizzle_layers",
    "finalize_variance",
]

#: kernel name -> code used by the numba loop
KERNELS: dict[str, int] = {"square": 0, "point": 1, "turbo": 2, "gaussian": 3,
                           "lanczos2": 4, "lanczos3": 5}
#: kernels whose drops integrate to 1 (flux conserving), as the official docs state
FLUX_CONSERVING = ("square", "point", "turbo")

_MAX_VERTS = 12


@njit(cache=True, inline="always")
def _fround(x):
    """Nearest integer, halves up (output pixel ``k`` covers ``[k - 0.5, k + 0.5)``)."""
    return math.floor(x + 0.5)


@njit(cache=True, inline="always")
def _interp(pixmap, x, y):
    """Bilinear interpolation of ``pixmap`` at input position (x, y); edge cells extrapolate.

    Returns (ok, xo, yo); ok is False when a corner of the cell is NaN.
    """
    ny, nx = pixmap.shape[0], pixmap.shape[1]
    i0 = int(x)
    j0 = int(y)
    i0 = min(max(i0, 0), nx - 2)
    j0 = min(max(j0, 0), ny - 2)
    fx = x - i0
    fy = y - j0
    gx = 1.0 - fx
    gy = 1.0 - fy
    x00 = pixmap[j0, i0, 0]
    x10 = pixmap[j0, i0 + 1, 0]
    x01 = pixmap[j0 + 1, i0, 0]
    x11 = pixmap[j0 + 1, i0 + 1, 0]
    y00 = pixmap[j0, i0, 1]
    y10 = pixmap[j0, i0 + 1, 1]
    y01 = pixmap[j0 + 1, i0, 1]
    y11 = pixmap[j0 + 1, i0 + 1, 1]
    xo = x00 * gx * gy + x10 * fx * gy + x01 * gx * fy + x11 * fx * fy
    yo = y00 * gx * gy + y10 * fx * gy + y01 * gx * fy + y11 * fx * fy
    if math.isnan(xo) or math.isnan(yo):
        return False, 0.0, 0.0
    return True, xo, yo


@njit(cache=True, inline="always")
def _clip_edge(px, py, n, qx, qy, axis, bound, keep_above):
    """Clip polygon (px, py)[:n] by one axis-aligned half-plane into (qx, qy); return count."""
    m = 0
    if n == 0:
        return 0
    sx = px[n - 1]
    sy = py[n - 1]
    sv = sx if axis == 0 else sy
    s_in = sv >= bound if keep_above else sv <= bound
    for k in range(n):
        ex = px[k]
        ey = py[k]
        ev = ex if axis == 0 else ey
        e_in = ev >= bound if keep_above else ev <= bound
        if e_in != s_in:
            t = (bound - sv) / (ev - sv)
            if axis == 0:
                qx[m] = bound
                qy[m] = sy + t * (ey - sy)
            else:
                qx[m] = sx + t * (ex - sx)
                qy[m] = bound
            m += 1
        if e_in:
            qx[m] = ex
            qy[m] = ey
            m += 1
        sx, sy, sv, s_in = ex, ey, ev, e_in
    return m


@njit(cache=True, inline="always")
def _shoelace(px, py, n):
    a = 0.0
    for k in range(n):
        k1 = k + 1 if k + 1 < n else 0
        a += px[k] * py[k1] - px[k1] * py[k]
    return abs(0.5 * a)


@njit(cache=True, inline="always")
def _overlap(qx, qy, ii, jj, lo_x, hi_x, lo_y, hi_y, jaco, buf):
    """Area of quadrilateral (qx, qy)[:4] (bounds lo/hi, area ``jaco``) inside output pixel
    (ii, jj); only the pixel edges the quadrilateral crosses are clipped against."""
    x0, x1, y0, y1 = ii - 0.5, ii + 0.5, jj - 0.5, jj + 0.5
    if lo_x >= x1 or hi_x <= x0 or lo_y >= y1 or hi_y <= y0:
        return 0.0
    cut_x0, cut_x1, cut_y0, cut_y1 = lo_x < x0, hi_x > x1, lo_y < y0, hi_y > y1
    if not (cut_x0 or cut_x1 or cut_y0 or cut_y1):
        return jaco
    for k in range(4):
        buf[0, 0, k] = qx[k]
        buf[0, 1, k] = qy[k]
    n = 4
    cur = 0
    if cut_x0:
        n = _clip_edge(buf[cur, 0], buf[cur, 1], n, buf[1 - cur, 0], buf[1 - cur, 1], 0, x0,
                       True)
        cur = 1 - cur
    if cut_x1:
        n = _clip_edge(buf[cur, 0], buf[cur, 1], n, buf[1 - cur, 0], buf[1 - cur, 1], 0, x1,
                       False)
        cur = 1 - cur
    if cut_y0:
        n = _clip_edge(buf[cur, 0], buf[cur, 1], n, buf[1 - cur, 0], buf[1 - cur, 1], 1, y0,
                       True)
        cur = 1 - cur
    if cut_y1:
        n = _clip_edge(buf[cur, 0], buf[cur, 1], n, buf[1 - cur, 0], buf[1 - cur, 1], 1, y1,
                       False)
        cur = 1 - cur
    if n < 3:
        return 0.0
    return _shoelace(buf[cur, 0], buf[cur, 1], n)


@njit(cache=True, inline="always")
def _deposit(ii, jj, dow, vals, out, wht, slot, con, plane, bit, use_con):
    """Average the values ``vals`` (one per layer) into output pixel (ii, jj) with ``dow``."""
    if use_con and dow > 0.0:
        con[plane, jj, ii] |= bit
    if dow == 0.0:
        return
    for s in range(wht.shape[0]):
        vc = np.float64(wht[s, jj, ii])
        total = vc + dow
        for k in range(out.shape[0]):
            if slot[k] != s:
                continue
            if vc == 0.0:
                out[k, jj, ii] = vals[k]
            else:
                out[k, jj, ii] = (np.float64(out[k, jj, ii]) * vc + dow * vals[k]) / total
        wht[s, jj, ii] = total


@njit(cache=True, inline="always")
def _lanczos(u, order):
    if u == 0.0:
        return 1.0
    if u >= order:
        return 0.0
    pu = math.pi * u
    return order * math.sin(pu) * math.sin(pu / order) / (pu * pu)


@njit(cache=True)
def drizzle_layers(data, weight, pixmap, out, wht, slot, con, plane, bit, use_con,
                   kernel, pixfrac, pscale_ratio, iscale, xmin, xmax, ymin, ymax):
    """Drizzle ``data`` layers of one input onto the output arrays (in place).

    Parameters
    ----------
    data : (L, ny, nx) float32
        Input layers (science surface brightness; or error arrays), all drizzled with the
        same drops and weights.
    weight : (ny, nx) float32
        Per-pixel weight (0 excludes the pixel: DQ-rejected, no valid data).
    pixmap : (ny, nx, 2) float64
        Output (x, y) of each input pixel centre; NaN where unmapped.
    out : (L, Ny, Nx) float32
        Output layers, updated in place (untouched pixels keep their fill value).
    wht : (S, Ny, Nx) float32
        Weight images, one per slot, updated in place.
    slot : (L,) int64
        Weight slot of each layer.
    con : (P, Ny, Nx) int32
        Context bit planes; ``bit`` is OR-ed into ``con[plane]`` where ``dow > 0``.
    plane, bit : int
        Context plane and bit value of this input.
    use_con : bool
        Update the context.
    kernel : int
        Code from :data:`KERNELS`.
    pixfrac : float
        Drop size as a fraction of the input pixel (0 < pixfrac <= 1).
    pscale_ratio : float
        Output pixel scale / input pixel scale (kernel sizes of turbo/gaussian/lanczos).
    iscale : float
        Factor applied to the input values.
    xmin, xmax, ymin, ymax : int
        Inclusive range of input pixels to drizzle.

    Returns
    -------
    int
        Number of input pixels in the range that contributed to no output pixel.
    """
    nlay = data.shape[0]
    ny_out, nx_out = out.shape[1], out.shape[2]
    vals = np.empty(nlay, dtype=np.float32)
    qx = np.empty(4)
    qy = np.empty(4)
    buf = np.empty((2, 2, _MAX_VERTS))
    dh = 0.5 * pixfrac
    nmiss = 0
    # kernel sizes in output pixels
    half_box = pixfrac / pscale_ratio / 2.0
    box_area = (pixfrac / pscale_ratio) ** 2
    g_fac = 2.3548 * 2.3548 * pscale_ratio * pscale_ratio / (pixfrac * pixfrac) / 2.0
    g_norm = g_fac / math.pi
    g_reach = max(2.5 * pixfrac / 2.3548 / pscale_ratio, 1.2 / pscale_ratio)
    order = 2 if kernel == 4 else 3
    l_reach = order * pixfrac / pscale_ratio
    l_scale = pscale_ratio / pixfrac
    for j in range(ymin, ymax + 1):
        for i in range(xmin, xmax + 1):
            cx0 = pixmap[j, i, 0]
            cy0 = pixmap[j, i, 1]
            if not (-0.5 <= cx0 <= nx_out - 0.5 and -0.5 <= cy0 <= ny_out - 0.5):
                nmiss += 1  # centre off the output (NaN included): skipped, as officially
                continue
            w = np.float64(weight[j, i])
            for k in range(nlay):
                vals[k] = np.float32(data[k, j, i] * iscale)
            hit = False
            if kernel == 0:
                ok = True
                for c in range(4):
                    cx = i - dh if (c == 0 or c == 3) else i + dh
                    cy = j + dh if c < 2 else j - dh
                    good, xo, yo = _interp(pixmap, cx, cy)
                    if not good:
                        ok = False
                        break
                    qx[c] = xo
                    qy[c] = yo
                if not ok:
                    nmiss += 1
                    continue
                jaco = _shoelace(qx, qy, 4)
                if jaco <= 0.0:
                    nmiss += 1
                    continue
                lo_x, hi_x = min(qx[0], qx[1], qx[2], qx[3]), max(qx[0], qx[1], qx[2], qx[3])
                lo_y, hi_y = min(qy[0], qy[1], qy[2], qy[3]), max(qy[0], qy[1], qy[2], qy[3])
                lo_i = max(_fround(lo_x), 0)
                hi_i = min(_fround(hi_x), nx_out - 1)
                lo_j = max(_fround(lo_y), 0)
                hi_j = min(_fround(hi_y), ny_out - 1)
                for jj in range(lo_j, hi_j + 1):
                    for ii in range(lo_i, hi_i + 1):
                        area = _overlap(qx, qy, ii, jj, lo_x, hi_x, lo_y, hi_y, jaco, buf)
                        if area > 0.0:
                            hit = True
                            dow = np.float64(np.float32(area / jaco * w))
                            _deposit(ii, jj, dow, vals, out, wht, slot, con, plane, bit,
                                     use_con)
            else:
                xo = pixmap[j, i, 0]
                yo = pixmap[j, i, 1]
                if math.isnan(xo) or math.isnan(yo):
                    nmiss += 1
                    continue
                if kernel == 1:
                    ii = _fround(xo)
                    jj = _fround(yo)
                    if 0 <= ii < nx_out and 0 <= jj < ny_out:
                        hit = True
                        dow = np.float64(np.float32(w))
                        _deposit(ii, jj, dow, vals, out, wht, slot, con, plane, bit, use_con)
                else:
                    reach = half_box if kernel == 2 else (g_reach if kernel == 3 else l_reach)
                    lo_i = max(_fround(xo - reach), 0)
                    hi_i = min(_fround(xo + reach), nx_out - 1)
                    lo_j = max(_fround(yo - reach), 0)
                    hi_j = min(_fround(yo + reach), ny_out - 1)
                    for jj in range(lo_j, hi_j + 1):
                        for ii in range(lo_i, hi_i + 1):
                            if kernel == 2:
                                dx = (min(xo + half_box, ii + 0.5)
                                      - max(xo - half_box, ii - 0.5))
                                dy = (min(yo + half_box, jj + 0.5)
                                      - max(yo - half_box, jj - 0.5))
                                if dx <= 0.0 or dy <= 0.0:
                                    continue
                                over = dx * dy / box_area
                            elif kernel == 3:
                                r2 = (xo - ii) ** 2 + (yo - jj) ** 2
                                over = g_norm * math.exp(-r2 * g_fac)
                            else:
                                over = (_lanczos(abs(xo - ii) * l_scale, order)
                                        * _lanczos(abs(yo - jj) * l_scale, order))
                            hit = True
                            dow = np.float64(np.float32(over * w))
                            _deposit(ii, jj, dow, vals, out, wht, slot, con, plane, bit,
                                     use_con)
            if not hit:
                nmiss += 1
    return nmiss


@njit(cache=True)
def combine_variance(var_sig, rn_index, weight_kind, tmeasure, wsum, wt):
    """Add one input's resampled variances to the running weighted sums (official rule).

    Parameters
    ----------
    var_sig : (K, Ny, Nx) float32
        This input's drizzled square roots of its K variance arrays (NaN: no contribution).
    rn_index : int
        Index of VAR_RNOISE among the K layers (used for ``ivm`` weights).
    weight_kind : int
        0: ``ivm`` (weight = 1 / resampled VAR_RNOISE of this input), 1: ``exptime``.
    tmeasure : float
        Exposure weight (s) for ``exptime``.
    wsum : (K, Ny, Nx) float32
        Running sum of ``var * weight**2`` (NaN until a first contribution), in place
        (float64 arithmetic, float32 storage, as officially).
    wt : (K, Ny, Nx) float32
        Running sum of weights, in place.
    """
    nk, ny, nx = var_sig.shape
    for y in range(ny):
        for x in range(nx):
            if weight_kind == 0:
                s = np.float32(var_sig[rn_index, y, x])
                rn = np.float32(s * s)
                if not (rn > 0.0 and math.isfinite(rn)):
                    continue
                w = 1.0 / np.float64(rn)
            else:
                w = tmeasure
            if not w > 0.0:
                continue
            for k in range(nk):
                s = np.float32(var_sig[k, y, x])
                v = np.float64(np.float32(s * s))
                if not (v >= 0.0 and math.isfinite(v)):
                    continue
                term = v * w * w
                if math.isnan(wsum[k, y, x]):
                    wsum[k, y, x] = term
                else:
                    wsum[k, y, x] += term
                wt[k, y, x] += w


@njit(cache=True)
def finalize_variance(wsum, wt, scaling, var_out, err_out):
    """Output variances ``wsum * scaling / wt**2`` (NaN without weight) and ERR.

    Parameters
    ----------
    wsum, wt : (K, Ny, Nx) float32
        Sums from :func:`combine_variance`.
    scaling : float
        ``1 / pixel_scale_ratio**2`` for imaging (official).
    var_out : (K, Ny, Nx) float32
        Output variances.
    err_out : (Ny, Nx) float32
        ``sqrt`` of the sum of the finite variances; NaN where all are NaN.
    """
    nk, ny, nx = wsum.shape
    for y in range(ny):
        for x in range(nx):
            tot = 0.0
            anyf = False
            for k in range(nk):
                w = wt[k, y, x]
                if w > 0.0 and not math.isnan(wsum[k, y, x]):
                    v = np.float32(wsum[k, y, x] * scaling / w / w)
                    var_out[k, y, x] = v
                    if math.isfinite(v):
                        tot += v
                        anyf = True
                else:
                    var_out[k, y, x] = np.nan
            err_out[y, x] = np.float32(math.sqrt(tot)) if anyf else np.nan
