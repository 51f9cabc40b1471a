"""The JWST data-quality flag table (names and bit values of the official pipeline).

PIXEL applies to 2-D DQ/PIXELDQ arrays (uint32); GROUP to the 4-D GROUPDQ array (uint8).
Kernels never import this module: steps pass the bit values they need as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

PIXEL: dict[str, int] = {
    "GOOD": 0,
    "DO_NOT_USE": 1 << 0,
    "SATURATED": 1 << 1,
    "JUMP_DET": 1 << 2,
    "DROPOUT": 1 << 3,
    "OUTLIER": 1 << 4,
    "PERSISTENCE": 1 << 5,
    "AD_FLOOR": 1 << 6,
    "CHARGELOSS": 1 << 7,
    "RESERVED": 1 << 8,
    "NON_SCIENCE": 1 << 9,
    "DEAD": 1 << 10,
    "HOT": 1 << 11,
    "WARM": 1 << 12,
    "LOW_QE": 1 << 13,
    "RC": 1 << 14,
    "TELEGRAPH": 1 << 15,
    "NONLINEAR": 1 << 16,
    "BAD_REF_PIXEL": 1 << 17,
    "NO_FLAT_FIELD": 1 << 18,
    "NO_GAIN_VALUE": 1 << 19,
    "NO_LIN_CORR": 1 << 20,
    "NO_SAT_CHECK": 1 << 21,
    "UNRELIABLE_BIAS": 1 << 22,
    "UNRELIABLE_DARK": 1 << 23,
    "UNRELIABLE_SLOPE": 1 << 24,
    "UNRELIABLE_FLAT": 1 << 25,
    "OPEN": 1 << 26,
    "ADJ_OPEN": 1 << 27,
    "FLUX_ESTIMATED": 1 << 28,
    "MSA_FAILED_OPEN": 1 << 29,
    "OTHER_BAD_PIXEL": 1 << 30,
    "REFERENCE_PIXEL": 1 << 31,
}

GROUP: dict[str, int] = {
    name: PIXEL[name]
    for name in (
        "GOOD",
        "DO_NOT_USE",
        "SATURATED",
        "JUMP_DET",
        "DROPOUT",
        "PERSISTENCE",
        "AD_FLOOR",
        "CHARGELOSS",
    )
}

# Reference files sometimes use historical names for the same bits.
ALIASES: dict[str, str] = {"UNDERSAMP": "CHARGELOSS", "OPEN_ADJ": "ADJ_OPEN"}


def interpret_bit_flags(names: str | Iterable[str], table: dict[str, int] = PIXEL) -> int:
    """Return the OR of the named flags (``"DO_NOT_USE+JUMP_DET"`` or a list of names)."""
    if isinstance(names, str):
        names = [n for n in names.replace(",", "+").split("+") if n.strip()]
    value = 0
    for name in names:
        key = ALIASES.get(name.strip().upper(), name.strip().upper())
        if key not in table:
            raise KeyError(f"unknown DQ flag name {name!r}")
        value |= table[key]
    return value


def dqflags_to_mnemonics(value: int, table: dict[str, int] = PIXEL) -> set[str]:
    """Return the set of flag names set in ``value``."""
    return {name for name, bit in table.items() if bit and value & bit}


def dq_from_def_table(dq: np.ndarray, dq_def: np.ndarray | None,
                      overwrite: bool = False) -> np.ndarray:
    """Translate a reference file's DQ array to the standard bits through its DQ_DEF table.

    Parameters
    ----------
    dq : ndarray of uint32, any shape
        DQ values as stored in the reference file.
    dq_def : structured array with fields VALUE/BIT and NAME, or None
        The reference file's DQ_DEF extension; ``None`` means the bits are already standard.
    overwrite : bool
        The result may be written into ``dq`` itself (when it is a writable uint32 array):
        for a caller that replaces ``dq`` by the result (a reference's DQ as read, up to
        42 MB for a MIRI dark), which then costs no copy. Default: ``dq`` is left unchanged.
    """
    owned = overwrite and isinstance(dq, np.ndarray) and dq.dtype == np.uint32 \
        and dq.flags.writeable
    dq = dq if owned else np.asarray(dq).astype(np.uint32)
    if dq_def is None or len(dq_def) == 0:
        return dq
    names = {n.upper() for n in dq_def.dtype.names}
    value_field = "VALUE" if "VALUE" in names else "BIT"
    pairs = []
    for row in dq_def:
        raw = int(row[value_field]) if value_field == "VALUE" else 1 << int(row[value_field])
        name = row["NAME"]
        name = (name.decode() if isinstance(name, bytes) else str(name)).strip().upper()
        name = ALIASES.get(name, name)
        std = PIXEL.get(name)
        if std is None or raw == 0:
            continue
        pairs.append((raw, std))
    if all(raw == std and raw & (raw - 1) == 0 for raw, std in pairs):
        # standard bits already (the usual case): keep the defined ones, one pass
        keep = 0
        for raw, _ in pairs:
            keep |= raw
        return np.bitwise_and(dq, np.uint32(keep), out=dq)
    out = np.zeros_like(dq)
    for raw, std in pairs:
        out[(dq & np.uint32(raw)) != 0] |= np.uint32(std)
    return out
