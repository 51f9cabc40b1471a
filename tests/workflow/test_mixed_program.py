"""Acceptance (issue 5): the mixed 20-exposure demo program end to end through Snakemake.

Every exposure gets exactly the products of its pipelines (imaging: rate/rateints, cal + i2d,
stage 3; WFS&C: cal without i2d; background: cal + i2d, no stage 3; darks: the calwebb_dark
ramp only; the flat: stage 1 only; TSO and coronagraphy: rateints -> calints; the FGS file:
cal from calwebb_guider), the run summary has one line per exposure naming where and why it
stopped, products carry CAL_VER/CRDS_CTX/R_*, and every pipeline job prints its progress line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from astropy.io import fits

from webbflow import __version__, workflow
from webbflow.associations import read_manifest

MIXED = ("inputs={demo: {enabled: true, program: mixed, subarray: SUB160, nints: 1, "
         "ngroups: 3, readpatt: RAPID}}")
F200W, F150W = "jw01234-o001_t001_nircam_clear-f200w", "jw01234-o002_t001_nircam_clear-f150w"
TSO3 = "jw01234-o005_t001_nircam_clear-f200w-sub160"
D1 = ("rate", "rateints")


def _expected(row) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(stage-1 suffixes, stage-2 suffixes) of one manifest row, from its mode alone."""
    if row.exp_type == "NRC_DARK":
        return ("dark",), ()
    if row.exp_type == "FGS_FINEGUIDE":
        return ("cal",), ()
    if row.exp_type == "NRC_FLAT":
        return D1, ()
    if row.exp_type in ("NRC_TSIMAGE", "NRC_CORON"):
        return D1, ("calints",)
    if row.patttype == "WFSC":
        return D1, ("cal",)
    return D1, ("cal", "i2d")


def _names(folder: Path, pattern: str = "*") -> set[str]:
    return {p.name for p in folder.glob(pattern) if not p.name.startswith(".")}


@pytest.mark.slow
def test_mixed_program_end_to_end(snakemake, workflow_dir: Path) -> None:
    for alias in ("calwebb_detector1", "calwebb_dark", "calwebb_guider", "calwebb_image2",
                  "calwebb_image3"):
        if not workflow.implemented(alias):
            pytest.skip(f"{alias} is not importable yet")
    run = snakemake(workflow_dir, "--cores", "2", "--config", MIXED, timeout=1500)
    assert run.returncode == 0, run.stderr[-4000:]
    results = workflow_dir / "results"
    table = read_manifest(results / "manifest.tsv")
    assert len(table) == 20

    # exactly the products of each exposure's pipelines, nothing more
    stage1, stage2 = set(), set()
    for row in table.itertuples():
        s1, s2 = _expected(row)
        stage1 |= {f"{row.root}_{s}.fits" for s in s1}
        stage2 |= {f"{row.root}_{s}.fits" for s in s2}
    assert _names(results / "stage1") == stage1
    assert _names(results / "stage2", "*.fits") == stage2
    science = [r.root for r in table.itertuples() if r.exp_type == "NRC_IMAGE"
               and r.patttype != "WFSC" and not r.bkgdtarg]
    assert len(science) == 10
    stage3 = {f"{p}_{s}" for p in (F200W, F150W) for s in ("i2d.fits", "cat.ecsv", "segm.fits")}
    stage3 |= {f"{root}_crf.fits" for root in science}  # named by calwebb_image3 itself
    if workflow.implemented("calwebb_tso3"):
        stage3.add(f"{TSO3}_phot.ecsv")
    assert _names(results / "stage3", "*_*.*") - _names(results / "stage3", "*_asn.json") \
        == stage3

    # the summary: a header, then one line per exposure with its verdict and stage details
    lines = (results / "summary.txt").read_text().splitlines()
    assert lines[0] == f"webbflow {__version__}, CRDS context jwst_9001.pmap"
    verdicts = {ln.split("\t")[0]: ln.split("\t")[2:] for ln in lines[1:]}
    assert set(verdicts) == set(table["root"]) and len(lines) == 21
    for row in table.itertuples():
        verdict, detail = verdicts[row.root]
        if row.exp_type in ("NRC_DARK", "NRC_FLAT", "FGS_FINEGUIDE"):
            assert verdict == f"done ({row.exp_type} has no stage 2 or stage 3, as officially)"
            assert detail.startswith(f"stage1 {row.stage1} -> {row.root}_")
        elif row.bkgdtarg:
            assert verdict.startswith("done after stage 2 (background exposure")
        elif row.patttype == "WFSC":
            assert verdict == ("stopped after stage 2: calwebb_wfs-image3 is not available in "
                               "this webbflow")
        elif row.exp_type == "NRC_TSIMAGE" and not workflow.implemented("calwebb_tso3"):
            assert verdict == ("stopped after stage 2: calwebb_tso3 is not available in this "
                               "webbflow")
            assert f"stage2 calwebb_image2 -> {row.root}_calints.fits" in detail
        elif row.exp_type == "NRC_CORON" and not workflow.implemented("calwebb_coron3"):
            assert verdict.startswith("stopped after stage 2: calwebb_coron3 is not available")
        else:
            assert verdict == "done", row.root
            assert f"stage3 calwebb_image3 -> {F200W if '001001' in row.root else F150W}" \
                in detail

    # provenance on every product: software version, CRDS context, reference files used
    for path in sorted((results / "stage1").glob("*.fits")) + sorted(
            (results / "stage2").glob("*.fits")) + [results / "stage3" / f"{F150W}_i2d.fits"]:
        header = fits.getheader(path)
        assert header["CAL_VER"] == f"webbflow-{__version__}", path.name
        assert header["CRDS_CTX"] == "jwst_9001.pmap", path.name
        refs = {k: v for k, v in header.items() if k.startswith("R_") and v != "N/A"}
        assert refs and all(v.startswith("crds://jwst_") for v in refs.values()), path.name
        assert "R_MASK" in refs, path.name
    guider = next((results / "stage1").glob("*_gs-fg_*_cal.fits"))
    with fits.open(guider) as hdul:
        assert hdul[0].header["S_GUICDS"] == "COMPLETE"
        assert hdul[0].header["R_FLAT"] == "crds://jwst_fgs_flat_demo_guider1.fits"
        assert hdul["SCI"].data.shape == (3, 8, 8)
    dark = next((results / "stage1").glob("*_dark.fits"))
    with fits.open(dark) as hdul:
        assert hdul[0].header["S_LINEAR"] == "COMPLETE" and "S_RAMP" not in hdul[0].header
        assert hdul["SCI"].data.shape == (1, 3, 160, 160)

    # a progress line per pipeline job, as it starts and ends, on the console and in its log
    planned = len((results / "logs" / "progress" / "plan.tsv").read_text().splitlines())
    assert planned == 20 + 16 + 2  # stage 1, stage 2, the two image3 products
    ends = re.findall(r"^\[webbflow\] (\S+) (\S+) -> ([a-z0-9, ]+) \((\d+)/(\d+)\) [\d.]+ s$",
                      run.stderr, flags=re.M)
    assert len(ends) == planned
    assert {e[4] for e in ends} == {str(planned)}
    assert sorted(int(e[3]) for e in ends)[-1] == planned
    root = science[0]
    assert (f"[webbflow] detector1 {root}_uncal.fits -> rate, rateints: started"
            in run.stderr)
    log = (results / "logs" / "detector1" / f"{root}.log").read_text()
    assert f"[webbflow] detector1 {root}_uncal.fits -> rate, rateints: started" in log
    assert re.search(rf"\[webbflow\] detector1 {root}_uncal\.fits -> rate, rateints "
                     rf"\(\d+/{planned}\) [\d.]+ s$", log, flags=re.M)
