"""Detector distortion: full-frame 0-based pixels -> V2V3 arcsec, as the DISTORTION reference.

The model follows the SIAF convention: pixel offsets from the aperture reference pixel
(u, v) = (x - x_ref, y - y_ref) go through a 2-D polynomial to "ideal" coordinates
(Xidl, Yidl, arcsec), which are rotated by V3IdlYAngle with the parity VIdlParity and shifted by
(V2Ref, V3Ref)::

    V2 = V2Ref + P * Xidl * cos(t) + Yidl * sin(t)
    V3 = V3Ref - P * Xidl * sin(t) + Yidl * cos(t)

VPARITY and V3I_YANG are therefore folded into the distortion reference, as the official
imaging WCS expects. The inverse polynomial (ideal -> pixel offsets) is a least-squares fit of
higher degree, accurate to ~1e-5 pixel; :func:`webbflow.wcs.sky_to_pixel` refines it by
Newton iteration when exactness matters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from astropy.modeling import models

__all__ = ["DistortionSolution", "default_nircam_distortion", "distortion_model",
           "pixel_area_map", "poly_eval", "poly_jacobian"]


def _terms(degree: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(degree + 1) for j in range(degree + 1 - i)]


def poly_eval(coeffs: dict[str, float], u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Evaluate ``sum c{i}_{j} u**i v**j`` (astropy Polynomial2D naming); float64."""
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    out = np.zeros(np.broadcast(u, v).shape)
    for name, c in coeffs.items():
        i, j = (int(t) for t in name[1:].split("_"))
        if c:
            out = out + c * u**i * v**j
    return out


def poly_jacobian(coeffs: dict[str, float], u: np.ndarray,
                  v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Partial derivatives (d/du, d/dv) of :func:`poly_eval`."""
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    du = np.zeros(np.broadcast(u, v).shape)
    dv = np.zeros_like(du)
    for name, c in coeffs.items():
        i, j = (int(t) for t in name[1:].split("_"))
        if not c:
            continue
        if i:
            du = du + c * i * u ** (i - 1) * v**j
        if j:
            dv = dv + c * j * u**i * v ** (j - 1)
    return du, dv


@dataclass(frozen=True)
class DistortionSolution:
    """Coefficients of one detector's distortion (all that the reference file encodes).

    x_ref, y_ref : reference pixel, full-frame 0-based; v2_ref, v3_ref : its V2V3 (arcsec);
    v3yangle : deg; vparity : +1 or -1; idl_x, idl_y : polynomial coefficients, pixel offsets
    -> ideal arcsec; inv_x, inv_y : ideal arcsec -> pixel offsets (fitted).
    """

    x_ref: float
    y_ref: float
    v2_ref: float
    v3_ref: float
    v3yangle: float
    vparity: int
    idl_x: dict[str, float]
    idl_y: dict[str, float]
    inv_x: dict[str, float] = field(default_factory=dict)
    inv_y: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain dict (for JSON)."""
        return asdict(self)

    # -- plain numpy evaluation (float64) ---------------------------------------------------
    def _rotation(self) -> np.ndarray:
        t = np.deg2rad(self.v3yangle)
        p = self.vparity
        return np.array([[p * np.cos(t), np.sin(t)], [-p * np.sin(t), np.cos(t)]])

    def pixel_to_v23(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full-frame 0-based pixels -> (V2, V3) arcsec."""
        u = np.asarray(x, dtype=float) - self.x_ref
        v = np.asarray(y, dtype=float) - self.y_ref
        xi, yi = poly_eval(self.idl_x, u, v), poly_eval(self.idl_y, u, v)
        m = self._rotation()
        return (self.v2_ref + m[0, 0] * xi + m[0, 1] * yi,
                self.v3_ref + m[1, 0] * xi + m[1, 1] * yi)

    def v23_to_ideal(self, v2: np.ndarray, v3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(V2, V3) arcsec -> ideal (Xidl, Yidl) arcsec (exact)."""
        m = np.linalg.inv(self._rotation())
        d2 = np.asarray(v2, dtype=float) - self.v2_ref
        d3 = np.asarray(v3, dtype=float) - self.v3_ref
        return m[0, 0] * d2 + m[0, 1] * d3, m[1, 0] * d2 + m[1, 1] * d3

    def jacobian(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """d(V2, V3)/d(x, y) in arcsec/pixel, shape (..., 2, 2)."""
        u = np.asarray(x, dtype=float) - self.x_ref
        v = np.asarray(y, dtype=float) - self.y_ref
        xu, xv = poly_jacobian(self.idl_x, u, v)
        yu, yv = poly_jacobian(self.idl_y, u, v)
        jp = np.stack([np.stack([xu, xv], -1), np.stack([yu, yv], -1)], -2)
        return self._rotation() @ jp

    def with_inverse(self, degree: int = 5, margin: float = 128.0) -> DistortionSolution:
        """Return a copy whose ``inv_x``/``inv_y`` are least-squares fits (ideal -> pixel)."""
        g = np.linspace(-margin, 2047 + margin, 61)
        gx, gy = np.meshgrid(g, g)
        u, v = gx.ravel() - self.x_ref, gy.ravel() - self.y_ref
        xi, yi = poly_eval(self.idl_x, u, v), poly_eval(self.idl_y, u, v)
        terms = _terms(degree)
        scale = float(np.max(np.abs(np.concatenate([xi, yi]))))
        a = np.stack([(xi / scale) ** i * (yi / scale) ** j for i, j in terms], axis=1)
        cu = np.linalg.lstsq(a, u, rcond=None)[0]
        cv = np.linalg.lstsq(a, v, rcond=None)[0]
        inv_x = {f"c{i}_{j}": float(c / scale ** (i + j)) for (i, j), c in zip(terms, cu)}
        inv_y = {f"c{i}_{j}": float(c / scale ** (i + j)) for (i, j), c in zip(terms, cv)}
        return DistortionSolution(self.x_ref, self.y_ref, self.v2_ref, self.v3_ref,
                                  self.v3yangle, self.vparity, dict(self.idl_x),
                                  dict(self.idl_y), inv_x, inv_y)


def default_nircam_distortion() -> DistortionSolution:
    """An NRCA1-like short-wavelength distortion (not the flight solution).

    Plate scale 0.0311 x 0.0313 arcsec/pixel, V3IdlYAngle -0.55 deg, VIdlParity -1 and a
    reference point near the SIAF NRCA1_FULL one; quadratic and cubic terms move the corners
    by about 3 pixels from a pure linear scale.
    """
    idl_x = {"c0_0": 0.0, "c1_0": 0.03110, "c0_1": 2.0e-6, "c2_0": 2.0e-8, "c1_1": -1.2e-8,
             "c0_2": 1.0e-8, "c3_0": 2.5e-11, "c1_2": 2.5e-11, "c2_1": 0.0, "c0_3": 0.0}
    idl_y = {"c0_0": 0.0, "c1_0": -1.5e-6, "c0_1": 0.03132, "c2_0": -0.8e-8, "c1_1": 1.5e-8,
             "c0_2": 2.2e-8, "c3_0": 0.0, "c1_2": 0.0, "c2_1": 2.5e-11, "c0_3": 2.5e-11}
    sol = DistortionSolution(x_ref=1023.5, y_ref=1023.5, v2_ref=120.6714, v3_ref=-527.3877,
                             v3yangle=-0.55, vparity=-1, idl_x=idl_x, idl_y=idl_y)
    return sol.with_inverse()


def _poly_model(coeffs: dict[str, float]) -> models.Polynomial2D:
    degree = max(sum(int(t) for t in k[1:].split("_")) for k in coeffs)
    return models.Polynomial2D(degree, **coeffs)


def distortion_model(solution: DistortionSolution) -> models.Model:
    """Astropy model (x, y) full-frame 0-based pixels -> (V2, V3) arcsec, with ``.inverse``.

    The inverse uses the fitted ``inv_x``/``inv_y`` polynomials (call ``with_inverse`` first).
    """
    s = solution
    if not s.inv_x:
        s = s.with_inverse()
    rot = s._rotation()
    affine = models.AffineTransformation2D(matrix=rot, translation=[s.v2_ref, s.v3_ref])
    fwd = ((models.Shift(-s.x_ref) & models.Shift(-s.y_ref)) | models.Mapping((0, 1, 0, 1))
           | (_poly_model(s.idl_x) & _poly_model(s.idl_y)) | affine)
    inv = (affine.inverse | models.Mapping((0, 1, 0, 1))
           | (_poly_model(s.inv_x) & _poly_model(s.inv_y))
           | (models.Shift(s.x_ref) & models.Shift(s.y_ref)))
    fwd.inverse = inv
    return fwd


def pixel_area_map(solution: DistortionSolution, shape: tuple[int, int] = (2048, 2048),
                   ) -> tuple[np.ndarray, float]:
    """Pixel solid angle relative to the nominal one, and the nominal area.

    Returns
    -------
    area : ndarray float32 (ny, nx)
        |det J(x, y)| / PIXAR_A2, full-frame pixels.
    pixar_a2 : float
        Nominal pixel area (arcsec^2), |det J| at the reference pixel.
    """
    ny, nx = shape
    x = np.arange(nx, dtype=float)
    out = np.empty(shape, dtype=np.float32)
    nominal = float(abs(np.linalg.det(solution.jacobian(solution.x_ref, solution.y_ref))))
    for y0 in range(0, ny, 256):
        yy, xx = np.meshgrid(np.arange(y0, min(ny, y0 + 256), dtype=float), x, indexing="ij")
        j = solution.jacobian(xx, yy)
        det = np.abs(j[..., 0, 0] * j[..., 1, 1] - j[..., 0, 1] * j[..., 1, 0])
        out[y0:y0 + 256] = det / nominal
    return out, nominal
