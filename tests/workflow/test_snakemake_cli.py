"""The workflow as a user meets it: lint, dry runs, and one-line start-up errors."""

from __future__ import annotations

from pathlib import Path

from astropy.io import fits

from webbflow import __version__, workflow


def _last_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def test_lint_is_clean(snakemake, workflow_dir: Path) -> None:
    result = snakemake(workflow_dir, "--lint")
    assert result.returncode == 0, result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


def test_dry_run_of_default_config_plans_demo_and_manifest(snakemake, workflow_dir: Path) -> None:
    result = snakemake(workflow_dir, "-n", "--cores", "1")
    assert result.returncode == 0, result.stderr
    out = result.stdout + result.stderr
    assert "rule demo:" in out
    assert "checkpoint manifest:" in out
    assert "results/demo/uncal" in out
    assert "results/manifest.tsv" in out
    # job table: demo 1, manifest 1, all 1 -- nothing else is known before the checkpoint
    table = {ln.split()[0]: ln.split()[1] for ln in out.splitlines() if len(ln.split()) == 2}
    assert table.get("demo") == "1"
    assert table.get("manifest") == "1"
    assert table.get("total") == "3"


def test_unknown_key_fails_with_one_line_naming_it(snakemake, workflow_dir: Path) -> None:
    """Other schema errors are checked in process (test_config_checks.py); same code path."""
    result = snakemake(workflow_dir, "-n", "--cores", "1", "--config", "detector1={stepz: {}}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert _last_line(result) == (
        "webbflow: config: unknown key 'detector1.stepz' (did you mean 'steps'?); "
        "allowed here: save_ramp, steps, threads"
    )


def test_wrong_version_pin_fails_clearly(snakemake, workflow_dir: Path) -> None:
    result = snakemake(workflow_dir, "-n", "--cores", "1", "--config", "webbflow_version=0.0.9")
    assert result.returncode == 1
    line = _last_line(result)
    assert "webbflow_version is pinned to '0.0.9'" in line
    assert f"installed webbflow is '{__version__}'" in line


def _raw(path: Path, exp_type: str, **extra: object) -> Path:
    header = fits.Header()
    header.update(
        INSTRUME="NIRCAM",
        DETECTOR="NRCA1",
        EXP_TYPE=exp_type,
        READPATT="RAPID",
        SUBARRAY="SUB64P",
        PROGRAM="01234",
        OBSERVTN="001",
        VISIT="001",
        NINTS=1,
        NGROUPS=3,
        **extra,
    )
    fits.PrimaryHDU(header=header).writeto(path)
    return path


def test_uncal_dir_route_builds_manifest_then_plans_stage1(
    snakemake, workflow_dir: Path, tmp_path: Path
) -> None:
    """Real-data route: the checkpoint reads the headers; the DAG then routes by EXP_TYPE."""
    raw = tmp_path / "raw"
    raw.mkdir()
    _raw(raw / "jw01234001001_01101_00001_nrca1_uncal.fits", "NRC_IMAGE")
    _raw(raw / "jw01234001001_01101_00002_nrca1_uncal.fits", "NRC_IMAGE")
    _raw(raw / "jw01234002001_01101_00001_nrca1_uncal.fits", "NRC_DARK")
    _raw(raw / "jw01234003001_01101_00001-seg001_nrca1_uncal.fits", "NRC_TSIMAGE", TSOVISIT=True)
    config = ["--config", f"inputs={{demo: {{enabled: false}}, uncal_dir: {raw}}}"]
    made = snakemake(workflow_dir, "--cores", "1", "results/manifest.tsv", *config)
    assert made.returncode == 0, made.stderr
    tsv = (workflow_dir / "results" / "manifest.tsv").read_text().splitlines()
    assert len(tsv) == 5
    assert "jw01234003001_01101_00001-seg001_nrca1" in tsv[4]
    assert tsv[4].endswith("calwebb_detector1\tcalwebb_image2\tcalwebb_tso3")

    plan = snakemake(workflow_dir, "-n", "--profile", "profiles/local", *config)
    assert plan.returncode == 0, plan.stderr
    out = plan.stdout + plan.stderr
    assert "summary" in out
    if workflow.implemented("calwebb_detector1"):
        assert out.count("rule detector1:") == 3  # two images and the TSO segment
        assert "results/stage1/jw01234001001_01101_00002_nrca1_rate.fits" in out
    # the dark exposure takes calwebb_dark once that pipeline imports, else nothing
    assert out.count("rule dark:") == (1 if workflow.implemented("calwebb_dark") else 0)
    if workflow.implemented("calwebb_dark"):
        assert "results/stage1/jw01234002001_01101_00001_nrca1_dark.fits" in out
