"""Shared helpers of the workflow tests: a private copy of the workflow and a snakemake runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
WORKFLOW_PARTS = ("Snakefile", "rules", "scripts", "config", "envs", "profiles")


def run_snakemake(
    workdir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``snakemake`` in ``workdir`` with a clean CRDS environment; capture the output."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRDS_")}
    clean.update(env or {})
    return subprocess.run(
        [SNAKEMAKE, *args],
        cwd=workdir,
        env=clean,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def snakemake():
    """The :func:`run_snakemake` helper, as a fixture."""
    return run_snakemake


@pytest.fixture
def workflow_dir(tmp_path: Path) -> Path:
    """A copy of the workflow (Snakefile, rules, scripts, config, envs, profiles) in tmp_path."""
    target = tmp_path / "wf"
    target.mkdir()
    for part in WORKFLOW_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            shutil.copy2(source, target / part)
    return target
