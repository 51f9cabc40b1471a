"""DQ summary of a product: pixels carrying each flag of the official DQ table."""

from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np
from astropy.io import fits

from ..datamodels import dqflags

__all__ = ["dq_counts", "dq_table_html"]


def dq_counts(dq: np.ndarray) -> list[tuple[str, int, int]]:
    """``(flag name, bit value, pixels with the flag)`` for every flag of the pixel DQ table.

    dq : uint32 [ny, nx] or [nints, ny, nx] (a pixel counts once if any plane has the flag).
    """
    flat = np.bitwise_or.reduce(dq.reshape(-1, *dq.shape[-2:]), axis=0) if dq.ndim > 2 else dq
    flat = flat.astype(np.uint32)
    rows = []
    for name, value in sorted(dqflags.PIXEL.items(), key=lambda kv: kv[1]):
        if value == 0:
            continue
        rows.append((name, int(value), int(np.count_nonzero(flat & np.uint32(value)))))
    return rows


def dq_table_html(product: str | os.PathLike, out: str | os.PathLike) -> Path:
    """An HTML table of :func:`dq_counts` of the DQ (or PIXELDQ) extension of ``product``."""
    with fits.open(product) as hdul:
        ext = "DQ" if "DQ" in hdul else "PIXELDQ"
        dq = np.asarray(hdul[ext].data)
    total = int(np.prod(dq.shape[-2:]))
    name = Path(product).name
    lines = [
        "<html><head><meta charset='utf-8'><title>DQ summary</title></head><body>",
        f"<h3>DQ flags of {html.escape(name)} ({ext}, {total} pixels)</h3>",
        "<table border='1' cellpadding='3'><tr><th>flag</th><th>value</th>"
        "<th>pixels</th><th>percent</th></tr>",
    ]
    for flag, value, count in dq_counts(dq):
        lines.append(f"<tr><td>{flag}</td><td>{value}</td><td>{count}</td>"
                     f"<td>{100.0 * count / total:.3f}</td></tr>")
    lines.append("</table></body></html>")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    return out
