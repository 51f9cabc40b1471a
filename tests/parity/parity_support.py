"""Plain helpers of the parity tests (importable by name: pytest's conftest modules are not)."""

from __future__ import annotations

from pathlib import Path

#: NIR Detector1 steps in the official order whose ramps are saved and compared one by one
STEP_CHAIN: tuple[str, ...] = ("dq_init", "saturation", "ipc", "superbias", "refpix",
                               "linearity", "dark_current", "jump")


def our_overrides(step_cls, reference_files: dict[str, Path]) -> dict[str, str]:
    """``override_<reftype>`` for every reftype our ``step_cls`` declares (file or N/A)."""
    return {f"override_{r}": str(reference_files.get(r, "N/A"))
            for r in getattr(step_cls, "reference_file_types", ())}
