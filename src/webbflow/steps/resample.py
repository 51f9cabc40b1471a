"""resample: drizzle calibrated images onto a common grid (per exposure, or a mosaic).

Input: one 2-D ImageModel (Image2's per-exposure ``i2d``), a list of models or paths, or an
association file (Image3's mosaic; its first product's members). Output: an ImageModel with
SCI, ERR, WHT, CON, VAR_* and the output WCS; with ``single=True`` one such model per exposure
on the common grid (``<root>_outlier_i2d``, for outlier detection).

Parameters are the official ones; ``good_bits`` (official: fixed to the same default) and
``max_output_pixels`` (a guard against absurd grids) are webbflow additions. ``blendheaders``
keeps the first input's metadata and blends the exposure times (sum), start (min) and end
(max); the official per-keyword blending rules are not applied. ``propagate_dq`` is accepted
and ignored (the output DQ is zero), ``weight_type=None`` is not supported.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..align.exposure import Exposure
from ..datamodels import DataModel, ImageModel
from ..errors import ParameterError, input_error
from ..resample.driver import DrizzleOptions, GridOptions, resample_inputs
from ..resample.grid import DEFAULT_MAX_PIXELS, read_output_wcs
from ..stpipe.params import Param
from ..stpipe.step import Step

GOOD_BITS = "~DO_NOT_USE+NON_SCIENCE"


class Association(list):
    """Member paths of an association's first product, with the product name."""

    product: str = ""


def read_association(path: Path) -> Association:
    """Science members (``expname``) of the first product of an ``asn.json``."""
    try:
        asn = json.loads(path.read_text())
        product = asn["products"][0]
        members = [m["expname"] for m in product["members"]
                   if str(m.get("exptype", "science")).lower() == "science"]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise input_error(path, f"not a readable association ({exc})") from None
    if not members:
        raise input_error(path, "the association's first product has no science members")
    out = Association(str(path.parent / m) if not os.path.isabs(m) else m for m in members)
    out.product = str(product.get("name") or path.stem)
    return out


def _name(item: Any) -> str:
    """File name of an input (path, model or Image3 exposure record)."""
    if isinstance(item, DataModel):
        return item.meta.filename or ""
    if isinstance(item, Exposure):
        return item.name
    return Path(str(item)).name


def _pair(value: list | None, name: str) -> tuple | None:
    if value is None:
        return None
    if len(value) != 2:
        raise ParameterError(f"resample.{name}: expected two values, got {value!r}")
    return tuple(value)


class ResampleStep(Step):
    """Resample images onto a regular grid with the drizzle algorithm."""

    class_alias = "resample"
    default_suffix = "i2d"
    spec = {
        "pixfrac": Param("float", 1.0, "Pixel shrinkage factor", min=0.0, max=1.0),
        "kernel": Param("option", "square", "Flux distribution kernel",
                        options=("square", "gaussian", "point", "turbo", "lanczos2",
                                 "lanczos3")),
        "fillval": Param("string", "NAN", "Output value for pixels with no weight or flux"),
        "weight_type": Param("option", "ivm", "Input image weighting type",
                             options=("ivm", "exptime")),
        "output_shape": Param("int_list", None, "[x, y] shape of the output", min=1),
        "crpix": Param("float_list", None, "0-based image coordinates of the reference pixel"),
        "crval": Param("float_list", None, "World coordinates of the reference pixel"),
        "rotation": Param("float", None, "Output image Y-axis PA relative to North"),
        "pixel_scale_ratio": Param("float", 1.0, "Ratio of output to input pixel scale",
                                   min=0.0),
        "pixel_scale": Param("float", None, "Absolute pixel scale in arcsec", min=0.0),
        "output_wcs": Param("string", "", "Custom output WCS (ASDF file); overrides the "
                            "other WCS parameters"),
        "single": Param("boolean", False, "Resample each input to its own output grid"),
        "blendheaders": Param("boolean", True, "Blend metadata from inputs into output"),
        "in_memory": Param("boolean", True, "Keep images in memory"),
        "enable_ctx": Param("boolean", True, "Compute and report the context array"),
        "enable_err": Param("boolean", True, "Compute and report the err array"),
        "report_var": Param("boolean", True, "Report the variance arrays"),
        "propagate_dq": Param("boolean", False, "Propagate DQ (not supported; ignored)"),
        "pixmap_stepsize": Param("float", 1.0, "Interpolation step size for the pixel map",
                                 min=1.0),
        "pixmap_order": Param("integer", 1, "Spline order of the pixel map interpolation "
                              "(1 or 3)", min=1, max=3),
        "good_bits": Param("string", GOOD_BITS, "DQ bits of usable pixels (official syntax)"),
        "max_output_pixels": Param("integer", DEFAULT_MAX_PIXELS, "Largest output grid "
                                   "allowed, pixels (0: no limit)", min=0),
    }

    @classmethod
    def open_input(cls, path: Path) -> Any:
        """Association files give their members (opened one at a time later)."""
        if path.suffix.lower() == ".json":
            return read_association(path)
        return super().open_input(path)

    def _options(self) -> DrizzleOptions:
        if self.pixmap_order not in (1, 3):
            raise ParameterError(f"resample.pixmap_order: {self.pixmap_order} is not 1 or 3")
        if self.propagate_dq:
            self.log.warning("propagate_dq is not supported; the output DQ is zero")
        if self.single:
            return DrizzleOptions(self.pixfrac, self.kernel, self.fillval, self.weight_type,
                                  self.good_bits, self.enable_ctx, enable_var=False,
                                  report_var=False, compute_err="driz_err",
                                  pixmap_stepsize=self.pixmap_stepsize,
                                  pixmap_order=self.pixmap_order)
        return DrizzleOptions(self.pixfrac, self.kernel, self.fillval, self.weight_type,
                              self.good_bits, self.enable_ctx,
                              enable_var=self.enable_err, report_var=self.report_var,
                              compute_err="from_var" if self.enable_err else None,
                              pixmap_stepsize=self.pixmap_stepsize,
                              pixmap_order=self.pixmap_order)

    def process(self, input: Any) -> Any:
        if isinstance(input, DataModel):
            if not isinstance(input, ImageModel) or input.data.ndim != 2:
                raise input_error(input.meta.filename or "<model>",
                                  "resample needs a 2-D image (ImageModel)")
            items: list[Any] = [input]
        elif isinstance(input, list | tuple):
            items = list(input)
            name = getattr(input, "product", "") or (_name(items[0]) if items else "")
            if name:
                self._input_name = name if name.endswith(".fits") else f"{name}.fits"
        else:
            raise input_error(str(input), "resample needs an image, a list of images or an "
                              "association")
        output_shape = _pair(self.output_shape, "output_shape")
        grid = None
        if self.output_wcs:
            grid = read_output_wcs(self.output_wcs, output_shape)
        grid_options = GridOptions(
            pixel_scale_ratio=self.pixel_scale_ratio, pixel_scale=self.pixel_scale,
            rotation=self.rotation, output_shape=output_shape,
            crpix=_pair(self.crpix, "crpix"), crval=_pair(self.crval, "crval"),
            max_pixels=self.max_output_pixels)
        return resample_inputs(items, self._options(), grid_options, grid=grid,
                               single=self.single, in_memory=self.in_memory,
                               output_dir=self._output_dir(),
                               pixmap_store=getattr(self, "pixmap_store", None))
