"""Source catalogs of one exposure for tweakreg: detection on SCI, shape cuts, sky positions.

Finders (``starfinder``): ``iraf`` (the official default) and ``dao`` find local maxima of the
DAOFIND-convolved image above ``snr_threshold`` times the background RMS and cut on sharpness
and roundness (IRAF: moment FWHM / kernel FWHM and 1 - minor/major axis ratio; DAO: central
pixel excess over the convolved amplitude and |moment ellipticity|); ``segmentation`` keeps
connected groups of at least ``npixels`` pixels above the threshold (no deblending). All
three then measure Gaussian-windowed centroids (see :mod:`webbflow.kernels.detect`).
The catalog keeps the ``brightest`` sources by flux and drops those whose peak reaches
``peakmax``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from astropy.table import Table

from ..kernels import detect

__all__ = ["CATALOG_COLUMNS", "FinderParams", "find_sources", "make_catalog"]

#: catalog columns (name, unit) in order; x, y 0-based pixels of the science array
CATALOG_COLUMNS = (("id", None), ("x", "pix"), ("y", "pix"), ("flux", None), ("peak", None),
                   ("fwhm", "pix"), ("sharpness", None), ("roundness", None),
                   ("ra", "deg"), ("dec", "deg"))


@dataclass(frozen=True)
class FinderParams:
    """Source-finding parameters (names and meanings of the tweakreg step's)."""

    starfinder: str = "iraf"
    snr_threshold: float = 10.0
    kernel_fwhm: float = 2.5
    bkg_boxsize: int = 400
    minsep_fwhm: float = 0.0
    sigma_radius: float = 1.5
    sharplo: float = 0.5
    sharphi: float = 2.0
    roundlo: float = 0.0
    roundhi: float = 0.2
    brightest: int | None = 200
    peakmax: float | None = None
    npixels: int = 10
    connectivity: int = 8

    @classmethod
    def from_step(cls, step: Any) -> FinderParams:
        """Take the fields from a step's parameters of the same names."""
        return cls(**{f: getattr(step, f) for f in cls.__dataclass_fields__})


def find_sources(data: np.ndarray, bad: np.ndarray, p: FinderParams) -> dict[str, np.ndarray]:
    """Detect point-like sources.

    Parameters
    ----------
    data : float array [ny, nx]
        Science image (any surface-brightness unit); native float32 is used as it is (its
        values convert to float64 exactly), anything else as float64.
    bad : bool array [ny, nx]
        Pixels not to use (DO_NOT_USE, non-finite).
    p : FinderParams

    Returns
    -------
    dict of arrays [n]
        ``x``, ``y`` (0-based pixels), ``flux`` (sum in the measurement box, background
        subtracted), ``peak``, ``fwhm`` (pixels), ``sharpness``, ``roundness``; brightest first.
    """
    data = np.asarray(data)
    if data.dtype != np.dtype(np.float32):  # native float32 kept, anything else float64
        data = data.astype(np.float64, copy=False)
    data = np.ascontiguousarray(data)
    bad = np.ascontiguousarray(bad | ~np.isfinite(data))
    # the meshes, then only what is used of their interpolations: the background-subtracted
    # image (0 at bad pixels) and the RMS at the good pixels
    bkg_mesh, rms_mesh, box = detect.background_meshes(data, bad, p.bkg_boxsize)
    sub = detect.subtract_mesh(data, bad, bkg_mesh, box)
    conv = detect.dao_convolve(sub, bad, p.kernel_fwhm, p.sigma_radius, clean=True)
    good_rms = detect.mesh_values(rms_mesh, box, bad)
    noise = float(np.median(good_rms, overwrite_input=True)) if good_rms.size else 0.0
    threshold = p.snr_threshold * noise
    if p.starfinder == "segmentation":
        ys, xs, _ = detect.label_segments(conv, threshold, p.npixels, p.connectivity)
    else:
        min_sep = max(2.0, int(p.minsep_fwhm * p.kernel_fwhm + 0.5))
        ys, xs = detect.find_peaks(conv, threshold, min_sep)
    meas = detect.measure_sources(sub, bad, ys, xs, p.kernel_fwhm)
    amp = conv[ys, xs]
    x, y, flux, peak, fwhm, round_iraf, round_mom, dao_sharp = meas.T
    if p.starfinder == "iraf":
        fwhm, rnd = detect.iraf_shapes(sub, bad, ys, xs, p.kernel_fwhm, p.sigma_radius).T
        sharp = fwhm / p.kernel_fwhm
    elif p.starfinder == "dao":
        with np.errstate(divide="ignore", invalid="ignore"):
            sharp = dao_sharp / amp
        rnd = np.abs(round_mom)
    else:
        sharp = fwhm / p.kernel_fwhm
        rnd = round_iraf
    keep = np.isfinite(x) & np.isfinite(y) & (flux > 0)
    if p.starfinder != "segmentation":
        keep &= (sharp >= p.sharplo) & (sharp <= p.sharphi)
        keep &= (rnd >= p.roundlo) & (rnd <= p.roundhi)
    if p.peakmax is not None:
        keep &= peak < p.peakmax
    ny, nx = data.shape
    keep &= (x > -0.5) & (x < nx - 0.5) & (y > -0.5) & (y < ny - 0.5)
    idx = np.nonzero(keep)[0]
    idx = idx[np.argsort(-flux[idx], kind="stable")]
    if p.brightest is not None and p.brightest > 0:
        idx = idx[:p.brightest]
    return {"x": x[idx], "y": y[idx], "flux": flux[idx], "peak": peak[idx],
            "fwhm": fwhm[idx], "sharpness": sharp[idx], "roundness": rnd[idx]}


def make_catalog(model: Any, p: FinderParams, bad_bits: int) -> Table:
    """The tweakreg catalog of an image model: sources and their (RA, Dec) through
    ``model.meta.wcs``.

    Parameters
    ----------
    model : ImageModel
        With ``data`` [ny, nx], ``dq`` and ``meta.wcs``.
    p : FinderParams
    bad_bits : int
        DQ bits marking pixels not to use.

    Returns
    -------
    astropy Table
        Columns :data:`CATALOG_COLUMNS`, ``meta["name"]`` the file stem.
    """
    data = model.data  # float32 kept (find_sources' arithmetic is float64)
    dq = model.dq if getattr(model, "dq", None) is not None else np.zeros(data.shape, np.uint32)
    bad = (np.asarray(dq) & np.uint32(bad_bits)) != 0
    src = find_sources(data, bad, p)
    return catalog_table(src, model.meta.wcs, name=_stem(model))


def catalog_table(src: dict[str, np.ndarray], wcs: Any, name: str = "") -> Table:
    """Table of ``src`` (dict of columns incl. x, y) with ids and (RA, Dec) from ``wcs``."""
    n = len(src["x"])
    if wcs is not None and n:
        ra, dec = wcs(src["x"], src["y"], with_bounding_box=False)
        ra = np.mod(np.asarray(ra, dtype=float), 360.0)
    else:
        ra = dec = np.full(n, np.nan)
    cols: dict[str, Any] = {"id": np.arange(1, n + 1)}
    for key, _ in CATALOG_COLUMNS[1:-2]:
        cols[key] = np.asarray(src.get(key, np.full(n, np.nan)), dtype=float)
    cols["ra"] = np.asarray(ra, dtype=float)
    cols["dec"] = np.asarray(dec, dtype=float)
    table = Table(cols)
    for key, unit in CATALOG_COLUMNS:
        if unit:
            table[key].unit = unit
    table.meta["name"] = name
    return table


def _stem(model: Any) -> str:
    name = str(model.meta.filename or "image")
    return name.rsplit(".", 1)[0] if name.endswith((".fits", ".asdf")) else name


def read_user_catalog(path: str) -> Table:
    """A user catalog (any astropy-readable table) with x/y or xcentroid/ycentroid columns
    (0-based pixels)."""
    table = Table.read(path)
    for a, b in (("xcentroid", "x"), ("ycentroid", "y")):
        if b not in table.colnames and a in table.colnames:
            table.rename_column(a, b)
    if "x" not in table.colnames or "y" not in table.colnames:
        from ..errors import input_error

        raise input_error(path, "catalog needs columns x and y (or xcentroid and ycentroid)")
    return table
