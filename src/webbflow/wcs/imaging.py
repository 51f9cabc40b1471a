"""Detector pixels <-> sky for an imaging exposure: distortion, then the V2V3 -> sky rotation."""

from __future__ import annotations

import numpy as np

from .distortion import DistortionSolution, poly_eval
from .pointing import Pointing, sky_to_v23, v23_to_sky

__all__ = ["pixel_to_sky", "sky_to_pixel"]


def pixel_to_sky(x: np.ndarray, y: np.ndarray, distortion: DistortionSolution,
                 pointing: Pointing) -> tuple[np.ndarray, np.ndarray]:
    """Full-frame 0-based pixel coordinates -> (RA, Dec) deg."""
    v2, v3 = distortion.pixel_to_v23(x, y)
    return v23_to_sky(v2, v3, pointing)


def sky_to_pixel(ra: np.ndarray, dec: np.ndarray, distortion: DistortionSolution,
                 pointing: Pointing, iterations: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(RA, Dec) deg -> full-frame 0-based pixel coordinates (float64).

    Starts from the fitted inverse polynomial and applies Newton steps on the forward
    polynomial, so the round trip is exact to ~1e-10 pixel.
    """
    v2, v3 = sky_to_v23(ra, dec, pointing)
    xi, yi = distortion.v23_to_ideal(v2, v3)
    x = distortion.x_ref + poly_eval(distortion.inv_x, xi, yi)
    y = distortion.y_ref + poly_eval(distortion.inv_y, xi, yi)
    for _ in range(iterations):
        f2, f3 = distortion.pixel_to_v23(x, y)
        j = distortion.jacobian(x, y)
        d2, d3 = v2 - f2, v3 - f3
        det = j[..., 0, 0] * j[..., 1, 1] - j[..., 0, 1] * j[..., 1, 0]
        x = x + (j[..., 1, 1] * d2 - j[..., 0, 1] * d3) / det
        y = y + (-j[..., 1, 0] * d2 + j[..., 0, 0] * d3) / det
    return x, y
