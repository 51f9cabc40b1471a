"""Instrument and detector facts as tables (no ``if instrument == ...`` in the algorithms)."""

from __future__ import annotations

#: ops taking a DMS-oriented (science frame) image to detector readout orientation:
#: "x" flips columns, "y" flips rows, "t" transposes; applied left to right.
DMS_TO_DETECTOR: dict[str, str] = {
    "NRCA1": "x", "NRCA3": "x", "NRCB2": "x", "NRCB4": "x", "NRCALONG": "x",
    "NRCA2": "y", "NRCA4": "y", "NRCB1": "y", "NRCB3": "y", "NRCBLONG": "y",
    "NRS1": "t", "NRS2": "txy",
    "NIS": "xyt",
    "GUIDER1": "xy", "GUIDER2": "x",
}

#: detector family per instrument: selects the stage-1 step order and refpix algorithm
FAMILY: dict[str, str] = {
    "NIRCAM": "nir", "NIRISS": "nir", "NIRSPEC": "nir", "FGS": "nir", "MIRI": "miri",
}

#: full-frame size (rows = columns) of each family's detectors, in pixels
FULL_FRAME: dict[str, tuple[int, int]] = {"nir": (2048, 2048), "miri": (1024, 1032)}


def family(instrument: str | None) -> str:
    """Detector family (``"nir"`` or ``"miri"``) of ``instrument``; KeyError when unknown."""
    return FAMILY[(instrument or "").upper()]
