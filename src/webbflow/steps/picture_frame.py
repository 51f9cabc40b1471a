"""picture_frame: remove the NIRSpec thermal "picture frame" signal from ramps or rates.

As the official step (jwst 3.0, skipped by default, between jump and clean_flicker_noise):
on NIRSpec full-frame data, a background mask (the draft rate of a default ramp fit, NaN and
zero pixels out, then the same sigma clip as clean_flicker_noise; or a ``user_mask``) selects
the centre and frame pixels whose medians scale the PICTUREFRAME pattern subtracted from each
group (through its difference to group 0) or rate plane. Other instruments and subarrays are
SKIPPED, as officially.

``mask_science_regions=True`` (the official default) masks slits, IFU slices and failed-open
MSA shutters from the NIRSpec WCS and msaflagopen, which webbflow does not have: it raises a
one-line ParameterError unless a ``user_mask`` (a webbflow extension, as in
clean_flicker_noise) already masks the science regions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..datamodels import CubeModel, DataModel, ImageModel, RampModel
from ..datamodels import open as open_model
from ..datamodels.convert import image_like
from ..errors import InputError, ParameterError
from ..kernels import flicker_noise as fk
from ..kernels import picture_frame as pk
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import draft_rate_fit, load_reference, owned_array, ramp_input


@dataclass(frozen=True)
class FrameGeometry:
    """Detector regions of the picture-frame fit, half-open 0-based index ranges on both axes.

    ``shape`` is the full-frame image shape; the frame strips are ``lower_edge`` and
    ``upper_edge`` (reference pixels outside them excluded), the centre square ``center``.
    """

    shape: tuple[int, int]
    lower_edge: tuple[int, int]
    upper_edge: tuple[int, int]
    center: tuple[int, int]


#: instruments the correction applies to (full frame only), with their fit regions
FRAME_GEOMETRY: dict[str, FrameGeometry] = {
    "NIRSPEC": FrameGeometry(shape=(2048, 2048), lower_edge=(4, 75), upper_edge=(1985, 2043),
                             center=(76, 1984)),
}


class PictureFrameStep(Step):
    """Scale the PICTUREFRAME pattern to each group's edge/centre levels and subtract it."""

    class_alias = "picture_frame"
    reference_file_types = ("pictureframe",)
    spec = {
        "mask_science_regions": Param("boolean", True, "Mask known science regions (needs the "
                                      "NIRSpec WCS: not available in webbflow, set False or "
                                      "give user_mask)"),
        "n_sigma": Param("float", 2.0, "Clipping level for non-background signal"),
        "save_mask": Param("boolean", False, "Save the background mask (suffix pctfrm_mask)"),
        "save_correction": Param("boolean", False, "Save the correction applied (suffix "
                                 "pctfrm_correction)"),
        "user_mask": Param("string", None, "webbflow extension: path to a background mask "
                           "image (True/1 = background) used instead of the draft-rate mask"),
        "skip": Param("boolean", True, "Skip this step (skipped by default, as officially)"),
    }

    # ------------------------------------------------------------------ inputs
    def _user_mask_path(self) -> str | None:
        value = self.user_mask
        return None if value in (None, "") or str(value).lower() == "none" else str(value)

    def _draft_rate(self, ramp: RampModel) -> np.ndarray:
        """Draft rate (ny, nx) DN/s from a default ramp fit (its sibling's overrides)."""
        rate, _ = draft_rate_fit(self, ramp)
        return np.asarray(rate.data, dtype=np.float32)

    def _mask(self, model: DataModel, shape: tuple[int, int]) -> np.ndarray:
        """Background mask (ny, nx) bool: the user's, else the clipped draft rate's."""
        path = self._user_mask_path()
        if path is not None:
            mask = np.asarray(open_model(path).data).astype(np.bool_)
            if mask.ndim == 3:
                mask = np.all(mask, axis=0)
            if mask.shape != shape:
                raise InputError(f"{path}: mask shape {mask.shape} does not match the data "
                                 f"{shape}")
            return mask
        rate = (self._draft_rate(model) if isinstance(model, RampModel)
                else np.array(model.data, dtype=np.float32))
        mask = fk.scene_mask(rate, float(self.n_sigma))
        return np.all(mask, axis=0) if mask.ndim == 3 else mask

    # ------------------------------------------------------------------ process
    def process(self, model):
        if not isinstance(model, ImageModel | CubeModel):
            model = ramp_input(model, self.name)
        meta = model.meta
        instrument = str(meta.instrument.name or "").upper()
        subarray = str(meta.subarray.name or "").upper()
        geometry = FRAME_GEOMETRY.get(instrument)
        if geometry is None or subarray != "FULL":
            return self.skip_step(model, "the picture frame correction applies to NIRSpec "
                                  "full-frame exposures only")
        if self.mask_science_regions and self._user_mask_path() is None:
            raise ParameterError(f"{self.name}.mask_science_regions=True needs the NIRSpec WCS "
                                 "and msaflagopen, not available in webbflow: set it to False "
                                 "or give user_mask")
        ref = load_reference(self, model, "pictureframe")
        if ref is None:
            return self.skip_step(model, "no PICTUREFRAME reference for EXP_TYPE "
                                  f"{meta.exposure.type}")
        is_ramp = isinstance(model, RampModel)
        if is_ramp and model.data.shape[1] == 1:
            return self.skip_step(model, "single-group data cannot be corrected")
        shape = tuple(model.data.shape[-2:])
        if shape != geometry.shape or ref.data.shape != geometry.shape:
            raise InputError(f"{meta.filename or '<model>'}: picture_frame needs "
                             f"{geometry.shape} full-frame data and PICTUREFRAME, got "
                             f"{shape} and {ref.data.shape}")
        mask = self._mask(model, shape)
        center, edge = pk.region_masks(mask, geometry.lower_edge, geometry.upper_edge,
                                       geometry.center)
        if not center.any() or not edge.any():
            return self.skip_step(model, "no background pixels in the centre or frame region")
        pattern = np.asarray(ref.data, dtype=np.float32)
        ref_c, ref_e = pk.frame_levels(pattern[None, None], center, edge, False)
        ref_c, ref_e = ref_c[0, 0], ref_e[0, 0]
        if not np.isfinite(ref_c - ref_e) or ref_c == ref_e:
            return self.skip_step(model, "the PICTUREFRAME pattern has no centre/edge contrast "
                                  "on the background pixels")
        original = model.data
        data = owned_array(original, "float32")
        # (nints, nplanes, ny, nx) views: a ramp as it is, a rate or rateints plane by plane
        planes = data if is_ramp else data.reshape((-1, 1, *shape))
        keep = data.copy() if self.save_correction else None
        med_c, med_e = pk.frame_levels(planes, center, edge, is_ramp)
        self.log.debug("Centre medians %s, edge medians %s", med_c, med_e)
        scale, offset = pk.scale_offset(med_c, med_e, ref_c, ref_e)
        pk.apply_correction(planes, pattern, ref_e, scale, offset, is_ramp)
        model.data = data
        if self.save_mask:
            self.save_model(image_like(model, mask.astype(np.float32)), "pctfrm_mask")
        if keep is not None:
            self.save_model(_like(model, data - keep), "pctfrm_correction")
        return model


def _like(model: DataModel, data: np.ndarray) -> DataModel:
    """A model of ``model``'s kind and metadata holding ``data`` (diagnostic products)."""
    if data.ndim == 4:
        out = model.copy()
        out.data = data
        return out
    return image_like(model, data)
