"""The per-job progress lines (``workflow.job``) and the plan file they count against."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from snakemake.iocontainers import Namedlist

from webbflow import workflow
from webbflow.errors import InputError


def _job(tmp_path: Path, rule: str = "detector1", **outputs: str) -> SimpleNamespace:
    outputs = outputs or {"rate": "out/stage1/x_rate.fits",
                          "rateints": "out/stage1/x_rateints.fits"}
    return SimpleNamespace(
        rule=rule,
        input=Namedlist(fromdict={"uncal": "raw/x_uncal.fits", "overrides": []}),
        output=Namedlist(fromdict=outputs),
        log=Namedlist(fromdict={"log": str(tmp_path / "logs" / f"{rule}.log")}),
    )


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "out" / "logs" / "progress" / "plan.tsv"
    jobs = [("calwebb_detector1", "out/stage1/x_rate.fits"),
            ("calwebb_detector1", "out/stage1/y_rate.fits"),
            ("calwebb_image2", "out/stage2/x_cal.fits")]
    workflow.write_plan(path, jobs)
    monkeypatch.setenv(workflow.PLAN_ENV, str(path))
    return path


def test_plan_file_is_rewritten_only_when_it_changes(plan: Path) -> None:
    assert plan.read_text().splitlines()[1] == "calwebb_detector1\tout/stage1/y_rate.fits"
    before = plan.stat().st_mtime_ns
    workflow.write_plan(plan, [tuple(ln.split("\t")) for ln in plan.read_text().splitlines()])
    assert plan.stat().st_mtime_ns == before
    assert workflow.plan_progress("out/stage1/x_rate.fits") == (0, 3)
    assert workflow.plan_progress("out/manifest.tsv") is None  # not a pipeline job


def test_job_prints_start_and_end_lines_with_the_plan_count(plan, tmp_path, capfd) -> None:
    smk = _job(tmp_path)
    (tmp_path / "out" / "stage2").mkdir(parents=True)
    (tmp_path / "out" / "stage2" / "x_cal.fits").write_text("made earlier")
    with workflow.job(smk) as log:
        log.info("inside the job")
        Path(smk.output.rate).parent.mkdir(parents=True)
        Path(smk.output.rate).write_text("product")
    err = capfd.readouterr().err.splitlines()
    label = "[webbflow] detector1 x_uncal.fits -> rate, rateints"
    assert err[0] == f"{label}: started"
    assert re.fullmatch(re.escape(label) + r" \(2/3\) \d+\.\d s", err[1]), err[1]
    assert len(err) == 2  # the job's own log lines stay in its log
    log_text = (tmp_path / "logs" / "detector1.log").read_text()
    assert f"{label}: started" in log_text and "inside the job" in log_text
    assert err[1] in log_text


def test_a_failing_job_says_so_in_one_line(plan, tmp_path, capfd) -> None:
    smk = _job(tmp_path, "image2", cal="out/stage2/x_cal.fits", i2d="out/stage2/x_i2d.fits")
    with pytest.raises(InputError), workflow.job(smk):
        raise InputError("x_rate.fits: no SCI extension")
    err = capfd.readouterr().err.splitlines()
    assert err[0] == "[webbflow] image2 x_uncal.fits -> cal, i2d: started"
    assert re.fullmatch(r"\[webbflow\] image2 x_uncal\.fits -> cal, i2d FAILED after \d+\.\d s: "
                        r"InputError: x_rate\.fits: no SCI extension", err[1]), err[1]


def test_labels_of_jobs_without_a_raw_input() -> None:
    outputs = ["results/demo/demo.json", "results/demo/uncal", "results/demo/crds_cache"]
    assert workflow.job_label("demo", Namedlist(), outputs) == "demo -> demo, uncal, crds_cache"
    inputs = Namedlist(fromdict={"asn": "s3/p_image3_asn.json", "members": ["a", "b"]})
    assert workflow.job_label("image3", inputs, ["p_i2d.fits", "p_cat.ecsv"]) == (
        "image3 p_image3_asn.json -> i2d, cat")
