"""Pixel maps kept for reuse: one exposure's map onto one grid is computed once per pipeline.

Image3 maps every exposure onto the same grid three times with the default parameters:
outlier_detection's single drizzle, its blot of the median (the same input -> grid map), and
resample's drizzle (the resample grid is rebuilt from the same footprints, so it has the same
parameters). A :class:`PixmapStore` keeps each map (``(ny, nx, 2)`` float64, 67 MB for a full
NIRCam frame) in memory or, past a fixed memory budget, in a raw file in a temporary
directory (written once in ~0.1 s, read back in ~0.03 s, instead of ~0.25 s to recompute),
so memory stays bounded whatever the number of exposures.

An entry is found by the input WCS object (identity, a reference is kept so its id stays
valid, plus the values of its transform's parameters), the input shape, the output grid (its
transform's parameter values and shape) and the interpolation settings; anything else
(a different or changed WCS, another grid) is a miss and the map is recomputed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

import numpy as np

__all__ = ["MEMORY_BUDGET", "PixmapStore", "wcs_fingerprint"]

#: bytes of pixel maps a file-backed store keeps in memory (four full NIRCam frames' maps)
MEMORY_BUDGET = 4 * 2048 * 2048 * 16


def wcs_fingerprint(wcs: Any) -> bytes | None:
    """The parameter values of ``wcs``'s forward transform as bytes (None: not available)."""
    try:
        params = np.asarray(wcs.forward_transform.parameters, dtype=np.float64)
    except Exception:  # a WCS without an astropy model behind it: never matched
        return None
    bbox = getattr(wcs, "bounding_box", None)
    try:
        box = np.asarray(tuple(bbox), dtype=np.float64).tobytes() if bbox is not None else b""
    except (TypeError, ValueError):
        box = repr(bbox).encode()
    return params.tobytes() + b"|" + box


class PixmapStore:
    """Pixel maps by (input WCS, input shape, output grid, step, order).

    Parameters
    ----------
    in_memory : bool
        Keep every map in memory; else at most ``memory_budget`` bytes of them, the others
        as raw float64 files in a private temporary directory (made in ``directory``, the
        system's default when None, on first use; removed by :meth:`close`).
    directory : str, optional
        Where that temporary directory goes.
    memory_budget : int
        Bytes of maps held in memory when not ``in_memory``.
    """

    def __init__(self, in_memory: bool = True, directory: str | None = None,
                 memory_budget: int = MEMORY_BUDGET) -> None:
        self._in_memory = in_memory
        self._parent = directory
        self._dir: str | None = None
        self._budget = int(memory_budget)
        self._held = 0
        self._entries: dict[tuple, tuple[Any, Any]] = {}

    @staticmethod
    def _key(wcs_in: Any, shape: tuple[int, int], wcs_out: Any, shape_out: tuple[int, int],
             stepsize: float, order: int) -> tuple | None:
        fin = wcs_fingerprint(wcs_in)
        fout = wcs_fingerprint(wcs_out)
        if fin is None or fout is None:
            return None
        return (id(wcs_in), fin, tuple(shape), fout, tuple(shape_out), float(stepsize),
                int(order))

    def get(self, wcs_in: Any, shape: tuple[int, int], wcs_out: Any,
            shape_out: tuple[int, int], stepsize: float, order: int) -> np.ndarray | None:
        """The stored ``(ny, nx, 2)`` float64 map, or None."""
        key = self._key(wcs_in, shape, wcs_out, shape_out, stepsize, order)
        entry = self._entries.get(key) if key is not None else None
        if entry is None or entry[0] is not wcs_in:
            return None
        value = entry[1]
        if isinstance(value, np.ndarray):
            return value
        out = np.empty((*shape, 2), dtype=np.float64)
        with open(value, "rb") as fh:
            fh.readinto(memoryview(out).cast("B"))
        return out

    def put(self, wcs_in: Any, shape: tuple[int, int], wcs_out: Any,
            shape_out: tuple[int, int], stepsize: float, order: int,
            pixmap: np.ndarray) -> None:
        """Keep ``pixmap`` (``(ny, nx, 2)`` float64) for later :meth:`get` calls."""
        key = self._key(wcs_in, shape, wcs_out, shape_out, stepsize, order)
        if key is None or key in self._entries:
            return
        if self._in_memory or self._held + pixmap.nbytes <= self._budget:
            self._entries[key] = (wcs_in, pixmap)
            self._held += pixmap.nbytes
            return
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix="webbflow_pixmaps_", dir=self._parent)
        path = os.path.join(self._dir, f"pixmap_{len(self._entries)}.f64")
        np.ascontiguousarray(pixmap, dtype=np.float64).tofile(path)
        self._entries[key] = (wcs_in, path)

    def close(self) -> None:
        """Forget every map (and remove the files)."""
        self._entries.clear()
        self._held = 0
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
