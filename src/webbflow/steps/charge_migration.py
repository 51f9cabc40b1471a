"""charge_migration: flag groups where charge spills to neighbours (brighter-fatter)."""

from __future__ import annotations

from ..kernels.simple import charge_migration
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import FLAGS, ramp_input


class ChargeMigrationStep(Step):
    """Flag CHARGELOSS | DO_NOT_USE from the first group above ``signal_threshold`` on."""

    class_alias = "charge_migration"
    spec = {
        "skip": Param("boolean", True, "Skip this step (skipped by default, as officially)"),
        "signal_threshold": Param("float", 25000.0, "Signal (DN) above which groups and "
                                  "their neighbours are flagged", min=0.0),
    }

    def process(self, model):
        ramp = ramp_input(model, self.name)
        ramp.groupdq = charge_migration(
            ramp.data, ramp.groupdq, signal_threshold=self.signal_threshold,
            do_not_use=FLAGS["do_not_use"], chargeloss=FLAGS["chargeloss"])
        return ramp
