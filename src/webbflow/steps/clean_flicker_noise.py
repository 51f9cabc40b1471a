"""clean_flicker_noise: fit and remove 1/f (flicker) noise from ramps or rate images.

As the official step (jwst 3.0, skipped by default): a draft rate (ramp input: a default
ramp fit) gives a scene mask; each group difference (or rate plane) is background-subtracted
and its noise along the detector's fast direction fitted ('median': line medians, per
amplifier with ``fit_by_channel``; 'fft': NSClean, NIRSpec full frame only) and removed.
Unsupported data are returned unchanged with status FAILED, as officially. Options webbflow
does not have raise a one-line ParameterError instead of being ignored.
"""

from __future__ import annotations

import numpy as np

from ..datamodels import CubeModel, DataModel, ImageModel, RampModel
from ..datamodels import open as open_model
from ..datamodels.convert import image_like
from ..errors import InputError, ParameterError
from ..kernels import flicker_noise as fk
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import GROUP_FLAGS, draft_rate_fit, load_reference, ramp_input

#: EXP_TYPEs the noise fits accept, by fit method (others: FAILED, as officially)
FFT_EXP_TYPES = ("NRS_MSASPEC", "NRS_IFU", "NRS_FIXEDSLIT", "NRS_BRIGHTOBJ")
MIRI_EXP_TYPES = ("MIR_IMAGE",)
#: EXP_TYPE prefixes where ``mask_science_regions`` needs a WCS / flat DQ / SOSS traces that
#: webbflow cannot make yet (elsewhere the option has no effect, as officially)
SCIENCE_REGION_PREFIXES = ("NRS_", "MIR_IMAGE", "NIS_SOSS")
#: EXP_TYPE prefix -> array axis along which flicker noise is constant (None: from SLOWAXIS)
LINE_AXIS_BY_PREFIX = {"MIR_": 0}

_BACKGROUND = {"median": fk.BACKGROUND_MEDIAN, "none": fk.BACKGROUND_NONE}
_FIT = {"median": fk.FIT_MEDIAN, "fft": fk.FIT_FFT}


class CleanFlickerNoiseStep(Step):
    """Fit and subtract 1/f noise from a ramp (between jump and ramp_fit) or a rate image."""

    class_alias = "clean_flicker_noise"
    reference_file_types = ("flat", "pastasoss")
    spec = {
        "autoparam": Param("boolean", False, "Select fit and background parameters from the "
                           "data (not available in webbflow)"),
        "fit_method": Param("option", "median", "Noise fitting algorithm",
                            options=("fft", "median")),
        "fit_by_channel": Param("boolean", False, "Fit noise separately by amplifier "
                                "(NIR full frame only)"),
        "background_method": Param("string", "median", "Background fit: median or None "
                                   "('model' and 'median_image' are not available)"),
        "background_box_size": Param("int_list", None, "Background box size ('model' only)"),
        "mask_science_regions": Param("boolean", False, "Mask known science regions"),
        "apply_flat_field": Param("boolean", False, "Divide by the flat before fitting"),
        "n_sigma": Param("float", 2.0, "Clipping level for non-background signal"),
        "fit_histogram": Param("boolean", False, "Derive sigma from a histogram fit (not "
                               "available in webbflow)"),
        "single_mask": Param("boolean", True, "One mask for all integrations"),
        "user_mask": Param("string", None, "Path to a user-supplied mask (True = background)"),
        "save_mask": Param("boolean", False, "Save the scene mask (suffix mask)"),
        "save_background": Param("boolean", False, "Save the fit background "
                                 "(suffix flicker_bkg)"),
        "save_noise": Param("boolean", False, "Save the fit noise (suffix flicker_noise)"),
        "skip": Param("boolean", True, "Skip this step (skipped by default, as officially)"),
    }

    # ------------------------------------------------------------------ checks
    def _background_code(self) -> int:
        method = str(self.background_method).strip().lower()
        if method not in _BACKGROUND:
            raise ParameterError(f"{self.name}.background_method: {self.background_method!r} "
                                 "is not available in webbflow (use 'median' or None)")
        return _BACKGROUND[method]

    def _check_options(self, exp_type: str) -> None:
        for key in ("autoparam", "fit_histogram"):
            if self.params[key]:
                raise ParameterError(f"{self.name}.{key}=True is not available in webbflow")
        if self.mask_science_regions and exp_type.startswith(SCIENCE_REGION_PREFIXES):
            raise ParameterError(f"{self.name}.mask_science_regions=True needs the {exp_type} "
                                 "science-region masks, not available in webbflow")

    def _unsupported(self, exp_type: str) -> str | None:
        if exp_type.startswith("MIR") and exp_type not in MIRI_EXP_TYPES:
            return f"EXP_TYPE {exp_type} is not supported"
        if self.fit_method == "fft" and exp_type not in FFT_EXP_TYPES:
            return f"fit method 'fft' cannot be applied to EXP_TYPE {exp_type}"
        return None

    # ------------------------------------------------------------------ inputs
    def _flat(self, model: DataModel) -> np.ndarray | None:
        if not self.apply_flat_field:
            return None
        flat = load_reference(self, model, "flat")
        if flat is None:
            self.log.warning("No FLAT for EXP_TYPE %s: fitting without a flat",
                             model.meta.exposure.type)
            return None
        data = np.array(flat.data, dtype=np.float32)
        bad = ~np.isfinite(data) | (data == 0)
        if bad.any():
            # official: a smoothed local model of the flat; here its median (documented gap)
            fill = np.median(data[~bad]) if (~bad).any() else 1.0
            self.log.warning("FLAT has %d zero/NaN pixels: set to the flat's median %.4g",
                             int(bad.sum()), fill)
            data[bad] = fill
        return data

    def _draft_rate(self, ramp: RampModel) -> np.ndarray:
        """Draft rate (ny, nx) or rateints (nints, ny, nx) from a default ramp fit."""
        rate, rateints = draft_rate_fit(self, ramp)
        return (rate if self.single_mask else rateints).data

    def _mask(self, model: DataModel, flat: np.ndarray | None) -> np.ndarray:
        if self.user_mask not in (None, "", "None"):
            return np.asarray(open_model(self.user_mask).data).astype(np.bool_)
        rate = (self._draft_rate(model) if isinstance(model, RampModel)
                else np.array(model.data, dtype=np.float32))
        if flat is not None:
            rate = rate / flat
        mask = fk.scene_mask(rate, float(self.n_sigma))
        if self.single_mask and mask.ndim == 3:
            mask = np.all(mask, axis=0)
        return mask

    def _line_axis(self, model: DataModel) -> int:
        exp_type = str(model.meta.exposure.type or "")
        for prefix, axis in LINE_AXIS_BY_PREFIX.items():
            if exp_type.startswith(prefix):
                return axis
        slowaxis = abs(int(model.meta.subarray.slowaxis or 2))
        return 1 if slowaxis == 2 else 0

    # ------------------------------------------------------------------ process
    def process(self, model):
        if not isinstance(model, ImageModel | CubeModel):
            model = ramp_input(model, self.name)
        meta = model.meta
        exp_type = str(meta.exposure.type or "").upper()
        background = self._background_code()
        self._check_options(exp_type)
        reason = self._unsupported(exp_type)
        if reason is not None:
            return self.fail_step(model, reason)
        subarray = str(meta.subarray.name or "").upper()
        fit_by_channel = self.fit_by_channel
        if fit_by_channel and (subarray != "FULL" or exp_type.startswith("MIR")):
            self.log.warning("fit_by_channel applies to full-frame NIR data only: ignored")
            fit_by_channel = False
        shape = model.data.shape[-2:]
        if self.fit_method == "fft" and shape != (2048, 2048):
            raise ParameterError(f"{self.name}.fit_method='fft' on a {shape[0]}x{shape[1]} "
                                 "subarray is not available in webbflow (use 'median')")
        flat = self._flat(model)
        mask = self._mask(model, flat)
        nints = model.data.shape[0] if model.data.ndim > 2 else 1
        if mask.shape[-2:] != shape or (mask.ndim == 3 and mask.shape[0] != nints):
            if self.user_mask not in (None, "", "None"):
                raise InputError(f"{self.user_mask}: mask shape {mask.shape} does not match "
                                 f"the data {model.data.shape}")
            return self.fail_step(model, "mask does not match the data shape")
        options = {"fit_method": _FIT[self.fit_method], "background_method": background,
                   "n_sigma": float(self.n_sigma), "lines_axis": self._line_axis(model),
                   "fit_by_channel": fit_by_channel, "flat": flat,
                   "flip": str(meta.instrument.detector or "").upper() == "NRS2"}
        original = model.data
        if isinstance(model, RampModel):
            unusable = GROUP_FLAGS["do_not_use"] | GROUP_FLAGS["jump_det"]
            res = fk.clean_ramp(model.data, model.groupdq, mask, unusable, **options)
        else:
            planes = original.reshape((-1, *shape))
            masks = np.broadcast_to(mask, planes.shape) if mask.ndim == 2 else mask
            res = fk.clean_images(planes, masks, **options)
        if res.failed:
            return self.fail_step(model, "the FFT noise fit was singular")
        for k in np.flatnonzero(~res.usable):
            self.log.warning("No usable background in image %d: left uncorrected", k + 1)
        cleaned = res.data.reshape(original.shape)
        self._save_products(model, mask, res, cleaned)
        model.data = cleaned
        return model

    def _save_products(self, model: DataModel, mask: np.ndarray, res: fk.FlickerResult,
                       cleaned: np.ndarray) -> None:
        if self.save_mask:
            self.save_model(image_like(model, mask.astype(np.float32)), "mask")
        if self.save_background:
            bkg = np.zeros(cleaned.shape, np.float32)
            if cleaned.ndim == 4:
                bkg[:, 1:] = res.background.reshape(cleaned.shape[0], -1)[:, :, None, None]
            else:
                bkg[...] = res.background.reshape((*bkg.shape[:-2], 1, 1))
            self.save_model(_like(model, bkg), "flicker_bkg")
        if self.save_noise:
            self.save_model(_like(model, (cleaned - model.data).astype(np.float32)),
                            "flicker_noise")


def _like(model: DataModel, data: np.ndarray) -> DataModel:
    """A model of ``model``'s kind and metadata holding ``data`` (diagnostic products)."""
    if data.ndim == 4:
        out = model.copy()
        out.data = data
        return out
    return image_like(model, data)
