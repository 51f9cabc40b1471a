"""calwebb_detector1: raw ramps (uncal) → corrected ramp → rate and rateints.

The step order depends on the instrument; it is the table ``STEP_ORDER`` (the official
order: near-IR and MIRI differ, and NIRSpec never runs persistence).
"""

from __future__ import annotations

from ..errors import input_error
from ..steps.charge_migration import ChargeMigrationStep
from ..steps.clean_flicker_noise import CleanFlickerNoiseStep
from ..steps.dark_current import DarkCurrentStep
from ..steps.dq_init import DQInitStep
from ..steps.emicorr import EmiCorrStep
from ..steps.firstframe import FirstFrameStep
from ..steps.gain_scale import GainScaleStep
from ..steps.group_scale import GroupScaleStep
from ..steps.ipc import IPCStep
from ..steps.jump import JumpStep
from ..steps.lastframe import LastFrameStep
from ..steps.linearity import LinearityStep
from ..steps.persistence import PersistenceStep
from ..steps.picture_frame import PictureFrameStep
from ..steps.ramp_fit import RampFitStep
from ..steps.refpix import RefPixStep
from ..steps.reset import ResetStep
from ..steps.rscd import RscdStep
from ..steps.saturation import SaturationStep
from ..steps.superbias import SuperBiasStep
from ..steps.support import ramp_input
from ..stpipe.params import Param
from ..stpipe.pipeline import Pipeline

_NIR = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity",
        "persistence", "dark_current", "charge_migration", "jump", "picture_frame",
        "clean_flicker_noise")
_MIRI = ("group_scale", "dq_init", "emicorr", "saturation", "ipc", "firstframe", "lastframe",
         "reset", "linearity", "rscd", "dark_current", "refpix", "jump", "clean_flicker_noise")

#: steps run on the ramp, per instrument (ramp_fit and gain_scale follow for all)
STEP_ORDER: dict[str, tuple[str, ...]] = {
    "NIRCAM": _NIR,
    "NIRISS": _NIR,
    "FGS": _NIR,
    "NIRSPEC": tuple(s for s in _NIR if s != "persistence"),
    "MIRI": _MIRI,
}


def step_order(ramp, table: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The steps ``table`` gives for the ramp's instrument, or a one-line InputError."""
    instrument = (ramp.meta.instrument.name or "").upper()
    if instrument not in table:
        raise input_error(ramp.meta.filename or "<model>",
                          f"unknown instrument {instrument!r} (INSTRUME)")
    return table[instrument]


class Detector1Pipeline(Pipeline):
    """Stage 1: detector corrections and ramp fitting for one exposure.

    Products: ``<root>_rate.fits`` (ImageModel, DN/s), ``<root>_rateints.fits`` (CubeModel,
    one rate per integration) and, with ``save_calibrated_ramp``, ``<root>_ramp.fits``.
    """

    class_alias = "calwebb_detector1"
    default_suffix = "rate"
    spec = {
        "save_calibrated_ramp": Param("boolean", False, "Save the corrected ramp (after "
                                      "jump) as <root>_ramp.fits"),
    }
    step_defs = {
        "group_scale": GroupScaleStep,
        "dq_init": DQInitStep,
        "emicorr": EmiCorrStep,
        "saturation": SaturationStep,
        "ipc": IPCStep,
        "superbias": SuperBiasStep,
        "refpix": RefPixStep,
        "linearity": LinearityStep,
        "persistence": PersistenceStep,
        "dark_current": DarkCurrentStep,
        "charge_migration": ChargeMigrationStep,
        "jump": JumpStep,
        "picture_frame": PictureFrameStep,
        "clean_flicker_noise": CleanFlickerNoiseStep,
        "ramp_fit": RampFitStep,
        "gain_scale": GainScaleStep,
        "firstframe": FirstFrameStep,
        "lastframe": LastFrameStep,
        "reset": ResetStep,
        "rscd": RscdStep,
    }

    def process(self, model):
        ramp = ramp_input(model, self.name)
        order = step_order(ramp, STEP_ORDER)
        if ramp.shape[1] < 1:
            raise input_error(ramp.meta.filename or "<model>", "the exposure has no groups")
        ramp = self.run_steps(ramp, order)
        if self.save_calibrated_ramp:
            self.save_model(ramp, suffix="ramp")
        rate, rateints = self.run_steps(ramp, ["ramp_fit"])
        del ramp
        rate = self.run_steps(rate, ["gain_scale"])
        rateints = self.run_steps(rateints, ["gain_scale"])
        if self.save_results or self.output_file:
            self.save_model(rateints, suffix="rateints")
        return rate
