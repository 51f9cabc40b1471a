"""rscd: flag the MIRI groups affected by the reset-switch charge decay as DO_NOT_USE."""

from __future__ import annotations

from ..stpipe.step import Step
from .support import FLAGS, load_reference, ramp_input

#: subarray names older files use, as the RSCD reference spells them
_SUBARRAY_ALIASES = {"SUBPRISM": "SLITLESSPRISM"}


def _text(value: object) -> str:
    return (value.decode() if isinstance(value, bytes) else str(value)).strip().upper()


class RscdStep(Step):
    """Flag the first N groups of each MIRI integration DO_NOT_USE (N from the RSCD table by
    SUBARRAY and READPATT: ``group_skip1`` for integration 1, ``group_skip`` for later ones),
    backing off per pixel where the last kept group would be saturated (official jwst 3.0)."""

    class_alias = "rscd"
    reference_file_types = ("rscd",)
    spec = {}

    def process(self, model):
        from ..kernels.rscd import (  # imported on use: keeps strun's start-up short
            apply_rscd_flags,
            flag_rscd_block,
            rscd_skip_groups,
        )

        ramp = ramp_input(model, self.name)
        if not str(ramp.meta.instrument.detector or "").upper().startswith("MIR"):
            return self.skip_step(ramp, "RSCD correction is only for MIRI data")
        ref = load_reference(self, ramp, "rscd")
        if ref is None:
            return self.skip_step(ramp, "no RSCD reference applies (N/A)")
        readpatt = _text(ramp.meta.exposure.readpatt or "")
        subarray = _text(ramp.meta.subarray.name or "")
        subarray = _SUBARRAY_ALIASES.get(subarray, subarray)
        row = next((r for r in ref.rscd_group_skip_table
                    if _text(r["subarray"]) == subarray and _text(r["readpatt"]) == readpatt),
                   None)
        if row is None:
            return self.skip_step(ramp, f"READPATT={readpatt}, SUBARRAY={subarray} not in the "
                                  f"RSCD reference {ref.meta.filename}")
        nints_file, ngroups = ramp.shape[0], ramp.shape[1]
        exp = ramp.meta.exposure
        ngroups = int(exp.ngroups or ngroups)
        nints = int(exp.nints or nints_file)
        skips = rscd_skip_groups(ngroups, nints, int(row["group_skip1"]), int(row["group_skip"]))
        if skips is None:
            return self.skip_step(ramp, f"too few groups ({ngroups}) for the RSCD correction")
        int_start = int(exp.integration_start or 1)
        gdq = ramp.groupdq
        blocks = []  # (first integration, end, groups to flag, keyword suffix)
        if int_start == 1:
            blocks.append((0, 1, skips[0], "int1"))
        if nints > 1:
            blocks.append((1 if int_start == 1 else 0, nints_file, skips[1], "int2p"))
        for i0, i1, skip, key in blocks:
            if i1 <= i0:
                continue
            skip_array, lowered, n_lowered, n_one = flag_rscd_block(
                gdq, i0, i1, skip, sat_bit=FLAGS["saturated"])
            apply_rscd_flags(gdq, i0, skip_array, dnu_bit=FLAGS["do_not_use"])
            if n_lowered:
                ramp.pixeldq[lowered] |= FLAGS["flux_estimated"]
            ramp.meta.set(f"rscd.ngroups_skip_{key}", skip)
            ramp.meta.set(f"rscd.keep_groups_saturation_{key}", n_lowered)
            ramp.meta.set(f"rscd.keep_bright_firstgroup_{key}", n_one)
            self.log.info("RSCD: %d groups flagged DO_NOT_USE in integrations %d-%d; %d pixels "
                          "lowered for saturation", skip, i0 + int_start, i1 + int_start - 1,
                          n_lowered)
        ramp.groupdq = gdq
        return ramp
