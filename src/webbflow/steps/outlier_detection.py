"""outlier_detection (imaging): flag cosmic rays and other outliers against a stack median.

Input: a list of calibrated 2-D images (models or paths) or a Level-3 association (its first
product's science members). Every exposure (exposures sharing an observation group id are
combined) is drizzled onto the common grid by ``webbflow.resample`` (single mode); pixels below
``maskpt`` x the clipped mean weight are dropped; the NaN-median of the stack is computed row
block by row block (``kernels.outliers.nanmedian_stack``), so at most ``_MEDIAN_BUFFER`` bytes
of the stack are in memory whatever the number of exposures; the median is blotted back to
each exposure (bilinear, as officially in jwst 3.0) and compared with the ``snr``/``scale``
thresholds. Flagged pixels get ``OUTLIER | DO_NOT_USE`` in DQ and NaN in SCI/ERR/VAR_*.

Output: the flagged exposures, saved as ``<root>_crf.fits`` when ``save_results``.
``in_memory=False`` keeps nothing but one exposure in memory: the resampled singles go to disk
(``<root>_outlier_i2d.fits``; a temporary directory unless ``save_intermediate_results``) and
the flagged exposures are written as ``<root>_crf.fits`` (output_dir, else the current
directory), whose paths are returned.

Parameters are the official ones. ``kernel_size``, ``threshold_percent``,
``rolling_window_width`` and ``ifu_second_check`` concern spectroscopic/TSO modes and are
accepted and unused here; ``grow`` (a webbflow addition, default 0 = official behaviour)
dilates the final mask by that many pixels.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..align.exposure import Exposure, as_exposures, results_like
from ..datamodels import DataModel, ImageModel
from ..datamodels.dqflags import PIXEL
from ..errors import ParameterError, input_error
from ..kernels import outliers as K
from ..resample.driver import DrizzleOptions, GridOptions, bad_bits, resample_inputs
from ..resample.driver import group_id as resample_group_id
from ..resample.grid import OutputGrid, build_grid
from ..resample.pixmap import footprint, parse_s_region, pixel_map
from ..resample.pixmap_store import PixmapStore
from ..stpipe import naming
from ..stpipe.params import Param
from ..stpipe.step import Step
from .resample import read_association

__all__ = ["OutlierDetectionStep", "flag_model", "median_of_singles"]

#: bytes of resampled data held at once while computing the median
_MEDIAN_BUFFER = 64 * 1024 * 1024
_OUTLIER_BITS = PIXEL["OUTLIER"] | PIXEL["DO_NOT_USE"]
_VARS = ("var_poisson", "var_rnoise", "var_flat")


def _two_floats(text: str, name: str) -> tuple[float, float]:
    try:
        values = [float(v) for v in str(text).replace(",", " ").split()]
    except ValueError:
        values = []
    if len(values) != 2:
        raise ParameterError(f"outlier_detection.{name}: expected two numbers, got {text!r}")
    return values[0], values[1]


def weight_threshold(wht: np.ndarray, maskpt: float) -> float:
    """``maskpt`` x the 3-sigma-clipped (5 iterations) mean of the finite non-zero weights."""
    return K.clipped_mean(wht, 3.0, 5) * maskpt


def median_of_singles(singles: list[Any], thresholds: list[float],
                      buffer_bytes: int = _MEDIAN_BUFFER) -> np.ndarray:
    """NaN-median of resampled images, row block by row block.

    Parameters
    ----------
    singles : list of ImageModel or path
        Resampled images on one grid (SCI and WHT (ny, nx)); paths are read through memory
        maps, one row block at a time.
    thresholds : list of float
        Per image: pixels with WHT below it are ignored.

    Returns
    -------
    (ny, nx) float32
    """
    from astropy.io import fits

    handles = []
    sources = []
    try:
        for item in singles:
            if isinstance(item, DataModel):
                sources.append((item.data, item.wht))
            else:
                hdul = fits.open(item, memmap=True)
                handles.append(hdul)
                sources.append((hdul["SCI"].section, hdul["WHT"].section))
        first = singles[0]
        if isinstance(first, DataModel):
            ny, nx = first.data.shape
        else:
            ny, nx = handles[0]["SCI"].shape
        n = len(sources)
        rows = max(1, min(ny, buffer_bytes // max(1, 8 * n * nx)))
        median = np.empty((ny, nx), dtype=np.float32)
        stack = np.empty((n, rows, nx), dtype=np.float32)
        block = np.empty((rows, nx), dtype=np.float32)
        for r0 in range(0, ny, rows):
            r1 = min(ny, r0 + rows)
            m = r1 - r0
            for k, (sci, wht) in enumerate(sources):
                data = np.array(sci[r0:r1], dtype=np.float32)
                K.mask_low_weight(data, np.asarray(wht[r0:r1], dtype=np.float32),
                                  np.float32(thresholds[k]))
                stack[k, :m] = data
            K.nanmedian_stack(stack[:, :m], block[:m])
            median[r0:r1] = block[:m]
        return median
    finally:
        for hdul in handles:
            hdul.close()


def flag_model(model: ImageModel, blot: np.ndarray, snr: tuple[float, float],
               scale: tuple[float, float], backg: float, grow: int = 0) -> int:
    """Flag ``model`` in place against ``blot`` (same shape); return the number flagged.

    DQ gets ``OUTLIER | DO_NOT_USE``; SCI, ERR and VAR_* become NaN wherever DQ has
    DO_NOT_USE, and DQ gets DO_NOT_USE wherever SCI is NaN (as the official step).
    """
    if model.meta.background.subtracted is False and model.meta.background.level is not None:
        backg = float(model.meta.background.level)
    mask = np.zeros(model.data.shape, dtype=bool)
    err = model.err if model.err is not None else np.zeros_like(model.data)
    K.flag_outliers(model.data, err, blot, snr[0], snr[1], scale[0], scale[1], backg, mask)
    if grow > 0:
        grown = np.empty_like(mask)
        K.dilate(mask, int(grow), grown)
        mask = grown
    model.dq |= np.where(mask, np.uint32(_OUTLIER_BITS), np.uint32(0))
    match_nans_and_flags(model)
    return int(np.count_nonzero(mask))


def match_nans_and_flags(model: ImageModel) -> None:
    """DO_NOT_USE <-> NaN consistency of SCI, ERR, VAR_* and DQ."""
    bad = (model.dq & PIXEL["DO_NOT_USE"]) != 0
    bad |= ~np.isfinite(model.data)
    model.dq |= np.where(bad, np.uint32(PIXEL["DO_NOT_USE"]), np.uint32(0))
    for name in ("data", "err", *_VARS):
        arr = getattr(model, name, None)
        if arr is not None and arr.shape == bad.shape:
            arr[bad] = np.nan


class OutlierDetectionStep(Step):
    """Flag outliers in dithered imaging exposures against their resampled median."""

    class_alias = "outlier_detection"
    default_suffix = "crf"
    spec = {
        "weight_type": Param("option", "ivm", "Input image weighting type",
                             options=("ivm", "exptime")),
        "pixfrac": Param("float", 1.0, "Pixel shrinkage factor", min=0.0, max=1.0),
        "kernel": Param("option", "square", "Flux distribution kernel",
                        options=("square", "point", "turbo")),
        "fillval": Param("string", "NAN", "Output value for pixels with no weight"),
        "maskpt": Param("float", 0.7, "Fraction of the mean weight below which resampled "
                        "pixels are ignored in the median", min=0.0),
        "snr": Param("string", "5.0 4.0", "S/N thresholds of the two passes"),
        "scale": Param("string", "1.2 0.7", "Blot-derivative scales of the two passes"),
        "backg": Param("float", 0.0, "Background level added to the blotted image"),
        "kernel_size": Param("string", "7 7", "Median filter size (spectroscopic modes; "
                             "unused for imaging)"),
        "threshold_percent": Param("float", 99.8, "TSO/coronagraphy only; unused"),
        "rolling_window_width": Param("integer", 25, "TSO only; unused"),
        "ifu_second_check": Param("boolean", False, "IFU only; unused"),
        "save_intermediate_results": Param("boolean", False, "Save the resampled singles, "
                                           "the median and the blots"),
        "resample_data": Param("boolean", True, "Resample before the median (False: the "
                               "inputs share one grid)"),
        "good_bits": Param("string", "~DO_NOT_USE", "DQ bits of usable pixels"),
        "in_memory": Param("boolean", True, "Keep the exposures and singles in memory"),
        "pixmap_stepsize": Param("float", 1.0, "Interpolation step of the pixel map",
                                 min=1.0),
        "pixmap_order": Param("integer", 1, "Spline order of the pixel map (1 or 3)",
                              min=1, max=3),
        "grow": Param("integer", 0, "webbflow: dilate the outlier mask by this many pixels",
                      min=0),
    }

    @classmethod
    def open_input(cls, path: Path) -> Any:
        """Association files give their members' paths."""
        if path.suffix.lower() == ".json":
            return list(read_association(path))
        return super().open_input(path)

    # ------------------------------------------------------------------ running
    def process(self, input: Any) -> Any:
        items = list(input) if isinstance(input, list | tuple) else [input]
        snr = _two_floats(self.snr, "snr")
        scale = _two_floats(self.scale, "scale")
        for item in items:
            if isinstance(item, DataModel) and (not isinstance(item, ImageModel)
                                                or item.data.ndim != 2):
                raise input_error(item.meta.filename or "<model>",
                                  "outlier_detection (imaging) needs 2-D images")
            if not isinstance(item, DataModel | Exposure) and not Path(item).is_file():
                raise input_error(item, "no such file")
        exposures = as_exposures(items, in_memory=self.in_memory)
        if len(items) < 2:
            self.log.warning("Input has %d exposure(s); outlier detection skipped",
                             len(items))
            self._status = "SKIPPED"
            return results_like(input, exposures)
        if self._output_dir():
            Path(self._output_dir()).mkdir(parents=True, exist_ok=True)
        # each exposure's map onto the grid serves its single drizzle and its blot (and,
        # given Image3's store, resample's drizzle)
        store = getattr(self, "pixmap_store", None)
        own_store = store is None
        if own_store:
            store = PixmapStore(self.in_memory, self._output_dir())
        try:
            if self.resample_data:
                median, median_wcs = self._median_resampled(exposures, store)
            else:
                median, median_wcs = self._median_direct(exposures), None
            if self.save_intermediate_results:
                self._save_median(median, median_wcs, exposures[0])
            for e in exposures:  # one exposure's pixels at a time
                self._flag_one(e, median, median_wcs, snr, scale, store)
        finally:
            if own_store:
                store.close()
        if all(isinstance(i, Exposure) for i in items):
            return exposures
        if not self.in_memory and not any(isinstance(i, DataModel) for i in items):
            return [e.path for e in exposures]  # the crf files
        return [e.result() for e in exposures]

    def _grid(self, exposures: list[Exposure]) -> OutputGrid:
        """The common grid of the resampled singles (the resample step's default grid)."""
        feet = []
        for e in exposures:
            if e.meta.wcs is None:
                raise input_error(e.name, "no WCS (meta.wcs): run assign_wcs first")
            fp = parse_s_region(e.meta.wcsinfo.s_region)
            feet.append(fp if fp is not None else footprint(e.meta.wcs, e.shape))
        first = exposures[0]
        g = GridOptions()
        return build_grid(feet, first.meta.wcs, first.shape, first.meta.wcsinfo.to_flat_dict(),
                          pixel_scale_ratio=g.pixel_scale_ratio, max_pixels=g.max_pixels)

    def _median_resampled(self, exposures: list[Exposure], store: PixmapStore
                          ) -> tuple[np.ndarray, Any]:
        """Drizzle each exposure group alone onto the common grid (pixels below ``maskpt`` x
        its clipped mean weight set to NaN), stack, median by row blocks.

        The stack lives in memory (``in_memory``) or in one raw float32 file in a temporary
        directory written and read with plain file I/O (no memory map, so the resident
        memory holds one single and one row block, whatever the number of exposures).
        """
        options = DrizzleOptions(self.pixfrac, self.kernel, self.fillval, self.weight_type,
                                 self.good_bits, enable_ctx=False, enable_var=False,
                                 report_var=False, compute_err=None,
                                 pixmap_stepsize=self.pixmap_stepsize,
                                 pixmap_order=self.pixmap_order)
        grid = self._grid(exposures)
        groups: dict[str, list[Exposure]] = {}
        for e in exposures:
            groups.setdefault(resample_group_id(e, e.name), []).append(e)
        stack = _Stack(len(groups), grid.shape, self.in_memory, self._output_dir())
        try:
            for k, members in enumerate(groups.values()):
                single = resample_inputs(members, options, grid=OutputGrid(
                    grid.wcs, grid.shape, grid.pixel_scale, grid.pixel_scale_ratio),
                    single=True, in_memory=True, pixmap_store=store)[0]
                if self.save_intermediate_results:
                    single.save(Path(self._output_dir() or ".") / single.meta.filename)
                sci = np.array(single.data, dtype=np.float32)
                wht = np.asarray(single.wht, dtype=np.float32)
                K.mask_low_weight(sci, wht, np.float32(weight_threshold(wht, self.maskpt)))
                stack.put(k, sci)
                del single, sci, wht
            self.log.info("Median of %d resampled images", len(groups))
            return stack.median(), grid.wcs
        finally:
            stack.close()

    def _median_direct(self, exposures: list[Exposure]) -> np.ndarray:
        """Median of inputs already on one grid (``resample_data=False``)."""
        bad = bad_bits(self.good_bits)
        stack = []
        thresholds = []
        for e in exposures:
            model = e.open()
            w = self._weight(model, bad)
            thresholds.append(weight_threshold(w, self.maskpt))
            stack.append(ImageModel(model.data.copy(), wht=w))
            if stack[0].data.shape != model.data.shape:
                raise input_error(e.name, "resample_data=False needs inputs of one shape")
        return median_of_singles(stack, thresholds)

    def _weight(self, model: ImageModel, bad: int) -> np.ndarray:
        ok = ((model.dq & bad) == 0) & np.isfinite(model.data)
        if self.weight_type == "ivm" and model.var_rnoise is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                w = np.where(ok & (model.var_rnoise > 0), 1.0 / model.var_rnoise, 0.0)
        else:
            t = model.meta.exposure.measurement_time or model.meta.exposure.exposure_time
            w = np.where(ok, float(t or 1.0), 0.0)
        return w.astype(np.float32)

    def _flag_one(self, e: Exposure, median: np.ndarray, median_wcs: Any,
                  snr: tuple[float, float], scale: tuple[float, float],
                  store: PixmapStore) -> None:
        """Blot the median to ``e``, flag it; a file-backed exposure is written once as
        ``<root>_crf.fits`` (output_dir) and then backed by that file."""
        model = e.open()
        if median_wcs is not None:
            if model.meta.wcs is None:
                raise input_error(e.name, "no WCS (meta.wcs): run assign_wcs first")
            args = (model.meta.wcs, model.data.shape, median_wcs, median.shape,
                    self.pixmap_stepsize, self.pixmap_order)
            pixmap = store.get(*args)
            if pixmap is None:
                pixmap = pixel_map(model.meta.wcs, median_wcs, model.data.shape,
                                   self.pixmap_stepsize, self.pixmap_order)
            blot = np.empty(model.data.shape, dtype=np.float32)
            K.blot_linear(median, pixmap, np.float32(np.nan), blot)
            del pixmap
        else:
            blot = median
        if self.save_intermediate_results:
            bm = ImageModel(blot.astype(np.float32))
            bm.meta.wcs = model.meta.wcs
            bm.save(naming.product_name(e.name, "blot", ".fits", self._output_dir()))
        count = flag_model(model, blot, snr, scale, self.backg, self.grow)
        self.log.info("%s: %d pixels marked as outliers", e.name, count)
        model.meta.cal_step.outlier_detection = "COMPLETE"
        if e.in_memory:
            return
        e.adopt(model, model.save(naming.product_name(e.name, "crf", ".fits",
                                                      self._output_dir())))

    def _save_median(self, median: np.ndarray, wcs: Any, first: Exposure) -> None:
        name = getattr(self.parent, "product_name", None) or first.name
        out = ImageModel(median)
        out.meta.wcs = wcs
        out.save(naming.product_name(name if name.endswith(".fits") else f"{name}.fits",
                                     "median", ".fits", self._output_dir()))

    def _save_result(self, result: Any) -> list[str]:
        """Each exposure as ``<root>_crf.fits`` (as officially), not ``<root>_<i>_crf``."""
        paths = []
        for model in (result if isinstance(result, list) else [result]):
            if isinstance(model, Exposure):
                if model.in_memory:
                    model = model.open()
                elif Path(model.path).name == naming.product_name(
                        model.name, self.suffix or "crf", ".fits"):
                    continue  # already written as this product
                else:
                    model = model.open()
            if isinstance(model, DataModel):
                paths.append(model.save(naming.product_name(
                    model.meta.filename or "exposure.fits", self.suffix or "crf", ".fits",
                    self._output_dir())))
        return paths


class _Stack:
    """(n, ny, nx) float32 images, in memory or in a raw file; NaN-median by row blocks."""

    def __init__(self, n: int, shape: tuple[int, int], in_memory: bool,
                 directory: str | None) -> None:
        self.n, (self.ny, self.nx) = n, shape
        self._mem = np.empty((n, *shape), dtype=np.float32) if in_memory else None
        self._dir = None if in_memory else tempfile.mkdtemp(prefix="webbflow_outlier_",
                                                            dir=directory)
        self._fd = None
        if self._dir is not None:
            self._fd = os.open(os.path.join(self._dir, "singles.f32"),
                               os.O_RDWR | os.O_CREAT, 0o600)

    def put(self, k: int, image: np.ndarray) -> None:
        if self._mem is not None:
            self._mem[k] = image
        else:
            os.pwrite(self._fd, np.ascontiguousarray(image, dtype=np.float32).tobytes(),
                      k * self.ny * self.nx * 4)

    def median(self, buffer_bytes: int = _MEDIAN_BUFFER) -> np.ndarray:
        n, ny, nx = self.n, self.ny, self.nx
        rows = max(1, min(ny, buffer_bytes // max(1, 4 * n * nx)))
        median = np.empty((ny, nx), dtype=np.float32)
        buf = np.empty((n, rows, nx), dtype=np.float32)
        for r0 in range(0, ny, rows):
            m = min(ny, r0 + rows) - r0
            if self._mem is not None:
                block = self._mem[:, r0:r0 + m]
            else:
                for k in range(n):
                    raw = os.pread(self._fd, m * nx * 4, (k * ny + r0) * nx * 4)
                    buf[k, :m] = np.frombuffer(raw, dtype=np.float32).reshape(m, nx)
                block = buf[:, :m]
            K.nanmedian_stack(block, median[r0:r0 + m])
        return median

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
