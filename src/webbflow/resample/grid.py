"""The output grid of ``resample``: a tangent-plane WCS covering the inputs' footprints.

As officially (JWST ``resample`` docs, "output_shape crpix crval rotation pixel_scale
pixel_scale_ratio"):

* tangent point (CRVAL): the centre of the union of the input footprints (the mid-point of
  the extreme unit vectors of their vertices), or ``crval``;
* orientation: ``rotation`` = position angle of the output +Y axis east of north; by default
  (None) the first input's ideal-frame orientation (``ROLL_REF - VPARITY * V3I_YANG``), so the
  output axes follow the detector's; the parity (VPARITY) is the first input's;
* scale: ``pixel_scale`` arcsec, else the first input's scale at its reference point
  (RA_REF, DEC_REF) times ``pixel_scale_ratio``;
* extent: the footprints' bounding rectangle (the footprints are pixel-edge corners; the grid's
  first pixel starts at the lowest edges and its last pixel reaches the highest, so every input
  pixel lands on the grid) unless ``output_shape`` is given; ``crpix`` (0-based) places the
  tangent point.

When the inputs lack the ``wcsinfo`` keywords, the orientation, parity and reference point are
taken from the first input's WCS at its array centre. A grid larger than ``max_pixels`` is a
one-line :class:`ParameterError` (inputs far apart would otherwise allocate gigabytes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from astropy.modeling import models

from ..errors import ParameterError
from .pixmap import bounding_box, sky_to_pixel

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "OutputGrid",
    "build_grid",
    "footprint_center",
    "mean_pixel_area",
    "native_pixel_scale",
    "tangent_wcs",
]

#: largest output grid allowed by default (pixels): 20000 x 20000
DEFAULT_MAX_PIXELS = 400_000_000
_ARCSEC_PER_RAD = math.degrees(1.0) * 3600.0


@dataclass
class OutputGrid:
    """An output grid: its WCS, array shape and pixel scale.

    wcs : gwcs.WCS (pixel_shape set); shape : (ny, nx); pixel_scale : arcsec;
    pixel_scale_ratio : output / first input scale (None until known).
    """

    wcs: Any
    shape: tuple[int, int]
    pixel_scale: float
    pixel_scale_ratio: float | None

    @property
    def pixel_area_sr(self) -> float:
        """Nominal output pixel area, steradians."""
        return (self.pixel_scale / _ARCSEC_PER_RAD) ** 2


def _unit_vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    ra, dec = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])


def footprint_center(footprints: list[np.ndarray]) -> tuple[float, float]:
    """(RA, Dec) deg of the centre of the union of (N, 2) footprints (official rule)."""
    verts = np.vstack(footprints)
    xyz = _unit_vectors(verts[:, 0], verts[:, 1])
    mid = (xyz.max(axis=1) + xyz.min(axis=1)) / 2.0
    ra = math.degrees(math.atan2(mid[1], mid[0])) % 360.0
    dec = math.degrees(math.atan2(mid[2], math.hypot(mid[0], mid[1])))
    return ra, dec


def _separation(ra1: np.ndarray, dec1: np.ndarray, ra2: np.ndarray,
                dec2: np.ndarray) -> np.ndarray:
    from astropy.coordinates import angular_separation

    return np.degrees(angular_separation(np.radians(ra1), np.radians(dec1),
                                         np.radians(ra2), np.radians(dec2)))


def native_pixel_scale(wcs: Any, ra: float, dec: float) -> float:
    """Input pixel scale (deg) at sky point (ra, dec): sqrt of the x and y steps' lengths."""
    x, y = sky_to_pixel(wcs, np.array([ra]), np.array([dec]))
    xs = np.array([x[0], x[0] + 1.0, x[0]])
    ys = np.array([y[0], y[0], y[0] + 1.0])
    r, d = wcs(xs, ys, with_bounding_box=False)
    sx = _separation(r[0], d[0], r[1], d[1])
    sy = _separation(r[0], d[0], r[2], d[2])
    return float(np.sqrt(abs(sx) * abs(sy)))


def mean_pixel_area(wcs: Any, shape: tuple[int, int]) -> float:
    """Mean pixel area (sr) inside the array: sky area of the outline through the edge pixel
    centres (Lambert equal-area projection about its centre) / its area in pixels."""
    ny, nx = shape
    if nx < 2 or ny < 2:
        raise ParameterError(f"resample: array {nx}x{ny} is too small to measure a pixel area")
    xs = np.linspace(0, nx - 1, max(2, (nx - 1) // 15 + 2))
    ys = np.linspace(0, ny - 1, max(2, (ny - 1) // 15 + 2))
    bx = np.concatenate([xs, np.full(ys.size, nx - 1.0), xs[::-1], np.zeros(ys.size)])
    by = np.concatenate([np.zeros(xs.size), ys, np.full(xs.size, ny - 1.0), ys[::-1]])
    ra, dec = wcs(bx, by, with_bounding_box=False)
    ra0, dec0 = wcs((nx - 1) / 2.0, (ny - 1) / 2.0, with_bounding_box=False)
    lam = np.radians(np.asarray(ra) - float(ra0))
    phi, phi0 = np.radians(np.asarray(dec)), math.radians(float(dec0))
    k = np.sqrt(2.0 / (1.0 + math.sin(phi0) * np.sin(phi)
                       + math.cos(phi0) * np.cos(phi) * np.cos(lam)))
    px = k * np.cos(phi) * np.sin(lam)
    py = k * (math.cos(phi0) * np.sin(phi) - math.sin(phi0) * np.cos(phi) * np.cos(lam))
    sky = 0.5 * abs(np.dot(px, np.roll(py, -1)) - np.dot(py, np.roll(px, -1)))
    return float(sky / ((nx - 1) * (ny - 1)))


def _orientation(wcs: Any, wcsinfo: dict[str, Any], shape: tuple[int, int],
                 rotation: float | None) -> tuple[int, float]:
    """(parity, PA of the output +Y axis in deg) from wcsinfo, else from the WCS itself."""
    roll, v3y, vparity = (wcsinfo.get(k) for k in ("roll_ref", "v3yangle", "vparity"))
    if roll is not None and v3y is not None and vparity in (1, -1):
        parity = int(vparity)
        angle = float(roll) - parity * float(v3y)
    else:
        ny, nx = shape
        x0, y0 = (nx - 1) / 2.0, (ny - 1) / 2.0
        r, d = wcs(np.array([x0, x0 + 1.0, x0]), np.array([y0, y0, y0 + 1.0]),
                   with_bounding_box=False)
        dra = (np.asarray(r) - r[0] + 180.0) % 360.0 - 180.0
        east = dra * math.cos(math.radians(d[0]))
        north = np.asarray(d) - d[0]
        det = east[1] * north[2] - east[2] * north[1]
        parity = -1 if det < 0 else 1
        angle = math.degrees(math.atan2(east[2], north[2]))
    if rotation is not None:
        angle = float(rotation)
    return parity, angle


def _pc_matrix(parity: int, angle_deg: float) -> np.ndarray:
    a = math.radians(angle_deg)
    return np.array([[parity * math.cos(a), math.sin(a)],
                     [-parity * math.sin(a), math.cos(a)]])


def tangent_wcs(crval: tuple[float, float], offsets: tuple[float, float], pc: np.ndarray,
                scale_deg: float, shape: tuple[int, int], input_frame: Any = None,
                output_frame: Any = None) -> Any:
    """A gwcs imaging WCS: pixel - offsets -> PC -> scale -> TAN -> sky at ``crval``.

    ``offsets`` is the 0-based pixel of the tangent point; ``shape`` (ny, nx).
    """
    import gwcs
    from astropy import coordinates as coord
    from astropy import units as u
    from gwcs import coordinate_frames as cf

    transform = ((models.Shift(-offsets[0]) & models.Shift(-offsets[1]))
                 | models.AffineTransformation2D(matrix=pc)
                 | (models.Scale(scale_deg) & models.Scale(scale_deg))
                 | models.Pix2Sky_TAN()
                 | models.RotateNative2Celestial(crval[0], crval[1], 180.0))
    if input_frame is None:
        input_frame = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    if output_frame is None:
        output_frame = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world",
                                         unit=(u.deg, u.deg))
    wcs = gwcs.WCS([(input_frame, transform), (output_frame, None)])
    ny, nx = shape
    wcs.bounding_box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    wcs.pixel_shape = (nx, ny)
    return wcs


def build_grid(footprints: list[np.ndarray], ref_wcs: Any, ref_shape: tuple[int, int],
               ref_wcsinfo: dict[str, Any] | None = None, *, pixel_scale_ratio: float = 1.0,
               pixel_scale: float | None = None, rotation: float | None = None,
               output_shape: tuple[int, int] | None = None,
               crpix: tuple[float, float] | None = None,
               crval: tuple[float, float] | None = None,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> OutputGrid:
    """The output grid covering ``footprints`` (see the module docstring).

    Parameters
    ----------
    footprints : list of (N, 2) arrays
        RA, Dec (deg) vertices of each input.
    ref_wcs, ref_shape, ref_wcsinfo
        The first input's WCS, array shape (ny, nx) and ``meta.wcsinfo`` values.
    pixel_scale_ratio : float
        Output / input pixel scale (ignored when ``pixel_scale`` is given).
    pixel_scale : float, optional
        Output pixel scale, arcsec.
    rotation : float, optional
        Position angle (deg) of the output +Y axis; None keeps the input orientation.
    output_shape : (nx, ny), optional
        As the step parameter (x first).
    crpix : (x, y), optional
        0-based output pixel of the tangent point.
    crval : (ra, dec), optional
        Tangent point, deg.
    max_pixels : int
        Largest grid allowed (<= 0: no limit).

    Raises
    ------
    ParameterError
        The grid would exceed ``max_pixels`` or be smaller than 2 x 2.
    """
    info = dict(ref_wcsinfo or {})
    fid = tuple(float(v) for v in crval) if crval is not None else footprint_center(footprints)
    ra_ref, dec_ref = info.get("ra_ref"), info.get("dec_ref")
    if ra_ref is None or dec_ref is None:
        ny, nx = ref_shape
        ra_ref, dec_ref = (float(v) for v in ref_wcs((nx - 1) / 2.0, (ny - 1) / 2.0,
                                                      with_bounding_box=False))
    if pixel_scale is None:
        in_scale = native_pixel_scale(ref_wcs, float(ra_ref), float(dec_ref))
        scale = in_scale * float(pixel_scale_ratio)
        ratio = float(pixel_scale_ratio)
    else:
        scale = float(pixel_scale) / 3600.0
        in_scale = math.degrees(math.sqrt(mean_pixel_area(ref_wcs, ref_shape)))
        ratio = scale / in_scale
    parity, angle = _orientation(ref_wcs, info, ref_shape, rotation)
    pc = _pc_matrix(parity, angle)
    native = tangent_wcs(fid, (0.0, 0.0), pc, scale, (2, 2))
    verts = np.vstack(footprints)
    nxv, nyv = sky_to_pixel(native, verts[:, 0], verts[:, 1])
    dmin = np.array([nxv.min(), nyv.min()])
    dmax = np.array([nxv.max(), nyv.max()])
    if crpix is None:
        # the footprints' lowest edges on the first pixel's lower edges (-0.5)
        offsets = -dmin - 0.5
    else:
        offsets = np.array([float(crpix[0]), float(crpix[1])])
    dmax = dmax + offsets
    if output_shape is None:
        span = (dmax - (dmin + offsets)) * scale  # deg
        # enough pixels that the last one's upper edge (n - 0.5) reaches the highest edge, so
        # no input pixel falls off the grid (flux is conserved at the borders)
        nx, ny = (math.ceil(v + 0.5 - 1e-3) for v in dmax)  # 1e-3 px: WCS round-off
    else:
        nx, ny = int(output_shape[0]), int(output_shape[1])
        span = np.array([nx, ny]) * scale
    npix = nx * ny
    if max_pixels and max_pixels > 0 and npix > max_pixels:
        raise ParameterError(
            f"resample: the output grid would be {nx} x {ny} = {npix:.3g} pixels "
            f"({span[0]:.3g} x {span[1]:.3g} deg at {scale * 3600:.4g} arcsec/pixel), more "
            f"than max_output_pixels={max_pixels}; are the inputs really one field? (set "
            "output_shape/pixel_scale, or raise max_output_pixels)")
    if nx < 2 or ny < 2:
        raise ParameterError(f"resample: the output grid would be {nx} x {ny} pixels, too "
                             "small (check output_shape, crpix and pixel_scale)")
    wcs = tangent_wcs(fid, (float(offsets[0]), float(offsets[1])), pc, scale, (ny, nx),
                      getattr(ref_wcs, "input_frame", None),
                      getattr(ref_wcs, "output_frame", None))
    return OutputGrid(wcs=wcs, shape=(ny, nx), pixel_scale=scale * 3600.0,
                      pixel_scale_ratio=ratio)


def grid_from_wcs(wcs: Any, output_shape: tuple[int, int] | None = None,
                  pixel_scale: float | None = None) -> OutputGrid:
    """An :class:`OutputGrid` from a user's WCS (``output_wcs``); shape (nx, ny) optional.

    The shape comes from ``output_shape``, else the WCS's ``array_shape``, else its bounding
    box; the pixel scale (arcsec) from ``pixel_scale``, else the WCS's mean pixel area.
    """
    if output_shape is not None:
        nx, ny = (int(v) for v in output_shape)
    elif getattr(wcs, "array_shape", None) is not None:
        ny, nx = (int(v) for v in wcs.array_shape)
    elif getattr(wcs, "bounding_box", None) is not None:
        (_, x1), (_, y1) = bounding_box(wcs, (0, 0))
        nx, ny = int(x1 + 0.5), int(y1 + 0.5)
    else:
        raise ParameterError("resample.output_wcs: the WCS has no array_shape, pixel_shape "
                             "or bounding_box; give output_shape")
    wcs.pixel_shape = (nx, ny)
    if pixel_scale is None:
        pixel_scale = math.degrees(math.sqrt(mean_pixel_area(wcs, (ny, nx)))) * 3600.0
    return OutputGrid(wcs=wcs, shape=(ny, nx), pixel_scale=float(pixel_scale),
                      pixel_scale_ratio=None)


def read_output_wcs(path: str, output_shape: tuple[int, int] | None = None) -> OutputGrid:
    """Read an ``output_wcs`` ASDF file (tree keys ``wcs``; optional ``pixel_scale`` arcsec,
    ``pixel_area``, ``pixel_shape``, ``array_shape``), as officially."""
    import asdf

    from ..errors import input_error

    try:
        with asdf.open(path, lazy_load=False, memmap=False) as af:
            tree = dict(af.tree)
    except (OSError, ValueError) as exc:
        raise input_error(path, f"not a readable ASDF file ({exc})") from None
    wcs = tree.get("wcs")
    if wcs is None:
        raise input_error(path, "no 'wcs' in the ASDF tree")
    scale = tree.get("pixel_scale")
    if scale is None and tree.get("pixel_area") is not None:
        scale = math.sqrt(float(tree["pixel_area"]))
    if output_shape is None and getattr(wcs, "array_shape", None) is None:
        if tree.get("array_shape") is not None:
            output_shape = tuple(tree["array_shape"])[::-1]
        elif tree.get("pixel_shape") is not None:
            output_shape = tuple(tree["pixel_shape"])
    return grid_from_wcs(wcs, output_shape, scale)
