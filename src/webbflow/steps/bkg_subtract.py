"""bkg_subtract (official class BackgroundStep): subtract background exposures from imaging.

The background exposures (``background`` members of a Level-2 association, or ``bkg_list``)
are combined as officially: each one's integrations are sigma-clip-averaged into one image,
then the images are sigma-clip-averaged (``sigma``, ``maxiters``) into the combined
background; its ERR is the uncertainty of that mean, sqrt(sum ERR^2) / N over the kept
values, and its DQ the OR of every background's DQ. The combined background is subtracted
from SCI (each integration of a rateints), its DQ ORed into the science DQ; ERR is left as
it is (as officially). No scaling is applied for imaging. WFSS and SOSS backgrounds (scaled
BKG references) are not implemented.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datamodels import CubeModel, DataModel, ImageModel
from ..datamodels import open as open_model
from ..errors import input_error
from ..kernels.background import clipped_mean_stack
from ..stpipe.params import Param
from ..stpipe.step import Step

#: EXP_TYPEs whose background is a scaled reference (not implemented here)
SCALED_BKG_EXP_TYPES = ("NIS_WFSS", "NRC_WFSS", "MIR_WFSS", "NIS_SOSS")


_Window = tuple[slice, slice]


def _placed(bkg: DataModel, science: DataModel, name: str) -> tuple[_Window, _Window]:
    """Index slices (science, background) of the overlap of two subarrays, 0-based."""
    def window(m: DataModel) -> tuple[int, int, int, int]:
        ny, nx = m.data.shape[-2:]
        return int(m.meta.subarray.xstart or 1), int(m.meta.subarray.ystart or 1), nx, ny

    sx, sy, snx, sny = window(science)
    bx, by, bnx, bny = window(bkg)
    x0, x1 = max(sx, bx), min(sx + snx, bx + bnx)
    y0, y1 = max(sy, by), min(sy + sny, by + bny)
    if x1 <= x0 or y1 <= y0:
        raise input_error(name, "background exposure does not overlap the science subarray")
    sci = (slice(y0 - sy, y1 - sy), slice(x0 - sx, x1 - sx))
    bk = (slice(y0 - by, y1 - by), slice(x0 - bx, x1 - bx))
    return sci, bk


def combine_backgrounds(science: DataModel, paths: list[str | Path], sigma: float,
                        maxiters: int | None) -> ImageModel:
    """The combined background on the science array's pixels (ImageModel, float32)."""
    shape = science.data.shape[-2:]
    n = len(paths)
    data = np.full((n, *shape), np.nan)
    var = np.full((n, *shape), np.nan)
    dq = np.zeros(shape, dtype=np.uint32)
    for i, path in enumerate(paths):
        bkg = open_model(path)
        if not isinstance(bkg, ImageModel | CubeModel):
            raise input_error(path, f"background must be a rate or rateints product, got "
                              f"{type(bkg).__name__}")
        sci_sl, bkg_sl = _placed(bkg, science, str(path))
        bdata, berr, bdq = bkg.data, bkg.err, bkg.dq
        if bdata.ndim == 3:
            img, v, _ = clipped_mean_stack(bdata[(slice(None), *bkg_sl)],
                                           np.square(berr[(slice(None), *bkg_sl)],
                                                     dtype=np.float64), sigma, maxiters)
            dq[sci_sl] |= np.bitwise_or.reduce(bdq[(slice(None), *bkg_sl)], axis=0)
        else:
            img = bdata[bkg_sl]
            v = np.square(berr[bkg_sl], dtype=np.float64)
            dq[sci_sl] |= bdq[bkg_sl]
        data[(i, *sci_sl)] = img
        var[(i, *sci_sl)] = v
    mean, var_mean, nkept = clipped_mean_stack(data, var, sigma, maxiters)
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.sqrt(var_mean / nkept)
    out = ImageModel(data=mean.astype(np.float32))
    out.err = err.astype(np.float32)
    out.dq = dq
    for key in ("instrument.name", "instrument.detector", "instrument.filter",
                "instrument.pupil", "exposure.type", "subarray.name", "subarray.xstart",
                "subarray.ystart", "subarray.xsize", "subarray.ysize"):
        out.meta.set(key, science.meta.get(key))
    out.meta.bunit_data = science.meta.bunit_data
    return out


class BackgroundStep(Step):
    """Subtract the sigma-clipped mean of background exposures (imaging)."""

    class_alias = "bkg_subtract"
    reference_file_types = ("bkg", "wavelengthrange")
    spec = {
        "bkg_list": Param("string_list", None, "Background exposures (rate/rateints files); "
                          "the pipeline fills it from the association's background members"),
        "save_combined_background": Param("boolean", False, "Save the combined background "
                                          "as <root>_combinedbackground.fits"),
        "sigma": Param("float", 3.0, "Clipping threshold, standard deviations", min=0.0),
        "maxiters": Param("integer", None, "Clipping iterations (None: until convergence)",
                          min=1),
        "soss_source_percentile": Param("float", 35.0, "NIRISS SOSS only (not used)"),
        "soss_bkg_percentile": Param("float_list", None, "NIRISS SOSS only (not used)"),
        "wfss_mmag_extract": Param("float", None, "WFSS only (not used)"),
        "wfss_mask": Param("path", None, "WFSS only (not used)"),
        "wfss_maxiter": Param("integer", 5, "WFSS only (not used)"),
        "wfss_rms_stop": Param("float", 0.0, "WFSS only (not used)"),
        "wfss_outlier_percent": Param("float", 1.0, "WFSS only (not used)"),
    }

    def process(self, model):
        if not isinstance(model, ImageModel | CubeModel):
            raise input_error(model.meta.filename or "<model>",
                              f"{self.name} needs a rate or rateints product, got "
                              f"{type(model).__name__}")
        exp_type = str(model.meta.exposure.type or "").upper()
        if exp_type in SCALED_BKG_EXP_TYPES:
            return self.skip_step(model, f"scaled BKG-reference subtraction for {exp_type} is "
                                         "not implemented in webbflow")
        paths = [p for p in (self.bkg_list or []) if p]
        if not paths:
            return self.skip_step(model, "no background exposures given")
        for path in paths:
            if not Path(path).is_file():
                raise input_error(path, f"{self.name}: background exposure: no such file")
        self.log.info("Combining %d background exposure(s): sigma=%s maxiters=%s",
                      len(paths), self.sigma, self.maxiters)
        bkg = combine_backgrounds(model, paths, self.sigma, self.maxiters)
        if self.save_combined_background:
            path = self.save_model(bkg, suffix="combinedbackground")
            self.log.info("Saved combined background in %s", path)
        model.data = (model.data - bkg.data).astype(np.float32)
        model.dq = model.dq | bkg.dq
        return model
