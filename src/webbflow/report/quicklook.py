"""Quick-look images: an asinh stretch of a product's SCI plane, catalog marks drawn in.

Array bookkeeping only (percentiles, a clip, an arcsinh, block means): the stretch of
Lupton et al. (2004, PASP 116, 133), ``y = asinh(x / a) / asinh(1 / a)`` on
``x = (data - lo) / (hi - lo)`` clipped to [0, 1], ``lo``/``hi`` the 0.5 / 99.5 percentiles of
the finite pixels.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table

from .png import write_png

__all__ = ["catalog_overlay", "quicklook_png", "sci_plane", "stretch_asinh"]

#: mark colour of catalog sources (RGB)
MARK = (255, 64, 32)


def stretch_asinh(data: np.ndarray, softening: float = 0.1,
                  percentiles: tuple[float, float] = (0.5, 99.5)) -> np.ndarray:
    """uint8 [ny, nx] of a float image [ny, nx] (any unit); NaN becomes 0 (black)."""
    finite = np.isfinite(data)
    if not finite.any():
        return np.zeros(data.shape, np.uint8)
    lo, hi = np.percentile(data[finite], percentiles)
    span = hi - lo if hi > lo else 1.0
    x = np.clip((np.where(finite, data, lo) - lo) / span, 0.0, 1.0)
    y = np.arcsinh(x / softening) / np.arcsinh(1.0 / softening)
    return np.round(y * 255.0).astype(np.uint8)


def sci_plane(path: str | os.PathLike) -> np.ndarray:
    """The SCI image of a product as float [ny, nx]: 3-D and 4-D cubes give their median plane."""
    with fits.open(path) as hdul:
        data = np.asarray(hdul["SCI"].data, dtype=np.float32)
    while data.ndim > 2:
        data = np.nanmedian(data, axis=0) if np.isfinite(data).any() else data[0]
    return data


def _shrink(image: np.ndarray, max_size: int) -> tuple[np.ndarray, int]:
    """Block means by an integer factor so that neither side exceeds ``max_size``."""
    factor = max(1, -(-max(image.shape) // max_size))
    if factor == 1:
        return image, 1
    ny, nx = (s // factor * factor for s in image.shape)
    blocks = image[:ny, :nx].reshape(ny // factor, factor, nx // factor, factor)
    with np.errstate(invalid="ignore"):
        return np.nanmean(blocks, axis=(1, 3)), factor


def _display(data: np.ndarray, max_size: int) -> tuple[np.ndarray, int]:
    small, factor = _shrink(data, max_size)
    return stretch_asinh(small)[::-1], factor  # FITS row 0 at the bottom


def quicklook_png(product: str | os.PathLike, png: str | os.PathLike,
                  max_size: int = 1024) -> Path:
    """Write the asinh-stretched SCI image of ``product`` (rate, cal, i2d...) as a PNG."""
    image, _ = _display(sci_plane(product), max_size)
    return write_png(image, png)


def _circle_pixels(x: np.ndarray, y: np.ndarray, radius: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    angles = np.linspace(0.0, 2.0 * np.pi, max(16, int(8 * radius)), endpoint=False)
    cx = np.round(x[:, None] + radius * np.cos(angles)[None]).astype(int).ravel()
    cy = np.round(y[:, None] + radius * np.sin(angles)[None]).astype(int).ravel()
    return cx, cy


def catalog_overlay(i2d: str | os.PathLike, catalog: str | os.PathLike,
                    png: str | os.PathLike, max_size: int = 1024,
                    radius: float = 6.0) -> tuple[Path, int]:
    """The mosaic with a circle around each catalog source (``xcentroid``/``ycentroid``,
    0-based mosaic pixels). Returns the PNG path and the number of sources marked."""
    grey, factor = _display(sci_plane(i2d), max_size)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    table = Table.read(catalog, format="ascii.ecsv")
    n = len(table)
    if n:
        x = np.asarray(table["xcentroid"], float) / factor
        y = np.asarray(table["ycentroid"], float) / factor
        keep = np.isfinite(x) & np.isfinite(y)
        cx, cy = _circle_pixels(x[keep], y[keep], radius)
        row = grey.shape[0] - 1 - cy  # image rows are flipped for display
        inside = (cx >= 0) & (cx < grey.shape[1]) & (row >= 0) & (row < grey.shape[0])
        rgb[row[inside], cx[inside]] = MARK
    return write_png(rgb, png), n
