"""A minimal PNG writer (8-bit grey or RGB, no interlace) on zlib: no plotting library needed.

PNG layout (ISO/IEC 15948): the 8-byte signature, then chunks ``length, type, data, CRC-32``:
IHDR (width, height, bit depth 8, colour type 0 grey / 2 RGB), IDAT (zlib stream of the rows,
each prefixed by filter byte 0), IEND.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["png_bytes", "write_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(image: np.ndarray) -> bytes:
    """PNG file content of ``image``: uint8 [ny, nx] (grey) or [ny, nx, 3] (RGB), row 0 on top."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim == 2:
        colour = 0
    elif image.ndim == 3 and image.shape[2] == 3:
        colour = 2
    else:
        raise ValueError(f"image shape {image.shape}: expected [ny, nx] or [ny, nx, 3]")
    ny, nx = image.shape[:2]
    rows = image.reshape(ny, -1)
    raw = np.hstack([np.zeros((ny, 1), np.uint8), rows]).tobytes()
    header = struct.pack(">IIBBBBB", nx, ny, 8, colour, 0, 0, 0)
    return b"".join((_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(raw, 6)),
                     _chunk(b"IEND", b"")))


def write_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    """Write ``image`` (see :func:`png_bytes`) to ``path`` atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(png_bytes(image))
    tmp.replace(path)
    return path
