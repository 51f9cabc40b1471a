"""The V2V3 -> sky transform of an imaging exposure.

The telescope attitude is given, as in the JWST headers, by a reference point of the aperture
in the telescope frame (``V2_REF``, ``V3_REF``, arcsec), the sky position it points at
(``RA_REF``, ``DEC_REF``, deg) and the position angle of the V3 axis there (``ROLL_REF``, deg).
The transform is the standard rotation sequence about the z, y, x, y, z axes by
(v2_ref, -v3_ref, roll_ref, dec_ref, -ra_ref) applied to the unit vector of (V2, V3), so
(V2_REF, V3_REF) lands exactly on (RA_REF, DEC_REF). Velocity aberration (``VA_SCALE``) scales
V2V3 offsets from the reference point before the rotation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from astropy.modeling import models

__all__ = [
    "Pointing",
    "sky_to_v23",
    "v23_rotation_model",
    "v23_to_sky",
    "v23_to_sky_model",
    "va_corr_model",
]


@dataclass(frozen=True)
class Pointing:
    """Attitude of one exposure (header keywords in brackets).

    v2_ref, v3_ref : arcsec [V2_REF, V3_REF]; ra_ref, dec_ref : deg [RA_REF, DEC_REF];
    roll_ref : deg [ROLL_REF]; va_scale : dimensionless [VA_SCALE].
    """

    v2_ref: float
    v3_ref: float
    ra_ref: float
    dec_ref: float
    roll_ref: float
    va_scale: float = 1.0

    def to_dict(self) -> dict[str, float]:
        """Plain dict (for JSON)."""
        return asdict(self)


def va_corr_model(pointing: Pointing) -> models.Model:
    """Velocity aberration: (V2, V3) -> (V2, V3) arcsec, offsets from the reference point
    scaled by ``va_scale`` (identity when it is 1 or None), with an exact inverse."""
    p = pointing
    if p.va_scale is None or float(p.va_scale) == 1.0:
        return models.Identity(2)
    s = float(p.va_scale)
    if s <= 0:
        raise ValueError(f"velocity aberration scale must be positive, got {s}")
    return (models.Scale(s) & models.Scale(s)) | (
        models.Shift((1.0 - s) * p.v2_ref) & models.Shift((1.0 - s) * p.v3_ref))


def v23_rotation_model(pointing: Pointing) -> models.Model:
    """(V2, V3) arcsec -> (RA, Dec) deg: the attitude rotation alone (no aberration)."""
    p = pointing
    to_deg = models.Scale(1 / 3600.0) & models.Scale(1 / 3600.0)
    rot = models.SphericalRotationSequence(
        [p.v2_ref / 3600.0, -p.v3_ref / 3600.0, p.roll_ref, p.dec_ref, -p.ra_ref],
        axes_order="zyxyz")
    return to_deg | rot


def v23_to_sky_model(pointing: Pointing) -> models.Model:
    """Astropy model (V2, V3) arcsec -> (RA, Dec) deg, with an exact analytic inverse.

    Returns
    -------
    astropy.modeling.Model
        Two inputs, two outputs; ``.inverse`` maps (RA, Dec) back to (V2, V3).
    """
    return va_corr_model(pointing) | v23_rotation_model(pointing)


def v23_to_sky(v2: np.ndarray | float, v3: np.ndarray | float,
               pointing: Pointing) -> tuple[np.ndarray, np.ndarray]:
    """(V2, V3) in arcsec -> (RA, Dec) in deg (float64, same shape as the inputs)."""
    ra, dec = v23_to_sky_model(pointing)(np.asarray(v2, dtype=float),
                                         np.asarray(v3, dtype=float))
    return np.mod(np.asarray(ra), 360.0), np.asarray(dec)


def sky_to_v23(ra: np.ndarray | float, dec: np.ndarray | float,
               pointing: Pointing) -> tuple[np.ndarray, np.ndarray]:
    """(RA, Dec) in deg -> (V2, V3) in arcsec (float64), the exact inverse of v23_to_sky."""
    v2, v3 = v23_to_sky_model(pointing).inverse(np.asarray(ra, dtype=float),
                                                np.asarray(dec, dtype=float))
    v2 = np.asarray(v2)
    # V2 is a longitude: bring it back near the reference point.
    v2 = np.where(v2 - pointing.v2_ref > 648000.0, v2 - 1296000.0, v2)
    v2 = np.where(v2 - pointing.v2_ref < -648000.0, v2 + 1296000.0, v2)
    return v2, np.asarray(v3)
