"""Resume and safety: a run killed with SIGKILL mid-product resumes without redoing finished
products or leaving truncated files; --keep-going isolates a corrupt exposure."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from astropy.io import fits
from slurm.scale_helpers import (
    ROOTS,
    copy_workflow,
    job_counts,
    planned_roots,
    stage1_targets,
    tiny_demo,
    uncal_dir_config,
)

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))

STEP_RUNNING = re.compile(r"Step (\w+) running")
SUFFIXES = ("rate", "rateints")  # the ramp is written only with detector1.save_ramp


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CRDS_")}


def _wait_for_kill_point(proc: subprocess.Popen, out: Path, logs: Path, timeout: float) -> tuple:
    """Wait until one exposure is finished and the other's detector1 job is inside a step.

    Returns (finished root, root in progress, step in progress).
    """
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be killed:\n{out.read_text()[-3000:]}")
        if "(Rule: detector1)" in out.read_text():  # the first detector1 job finished
            for done, busy in (ROOTS, ROOTS[::-1]):
                log = logs / f"{busy}.log"
                stage1 = logs.parent.parent / "stage1"
                if not (stage1 / f"{done}_rateints.fits").exists():
                    continue
                text = log.read_text() if log.exists() else ""
                steps = STEP_RUNNING.findall(text)
                # inside a step of the pipeline, which has not finished (products not all saved)
                if len(steps) >= 2 and "Step calwebb_detector1 done" not in text:
                    return done, busy, steps[-1]
        time.sleep(0.01)
    pytest.fail(f"no detector1 job in progress within {timeout} s:\n{out.read_text()[-3000:]}")


@pytest.mark.slow
def test_sigkill_mid_product_then_resume(tmp_path, tmp_path_factory):
    demo = tiny_demo(tmp_path_factory)
    wf = copy_workflow(tmp_path / "wf")
    base = [
        SNAKEMAKE, "--profile", "profiles/local", "--cores", "1",
        "--config", *uncal_dir_config(demo / "uncal", demo / "crds_cache"),
    ]  # fmt: skip
    args = [*base, "--", *stage1_targets()]
    results = wf / "results"
    out = tmp_path / "first.out"
    with out.open("w") as sink:
        proc = subprocess.Popen(
            args, cwd=wf, env=_clean_env(), stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            done, busy, step = _wait_for_kill_point(proc, out, results / "logs/detector1", 600)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # snakemake and its job processes
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    finished = {p: p.stat().st_mtime_ns for p in (results / "stage1").glob(f"{done}_*.fits")}
    assert sorted(p.name for p in finished) == [f"{done}_{s}.fits" for s in SUFFIXES]

    # a SIGKILLed Snakemake cannot remove its lock: unlock, then run again (rerun-incomplete)
    unlock = subprocess.run([*base, "--unlock"], cwd=wf, env=_clean_env(), capture_output=True)
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    again = subprocess.run(args, cwd=wf, env=_clean_env(), capture_output=True, text=True)
    log = again.stdout + again.stderr
    assert again.returncode == 0, log[-4000:]
    assert job_counts(log) == {"detector1": 1, "total": 1}, f"killed in {step}:\n{log[-3000:]}"
    assert planned_roots(log) == [busy]
    assert {p: p.stat().st_mtime_ns for p in finished} == finished  # not redone

    # nothing truncated or half-written anywhere under the outdir
    assert not [p for p in results.rglob("*.part")]
    products = sorted(results.rglob("*.fits"))
    assert sorted(p.name for p in products) == sorted(
        f"{r}_{s}.fits" for r in ROOTS for s in SUFFIXES
    )
    for path in products:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*truncated")  # astropy's warning
            with fits.open(path) as hdul:
                assert hdul["SCI"].data.shape[-2:] == (160, 160), path
                assert all(hdu.data is not None for hdu in hdul[1:]), path


@pytest.mark.slow
def test_keep_going_isolates_a_corrupt_exposure(tmp_path, tmp_path_factory):
    demo = tiny_demo(tmp_path_factory)
    uncal = tmp_path / "uncal"
    uncal.mkdir()
    for root in ROOTS:
        (uncal / f"{root}_uncal.fits").symlink_to(demo / "uncal" / f"{root}_uncal.fits")
    # a transfer that stopped after the primary header: the manifest reads it, the data is gone
    bad = "jw01234001001_01101_00003_nrca1"
    good = demo / "uncal" / f"{ROOTS[0]}_uncal.fits"
    with fits.open(good) as hdul:
        cut = hdul.fileinfo(1)["hdrLoc"]
    with good.open("rb") as source, (uncal / f"{bad}_uncal.fits").open("wb") as sink:
        sink.write(source.read(cut))

    wf = copy_workflow(tmp_path / "wf")
    run = subprocess.run(
        [
            SNAKEMAKE, "--profile", "profiles/local", "--cores", "2", "--keep-going",
            "--config", *uncal_dir_config(uncal, demo / "crds_cache"),
            "--", *stage1_targets(roots=(*ROOTS, bad)),
        ],
        cwd=wf, env=_clean_env(), capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    log = run.stdout + run.stderr
    assert run.returncode != 0, log[-3000:]
    results = wf / "results"
    for root in ROOTS:
        for suffix in ("rate", "rateints"):
            assert (results / "stage1" / f"{root}_{suffix}.fits").is_file(), log[-3000:]
    assert not list((results / "stage1").glob(f"{bad}_*"))
    errors = [
        line
        for line in (results / "logs/detector1" / f"{bad}.log").read_text().splitlines()
        if " - ERROR - " in line
    ]
    assert len(errors) == 1, errors
    assert "InputError: " in errors[0]
    assert errors[0].endswith(f"/{bad}_uncal.fits: no SCI extension with data")
    assert "Traceback" not in (results / "logs/detector1" / f"{bad}.log").read_text()
