"""Per-source photometry: exact circular apertures, annulus background, segment moments,
DAOFind sharpness/roundness.

* Apertures (photutils ``CircularAperture``, method "exact"): each pixel contributes its
  value times the exact area of the pixel square inside the circle (:func:`circle_overlap`,
  from the signed-quadrant integral of the circle).
* Segment properties (photutils ``SourceCatalog``): sums over the segment's pixels; centroid
  and second moments from the smoothed image, as the official step passes it as
  ``convolved_data``.
* Sharpness and roundness: the DAOFind statistics on a kernel-sized cutout (Stetson 1987).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .labels import clip_window, convolve, moment_axes

__all__ = [
    "annulus_background",
    "aperture_sums",
    "circle_overlap",
    "convolve_zero",
    "dao_statistics",
    "segment_properties",
]


@njit(cache=True)
def _quadrant_area(a: float, b: float, r: float) -> float:
    """Area of ``{0<=x<=a, 0<=y<=b, x^2+y^2<=r^2}`` for a, b >= 0."""
    a = min(a, r)
    b = min(b, r)
    if a <= 0.0 or b <= 0.0:
        return 0.0
    if a * a + b * b <= r * r:
        return a * b
    xc = math.sqrt(max(r * r - b * b, 0.0))

    def prim(x):
        return 0.5 * (x * math.sqrt(max(r * r - x * x, 0.0)) + r * r * math.asin(min(x / r,
                                                                                        1.0)))

    return b * xc + prim(a) - prim(xc)


@njit(cache=True)
def _signed(x: float, y: float, r: float) -> float:
    sx = 1.0 if x >= 0 else -1.0
    sy = 1.0 if y >= 0 else -1.0
    return sx * sy * _quadrant_area(abs(x), abs(y), r)


@njit(cache=True)
def circle_overlap(x0: float, x1: float, y0: float, y1: float, r: float) -> float:
    """Exact area of the rectangle ``[x0,x1] x [y0,y1]`` inside the circle of radius ``r``
    centred on the origin (pixels^2)."""
    return (_signed(x1, y1, r) - _signed(x0, y1, r) - _signed(x1, y0, r)
            + _signed(x0, y0, r))


@njit(cache=True)
def aperture_sums(data: np.ndarray, err: np.ndarray, mask: np.ndarray, xs: np.ndarray,
                  ys: np.ndarray, radius: float, flux: np.ndarray,
                  flux_err: np.ndarray) -> None:
    """Exact circular-aperture sums of ``data`` and quadrature sums of ``err``.

    Parameters
    ----------
    data, err : (ny, nx) float arrays (e.g. Jy per pixel); mask : (ny, nx) bool, True =
        excluded (NaN values are excluded too, as photutils' mask of non-finite values)
    xs, ys : (n,) 0-based pixel centres; radius : pixels
    flux, flux_err : (n,) float64, written: ``sum(data * f)``, ``sqrt(sum(err^2 * f))``
        with ``f`` the pixel's overlap fraction; NaN for a non-finite position.
    """
    ny, nx = data.shape
    for s in range(xs.size):
        xc = xs[s]
        yc = ys[s]
        if not (math.isfinite(xc) and math.isfinite(yc)):
            flux[s] = np.nan
            flux_err[s] = np.nan
            continue
        f = 0.0
        e2 = 0.0
        for j in range(max(0, math.floor(yc - radius - 0.5)),
                       min(ny, math.ceil(yc + radius + 0.5) + 1)):
            for i in range(max(0, math.floor(xc - radius - 0.5)),
                           min(nx, math.ceil(xc + radius + 0.5) + 1)):
                if mask[j, i]:
                    continue
                v = data[j, i]
                if not math.isfinite(v):
                    continue
                w = circle_overlap(i - 0.5 - xc, i + 0.5 - xc, j - 0.5 - yc, j + 0.5 - yc,
                                   radius)
                if w <= 0.0:
                    continue
                f += v * w
                ev = err[j, i]
                if math.isfinite(ev):
                    e2 += ev * ev * w
        flux[s] = f
        flux_err[s] = math.sqrt(e2)


@njit(cache=True)
def annulus_background(data: np.ndarray, mask: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                       r_in: float, r_out: float, sigma: float, maxiters: int,
                       bkg: np.ndarray, bkg_err: np.ndarray) -> None:
    """Sigma-clipped median per pixel in a circular annulus (pixel centres inside, photutils
    method "center") and its standard error ``sqrt(pi / 2N) * std``.

    bkg, bkg_err : (n,) float64, written (NaN when the annulus is empty).
    """
    ny, nx = data.shape
    buf = np.empty(int((2 * r_out + 3) ** 2))
    for s in range(xs.size):
        xc = xs[s]
        yc = ys[s]
        n = 0
        if math.isfinite(xc) and math.isfinite(yc):
            for j in range(max(0, int(yc - r_out - 1)), min(ny, int(yc + r_out + 2))):
                for i in range(max(0, int(xc - r_out - 1)), min(nx, int(xc + r_out + 2))):
                    d2 = (i - xc) ** 2 + (j - yc) ** 2
                    v = data[j, i]
                    if d2 >= r_in * r_in and d2 <= r_out * r_out and not mask[j, i] \
                            and math.isfinite(v):
                        buf[n] = v
                        n += 1
        if n == 0:
            bkg[s] = np.nan
            bkg_err[s] = np.nan
            continue
        s_sorted = np.sort(buf[:n])
        lo, hi = 0, n
        for _ in range(maxiters):
            m = hi - lo
            mid = lo + m // 2
            med = s_sorted[mid] if m % 2 else 0.5 * (s_sorted[mid - 1] + s_sorted[mid])
            std = np.std(s_sorted[lo:hi])
            nlo, nhi = clip_window(s_sorted, lo, hi, med - sigma * std, med + sigma * std)
            if nlo == lo and nhi == hi:
                break
            lo, hi = nlo, nhi
        m = hi - lo
        mid = lo + m // 2
        bkg[s] = s_sorted[mid] if m % 2 else 0.5 * (s_sorted[mid - 1] + s_sorted[mid])
        bkg_err[s] = math.sqrt(math.pi / (2.0 * m)) * np.std(s_sorted[lo:hi])


@njit(cache=True)
def segment_properties(data: np.ndarray, conv: np.ndarray, err: np.ndarray,
                       labels: np.ndarray, nlabels: int, out: np.ndarray) -> None:
    """Per label 1..nlabels: sums over the segment and moments of the smoothed image.

    out : (nlabels, 12) float64, written, columns: 0 flux (sum data), 1 flux_err
    (sqrt sum err^2), 2 area (pixels), 3 xcentroid, 4 ycentroid, 5 semimajor_sigma,
    6 semiminor_sigma, 7 orientation (deg, counter-clockwise from +x), 8 bbox xmin,
    9 bbox xmax, 10 bbox ymin, 11 bbox ymax (inclusive pixel indices). Moments use the
    smoothed values clipped at 0 (negative pixels carry no weight).
    """
    ny, nx = labels.shape
    s = np.zeros((nlabels + 1, 9))
    out[:, :] = 0.0
    for k in range(nlabels):
        out[k, 8] = nx
        out[k, 10] = ny
        out[k, 9] = -1
        out[k, 11] = -1
    for j in range(ny):
        for i in range(nx):
            lab = labels[j, i]
            if lab <= 0:
                continue
            d = data[j, i]
            if math.isfinite(d):
                s[lab, 0] += d
            e = err[j, i]
            if math.isfinite(e):
                s[lab, 1] += e * e
            s[lab, 2] += 1.0
            c = conv[j, i]
            if math.isfinite(c) and c > 0:
                s[lab, 3] += c
                s[lab, 4] += c * i
                s[lab, 5] += c * j
                s[lab, 6] += c * i * i
                s[lab, 7] += c * j * j
                s[lab, 8] += c * i * j
            k = lab - 1
            out[k, 8] = min(out[k, 8], i)
            out[k, 9] = max(out[k, 9], i)
            out[k, 10] = min(out[k, 10], j)
            out[k, 11] = max(out[k, 11], j)
    for lab in range(1, nlabels + 1):
        k = lab - 1
        out[k, 0] = s[lab, 0]
        out[k, 1] = math.sqrt(s[lab, 1])
        out[k, 2] = s[lab, 2]
        w = s[lab, 3]
        if w <= 0:
            for c in range(3, 8):
                out[k, c] = np.nan
            continue
        xm = s[lab, 4] / w
        ym = s[lab, 5] / w
        cxx = s[lab, 6] / w - xm * xm
        cyy = s[lab, 7] / w - ym * ym
        cxy = s[lab, 8] / w - xm * ym
        lmax, lmin, _ = moment_axes(cxx, cyy, cxy)
        out[k, 3] = xm
        out[k, 4] = ym
        out[k, 5] = math.sqrt(max(lmax, 0.0))
        out[k, 6] = math.sqrt(lmin)
        out[k, 7] = math.degrees(0.5 * math.atan2(2.0 * cxy, cxx - cyy))


@njit(cache=True)
def dao_statistics(data: np.ndarray, conv: np.ndarray, kernel: np.ndarray,
                   kmask: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                   sharp: np.ndarray, round_: np.ndarray) -> None:
    """DAOFind sharpness and roundness at each position.

    Parameters
    ----------
    data : (ny, nx) background-subtracted image; conv : (ny, nx) the image convolved with
        ``kernel`` (the zero-sum DAOFind kernel); kmask : (k, k) 1 inside the kernel circle
    xs, ys : (n,) positions; cutouts of kernel size are centred on the nearest pixel and
        zero-filled off the image
    sharp : ``(peak - mean of the other masked pixels) / convolved peak``
    round_ : ``2 * (bilateral sum) / (four-fold sum)`` of the convolved cutout, peak zeroed
    """
    ny, nx = data.shape
    k = kernel.shape[0]
    c = (k - 1) // 2
    npix = 0.0
    for a in range(k):
        for b in range(k):
            npix += kmask[a, b]
    npix -= 1.0
    for s in range(xs.size):
        if not (math.isfinite(xs[s]) and math.isfinite(ys[s])):
            sharp[s] = np.nan
            round_[s] = np.nan
            continue
        x0 = math.ceil(xs[s] - k / 2.0)
        y0 = math.ceil(ys[s] - k / 2.0)
        tot = 0.0
        peak = 0.0
        cpeak = 0.0
        q1 = q2 = q3 = q4 = 0.0
        s4 = 0.0
        for a in range(k):
            for b in range(k):
                j = y0 + a
                i = x0 + b
                inside = 0 <= j < ny and 0 <= i < nx
                d = data[j, i] if inside else 0.0
                cv = conv[j, i] if inside else 0.0
                if not math.isfinite(d):
                    d = 0.0
                if not math.isfinite(cv):
                    cv = 0.0
                tot += d * kmask[a, b]
                if a == c and b == c:
                    peak = d
                    cpeak = cv
                    continue
                s4 += abs(cv)
                if a <= c and b > c:
                    q1 += cv
                if a < c and b <= c:
                    q2 += cv
                if a >= c and b < c:
                    q3 += cv
                if a > c and b >= c:
                    q4 += cv
        mean = (tot - peak) / npix
        sharp[s] = (peak - mean) / cpeak if cpeak != 0 else np.nan
        sum2 = -q1 + q2 - q3 + q4
        round_[s] = 2.0 * sum2 / s4 if s4 != 0 else np.nan


def convolve_zero(data: np.ndarray, kernel: np.ndarray, out: np.ndarray) -> None:
    """Plain convolution with zero outside the image and for non-finite pixels.

    data, out : (ny, nx); kernel : (k, k) odd.
    """
    convolve(data, np.zeros(data.shape, dtype=np.bool_), kernel, False, out)
