"""source_catalog: detect, deblend and measure sources on a resampled mosaic (``i2d``).

As the official step (segmentation star finder): background/RMS meshes of ``bkg_boxsize``,
detection on the image smoothed by a Gaussian of ``kernel_fwhm`` above ``snr_threshold`` x
RMS with ``npixels`` connected pixels, multi-threshold deblending; per source the centroid,
isophotal and shape quantities, three circular apertures of the APCORR encircled energies
with local annulus background, the aperture-corrected total flux, AB and Vega magnitudes
(ABVEGAOFFSET), concentration indices, is_extended, DAOFind sharpness/roundness, nearest
neighbour. Numerics: ``webbflow.kernels.segmentation`` / ``photometry``.

Output: the catalog (astropy QTable), saved as ``<product>_cat.ecsv`` with the segmentation
map ``<product>_segm.fits`` when ``save_results``; None (with a warning) when nothing is
found. The mosaic's SCATFILE/SEGMFILE keywords name them. Only ``starfinder='segmentation'``
is implemented; ``dao``/``iraf`` raise a one-line ParameterError. ``localbkg_width``,
``apermask_method`` and ``kron_params`` are accepted and unused (no Kron columns in the
official output either).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..catalogs import (
    SegmentationMapModel,
    abvega_offset,
    aperture_params,
    build_catalog,
    detect_sources,
    write_ecsv,
)
from ..datamodels import DataModel, ImageModel
from ..datamodels.dqflags import PIXEL
from ..errors import ParameterError, input_error
from ..stpipe import naming
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import load_reference

__all__ = ["SourceCatalogStep"]


class SourceCatalogStep(Step):
    """Create a source catalog from a resampled mosaic."""

    class_alias = "source_catalog"
    default_suffix = "cat"
    reference_file_types = ("apcorr", "abvegaoffset")
    spec = {
        "aperture_ee1": Param("integer", 30, "Aperture encircled energy 1 (%)"),
        "aperture_ee2": Param("integer", 50, "Aperture encircled energy 2 (%)"),
        "aperture_ee3": Param("integer", 70, "Aperture encircled energy 3 (%)"),
        "ci1_star_threshold": Param("float", 2.0, "CI 1 star threshold"),
        "ci2_star_threshold": Param("float", 1.8, "CI 2 star threshold"),
        "starfinder": Param("option", "segmentation", "Star finder",
                            options=("dao", "iraf", "segmentation")),
        "snr_threshold": Param("float", 3.0, "S/N threshold above the background"),
        "bkg_boxsize": Param("integer", 1000, "Background mesh box size (pixels)", min=1),
        "kernel_fwhm": Param("float", 2.0, "Gaussian kernel FWHM (pixels)", min=0.0),
        "minsep_fwhm": Param("float", 0.0, "dao/iraf only; unused"),
        "sigma_radius": Param("float", 1.5, "dao/iraf only; unused"),
        "sharplo": Param("float", 0.5, "dao/iraf only; unused"),
        "sharphi": Param("float", 2.0, "dao/iraf only; unused"),
        "roundlo": Param("float", 0.0, "dao/iraf only; unused"),
        "roundhi": Param("float", 0.2, "dao/iraf only; unused"),
        "brightest": Param("integer", 200, "dao/iraf only; unused"),
        "peakmax": Param("float", None, "dao/iraf only; unused"),
        "npixels": Param("integer", 25, "Minimum number of connected pixels", min=1),
        "connectivity": Param("option", "8", "Pixel connectivity", options=("4", "8")),
        "nlevels": Param("integer", 32, "Multi-threshold levels for deblending", min=1),
        "contrast": Param("float", 0.001, "Flux fraction a deblended object must have",
                          min=0.0, max=1.0),
        "multithresh_mode": Param("option", "exponential", "Multi-thresholding mode",
                                  options=("exponential", "linear", "sinh")),
        "localbkg_width": Param("integer", 0, "Accepted; unused"),
        "apermask_method": Param("option", "correct", "Accepted; unused",
                                 options=("correct", "mask", "none")),
        "kron_params": Param("float_list", None, "Accepted; unused"),
        "deblend": Param("boolean", True, "Deblend sources"),
    }

    def process(self, model: Any) -> Any:
        if not isinstance(model, ImageModel) or model.data.ndim != 2:
            name = model.meta.filename if isinstance(model, DataModel) else str(model)
            raise input_error(name or "<model>", "source_catalog needs a 2-D image (i2d)")
        if self.starfinder != "segmentation":
            raise ParameterError(f"source_catalog.starfinder: {self.starfinder!r} is not "
                                 "implemented in webbflow (use 'segmentation')")
        for key in ("bunit_data", "bunit_err"):
            unit = model.meta.get(key)
            if unit not in (None, "MJy/sr"):
                raise input_error(model.meta.filename or "<model>",
                                  f"{key} is {unit!r}; source_catalog needs MJy/sr")
        apcorr = load_reference(self, model, "apcorr")
        abvega_ref = load_reference(self, model, "abvegaoffset")
        ee = (self.aperture_ee1, self.aperture_ee2, self.aperture_ee3)
        params = aperture_params(apcorr, model, ee)
        offset = abvega_offset(abvega_ref, model)
        err = model.err if model.err is not None else np.zeros_like(model.data)
        mask = ~np.isfinite(err) | ~np.isfinite(model.data)
        if model.wht is not None:
            mask |= model.wht == 0
        if model.dq is not None:
            mask |= (model.dq & (PIXEL["DO_NOT_USE"] | PIXEL["NON_SCIENCE"])) != 0
        det = detect_sources(np.asarray(model.data, dtype=np.float64), mask,
                             snr_threshold=self.snr_threshold, kernel_fwhm=self.kernel_fwhm,
                             bkg_boxsize=self.bkg_boxsize, npixels=self.npixels,
                             connectivity=int(self.connectivity), deblend=self.deblend,
                             nlevels=self.nlevels, contrast=self.contrast,
                             mode=self.multithresh_mode)
        catalog, segm = build_catalog(model, det, params, offset, self.kernel_fwhm,
                                      (self.ci1_star_threshold, self.ci2_star_threshold))
        self.log.info("%d sources found", len(catalog))
        model.meta.cal_step.source_catalog = "COMPLETE"
        if len(catalog) == 0:
            # The official step writes nothing here; an empty catalog (all columns, no rows)
            # and an empty segmentation map say "searched, nothing found" to the workflow.
            self.log.warning("No sources found in the image: the catalog is empty")
        catalog.meta["cal_step.source_catalog"] = "COMPLETE"
        self._segm = segm
        self._model = model
        return catalog

    def _finalize(self, result: Any) -> None:
        super()._finalize(getattr(self, "_model", None))

    def _save_result(self, result: Any) -> list[str]:
        """``<product>_cat.ecsv`` and ``<product>_segm.fits``."""
        if result is None:
            return []
        if self.output_file:
            path = naming.output_file_name(self.output_file, ".ecsv", None, self._output_dir())
        else:
            path = naming.product_name(self._root_input_name(), self.suffix or "cat",
                                       ".ecsv", self._output_dir())
        path = write_ecsv(result, path)
        segm = SegmentationMapModel(self._segm)
        model = self._model
        for key, value in model.meta.items():
            if not key.startswith(("wcsinfo.", "bunit", "photometry.")):
                segm.meta.set(key, value)
        segm.meta.wcs = model.meta.wcs
        segm_path = segm.save(naming.product_name(self._root_input_name(), "segm", ".fits",
                                                  self._output_dir()))
        model.meta.source_catalog = Path(path).name
        model.meta.segmentation_map = Path(segm_path).name
        return [path, segm_path]
