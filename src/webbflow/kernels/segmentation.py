"""Source detection: mesh background, Gaussian smoothing, labelling, multi-threshold deblending.

As the official ``source_catalog`` (photutils ``Background2D`` / ``SourceFinder``, JWST docs
"source_catalog"), re-derived:

* background: per ``box x box`` mesh the 3-sigma-clipped median (``MedianBackground``) and
  standard deviation; meshes with more than 10 % masked pixels are replaced by the median of
  the good meshes; a 3x3 median filter over the mesh; bilinear interpolation between mesh
  centres (photutils uses a bicubic zoom; the difference is below the noise on smooth skies);
* detection: pixels of the smoothed image above ``threshold`` (``snr_threshold x rms``),
  8- (or 4-) connected groups of at least ``npixels``;
* deblending: each segment's smoothed values are sliced at ``nlevels`` thresholds
  (exponential spacing between its minimum and maximum); the level with most components that
  hold at least ``npixels`` pixels and ``contrast`` of the segment's flux gives the seeds;
  the remaining pixels of the segment are given to a seed by flooding from the brightest
  down (a watershed on the smoothed image).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .labels import convolve, label_bboxes, label_components, sorted_clipped_stats

__all__ = [
    "background_mesh",
    "convolve_masked",
    "deblend_segments",
    "gaussian_kernel",
    "interpolate_mesh",
    "label_components",
]


def background_mesh(data: np.ndarray, mask: np.ndarray, box: int, sigma: float,
                    maxiters: int, bkg: np.ndarray, rms: np.ndarray) -> None:
    """Clipped median and std per ``box x box`` mesh (edge meshes cover the remainder).

    Parameters
    ----------
    data : (ny, nx) float array; mask : (ny, nx) bool, True = ignore (NaN also ignored)
    bkg, rms : (my, mx) float64, written; my = ceil(ny / box), mx = ceil(nx / box).
        Meshes with more than 10 % unusable pixels get the median of the good meshes.

    The meshes' usable values are gathered one row per mesh (in parallel) and sorted by
    numpy's vectorised sort (a sorted array is the same whatever the algorithm), then
    clipped mesh by mesh in parallel: the statistics of the serial mesh loop, bit for bit.
    """
    my, mx = bkg.shape
    rows, count, total = _mesh_values(data, mask, box, my, mx)
    rows.sort(axis=1)
    good = np.zeros((my, mx), dtype=np.bool_)
    _mesh_clip(rows, count, total, float(sigma), int(maxiters), bkg, rms, good)
    del rows
    _fill_and_filter_mesh(good, bkg, rms)


@njit(cache=True, parallel=True)
def _mesh_values(data, mask, box, my, mx):
    """Usable values of each mesh (a row per mesh, +inf after them), their count and the
    mesh's pixel count."""
    ny, nx = data.shape
    rows = np.full((my * mx, box * box), np.inf)
    count = np.zeros(my * mx, dtype=np.int64)
    total = np.zeros(my * mx, dtype=np.int64)
    for cell in prange(my * mx):
        bj = cell // mx
        bi = cell % mx
        n = 0
        t = 0
        for j in range(bj * box, min(ny, (bj + 1) * box)):
            for i in range(bi * box, min(nx, (bi + 1) * box)):
                t += 1
                v = data[j, i]
                if not mask[j, i] and math.isfinite(v):
                    rows[cell, n] = v
                    n += 1
        count[cell] = n
        total[cell] = t
    return rows, count, total


@njit(cache=True, parallel=True)
def _mesh_clip(rows, count, total, sigma, maxiters, bkg, rms, good):
    """Clipped (median, std) of the meshes with at least 90 % usable pixels."""
    my, mx = bkg.shape
    for cell in prange(my * mx):
        n = count[cell]
        if n > 0 and n >= 0.9 * total[cell]:
            med, std = sorted_clipped_stats(rows[cell], n, sigma, maxiters)
            bkg[cell // mx, cell % mx] = med
            rms[cell // mx, cell % mx] = std
            good[cell // mx, cell % mx] = True


@njit(cache=True)
def _fill_and_filter_mesh(good, bkg, rms):
    """Bad meshes get the median of the good ones; then a 3x3 median filter (in place)."""
    my, mx = bkg.shape
    ngood = 0
    for bj in range(my):
        for bi in range(mx):
            if good[bj, bi]:
                ngood += 1
    if ngood == 0:
        bkg[:, :] = np.nan
        rms[:, :] = np.nan
        return
    gb = np.empty(ngood)
    gr = np.empty(ngood)
    k = 0
    for bj in range(my):
        for bi in range(mx):
            if good[bj, bi]:
                gb[k] = bkg[bj, bi]
                gr[k] = rms[bj, bi]
                k += 1
    fb = np.median(gb)
    fr = np.median(gr)
    for bj in range(my):
        for bi in range(mx):
            if not good[bj, bi]:
                bkg[bj, bi] = fb
                rms[bj, bi] = fr
    # 3x3 median filter of the mesh
    if my * mx > 1:
        b2 = bkg.copy()
        r2 = rms.copy()
        win_b = np.empty(9)
        win_r = np.empty(9)
        for bj in range(my):
            for bi in range(mx):
                n = 0
                for jj in range(max(0, bj - 1), min(my, bj + 2)):
                    for ii in range(max(0, bi - 1), min(mx, bi + 2)):
                        win_b[n] = b2[jj, ii]
                        win_r[n] = r2[jj, ii]
                        n += 1
                bkg[bj, bi] = np.median(win_b[:n])
                rms[bj, bi] = np.median(win_r[:n])


@njit(cache=True)
def interpolate_mesh(mesh: np.ndarray, box: int, out: np.ndarray) -> None:
    """Bilinear interpolation of a mesh (values at box centres) to every pixel of ``out``
    (constant beyond the outermost centres). mesh : (my, mx); out : (ny, nx) float64."""
    ny, nx = out.shape
    my, mx = mesh.shape
    for j in range(ny):
        fy = (j - (box - 1) / 2.0) / box
        fy = min(max(fy, 0.0), my - 1.0)
        y0 = min(int(fy), max(my - 2, 0))
        ty = fy - y0 if my > 1 else 0.0
        y1 = min(y0 + 1, my - 1)
        for i in range(nx):
            fx = (i - (box - 1) / 2.0) / box
            fx = min(max(fx, 0.0), mx - 1.0)
            x0 = min(int(fx), max(mx - 2, 0))
            tx = fx - x0 if mx > 1 else 0.0
            x1 = min(x0 + 1, mx - 1)
            out[j, i] = ((1 - tx) * (1 - ty) * mesh[y0, x0] + tx * (1 - ty) * mesh[y0, x1]
                         + (1 - tx) * ty * mesh[y1, x0] + tx * ty * mesh[y1, x1])


def gaussian_kernel(fwhm: float) -> np.ndarray:
    """Normalised (sum 1) circular Gaussian sampled at pixel centres, size ``8 sigma + 1``
    rounded up to odd (astropy ``Gaussian2DKernel`` defaults). Returns (k, k) float64."""
    sigma = fwhm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    size = int(8 * sigma + 1)
    size += 1 - size % 2
    c = (size - 1) / 2.0
    y, x = np.indices((size, size), dtype=np.float64)
    k = np.exp(-((x - c) ** 2 + (y - c) ** 2) / (2.0 * sigma**2))
    return k / k.sum()


def convolve_masked(data: np.ndarray, mask: np.ndarray, kernel: np.ndarray,
                    out: np.ndarray) -> None:
    """Convolution ignoring masked/NaN pixels (kernel renormalised over the good ones, as
    astropy ``convolve`` with a mask); NaN where no good pixel is in reach.

    data : (ny, nx); mask : (ny, nx) bool; kernel : (k, k) odd; out : (ny, nx) float64.
    """
    convolve(data, mask, kernel, True, out)


@njit(cache=True)
def _deblend_one(conv: np.ndarray, labels: np.ndarray, label: int, y0: int, y1: int,
                 x0: int, x1: int, npixels: int, nlevels: int, contrast: float,
                 connectivity: int, exponential: bool, out: np.ndarray,
                 next_label: int) -> int:
    """Deblend one segment inside its bounding box; returns the next free label."""
    h = y1 - y0
    w = x1 - x0
    seg = np.zeros((h, w), dtype=np.bool_)
    vmin = np.inf
    vmax = -np.inf
    total = 0.0
    for j in range(h):
        for i in range(w):
            if labels[y0 + j, x0 + i] == label:
                seg[j, i] = True
                v = conv[y0 + j, x0 + i]
                vmin = min(vmin, v)
                vmax = max(vmax, v)
                total += v
    best_n = 1
    best = np.zeros((h, w), dtype=np.int32)
    if not (vmax > vmin) or total <= 0:
        return next_label
    sel = np.zeros((h, w), dtype=np.bool_)
    lab = np.zeros((h, w), dtype=np.int32)
    for lev in range(1, nlevels + 1):
        frac = lev / (nlevels + 1.0)
        if exponential and vmin > 0:
            thr = vmin * (vmax / vmin) ** frac
        else:
            thr = vmin + (vmax - vmin) * frac
        for j in range(h):
            for i in range(w):
                sel[j, i] = seg[j, i] and conv[y0 + j, x0 + i] > thr
        n = label_components(sel, connectivity, npixels, lab)
        if n < 2:
            continue
        # components with enough flux
        flux = np.zeros(n + 1)
        for j in range(h):
            for i in range(w):
                if lab[j, i] > 0:
                    flux[lab[j, i]] += conv[y0 + j, x0 + i]
        keep = 0
        remap = np.zeros(n + 1, dtype=np.int32)
        for k in range(1, n + 1):
            if flux[k] >= contrast * total:
                keep += 1
                remap[k] = keep
        if keep > best_n:
            best_n = keep
            for j in range(h):
                for i in range(w):
                    best[j, i] = remap[lab[j, i]] if lab[j, i] > 0 else 0
    if best_n < 2:
        return next_label
    # watershed: flood from the seeds, brightest pixels first
    npix = 0
    for j in range(h):
        for i in range(w):
            if seg[j, i] and best[j, i] == 0:
                npix += 1
    vals = np.empty(npix)
    idx = np.empty(npix, dtype=np.int64)
    k = 0
    for j in range(h):
        for i in range(w):
            if seg[j, i] and best[j, i] == 0:
                vals[k] = -conv[y0 + j, x0 + i]
                idx[k] = j * w + i
                k += 1
    order = np.argsort(vals, kind="mergesort")
    remaining = npix
    while remaining > 0:
        progressed = False
        for o in range(npix):
            p = idx[order[o]]
            j = p // w
            i = p % w
            if best[j, i] != 0:
                continue
            bestv = -np.inf
            pick = 0
            for dj in range(-1, 2):
                for di in range(-1, 2):
                    qj = j + dj
                    qi = i + di
                    if (dj or di) and 0 <= qj < h and 0 <= qi < w and best[qj, qi] > 0:
                        v = conv[y0 + qj, x0 + qi]
                        if v > bestv:
                            bestv = v
                            pick = best[qj, qi]
            if pick > 0:
                best[j, i] = pick
                remaining -= 1
                progressed = True
        if not progressed:
            break
    for j in range(h):
        for i in range(w):
            if seg[j, i]:
                b = best[j, i]
                if b == 1:
                    out[y0 + j, x0 + i] = label
                elif b > 1:
                    out[y0 + j, x0 + i] = next_label + b - 2
    return next_label + best_n - 1


@njit(cache=True)
def deblend_segments(conv: np.ndarray, labels: np.ndarray, nseg: int, npixels: int,
                     nlevels: int, contrast: float, connectivity: int, exponential: bool,
                     out: np.ndarray) -> int:
    """Deblend every segment of ``labels`` (1..nseg) on the smoothed image ``conv``.

    out : (ny, nx) int32, written: the original label for the first child, new labels
    ``nseg+1...`` for further children. Returns the number of labels used.
    """
    out[:, :] = labels
    y0, y1, x0, x1 = label_bboxes(labels, nseg)
    next_label = nseg + 1
    for lab in range(1, nseg + 1):
        if y1[lab] >= y0[lab]:
            next_label = _deblend_one(conv, labels, lab, y0[lab], y1[lab] + 1, x0[lab],
                                      x1[lab] + 1, npixels, nlevels, contrast, connectivity,
                                      exponential, out, next_label)
    return next_label - 1
