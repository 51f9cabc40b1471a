"""Acceptance: a tiny demo observation through the whole workflow (demo → stage 1 → 2 → 3).

Kept in the default test run (marked slow: ~30 s on 2 cores).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from astropy.io import fits

from webbflow import __version__, workflow

TINY = "inputs={demo: {n_exposures: 2, subarray: SUB160, nints: 1, ngroups: 5}}"
ROOTS = ("jw01234001001_01101_00001_nrca1", "jw01234001001_01101_00002_nrca1")


def _job_counts(output: str) -> dict[str, int]:
    counts = {}
    table = output.split("Job stats:", 1)[-1].split("\n\n", 1)[0]
    for line in table.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


@pytest.mark.slow
def test_tiny_demo_through_all_stages(snakemake, workflow_dir: Path) -> None:
    if not workflow.implemented("calwebb_detector1"):  # the only guard: the pipeline itself
        pytest.skip("calwebb_detector1 is not importable yet")
    run = snakemake(workflow_dir, "--cores", "1", "--config", TINY, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]

    results = workflow_dir / "results"
    manifest = (results / "manifest.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in manifest[1:]] == list(ROOTS)
    summary = (results / "summary.txt").read_text()
    assert summary.startswith(f"webbflow {__version__}, CRDS context jwst_9001.pmap")
    for root in ROOTS:
        assert f"{root}\tNRC_IMAGE\tdone\t" in summary
    product = results / "stage3" / "jw01234-o001_t001_nircam_clear-f200w"
    with fits.open(f"{product}_i2d.fits") as hdul:
        assert hdul[0].header["S_RESAMP"] == "COMPLETE" and hdul[0].header["NDRIZ"] == 2
        assert hdul["SCI"].data.ndim == 2 and hdul["WHT"].data.max() > 0
    assert Path(f"{product}_cat.ecsv").read_text().startswith("# %ECSV")
    assert Path(f"{product}_segm.fits").exists()
    for root in ROOTS:
        with fits.open(results / "stage2" / f"{root}_cal.fits") as hdul:
            assert hdul[0].header["S_PHOTOM"] == "COMPLETE"
            assert hdul["SCI"].header["BUNIT"] == "MJy/sr"

    for root in ROOTS:
        stage1 = results / "stage1"
        assert not (stage1 / f"{root}_ramp.fits").exists()  # written only with save_ramp
        assert (
            "Step calwebb_detector1 done"
            in (results / "logs/detector1" / f"{root}.log").read_text()
        )
        assert (results / "benchmarks/detector1" / f"{root}.tsv").read_text().startswith("s\t")
        for suffix, ndim in (("rate", 2), ("rateints", 3)):
            with fits.open(stage1 / f"{root}_{suffix}.fits") as hdul:
                header = hdul[0].header
                assert hdul["SCI"].data.ndim == ndim
                assert hdul["SCI"].data.shape[-2:] == (160, 160)
            assert header["CRDS_CTX"] == "jwst_9001.pmap"
            assert header["CAL_VER"] == f"webbflow-{__version__}"
            for reftype in ("R_MASK", "R_SATURA", "R_SUPERB", "R_LINEAR", "R_DARK", "R_GAIN"):
                assert header[reftype].startswith("crds://jwst_nircam_"), reftype
            assert header["S_JUMP"] == "COMPLETE"
            assert header["S_RAMP"] == "COMPLETE"

    again = snakemake(workflow_dir, "--cores", "1", "--config", TINY)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Nothing to be done" in again.stdout + again.stderr, again.stderr[-4000:]

    # a changed stage-1 parameter reruns exactly the stage-1 products and what depends on them
    changed = snakemake(
        workflow_dir,
        "-n",
        "--cores",
        "1",
        "--config",
        TINY,
        "detector1={steps: {jump: {rejection_threshold: 5.0}}}",
    )
    assert changed.returncode == 0, changed.stderr[-3000:]
    assert _job_counts(changed.stdout + changed.stderr) == {
        "detector1": 2,
        "image2": 2,
        "image3": 1,
        "summary": 1,
        "all": 1,
        "total": 7,
    }
    assert "params have changed since last execution" in changed.stdout + changed.stderr
