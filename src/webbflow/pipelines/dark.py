"""calwebb_dark: detector corrections of dark exposures, stopping before dark subtraction."""

from __future__ import annotations

from ..steps.dq_init import DQInitStep
from ..steps.emicorr import EmiCorrStep
from ..steps.firstframe import FirstFrameStep
from ..steps.group_scale import GroupScaleStep
from ..steps.ipc import IPCStep
from ..steps.lastframe import LastFrameStep
from ..steps.linearity import LinearityStep
from ..steps.refpix import RefPixStep
from ..steps.reset import ResetStep
from ..steps.rscd import RscdStep
from ..steps.saturation import SaturationStep
from ..steps.superbias import SuperBiasStep
from ..steps.support import ramp_input
from ..stpipe.pipeline import Pipeline
from .detector1 import STEP_ORDER as DETECTOR1_ORDER
from .detector1 import step_order


class DarkPipeline(Pipeline):
    """Stage 1 for darks: the corrected 4-D ramp, saved as ``<root>_dark.fits``."""

    class_alias = "calwebb_dark"
    default_suffix = "dark"
    step_defs = {
        "group_scale": GroupScaleStep,
        "dq_init": DQInitStep,
        "emicorr": EmiCorrStep,
        "saturation": SaturationStep,
        "ipc": IPCStep,
        "superbias": SuperBiasStep,
        "refpix": RefPixStep,
        "firstframe": FirstFrameStep,
        "lastframe": LastFrameStep,
        "reset": ResetStep,
        "linearity": LinearityStep,
        "rscd": RscdStep,
    }

    def process(self, model):
        ramp = ramp_input(model, self.name)
        return self.run_steps(ramp, step_order(ramp, STEP_ORDER))


#: the Detector1 order of each instrument up to dark_current, without persistence
STEP_ORDER: dict[str, tuple[str, ...]] = {
    instrument: tuple(s for s in order[: order.index("dark_current")]
                      if s in DarkPipeline.step_defs)
    for instrument, order in DETECTOR1_ORDER.items()
}
