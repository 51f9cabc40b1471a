"""Input -> output pixel mapping through the WCSs, and input footprints on the sky."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

__all__ = [
    "bounding_box",
    "footprint",
    "parse_s_region",
    "pixel_map",
    "resample_range",
    "sky_to_pixel",
]


def bounding_box(wcs: Any, shape: tuple[int, int]) -> tuple[tuple[float, float],
                                                             tuple[float, float]]:
    """``((xlo, xhi), (ylo, yhi))`` of ``wcs`` (pixel edges), or the whole array's edges."""
    bbox = getattr(wcs, "bounding_box", None)
    if bbox is not None:
        try:
            (x0, x1), (y0, y1) = bbox.bounding_box(order="F")
        except AttributeError:
            (x0, x1), (y0, y1) = tuple(bbox)
        return (float(x0), float(x1)), (float(y0), float(y1))
    ny, nx = shape
    return (-0.5, nx - 0.5), (-0.5, ny - 0.5)


def resample_range(shape: tuple[int, int], wcs: Any) -> tuple[int, int, int, int]:
    """Inclusive input pixel range ``(xmin, xmax, ymin, ymax)`` inside the WCS bounding box."""
    ny, nx = shape
    bbox = getattr(wcs, "bounding_box", None)
    if bbox is None:
        return 0, nx - 1, 0, ny - 1
    (x1, x2), (y1, y2) = bounding_box(wcs, shape)
    xmin = max(0, int(x1 + 0.5))
    ymin = max(0, int(y1 + 0.5))
    xmax = max(xmin, min(nx - 1, int(x2 + 0.5)))
    ymax = max(ymin, min(ny - 1, int(y2 + 0.5)))
    return xmin, xmax, ymin, ymax


def footprint(wcs: Any, shape: tuple[int, int]) -> np.ndarray:
    """(4, 2) RA, Dec (deg) of the corners of the WCS bounding box (pixel edges)."""
    (x0, x1), (y0, y1) = bounding_box(wcs, shape)
    xs = np.array([x0, x0, x1, x1])
    ys = np.array([y0, y1, y1, y0])
    ra, dec = wcs(xs, ys, with_bounding_box=False)
    return np.column_stack([np.mod(ra, 360.0), dec])


def parse_s_region(s_region: str | None) -> np.ndarray | None:
    """(N, 2) RA, Dec vertices of an ``S_REGION`` ``POLYGON ICRS ...`` string, or None."""
    if not s_region or "POLYGON" not in str(s_region).upper():
        return None
    numbers = re.sub(r"[a-zA-Z]", " ", str(s_region)).split()
    try:
        values = np.array(numbers, dtype=float)
    except ValueError:
        return None
    if values.size < 6 or values.size % 2:
        return None
    return values.reshape(-1, 2)


def sky_to_pixel(wcs: Any, ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World -> pixel through the WCS's inverse, ignoring its bounding box."""
    backward = getattr(wcs, "backward_transform", None)
    if backward is not None:
        x, y = backward(ra, dec)
    else:
        x, y = wcs.invert(ra, dec, with_bounding_box=False)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


#: coarse-grid step of the automatic pixel map (pixels), and its accuracy goal (pixels)
AUTO_STEP = 64
AUTO_TOLERANCE = 1e-4


def _map_points(wcs_in: Any, wcs_out: Any, x: np.ndarray, y: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Output (x, y) of input points (bounding boxes ignored)."""
    ra, dec = wcs_in(x, y, with_bounding_box=False)
    return sky_to_pixel(wcs_out, np.asarray(ra), np.asarray(dec))


def _exact_map(wcs_in: Any, wcs_out: Any, shape: tuple[int, int]) -> np.ndarray:
    y, x = np.indices(shape, dtype=np.float64)
    xo, yo = _map_points(wcs_in, wcs_out, x, y)
    return np.dstack([xo, yo])


def _nodes(n: int, step: float) -> np.ndarray:
    """Evenly spaced nodes covering ``0 .. n - 1`` at most ``step`` apart (at least 4)."""
    count = max(math.ceil((n - 1) / step) + 1, min(4, n))
    return np.linspace(0.0, n - 1.0, count)


def _spline_map(wcs_in: Any, wcs_out: Any, shape: tuple[int, int], step: float,
                order: int) -> tuple[np.ndarray, float] | None:
    """Pixel map interpolated from a coarse grid, and its largest error at the cell centres
    (pixels); None when the coarse grid has unmapped points."""
    from scipy.interpolate import RectBivariateSpline

    ny, nx = shape
    xc = _nodes(nx, step)
    yc = _nodes(ny, step)
    gx, gy = np.meshgrid(xc, yc)
    xo, yo = _map_points(wcs_in, wcs_out, gx, gy)
    if not (np.all(np.isfinite(xo)) and np.all(np.isfinite(yo))):
        return None
    fx = RectBivariateSpline(yc, xc, xo, kx=order, ky=order)
    fy = RectBivariateSpline(yc, xc, yo, kx=order, ky=order)
    # check at the centres of the coarse cells, where interpolation errors peak
    mx = 0.5 * (xc[1:] + xc[:-1])
    my = 0.5 * (yc[1:] + yc[:-1])
    cx, cy = np.meshgrid(mx, my)
    tx, ty = _map_points(wcs_in, wcs_out, cx, cy)
    err = float(np.nanmax(np.hypot(fx(my, mx) - tx, fy(my, mx) - ty)))
    out = np.empty((ny, nx, 2))
    _eval_on_grid(fx, nx, ny, out[..., 0])
    _eval_on_grid(fy, nx, ny, out[..., 1])
    return out, err


def _eval_on_grid(spline: Any, nx: int, ny: int, out: np.ndarray) -> None:
    """``spline`` (a RectBivariateSpline over (y, x)) at every pixel centre, into ``out``.

    The tensor-product spline is ``By @ C @ Bx.T`` (B-spline design matrices): one small
    sparse product and one BLAS matrix product instead of FITPACK's basis evaluations at
    every point (0.09 -> ~0.05 s per 2048^2 component; same values to 1e-12 px).
    """
    from scipy.interpolate import BSpline

    ty, tx, coef = spline.tck
    ky, kx = spline.degrees
    by = BSpline.design_matrix(np.arange(ny, dtype=np.float64), ty, ky)
    bx = BSpline.design_matrix(np.arange(nx, dtype=np.float64), tx, kx)
    rows = by @ coef.reshape(len(ty) - ky - 1, len(tx) - kx - 1)  # (ny, ncoef_x)
    out[...] = rows @ bx.T.toarray()  # dense (ncoef_x, nx): one BLAS product, C order


def _mask_bbox(pixmap: np.ndarray, wcs_in: Any, shape: tuple[int, int]) -> np.ndarray:
    """NaN for the input pixel centres outside ``wcs_in``'s bounding box (as gwcs does)."""
    if getattr(wcs_in, "bounding_box", None) is None:
        return pixmap
    (x0, x1), (y0, y1) = bounding_box(wcs_in, shape)
    ny, nx = shape
    xs = np.arange(nx)
    ys = np.arange(ny)
    pixmap[:, (xs < x0) | (xs > x1)] = np.nan
    pixmap[(ys < y0) | (ys > y1)] = np.nan
    return pixmap


def pixel_map(wcs_in: Any, wcs_out: Any, shape: tuple[int, int],
              stepsize: float = 1.0, order: int = 1) -> np.ndarray:
    """Output pixel position of every input pixel centre.

    Parameters
    ----------
    wcs_in, wcs_out : gwcs.WCS
        Input image WCS (its bounding box respected: pixels outside map to NaN) and output
        grid WCS (bounding box ignored).
    shape : (ny, nx)
        Input array shape.
    stepsize : float
        ``> 1``: evaluate the WCSs every ``stepsize`` pixels and interpolate in between with
        splines of ``order`` (the official ``pixmap_stepsize``/``pixmap_order``).
        ``<= 1`` (default, officially "exact"): the WCSs are evaluated on a coarse grid
        (every :data:`AUTO_STEP` pixels, halved until the bicubic interpolation agrees with
        the exact mapping to :data:`AUTO_TOLERANCE` px at the cell centres, where its
        error peaks), else at every pixel.
    order : int
        Spline order of an explicit ``stepsize`` interpolation: 1 (bilinear) or 3 (bicubic).

    Returns
    -------
    (ny, nx, 2) float64
        ``[..., 0]`` output x, ``[..., 1]`` output y (0-based pixel centres).
    """
    ny, nx = shape
    if stepsize > 1 and max(nx, ny) > 10:
        step = max(1.0, min(float(stepsize), max(nx, ny) / 10.0))
        got = _spline_map(wcs_in, wcs_out, shape, step, order)
        pm = got[0] if got is not None else _exact_map(wcs_in, wcs_out, shape)
        return _mask_bbox(pm, wcs_in, shape)
    step = float(AUTO_STEP)
    while min(nx, ny) >= 4 and step >= 8 and max(nx, ny) > 2 * step:
        got = _spline_map(wcs_in, wcs_out, shape, step, 3)
        if got is None:
            break
        if got[1] <= AUTO_TOLERANCE:
            return _mask_bbox(got[0], wcs_in, shape)
        step /= 2.0
    return _mask_bbox(_exact_map(wcs_in, wcs_out, shape), wcs_in, shape)
