"""Reproducibility: identical data arrays whatever --cores; a changed CRDS context or step
parameter reruns exactly the products it affects (Snakemake's params change detection)."""

from __future__ import annotations

import shutil

import pytest
from astropy.io import fits
from slurm.scale_helpers import (
    ROOTS,
    add_context,
    array_checksums,
    copy_workflow,
    job_counts,
    planned_roots,
    stage1_targets,
    tiny_demo,
    uncal_dir_config,
)

NEW_GAIN = "jwst_nircam_gain_demo2_nrca1.fits"


def _second_context(demo, tmp_path):
    """A copy of the demo cache with jwst_9002.pmap: jwst_9001 with a gain 10 % higher."""
    crds = tmp_path / "crds_cache"
    shutil.copytree(demo / "crds_cache", crds)
    old = crds / "references/jwst/nircam/jwst_nircam_gain_demo_nrca1.fits"
    new = tmp_path / NEW_GAIN
    with fits.open(old) as hdul:
        hdul["SCI"].data = hdul["SCI"].data * 1.1
        hdul.writeto(new)
    add_context(crds, "jwst_9001.pmap", "jwst_9002.pmap", {old.name: new})
    return crds


@pytest.mark.slow
def test_cores_do_not_change_arrays_and_changes_rerun_what_they_affect(
    snakemake, tmp_path, tmp_path_factory
):
    demo = tiny_demo(tmp_path_factory)
    crds = _second_context(demo, tmp_path)
    config = uncal_dir_config(demo / "uncal", crds)
    targets = stage1_targets()
    products = [t.removeprefix("results/") for t in targets]

    sums = {}
    for cores in ("1", "2"):
        wf = copy_workflow(tmp_path / f"cores{cores}")
        run = snakemake(wf, "--cores", cores, "--config", *config, "--", *targets, timeout=900)
        assert run.returncode == 0, run.stderr[-4000:]
        sums[cores] = array_checksums([wf / "results" / p for p in products])
    assert len(sums["1"]) == 3 * len(products)
    assert sums["1"] == sums["2"]

    def dry_run(*config_items):
        run = snakemake(wf, "-n", "--cores", "2", "--config", *config_items, "--", *targets)
        assert run.returncode == 0, run.stderr[-3000:]
        return run.stdout + run.stderr

    # unchanged: nothing; a section of another pipeline changed: still nothing
    assert "Nothing to be done" in dry_run(*config)
    assert "Nothing to be done" in dry_run(*config, "dark={steps: {dq_init: {skip: true}}}")

    # one detector1 step parameter, or the CRDS context: exactly the detector1 products again
    context2 = uncal_dir_config(demo / "uncal", crds, context="jwst_9002.pmap")
    jump = "detector1={steps: {jump: {rejection_threshold: 5.0}}}"
    for changed in ([*config, jump], context2):
        out = dry_run(*changed)
        assert job_counts(out) == {"detector1": len(ROOTS), "total": len(ROOTS)}, out[-3000:]
        assert planned_roots(out) == sorted(ROOTS)
        assert out.count("reason: Params have changed since last execution") == len(ROOTS), out

    # the new context really runs and reaches the products
    run = snakemake(wf, "--cores", "2", "--config", *context2, "--", *targets, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    assert job_counts(run.stdout + run.stderr) == {"detector1": 2, "total": 2}
    changed = array_checksums([wf / "results" / p for p in products])
    for product in products:
        with fits.open(wf / "results" / product) as hdul:
            assert hdul[0].header["CRDS_CTX"] == "jwst_9002.pmap"
            assert hdul[0].header["R_GAIN"] == f"crds://{NEW_GAIN}"
        name = product.split("/")[-1]
        assert changed[f"{name}[SCI]"] != sums["2"][f"{name}[SCI]"]  # the gain moved the rates
