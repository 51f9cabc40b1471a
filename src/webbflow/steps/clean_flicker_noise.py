"""clean_flicker_noise: 1/f (flicker) noise cleaning (not implemented yet)."""

from __future__ import annotations

from ..stpipe.params import Param
from .unavailable import UnavailableStep


class CleanFlickerNoiseStep(UnavailableStep):
    """1/f (flicker) noise cleaning: not implemented in webbflow 0.1 (records SKIPPED)."""

    class_alias = "clean_flicker_noise"
    reference_file_types = ()
    missing = "1/f (flicker) noise cleaning"
    spec = {"skip": Param("boolean", True, "Skip this step (skipped by default, as "
                          "officially)")}
