"""rscd: MIRI RSCD correction (not implemented yet)."""

from __future__ import annotations

from .unavailable import UnavailableStep


class RscdStep(UnavailableStep):
    """MIRI RSCD correction: not implemented in webbflow 0.1 (records SKIPPED)."""

    class_alias = "rscd"
    reference_file_types = ("rscd",)
    missing = "MIRI RSCD correction"
