"""emicorr: MIRI EMI correction (not implemented yet)."""

from __future__ import annotations

from .unavailable import UnavailableStep


class EmiCorrStep(UnavailableStep):
    """MIRI EMI correction: not implemented in webbflow 0.1 (records SKIPPED)."""

    class_alias = "emicorr"
    reference_file_types = ("emicorr",)
    missing = "MIRI EMI correction"
