"""Agreement fractions between our products and the official ones, with readable reports.

The acceptance rule of stage 1 (rate, rateints): over the pixels the official pipeline calls
good (DQ without DO_NOT_USE, finite SCI and ERR),

* SCI: ``|ours - official| <= 0.01 * ERR_official`` for >= 99.9 % of them,
* ERR: ``|ERR_ours - ERR_official| <= 0.01 * ERR_official`` for >= 99.9 % of them,
* DQ: identical for >= 99.9 % of all pixels.

Intermediate ramps (after saturation, superbias, refpix, linearity, dark_current, jump) carry
no meaningful ERR yet, so SCI agrees when ``|ours - official| <= atol + rtol * |official|``
(0.01 DN + 1e-6 relative: a thousandth of the read noise, a few float32 ulps at 60000 DN) over
the samples the official groupdq/pixeldq leave usable; PIXELDQ and GROUPDQ must be identical
for >= 99.9 % of pixels / samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["DO_NOT_USE", "REQUIRED", "Agreement", "ramp_agreement", "rate_agreement"]

#: official DO_NOT_USE bit (dqflags.pixel / group)
DO_NOT_USE = 1
#: the fraction every check must reach
REQUIRED = 0.999
RAMP_ATOL = 0.01  # DN
RAMP_RTOL = 1e-6


@dataclass
class Agreement:
    """Fractions that agree, per check, and the counts behind them."""

    label: str
    fractions: dict[str, float] = field(default_factory=dict)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, check: str, ok: np.ndarray) -> None:
        """Record the fraction of True in ``ok`` (any shape) as ``check``."""
        n = int(ok.size)
        good = int(np.count_nonzero(ok))
        self.counts[check] = (good, n)
        self.fractions[check] = good / n if n else float("nan")

    def failing(self, required: float = REQUIRED) -> list[str]:
        """Checks below ``required`` (NaN, i.e. nothing compared, fails too)."""
        return [k for k, v in self.fractions.items() if not v >= required]

    def report(self) -> str:
        """One line per check: fraction, counts, and the notes (worst offenders)."""
        lines = [f"{self.label}:"]
        for check, frac in self.fractions.items():
            good, n = self.counts[check]
            lines.append(f"  {check:<10} {100 * frac:8.4f} % agree ({good}/{n}; "
                         f"need >= {100 * REQUIRED:.1f} %)")
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


def _worst(label: str, diff: np.ndarray, where: np.ndarray, n: int = 3) -> str:
    if diff.size == 0:
        return f"{label}: nothing compared"
    flat = np.argsort(diff, axis=None)[::-1][:n]
    idx = [tuple(int(i) for i in np.unravel_index(k, diff.shape)) for k in flat]
    return f"{label}: worst {', '.join(f'{i} {diff[i]:.4g}' for i in idx)}"


def _dq_note(name: str, ours: np.ndarray, theirs: np.ndarray) -> str:
    differ = ours != theirs
    if not differ.any():
        return f"{name}: identical"
    xor = np.bitwise_xor(ours[differ].astype(np.uint64), theirs[differ].astype(np.uint64))
    bits = [b for b in range(32) if np.any(xor & (1 << b))]
    counts = {1 << b: int(np.count_nonzero(xor & (1 << b))) for b in bits}
    return f"{name}: {int(differ.sum())} differ; differing bit values and counts {counts}"


def rate_agreement(label: str, ours, theirs) -> Agreement:
    """Compare two rate (2-D) or rateints (3-D) products.

    Parameters
    ----------
    label : str
        Shown in the report.
    ours, theirs
        Objects with ``data`` (DN/s), ``err`` (DN/s) and ``dq`` arrays of equal shape
        ([ny, nx] or [nints, ny, nx]); ``theirs`` is the official product.
    """
    agreement = Agreement(label)
    sci_o, sci_t = np.asarray(ours.data, float), np.asarray(theirs.data, float)
    err_o, err_t = np.asarray(ours.err, float), np.asarray(theirs.err, float)
    dq_o, dq_t = np.asarray(ours.dq), np.asarray(theirs.dq)
    if sci_o.shape != sci_t.shape:
        agreement.add("shape", np.zeros(1, bool))
        agreement.notes.append(f"shapes differ: ours {sci_o.shape}, official {sci_t.shape}")
        return agreement
    good = ((dq_t & DO_NOT_USE) == 0) & np.isfinite(sci_t) & np.isfinite(err_t)
    with np.errstate(invalid="ignore"):
        dsci = np.abs(sci_o - sci_t)
        derr = np.abs(err_o - err_t)
        agreement.add("SCI", (dsci <= 0.01 * err_t)[good])
        agreement.add("ERR", (derr <= 0.01 * err_t)[good])
        scaled = np.where(good & (err_t > 0), dsci / np.where(err_t > 0, err_t, 1), 0.0)
        rel_err = np.where(good & (err_t > 0), derr / np.where(err_t > 0, err_t, 1), 0.0)
    agreement.add("DQ", dq_o == dq_t)
    agreement.notes.append(f"{int(good.sum())} of {good.size} pixels good officially; "
                           f"ours good: {int(((dq_o & DO_NOT_USE) == 0).sum())}")
    agreement.notes.append(_worst("|dSCI|/ERR", np.nan_to_num(scaled), good))
    agreement.notes.append(_worst("|dERR|/ERR", np.nan_to_num(rel_err), good))
    agreement.notes.append(_dq_note("DQ", dq_o, dq_t))
    return agreement


def ramp_agreement(label: str, ours, theirs, *, check_data: bool = True,
                   atol: float = RAMP_ATOL, rtol: float = RAMP_RTOL) -> Agreement:
    """Compare two ramp products (SCI [nints, ngroups, ny, nx] in DN, PIXELDQ, GROUPDQ).

    ``check_data=False`` compares the flags only (saturation, jump); otherwise SCI agrees
    within ``atol + rtol * |official|`` over samples whose official GROUPDQ and PIXELDQ have no
    DO_NOT_USE.
    """
    agreement = Agreement(label)
    sci_o, sci_t = np.asarray(ours.data, float), np.asarray(theirs.data, float)
    if sci_o.shape != sci_t.shape:
        agreement.add("shape", np.zeros(1, bool))
        agreement.notes.append(f"shapes differ: ours {sci_o.shape}, official {sci_t.shape}")
        return agreement
    pdq_o, pdq_t = np.asarray(ours.pixeldq), np.asarray(theirs.pixeldq)
    gdq_o, gdq_t = np.asarray(ours.groupdq), np.asarray(theirs.groupdq)
    if check_data:
        usable = (((gdq_t & DO_NOT_USE) == 0) & ((pdq_t & DO_NOT_USE) == 0)[None, None]
                  & np.isfinite(sci_t))
        diff = np.abs(sci_o - sci_t)
        with np.errstate(invalid="ignore"):
            agreement.add("SCI", (diff <= atol + rtol * np.abs(sci_t))[usable])
        agreement.notes.append(_worst("|dSCI| DN", np.where(usable, np.nan_to_num(diff), 0),
                                      usable))
    agreement.add("PIXELDQ", pdq_o == pdq_t)
    agreement.add("GROUPDQ", gdq_o == gdq_t)
    agreement.notes.append(_dq_note("PIXELDQ", pdq_o, pdq_t))
    agreement.notes.append(_dq_note("GROUPDQ", gdq_o, gdq_t))
    return agreement
