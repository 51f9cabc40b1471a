"""Between-workflow caching: two workflow directories sharing an exposure compute it once
(``snakemake --cache`` with SNAKEMAKE_OUTPUT_CACHE); a changed parameter is a new entry."""

from __future__ import annotations

import pytest
from slurm.scale_helpers import (
    ROOTS,
    array_checksums,
    copy_workflow,
    stage1_targets,
    tiny_demo,
    uncal_dir_config,
)


def _uncal_dir(tmp_path, demo, name, roots):
    folder = tmp_path / name
    folder.mkdir()
    for root in roots:
        (folder / f"{root}_uncal.fits").symlink_to(demo / "uncal" / f"{root}_uncal.fits")
    return folder


@pytest.mark.slow
def test_two_workflows_share_a_cached_exposure(snakemake, tmp_path, tmp_path_factory):
    demo = tiny_demo(tmp_path_factory)
    cache = tmp_path / "output_cache"
    cache.mkdir()
    env = {"SNAKEMAKE_OUTPUT_CACHE": str(cache)}
    shared, other = ROOTS

    def run_cached(name, roots, *extra):
        wf = copy_workflow(tmp_path / name)
        uncal = _uncal_dir(tmp_path, demo, f"uncal_{name}", roots)
        run = snakemake(
            wf, "--cores", "2", "--cache",
            "--config", *uncal_dir_config(uncal, demo / "crds_cache"), *extra,
            "--", *stage1_targets(roots=roots),
            env=env, timeout=900,
        )  # fmt: skip
        out = run.stdout + run.stderr
        assert run.returncode == 0, out[-4000:]
        return wf / "results", out

    first, out = run_cached("first", (shared,))
    assert f"Moving output file results/stage1/{shared}_rate.fits to cache." in out
    assert sorted(p.suffix for p in cache.glob("*.fits")) == [".fits"] * 2  # rate, rateints

    second, out = run_cached("second", (shared, other))
    # (a stored product is moved to the cache and symlinked back; a cache hit is only symlinked)
    assert f"Moving output file results/stage1/{other}_rate.fits to cache." in out
    assert f"results/stage1/{shared}_rate.fits to cache" not in out
    for suffix in ("rate", "rateints"):
        assert f"Symlinking output file results/stage1/{shared}_{suffix}.fits from cache." in out
        assert (second / "stage1" / f"{shared}_{suffix}.fits").resolve().parent == cache
    # computed once: the shared exposure's job did not run here, the other one did
    # (Snakemake still creates the job's log file, empty)
    shared_log = second / "logs/detector1" / f"{shared}.log"
    assert not shared_log.exists() or shared_log.read_text() == ""
    assert "Step calwebb_detector1 done" in (second / f"logs/detector1/{other}.log").read_text()
    products = [f"stage1/{shared}_{s}.fits" for s in ("rate", "rateints")]
    assert array_checksums([second / p for p in products]) == array_checksums(
        [first / p for p in products]
    )
    assert len(list(cache.glob("*.fits"))) == 4  # two exposures x (rate, rateints)

    # a different step parameter is another cache entry: computed, not taken
    third, out = run_cached(
        "third", (shared,), "detector1={steps: {jump: {rejection_threshold: 5}}}"
    )
    assert f"Moving output file results/stage1/{shared}_rate.fits to cache." in out
    assert "Step calwebb_detector1 done" in (third / f"logs/detector1/{shared}.log").read_text()
    assert len(list(cache.glob("*.fits"))) == 6
