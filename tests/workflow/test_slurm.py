"""profiles/slurm on a real one-node SLURM cluster (set up by tests/workflow/slurm/).

The cluster fixture installs slurm-wlm and munge when missing (root, Debian); a failed
install or start FAILS the test with the reason, it is never skipped. The tiny demo runs
through ``snakemake --profile profiles/slurm``; the products' SCI/ERR/DQ arrays must equal a
local ``--cores 2`` run on the same raw files.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from slurm.scale_helpers import (
    ROOTS,
    TINY_CONFIG,
    array_checksums,
    copy_workflow,
    stage1_targets,
    uncal_dir_config,
)

SLURM_DIR = Path(__file__).parent / "slurm"


@pytest.fixture(scope="module")
def cluster():
    """A running one-node cluster; stopped again after the module's tests."""
    start = subprocess.run(
        ["bash", str(SLURM_DIR / "start_cluster.sh")], capture_output=True, text=True, timeout=900
    )
    if start.returncode != 0:
        pytest.fail(f"SLURM cluster did not start: {(start.stderr or start.stdout).strip()}")
    yield start.stdout.strip()
    subprocess.run(["bash", str(SLURM_DIR / "stop_cluster.sh")], capture_output=True, timeout=120)


def _job_settings(slurm_id: str) -> dict[str, str]:
    """``scontrol show job`` fields of a (recently finished) SLURM job."""
    shown = subprocess.run(
        ["scontrol", "show", "job", slurm_id], capture_output=True, text=True, check=True
    ).stdout
    return dict(re.findall(r"(\w+)=(\S+)", shown))


@pytest.mark.slow
def test_tiny_demo_through_slurm_matches_local(cluster, snakemake, workflow_dir, tmp_path):
    targets = stage1_targets()
    run = snakemake(
        workflow_dir,
        "--profile", "profiles/slurm",
        "--slurm-init-seconds-before-status-checks", "2",  # a test: poll soon
        "--config", TINY_CONFIG,
        "--", *targets,
        timeout=900,
    )  # fmt: skip
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]

    # every job went through sbatch with the rule's resources
    by_rule = {}
    for slurm_id, rule in re.findall(
        r"submitted with SLURM jobid (\d+) \(log: \S+/rule_(\w+)/", out
    ):
        by_rule.setdefault(rule, []).append(slurm_id)
    assert sorted(by_rule) == ["demo", "detector1"], out[-3000:]
    assert len(by_rule["detector1"]) == len(ROOTS)
    demo = workflow_dir / "results" / "demo"
    raw_mb = (demo / "uncal" / f"{ROOTS[0]}_uncal.fits").stat().st_size / 2**20
    for slurm_id in by_rule["detector1"]:
        job = _job_settings(slurm_id)
        assert job["JobState"] == "COMPLETED", job
        assert job["NumCPUs"] == "2"  # profile: set-threads detector1: 2 -> cpus_per_task
        assert job["MinMemoryNode"] == f"{int(1000 + 32 * raw_mb)}M"  # rules/common.smk mem_mb
        assert job["TimeLimit"] == f"00:{int(5 + 0.5 * raw_mb):02d}:00"  # runtime_min

    # the same raw files and references through a local --cores 2 run
    local = copy_workflow(tmp_path / "local")
    run_local = snakemake(
        local, "--cores", "2", "--config", *uncal_dir_config(demo / "uncal", demo / "crds_cache"),
        "--", *targets, timeout=900,
    )  # fmt: skip
    assert run_local.returncode == 0, run_local.stderr[-4000:]
    products = [Path(t).relative_to("results") for t in targets]
    on_slurm = array_checksums([workflow_dir / "results" / p for p in products])
    at_home = array_checksums([local / "results" / p for p in products])
    assert len(on_slurm) == 3 * len(targets)
    assert on_slurm == at_home
