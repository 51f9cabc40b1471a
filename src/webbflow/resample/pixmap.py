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
        Evaluate the WCSs every ``stepsize`` pixels and interpolate bilinearly in between
        (as the official ``pixmap_stepsize``); 1 evaluates every pixel.
    order : int
        Spline order of that interpolation: 1 (bilinear) or 3 (bicubic).

    Returns
    -------
    (ny, nx, 2) float64
        ``[..., 0]`` output x, ``[..., 1]`` output y (0-based pixel centres).
    """
    ny, nx = shape
    if stepsize <= 1 or max(nx, ny) <= 10:
        y, x = np.indices(shape, dtype=np.float64)
        ra, dec = wcs_in(x, y)
        xo, yo = sky_to_pixel(wcs_out, ra, dec)
        return np.dstack([xo, yo])
    step = max(1.0, min(float(stepsize), max(nx, ny) / 10.0))
    nxc = max(math.ceil((nx - 1) / step) + 1, min(10, nx))
    nyc = max(math.ceil((ny - 1) / step) + 1, min(10, ny))
    xc = np.linspace(0.0, nx - 1.0, nxc)
    yc = np.linspace(0.0, ny - 1.0, nyc)
    gx, gy = np.meshgrid(xc, yc)
    ra, dec = wcs_in(gx, gy)
    xo, yo = sky_to_pixel(wcs_out, ra, dec)
    if not (np.all(np.isfinite(xo)) and np.all(np.isfinite(yo))):
        return pixel_map(wcs_in, wcs_out, shape, 1.0, order)
    from scipy.interpolate import RectBivariateSpline

    xs = np.arange(nx, dtype=np.float64)
    ys = np.arange(ny, dtype=np.float64)
    fx = RectBivariateSpline(yc, xc, xo, kx=order, ky=order)(ys, xs)
    fy = RectBivariateSpline(yc, xc, yo, kx=order, ky=order)(ys, xs)
    return np.dstack([fx, fy])
