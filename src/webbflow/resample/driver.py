"""Accumulate one or many exposures onto an output grid (the work of ``resample``).

Inputs are paths, models or Image3's exposure records (:class:`~webbflow.align.exposure.
Exposure`: metadata with the WCS object in memory, pixels in a file). A path is opened only
while it is being used (once to read its footprint when the header has no S_REGION, once to
drizzle it) and released before the next, so memory stays flat in the number of exposures; a
record's footprint comes from its metadata and only its arrays are read (no WCS parsed);
models given in memory are only read.

Per input (as the official step): pixels whose data, ERR or a variance is not finite, or
whose DQ has a bad bit (``good_bits``), get weight 0; the weight is ``1 / VAR_RNOISE``
(``ivm``; 1 everywhere when the input has no VAR_RNOISE) or the measurement time
(``exptime``; TMEASURE, else EFFEXPTM); an unsubtracted sky level (``meta.background``) is
removed; then SCI (and the square roots of the variances, for the error model) are drizzled.
Each input's resampled variances are combined with per-output-pixel weights ``w`` (``ivm``:
1 / its resampled VAR_RNOISE; ``exptime``: its time): ``var = sum(w**2 var_i) / (sum w)**2 /
pixel_scale_ratio**2``; ERR = sqrt(sum of the three variances).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..align.exposure import Exposure
from ..datamodels import DataModel, ImageModel
from ..datamodels import open as open_model
from ..datamodels.dqflags import PIXEL, interpret_bit_flags
from ..errors import InputError, ParameterError, input_error
from ..kernels.drizzle import (
    KERNELS,
    combine_variance,
    drizzle_layers,
    finalize_variance,
    pixmap_extent,
)
from .grid import DEFAULT_MAX_PIXELS, OutputGrid, build_grid, mean_pixel_area
from .pixmap import footprint, parse_s_region, pixel_map, resample_range
from .pixmap_store import PixmapStore

__all__ = [
    "DrizzleOptions",
    "GridOptions",
    "Resampler",
    "bad_bits",
    "group_id",
    "input_weight",
    "resample_inputs",
]

log = logging.getLogger("webbflow.resample")

VARIANCES = ("var_rnoise", "var_poisson", "var_flat")
_ARCSEC2_PER_SR = (math.degrees(1.0) * 3600.0) ** 2

Opener = Callable[[Any], DataModel]


@dataclass
class DrizzleOptions:
    """How inputs are combined (the official parameters of the same names).

    compute_err : ``"from_var"`` (ERR from the resampled variances), ``"driz_err"`` (ERR
    drizzled like SCI, as ``single`` does) or None.
    """

    pixfrac: float = 1.0
    kernel: str = "square"
    fillval: str = "NAN"
    weight_type: str = "ivm"
    good_bits: str | int | None = "~DO_NOT_USE+NON_SCIENCE"
    enable_ctx: bool = True
    enable_var: bool = True
    report_var: bool = True
    compute_err: str | None = "from_var"
    pixmap_stepsize: float = 1.0
    pixmap_order: int = 1

    def fill_value(self) -> float:
        """The fill value as a float (``NaN``/``INDEF`` -> NaN)."""
        text = str(self.fillval).strip()
        if text.upper() in ("NAN", "INDEF", "NONE", ""):
            return float("nan")
        try:
            return float(text)
        except ValueError:
            raise ParameterError(f"resample.fillval: expected a number, NaN or INDEF, got "
                                 f"{self.fillval!r}") from None


@dataclass
class GridOptions:
    """The output grid parameters (official names; ``output_shape`` and ``crpix`` x first)."""

    pixel_scale_ratio: float = 1.0
    pixel_scale: float | None = None
    rotation: float | None = None
    output_shape: tuple[int, int] | None = None
    crpix: tuple[float, float] | None = None
    crval: tuple[float, float] | None = None
    max_pixels: int = DEFAULT_MAX_PIXELS


def bad_bits(good_bits: str | int | None) -> int:
    """DQ bits that reject a pixel, from the official ``good_bits`` syntax.

    ``None`` rejects nothing; an integer or ``"4+JUMP_DET"`` lists bits to ignore (all others
    reject); a leading ``~`` inverts: ``"~DO_NOT_USE+NON_SCIENCE"`` rejects only those.
    """
    if good_bits is None:
        return 0
    full = 0xFFFFFFFF
    if isinstance(good_bits, int | np.integer):
        return full & ~int(good_bits)
    text = str(good_bits).strip()
    if text.upper() in ("", "NONE"):
        return 0
    invert = text.startswith("~")
    text = text.lstrip("~").strip().strip("()")
    value = 0
    for part in text.replace(",", "+").replace("|", "+").split("+"):
        part = part.strip()
        if not part:
            continue
        try:
            value |= int(part)
        except ValueError:
            try:
                value |= interpret_bit_flags(part, PIXEL)
            except KeyError:
                raise ParameterError(f"resample.good_bits: unknown DQ flag {part!r} in "
                                     f"{good_bits!r}") from None
    return value if invert else full & ~value


def _array(model: DataModel, name: str) -> np.ndarray | None:
    return getattr(model, name) if model.has(name) else None


def _valid(model: DataModel, bad_mask: int) -> np.ndarray:
    """Pixels that may contribute: finite data/ERR/variances, no rejecting DQ bit."""
    ok = np.isfinite(model.data)
    for name in ("err", *VARIANCES):
        arr = _array(model, name)
        if arr is not None and arr.shape == model.data.shape:
            ok &= np.isfinite(arr)
    dq = _array(model, "dq")
    if dq is not None and bad_mask:
        ok &= (dq & np.uint32(bad_mask)) == 0
    return ok


def measurement_time(model: DataModel) -> float:
    """TMEASURE, else EFFEXPTM (s), as the official ``exptime`` weighting."""
    t = model.meta.exposure.measurement_time
    if t is None:
        t = model.meta.exposure.exposure_time
    if t is None:
        raise input_error(model.meta.filename or "<model>",
                          "weight_type=exptime needs TMEASURE or EFFEXPTM")
    return float(t)


def input_weight(model: DataModel, weight_type: str, bad_mask: int) -> np.ndarray:
    """(ny, nx) float32 drizzle weight of each input pixel (0: excluded)."""
    ok = _valid(model, bad_mask)
    if weight_type == "ivm":
        rn = _array(model, "var_rnoise")
        if rn is None or rn.shape != model.data.shape:
            log.warning("%s: no VAR_RNOISE; weight 1 for every good pixel", model.meta.filename)
            w = np.ones(model.data.shape, dtype=np.float32)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                w = (1.0 / rn).astype(np.float32)
            w[~np.isfinite(w)] = 0.0
    elif weight_type == "exptime":
        w = np.full(model.data.shape, measurement_time(model), dtype=np.float32)
    else:
        raise ParameterError(f"resample.weight_type: {weight_type!r} is not 'ivm' or 'exptime'")
    w[~ok] = 0.0
    return w


def group_id(model_or_meta: Any, fallback: str = "") -> str:
    """Exposure identifier grouping detectors of one exposure (official ``group_id``)."""
    obs = model_or_meta.meta.observation if hasattr(model_or_meta, "meta") else None
    if obs is None:
        return fallback
    parts = [obs.program_number, obs.observation_number, obs.visit_number, obs.visit_group,
             obs.sequence_id, obs.activity_id, obs.exposure_number]
    if any(p is None for p in parts):
        return fallback or str(model_or_meta.meta.filename)
    program, observation, visit, vgroup, seq, act, expnum = (str(p) for p in parts)
    return f"jw{program}{observation}{visit}_{vgroup}{seq}{act}_{expnum}"


def _ctx_bit(index: int) -> tuple[int, int]:
    plane, b = divmod(index, 32)
    return plane, int(np.array(1 << b, dtype=np.uint32).view(np.int32))


@dataclass
class _TimeTotals:
    exposure_time: float = 0.0
    measurement_time: float = 0.0
    all_measured: bool = True
    duration: float = 0.0
    starts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def add(self, model: DataModel, gid: str) -> None:
        if gid in self.groups:
            return
        self.groups.append(gid)
        exp = model.meta.exposure
        if exp.start_time is not None:
            self.starts.append(float(exp.start_time))
        if exp.end_time is not None:
            self.ends.append(float(exp.end_time))
        self.exposure_time += float(exp.exposure_time or 0.0)
        if exp.measurement_time is None:
            self.all_measured = False
            self.measurement_time += float(exp.exposure_time or 0.0)
        else:
            self.measurement_time += float(exp.measurement_time)
        self.duration += float(exp.duration or 0.0)


class Resampler:
    """Drizzle inputs one at a time onto ``grid``; :meth:`finalize` gives the i2d model.

    Parameters
    ----------
    grid : OutputGrid
        Output WCS and shape.
    options : DrizzleOptions
        Kernel, weights, error model.
    n_inputs : int
        Number of inputs expected (context planes: ceil(n / 32)).
    """

    def __init__(self, grid: OutputGrid, options: DrizzleOptions, n_inputs: int = 1) -> None:
        if options.kernel not in KERNELS:
            raise ParameterError(f"resample.kernel: {options.kernel!r} is not one of "
                                 f"{', '.join(KERNELS)}")
        if not 0.0 < options.pixfrac <= 1.0:
            raise ParameterError(f"resample.pixfrac: {options.pixfrac} is not in (0, 1]")
        self.grid = grid
        self.options = options
        self.bad_mask = bad_bits(options.good_bits)
        ny, nx = grid.shape
        self.use_var = options.enable_var or options.compute_err == "from_var"
        self.driz_err = options.compute_err == "driz_err"
        nlayers = 1 + int(self.driz_err) + (len(VARIANCES) if self.use_var else 0)
        self._out = np.empty((nlayers, ny, nx), dtype=np.float32)
        self._out[0] = options.fill_value()
        if self.driz_err:
            self._out[1] = options.fill_value()
        self._wht = np.zeros((2 if self.use_var else 1, ny, nx), dtype=np.float32)
        slots = [0] * (1 + int(self.driz_err)) + [1] * (nlayers - 1 - int(self.driz_err))
        self._slot = np.array(slots, dtype=np.int64)
        nplanes = max(1, (max(n_inputs, 1) - 1) // 32 + 1) if options.enable_ctx else 1
        self._con = np.zeros((nplanes, ny, nx), dtype=np.int32)
        if self.use_var:
            self._wsum = np.full((len(VARIANCES), ny, nx), np.nan, dtype=np.float32)
            self._wt = np.zeros((len(VARIANCES), ny, nx), dtype=np.float32)
        self.n_added = 0
        self.nmiss = 0
        self.times = _TimeTotals()
        self.template: DataModel | None = None
        self.bunit: str | None = None

    # ----------------------------------------------------------------- accumulation
    def _pixel_scale_ratio(self, model: DataModel) -> float:
        if self.grid.pixel_scale_ratio is None:
            area = model.meta.photometry.pixelarea_steradians
            if area is None or not area > 0:
                area = mean_pixel_area(model.meta.wcs, model.data.shape)
            in_scale = math.degrees(math.sqrt(float(area))) * 3600.0
            self.grid.pixel_scale_ratio = self.grid.pixel_scale / in_scale
        return float(self.grid.pixel_scale_ratio)

    def add(self, model: DataModel, gid: str | None = None,
            pixmap: np.ndarray | None = None) -> None:
        """Drizzle one 2-D image model (not modified) onto the output.

        ``pixmap``: its ``(ny, nx, 2)`` map onto the grid when already known (else computed
        with the options' ``pixmap_stepsize``/``pixmap_order``).
        """
        name = model.meta.filename or "<model>"
        if model.data.ndim != 2:
            raise input_error(name, f"resample needs a 2-D image, SCI has {model.data.ndim} "
                              "dimensions")
        wcs = model.meta.wcs
        if wcs is None:
            raise input_error(name, "no WCS (meta.wcs): run assign_wcs first")
        psr = self._pixel_scale_ratio(model)
        opts = self.options
        shape = model.data.shape
        weight = input_weight(model, opts.weight_type, self.bad_mask)
        data = model.data
        bkg = model.meta.background
        if bkg.level is not None and not bkg.subtracted:
            data = data - np.float32(bkg.level)
        layers = [data]
        if self.driz_err:
            layers.append(model.err)
        if self.use_var:
            for vname in VARIANCES:
                arr = _array(model, vname)
                if arr is None or arr.shape != shape:
                    arr = np.full(shape, np.nan, dtype=np.float32)
                with np.errstate(invalid="ignore"):
                    layers.append(np.sqrt(arr))
        stack = np.ascontiguousarray(np.stack(layers).astype(np.float32, copy=False))
        del layers
        if pixmap is None:
            pixmap = pixel_map(wcs, self.grid.wcs, shape, opts.pixmap_stepsize,
                               opts.pixmap_order)
        xmin, xmax, ymin, ymax = resample_range(shape, wcs)
        # kernels reach at most 3 input pixels (lanczos3) from a drop's centre
        win = _window(pixmap, self.grid.shape, math.ceil(3.0 / psr) + 2)
        if self.use_var:
            # this input's variance layers are drizzled afresh (only where it can land)
            nv = len(VARIANCES)
            self._out[(slice(-nv, None), *win)] = np.nan
            self._wht[(1, *win)] = 0.0
        plane, bit = _ctx_bit(self.n_added)
        if plane >= self._con.shape[0]:
            extra = np.zeros((plane + 1 - self._con.shape[0], *self._con.shape[1:]),
                             dtype=np.int32)
            self._con = np.concatenate([self._con, extra])
        self.nmiss += drizzle_layers(
            stack, weight, np.ascontiguousarray(pixmap, dtype=np.float64), self._out,
            self._wht, self._slot, self._con, plane, bit, opts.enable_ctx,
            KERNELS[opts.kernel], float(opts.pixfrac), psr, 1.0, xmin, xmax, ymin, ymax)
        if self.use_var:
            kind = 0 if opts.weight_type == "ivm" else 1
            tmeas = measurement_time(model) if kind == 1 else 0.0
            nv = len(VARIANCES)
            combine_variance(self._out[(slice(-nv, None), *win)], 0, kind, tmeas,
                             self._wsum[(slice(None), *win)], self._wt[(slice(None), *win)])
        self.times.add(model, gid or group_id(model, name))
        if self.template is None:
            self.template = _detached_template(model)
            self.bunit = model.meta.bunit_data
        self.n_added += 1
        log.info("Drizzled %s (%d of the grid's %dx%d pixels touched so far)", name,
                 int(np.count_nonzero(self._wht[0])), self.grid.shape[1], self.grid.shape[0])

    # ----------------------------------------------------------------- output
    def finalize(self) -> ImageModel:
        """The resampled ImageModel (SCI, WHT, CON, ERR, VAR_*; i2d metadata)."""
        if self.n_added == 0:
            raise InputError("resample: no input images")
        opts = self.options
        ny, nx = self.grid.shape
        out = ImageModel()
        template = self.template
        if template is not None:
            for key, value in template.meta.items():
                if not key.startswith(("wcsinfo.", "wcs", "filename", "photometry.")):
                    out.meta.set(key, value)
            out.extra_fits = {k: list(v) for k, v in template.extra_fits.items()}
        out.data = self._out[0].copy()
        out.wht = self._wht[0].copy()
        if opts.enable_ctx:
            out.con = self._con[: max(1, (self.n_added - 1) // 32 + 1)].copy()
        psr = float(self.grid.pixel_scale_ratio or 1.0)
        if self.use_var:
            var = np.empty((len(VARIANCES), ny, nx), dtype=np.float32)
            err = np.empty((ny, nx), dtype=np.float32)
            finalize_variance(self._wsum, self._wt, 1.0 / psr**2, var, err)
            if opts.enable_var and opts.report_var:
                for k, vname in enumerate(VARIANCES):
                    setattr(out, vname, var[k])
            else:
                for vname in VARIANCES:
                    setattr(out, vname, np.full((ny, nx), np.nan, dtype=np.float32))
            if opts.compute_err == "from_var":
                out.err = err
        if self.driz_err:
            out.err = self._out[1] / np.float32(psr)
        if opts.compute_err is None:
            out.err = np.full((ny, nx), np.nan, dtype=np.float32)
        out.dq = np.zeros((ny, nx), dtype=np.uint32)
        self._write_meta(out)
        return out

    def _write_meta(self, out: ImageModel) -> None:
        meta, grid, opts, t = out.meta, self.grid, self.options, self.times
        meta.wcs = grid.wcs
        meta.bunit_data = self.bunit or "MJy/sr"
        meta.bunit_err = self.bunit or "MJy/sr"
        meta.photometry.pixelarea_steradians = grid.pixel_area_sr
        meta.photometry.pixelarea_arcsecsq = grid.pixel_scale**2
        meta.resample.pointings = len(t.groups)
        meta.resample.pixel_scale_ratio = grid.pixel_scale_ratio
        meta.resample.pixfrac = float(opts.pixfrac)
        meta.resample.kernel = opts.kernel
        meta.resample.fillval = str(opts.fillval)
        meta.resample.weight_type = opts.weight_type
        meta.exposure.exposure_time = t.exposure_time
        meta.exposure.effective_exposure_time = t.exposure_time
        meta.exposure.measurement_time = t.measurement_time if t.all_measured else None
        meta.exposure.duration = t.duration
        meta.exposure.elapsed_exposure_time = t.duration
        if t.starts:
            meta.exposure.start_time = min(t.starts)
        if t.ends:
            meta.exposure.end_time = max(t.ends)
        _write_wcsinfo(out, grid)


def _write_wcsinfo(model: ImageModel, grid: OutputGrid) -> None:
    """FITS WCS keywords (CRPIX 1-based, CRVAL, CDELT, PC, S_REGION) of a tangent grid."""
    w = model.meta.wcsinfo
    ny, nx = grid.shape
    try:
        fits_wcs = grid.wcs.to_fits_sip(bounding_box=((-0.5, nx - 0.5), (-0.5, ny - 0.5)),
                                        max_pix_error=0.01, degree=1)
    except Exception as exc:  # a user WCS astropy cannot fit keeps only S_REGION
        log.debug("no FITS WCS keywords for the output: %s", exc)
        fits_wcs = None
    if fits_wcs is not None:
        for key in ("CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2", "CTYPE1", "CTYPE2", "CUNIT1",
                    "CUNIT2", "PC1_1", "PC1_2", "PC2_1", "PC2_2", "CDELT1", "CDELT2"):
            if key in fits_wcs:
                value = fits_wcs[key]
                if key.startswith("CTYPE"):
                    value = str(value).replace("-SIP", "")
                w.set(key.lower(), value)
        for key in ("CD1_1", "CD1_2", "CD2_1", "CD2_2"):
            if key in fits_wcs:
                w.set(key.replace("CD", "pc").lower(), fits_wcs[key])
                w.set(f"cdelt{key[2]}", 1.0)
    corners = footprint(grid.wcs, grid.shape)
    w.s_region = "POLYGON ICRS " + " ".join(f"{v:.9f}" for v in corners.ravel())


# --------------------------------------------------------------------- input handling
@dataclass
class _InputInfo:
    item: Any
    name: str
    gid: str
    footprint: np.ndarray | None


def _name(item: Any) -> str:
    if isinstance(item, DataModel):
        return item.meta.filename or "<model>"
    if isinstance(item, Exposure):
        return item.name
    return Path(item).name


def _header_info(path: Path) -> tuple[np.ndarray | None, str | None]:
    """S_REGION footprint and group id from the headers alone (no array is read)."""
    from astropy.io import fits

    try:
        with fits.open(path, memmap=True) as hdul:
            prim = hdul[0].header
            sci = hdul["SCI"].header if "SCI" in hdul else prim
            fp = parse_s_region(sci.get("S_REGION") or prim.get("S_REGION"))
            keys = ("PROGRAM", "OBSERVTN", "VISIT", "VISITGRP", "SEQ_ID", "ACT_ID", "EXPOSURE")
            vals = [prim.get(k) for k in keys]
            gid = None
            if all(v is not None for v in vals):
                p, o, v, vg, s, a, e = (str(x) for x in vals)
                gid = f"jw{p}{o}{v}_{vg}{s}{a}_{e}"
            return fp, gid
    except OSError as exc:
        raise input_error(path, f"not a readable FITS file ({exc})") from None


def _survey(items: Sequence[Any], opener: Opener, need_footprints: bool
            ) -> tuple[list[_InputInfo], dict[str, Any]]:
    """Footprints and group ids of every input, and the first input's WCS facts."""
    infos: list[_InputInfo] = []
    first: dict[str, Any] = {}
    for index, item in enumerate(items):
        name = _name(item)
        fp = gid = None
        if isinstance(item, Exposure):  # metadata and WCS already in memory
            if item.meta.wcs is None:
                raise input_error(name, "no WCS (meta.wcs): run assign_wcs first")
            fp = parse_s_region(item.meta.wcsinfo.s_region)
            if fp is None:
                fp = footprint(item.meta.wcs, item.shape)
            if index == 0:
                first = {"wcs": item.meta.wcs, "shape": item.shape,
                         "wcsinfo": item.meta.wcsinfo.to_flat_dict()}
            infos.append(_InputInfo(item, name, group_id(item, name), fp))
            continue
        if not isinstance(item, DataModel) and index > 0:
            path = Path(item)
            if not path.exists():
                raise input_error(path, "no such file")
            fp, gid = _header_info(path)
        if index == 0 or (need_footprints and fp is None) or gid is None:
            model = item if isinstance(item, DataModel) else opener(item)
            if model.meta.wcs is None:
                raise input_error(name, "no WCS (meta.wcs): run assign_wcs first")
            if model.data.ndim != 2:
                raise input_error(name, f"resample needs 2-D images, SCI has "
                                  f"{model.data.ndim} dimensions")
            if fp is None:
                fp = parse_s_region(model.meta.wcsinfo.s_region)
                if fp is None:
                    fp = footprint(model.meta.wcs, model.data.shape)
            gid = group_id(model, name)
            if index == 0:
                first = {"wcs": model.meta.wcs, "shape": model.data.shape,
                         "wcsinfo": model.meta.wcsinfo.to_flat_dict()}
            del model
        infos.append(_InputInfo(item, name, gid, fp))
    return infos, first


def _output_name(filename: str, suffix: str) -> str:
    stem, ext = os.path.splitext(filename)
    root = "_".join(stem.split("_")[:-1]) or stem
    return f"{root}_{suffix}{ext or '.fits'}"


def resample_inputs(items: Sequence[Any], options: DrizzleOptions,
                    grid_options: GridOptions | None = None, *,
                    grid: OutputGrid | None = None, single: bool = False,
                    in_memory: bool = True, output_dir: str | None = None,
                    opener: Opener = open_model,
                    pixmap_store: PixmapStore | None = None) -> ImageModel | list[Any]:
    """Resample ``items`` (paths or 2-D image models) onto one grid.

    Parameters
    ----------
    items : sequence of path, DataModel or Exposure
        Inputs, paths opened one at a time through ``opener`` (records: only their
        arrays are read, their WCS objects are used as they are).
    options, grid_options
        Drizzle and output-grid parameters (grid_options ignored when ``grid`` is given).
    grid : OutputGrid, optional
        A fixed output grid (the ``output_wcs`` parameter).
    single : bool
        One output per exposure (inputs sharing a group id are combined), on the common grid.
    in_memory : bool
        With ``single``: False saves each output as ``<root>_outlier_i2d.fits`` in
        ``output_dir`` and returns the paths.
    pixmap_store : PixmapStore, optional
        Pixel maps computed earlier are taken from it and new ones put in it.

    Returns
    -------
    ImageModel, or (single) a list of ImageModel or paths
    """
    if not items:
        raise InputError("resample: no input images")
    infos, first = _survey(items, opener, grid is None)
    if grid is None:
        g = grid_options or GridOptions()
        grid = build_grid([i.footprint for i in infos], first["wcs"], first["shape"],
                          first["wcsinfo"], pixel_scale_ratio=g.pixel_scale_ratio,
                          pixel_scale=g.pixel_scale, rotation=g.rotation,
                          output_shape=g.output_shape, crpix=g.crpix, crval=g.crval,
                          max_pixels=g.max_pixels)
    log.info("Output grid %d x %d pixels at %.5g arcsec", grid.shape[1], grid.shape[0],
             grid.pixel_scale)
    if not single:
        return _drizzle_group(infos, grid, options, opener, pixmap_store)
    groups: dict[str, list[_InputInfo]] = {}
    for info in infos:
        groups.setdefault(info.gid, []).append(info)
    outputs: list[Any] = []
    for members in groups.values():
        model = _drizzle_group(members, OutputGrid(grid.wcs, grid.shape, grid.pixel_scale,
                                                   grid.pixel_scale_ratio), options, opener,
                               pixmap_store)
        model.meta.filename = _output_name(members[0].name, "outlier_i2d")
        if in_memory:
            outputs.append(model)
        else:
            path = Path(output_dir or ".") / model.meta.filename
            outputs.append(model.save(path))
            del model
    return outputs


def _drizzle_group(infos: Sequence[_InputInfo], grid: OutputGrid, options: DrizzleOptions,
                   opener: Opener, store: PixmapStore | None = None) -> ImageModel:
    acc = Resampler(grid, options, len(infos))
    for info in infos:
        model = _load(info.item, opener)
        pixmap = None
        wcs = model.meta.wcs
        if store is not None and wcs is not None and model.data.ndim == 2:
            args = (wcs, model.data.shape, grid.wcs, grid.shape, options.pixmap_stepsize,
                    options.pixmap_order)
            pixmap = store.get(*args)
            if pixmap is None:
                pixmap = pixel_map(wcs, grid.wcs, model.data.shape, options.pixmap_stepsize,
                                   options.pixmap_order)
                store.put(*args, pixmap)
        acc.add(model, info.gid, pixmap)
        del model, pixmap
    return acc.finalize()


def _load(item: Any, opener: Opener) -> DataModel:
    """An input's model: itself, a record's arrays under its metadata, or ``opener(path)``."""
    if isinstance(item, DataModel):
        return item
    if isinstance(item, Exposure):
        return item.open()
    return opener(item)


def _window(pixmap: np.ndarray, shape: tuple[int, int], margin: int) -> tuple[slice, slice]:
    """Output rows and columns within ``margin`` pixels of the mapped input pixel centres."""
    ny, nx = shape
    ext = np.empty(4)
    if not pixmap_extent(np.ascontiguousarray(pixmap, dtype=np.float64), ext):
        return slice(0, 0), slice(0, 0)
    x0, x1, y0, y1 = ext
    rows = slice(min(max(math.floor(y0) - margin, 0), ny),
                 min(max(math.ceil(y1) + margin + 1, 0), ny))
    cols = slice(min(max(math.floor(x0) - margin, 0), nx),
                 min(max(math.ceil(x1) + margin + 1, 0), nx))
    return rows, cols


def _detached_template(model: DataModel | None) -> DataModel | None:
    """A metadata-only stand-in for the first input (so its arrays can be released)."""
    if model is None:
        return None
    stub = ImageModel()
    for key, value in model.meta.items():
        stub.meta.set(key, value)
    stub.extra_fits = {k: list(v) for k, v in model.extra_fits.items()}
    return stub
