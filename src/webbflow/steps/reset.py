"""reset: MIRI reset-anomaly correction (not implemented yet)."""

from __future__ import annotations

from .unavailable import UnavailableStep


class ResetStep(UnavailableStep):
    """MIRI reset-anomaly correction: not implemented in webbflow 0.1 (records SKIPPED)."""

    class_alias = "reset"
    reference_file_types = ("reset",)
    missing = "MIRI reset-anomaly correction"
