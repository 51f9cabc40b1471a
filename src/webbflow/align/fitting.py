"""Linear fits between matched catalogs (tweakreg ``fitgeometry``) with sigma clipping.

``shift``: translation; ``rshift``: rotation + translation; ``rscale``: rotation, one scale
and translation; ``general``: any affine transform. The fit maps image positions onto
reference positions (``ref = M @ img + t``), in arcsec of a tangent plane; the numerics are in
:func:`webbflow.kernels.match.clipped_fit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..kernels import match as kmatch

__all__ = ["FitResult", "fit_linear"]


@dataclass
class FitResult:
    """A fitted correction and its quality.

    matrix [2, 2], shift [2] (arcsec); rotation (deg), scale, skew (deg) derived from the
    matrix; rmse, mae (arcsec) of the kept pairs; nmatch pairs offered, nkept used.
    """

    fitgeom: str
    matrix: np.ndarray
    shift: np.ndarray
    rmse: float
    mae: float
    nmatch: int
    nkept: int
    keep: np.ndarray = field(repr=False)

    @property
    def rotation(self) -> float:
        """Rotation angle, deg (mean of the two axis rotations)."""
        m = self.matrix
        return math.degrees(0.5 * (math.atan2(m[1, 0], m[0, 0]) + math.atan2(-m[0, 1],
                                                                             m[1, 1])))

    @property
    def scale(self) -> float:
        """Geometric mean of the two axis scales."""
        m = self.matrix
        return math.sqrt(abs(m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]))

    @property
    def skew(self) -> float:
        """Difference of the two axis rotations, deg."""
        m = self.matrix
        return math.degrees(math.atan2(-m[0, 1], m[1, 1]) - math.atan2(m[1, 0], m[0, 0]))


def fit_linear(img_x: np.ndarray, img_y: np.ndarray, ref_x: np.ndarray, ref_y: np.ndarray,
               fitgeom: str = "rshift", nclip: int = 3, sigma: float = 3.0,
               weights: np.ndarray | None = None) -> FitResult:
    """Fit ``ref = M @ img + t`` to matched pairs.

    Parameters
    ----------
    img_x, img_y, ref_x, ref_y : float arrays [n]
        Matched positions, arcsec.
    fitgeom : {'shift', 'rshift', 'rscale', 'general'}
    nclip : int
        Clipping rounds; ``sigma``: limit in units of the fit RMSE.
    weights : float array [n], optional

    Returns
    -------
    FitResult
        NaN matrix when fewer pairs than the geometry needs.
    """
    if fitgeom not in kmatch.FIT_GEOMETRIES:
        raise ValueError(f"fitgeom {fitgeom!r} is not one of {sorted(kmatch.FIT_GEOMETRIES)}")
    code, nmin = kmatch.FIT_GEOMETRIES[fitgeom]
    ix = np.ascontiguousarray(img_x, dtype=np.float64)
    n = ix.size
    w = np.ones(n) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    if n < nmin:
        return FitResult(fitgeom, np.full((2, 2), np.nan), np.full(2, np.nan), np.nan, np.nan,
                         n, 0, np.zeros(n, dtype=bool))
    p, keep, rmse, mae = kmatch.clipped_fit(
        ix, np.ascontiguousarray(img_y, dtype=np.float64),
        np.ascontiguousarray(ref_x, dtype=np.float64),
        np.ascontiguousarray(ref_y, dtype=np.float64), w, code, int(nclip), float(sigma))
    matrix = np.array([[p[0], p[1]], [p[2], p[3]]])
    return FitResult(fitgeom, matrix, np.array([p[4], p[5]]), float(rmse), float(mae), n,
                     int(keep.sum()), keep)
