"""Routing a whole program: every EXP_TYPE row to its pipelines, and the one-line summary of
where each exposure stopped and why."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from astropy.io import fits
from test_associations_from_manifest import _root, _row

from webbflow import workflow
from webbflow.associations import exptype_table, pipelines_for, program

GUIDING = ("FGS_ID-STACK", "FGS_ID-IMAGE", "FGS_ACQ1", "FGS_ACQ2", "FGS_TRACK",
           "FGS_FINEGUIDE")


def test_every_table_row_routes_by_its_kind():
    table = exptype_table()
    assert len(table) >= 60
    for row in table.itertuples():
        tso = row.tsovisit == "True"
        stages = pipelines_for(row.exp_type, tso)
        if "DARK" in row.exp_type:
            assert stages == ("calwebb_dark", None, None), row.exp_type
        elif row.exp_type in GUIDING:
            assert stages == ("calwebb_guider", None, None), row.exp_type
        elif any(k in row.exp_type for k in ("FLAT", "LAMP", "LED", "EXTCAL")) and \
                not row.exp_type.startswith("NRS_"):
            assert stages == ("calwebb_detector1", None, None), row.exp_type
        else:
            assert stages[0] == "calwebb_detector1", row.exp_type
        if row.tsovisit == "True" and stages[2]:
            assert stages[2] == "calwebb_tso3", row.exp_type
    assert pipelines_for("NIS_AMI", False)[2] == "calwebb_ami3"
    for coron in ("NRC_CORON", "MIR_LYOT", "MIR_4QPM"):
        assert pipelines_for(coron, False)[2] == "calwebb_coron3"


def test_wfsc_pairs_take_wfs_image3_and_only_imaging_modes_do():
    assert pipelines_for("NRC_IMAGE", False, "WFSC") == (
        "calwebb_detector1", "calwebb_image2", "calwebb_wfs-image3")
    assert pipelines_for("NRC_IMAGE", False, "INTRAMODULEBOX")[2] == "calwebb_image3"
    assert pipelines_for("NRC_DARK", False, "WFSC") == ("calwebb_dark", None, None)
    assert pipelines_for("MIR_IMAGE", True, "WFSC")[2] == "calwebb_tso3"


def _summary(rows, implemented, exists=None, failed=False):
    table = pd.DataFrame(rows)
    plans = program.build_associations(table)
    lines = program.summary_lines(table, plans, lambda a: a in implemented, exists, failed)
    return {line.split("\t")[0]: line.split("\t") for line in lines}


STAGE1 = {"calwebb_detector1", "calwebb_dark", "calwebb_guider"}


def test_summary_says_where_each_exposure_stopped_and_why():
    rows = [_row(_root("001", 1), "NRC_IMAGE"), _row(_root("001", 2), "NRC_IMAGE"),
            _row(_root("005", 1), "NRC_TSIMAGE", obs="005", tso=True),
            _row(_root("006", 1), "NRC_FLAT", obs="006"),
            _row(_root("007", 1), "NRC_DARK", obs="007"),
            _row(_root("009", 1), "NRS_FIXEDSLIT", obs="009"),
            _row(_root("010", 1), "NRC_BOGUS", obs="010")]
    lines = _summary(rows, STAGE1 | {"calwebb_image2"})
    assert len(lines) == len(rows)  # one line per exposure
    root, exp_type, verdict, detail = lines[_root("001", 1)]
    assert exp_type == "NRC_IMAGE"
    assert verdict == "stopped after stage 2: calwebb_image3 is not available in this webbflow"
    assert f"stage2 calwebb_image2 -> {root}_cal.fits, {root}_i2d.fits" in detail
    assert "stage3 calwebb_image3: not yet in the workflow" in detail
    tso = lines[_root("005", 1)]
    assert tso[2] == "stopped after stage 2: calwebb_tso3 is not available in this webbflow"
    assert f"{_root('005', 1)}_calints.fits" in tso[3]
    assert lines[_root("006", 1)][2] == "done (NRC_FLAT has no stage 2 or stage 3, as officially)"
    assert lines[_root("007", 1)][3] == f"stage1 calwebb_dark -> {_root('007', 1)}_dark.fits"
    assert lines[_root("009", 1)][2] == (
        "stopped after stage 1: calwebb_spec2 is not available in this webbflow")
    assert "stage3 calwebb_spec3: not reached" in lines[_root("009", 1)][3]
    assert lines[_root("010", 1)][2] == "not run: EXP_TYPE NRC_BOGUS is not in the EXP_TYPE table"

    none = _summary(rows[:1], set())
    assert none[_root("001", 1)][2] == (
        "not run: calwebb_detector1 is not available in this webbflow")
    done = _summary(rows[:2], STAGE1 | {"calwebb_image2", "calwebb_image3"})
    assert done[_root("001", 2)][2] == "done"
    assert "jw01234-o001_t001_nircam_clear-f200w_i2d.fits" in done[_root("001", 2)][3]


def test_missing_products_read_failed_or_pending():
    rows = [_row(_root("001", 1), "NRC_IMAGE")]
    present = {f"stage1/{_root('001', 1)}_rate.fits", f"stage1/{_root('001', 1)}_rateints.fits"}
    failed = _summary(rows, STAGE1 | {"calwebb_image2"}, present.__contains__, failed=True)
    assert failed[_root("001", 1)][2] == "stopped after stage 1: calwebb_image2 did not finish"
    assert "stage2 calwebb_image2: FAILED, missing" in failed[_root("001", 1)][3]
    pending = _summary(rows, STAGE1 | {"calwebb_image2"}, present.__contains__)
    assert pending[_root("001", 1)][2].startswith("pending after stage 1")


def test_run_summary_before_and_after_the_manifest(tmp_path):
    text = workflow.run_summary(tmp_path, {}, "jwst_9001.pmap", failed=True)
    assert "run FAILED; no manifest yet" in text
    program_rows = [_row(_root("001", 1), "NRC_IMAGE"), _row(_root("007", 1), "NRC_DARK")]
    pd.DataFrame(program_rows).to_csv(tmp_path / "manifest.tsv", sep="\t", index=False,
                                      na_rep="N/A")
    (tmp_path / "stage1").mkdir()
    (tmp_path / "stage1" / f"{_root('007', 1)}_dark.fits").write_bytes(b"")
    text = workflow.run_summary(tmp_path, {"calwebb_dark": True}, "jwst_9001.pmap")
    lines = text.splitlines()
    assert lines[0].endswith("run finished (1 done, 1 not); per exposure:")
    assert len(lines) == 3


def _raw(path: Path, exp_type: str, **extra: object) -> Path:
    header = fits.Header()
    keys = dict(INSTRUME="NIRCAM", DETECTOR="NRCA1", EXP_TYPE=exp_type, READPATT="RAPID",
                SUBARRAY="SUB64P", PROGRAM="01234", OBSERVTN="001", VISIT="001",
                FILTER="F200W", PUPIL="CLEAR", NINTS=1, NGROUPS=3)
    header.update({**keys, **extra})
    fits.PrimaryHDU(header=header).writeto(path)
    return path


@pytest.mark.slow
def test_dry_run_routes_stage2_and_associations(snakemake, workflow_dir, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for n in (1, 2):
        _raw(raw / f"{_root('001', n)}_uncal.fits", "NRC_IMAGE")
    _raw(raw / f"{_root('002', 1)}_uncal.fits", "NRC_TSIMAGE", TSOVISIT=True, OBSERVTN="002")
    _raw(raw / f"{_root('003', 1)}_uncal.fits", "NRC_TACQ", OBSERVTN="003")
    config = ["--config", f"inputs={{demo: {{enabled: false}}, uncal_dir: {raw}}}"]
    made = snakemake(workflow_dir, "--cores", "1", "results/associations.tsv", *config)
    assert made.returncode == 0, made.stderr[-3000:]
    index = program.read_index(workflow_dir / "results" / "associations.tsv")
    assert [p.file for p in index] == [
        "jw01234-o001_t001_nircam_clear-f200w_image3_asn.json",
        "jw01234-o002_t001_nircam_clear-f200w-sub64p_tso3_asn.json"]
    assert "per exposure:" in made.stderr  # the onsuccess summary

    plan = snakemake(workflow_dir, "-n", "--cores", "1", *config)
    assert plan.returncode == 0, plan.stderr[-3000:]
    out = plan.stdout + plan.stderr
    if workflow.implemented("calwebb_detector1") and workflow.implemented("calwebb_image2"):
        assert out.count("rule image2:") == 2  # cal + i2d for the two images
        assert out.count("rule image2_ints:") == 1  # calints for the TSO
        assert out.count("rule image2_cal:") == 1  # cal only for the TA
        assert f"results/stage2/{_root('002', 1)}_calints.fits" in out
    if workflow.implemented("calwebb_image3") and workflow.implemented("calwebb_image2"):
        assert "results/stage3/jw01234-o001_t001_nircam_clear-f200w_i2d.fits" in out
        assert "rule asn:" in out
