"""persistence: flag pixels affected by persistence from earlier exposures."""

from __future__ import annotations

from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import ramp_input


class PersistenceStep(Step):
    """Persistence from trap capture and release (trap model not implemented yet).

    Without TRAPDENSITY/TRAPPARS/PERSAT references (N/A in the context) the step skips, as
    officially; with them it records SKIPPED because the trap model is not in webbflow 0.1.
    """

    class_alias = "persistence"
    reference_file_types = ("trapdensity", "trappars", "persat")
    spec = {
        "input_trapsfilled": Param("path", "", "Traps-filled file of the previous exposure"),
        "flag_pers_cutoff": Param("float", 40.0, "Persistence (DN) above which pixels are "
                                  "flagged", min=0.0),
        "save_persistence": Param("boolean", False, "Save the persistence array"),
        "save_trapsfilled": Param("boolean", True, "Save the traps-filled file"),
        "modify_input": Param("boolean", False, "Modify the input in place"),
    }

    def process(self, model):
        ramp = ramp_input(model, self.name)
        refs = [self.get_reference_file(ramp, reftype) for reftype in self.reference_file_types]
        if "N/A" in refs:
            return self.skip_step(ramp, "no TRAPDENSITY/TRAPPARS/PERSAT reference applies")
        return self.skip_step(ramp, "the trap-based persistence model is not implemented in "
                                    "webbflow 0.1")
