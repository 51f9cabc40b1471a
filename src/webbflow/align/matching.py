"""Cross-matching two catalogs in a tangent plane (xyxymatch as tweakwcs uses it).

Positions in arcsec in a common tangent plane. See :mod:`webbflow.kernels.match` for the
algorithm: 2-D histogram of pairwise offsets within ``searchrad`` (``use2dhist``; else the
user's ``xoffset``/``yoffset``), sources closer than ``separation`` to a neighbour of their own
catalog set aside, mutual nearest pairs within ``tolerance``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import match as kmatch

__all__ = ["MatchResult", "match_catalogs"]


@dataclass
class MatchResult:
    """Indices of matched pairs and the initial offset used (arcsec, ref - image)."""

    img_idx: np.ndarray
    ref_idx: np.ndarray
    offset: tuple[float, float]
    hist_peak: int


def match_catalogs(img_x: np.ndarray, img_y: np.ndarray, ref_x: np.ndarray,
                   ref_y: np.ndarray, *, searchrad: float = 2.0, separation: float = 1.0,
                   tolerance: float = 0.7, use2dhist: bool = True, xoffset: float = 0.0,
                   yoffset: float = 0.0, binsize: float = 0.06) -> MatchResult:
    """Pairs (image source, reference source) of one tangent plane.

    Parameters
    ----------
    img_x, img_y, ref_x, ref_y : float arrays [n], [m]
        Positions, arcsec.
    searchrad, separation, tolerance, xoffset, yoffset : float
        As the tweakreg parameters, arcsec.
    use2dhist : bool
        Estimate the initial offset from the histogram of pairwise offsets.
    binsize : float
        Histogram bin, arcsec (tweakreg: the pixel scale).

    Returns
    -------
    MatchResult
    """
    ix = np.ascontiguousarray(img_x, dtype=np.float64)
    iy = np.ascontiguousarray(img_y, dtype=np.float64)
    rx = np.ascontiguousarray(ref_x, dtype=np.float64)
    ry = np.ascontiguousarray(ref_y, dtype=np.float64)
    empty = np.zeros(0, dtype=np.int64)
    if ix.size == 0 or rx.size == 0:
        return MatchResult(empty, empty, (0.0, 0.0), 0)
    if use2dhist:
        dx, dy, npk = kmatch.histogram_offset(ix, iy, rx, ry, float(searchrad),
                                              float(binsize))
    else:
        dx, dy, npk = float(xoffset), float(yoffset), 0
    iso_i = np.nonzero(kmatch.isolated(ix, iy, float(separation)))[0]
    iso_r = np.nonzero(kmatch.isolated(rx, ry, float(separation)))[0]
    a, b = kmatch.match_nearest(ix[iso_i] + dx, iy[iso_i] + dy, rx[iso_r], ry[iso_r],
                                float(tolerance))
    return MatchResult(iso_i[a], iso_r[b], (float(dx), float(dy)), int(npk))
