"""strun and collect_pipeline_cfgs, run as the installed console scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from webbflow import catalog
from webbflow.errors import ParameterError
from webbflow.stpipe.cli import collect_pipeline_cfgs, parse_args
from webbflow.stpipe.config_files import read_cfg
from webbflow.thread_policy import BLAS_THREAD_VARIABLES

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
STRUN = str(BIN / "strun")
COLS = np.arange(5, dtype=np.float32)


def strun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(HERE))
    for name in ("STPIPE_DISABLE_CRDS_STEPPARS", *BLAS_THREAD_VARIABLES):
        env.pop(name, None)
    return subprocess.run([STRUN, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def fits_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.fits"))


def test_pipeline_run_saves_product_with_replaced_suffix(rate_file, tmp_path):
    res = strun("wf_test_steps.TwoStepPipeline", "in/jw01_nrca1_rate.fits",
                "--steps.add_constant.value=2", "--steps.scale.override_gain", "N/A",
                "--steps.add_constant.save_results", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert "Step test_two_step done" in res.stdout
    assert fits_files(tmp_path) == ["in/jw01_nrca1_rate.fits", "jw01_nrca1_add_constant.fits",
                                    "jw01_nrca1_cal.fits"]
    hdr = fits.getheader(tmp_path / "jw01_nrca1_cal.fits")
    assert (hdr["S_DARK"], hdr["S_GANSCL"], hdr["R_GAIN"]) == ("COMPLETE", "SKIPPED", "N/A")
    np.testing.assert_array_equal(fits.getdata(tmp_path / "jw01_nrca1_cal.fits", "SCI")[0],
                                  3.0 + COLS)


def test_strun_collects_garbage_only_after_start_up(rate_file, tmp_path):
    # the collector is off through the imports, then on with their objects frozen
    res = strun("wf_test_steps.GcStateStep", "in/jw01_nrca1_rate.fits", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    state = res.stdout.split("collector enabled=")[1].split()[:2]
    assert state[0] == "True"
    assert int(state[1].removeprefix("frozen=")) > 50_000  # numpy, the steps...
    assert "blas threads=1" in res.stdout  # set before numpy's import (thread_policy)
    light = subprocess.run([sys.executable, "-c", "import sys, webbflow.console; "
                            "print(sorted({'numpy', 'astropy'} & set(sys.modules)))"],
                           capture_output=True, text=True, check=True)
    assert light.stdout.strip() == "[]"  # the entry module imports nothing heavy first


def test_stage1_imports_no_astropy():
    # stage 1 reads and writes through datamodels.fitsio: importing astropy.io.fits would
    # cost every Detector1 process 0.2-0.3 s (it imports astropy.units)
    code = ("import sys, webbflow.stpipe.cli, webbflow.pipelines.detector1, "
            "webbflow.pipelines.dark, webbflow.pipelines.guider, webbflow.references.read; "
            "print(sorted(m for m in sys.modules if m.startswith('astropy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_lone_step_by_cfg_appends_alias(rate_file, tmp_path):
    (tmp_path / "add.cfg").write_text(
        'name = "add_constant"\nclass = "wf_test_steps.AddConstantStep"\nvalue = 5\n')
    res = strun("add.cfg", "in/jw01_nrca1_rate.fits", "--output_dir", "out",
                "--save-parameters", "used.cfg", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = tmp_path / "out" / "jw01_nrca1_rate_add_constant.fits"
    np.testing.assert_array_equal(fits.getdata(out, "SCI")[2], 6.0 + COLS)
    used = read_cfg(tmp_path / "used.cfg")
    assert used.parameters["value"] == "5.0" and used.parameters["output_dir"] == "out"
    assert used.parameters["save_results"] == "True"


@pytest.mark.parametrize(("args", "message"), [
    (("nosuch_step", "in/jw01_nrca1_rate.fits"), "unknown step or pipeline 'nosuch_step'"),
    (("wf_test_steps.AddConstantStep", "in/jw01_nrca1_rate.fits", "--valeu=3"),
     "unknown parameter 'valeu' for step 'add_constant' (did you mean 'value'?)"),
    (("wf_test_steps.AddConstantStep", "in/jw01_nrca1_rate.fits", "--value=abc"),
     "add_constant.value: expected a float, got 'abc'"),
    (("wf_test_steps.AddConstantStep", "missing.fits"), "missing.fits: no such file"),
    (("wf_test_steps.AddConstantStep", "notfits.fits"), "notfits.fits: not a readable FITS"),
    (("wf_test_steps.TwoStepPipeline", "in/jw01_nrca1_rate.fits", "--steps.scael.extra=2"),
     "unknown step 'scael' in pipeline 'test_two_step' (did you mean 'scale'?)"),
    (("wf_test_steps.TwoStepPipeline", "in/jw01_nrca1_rate.fits",
      "--steps.scale.override_gain=nope.fits"), "scale.override_gain: nope.fits: no such file"),
])
def test_errors_are_one_line_exit_1_and_leave_no_product(rate_file, tmp_path, args, message):
    (tmp_path / "notfits.fits").write_text("this is not FITS\n" * 10)
    res = strun(*args, cwd=tmp_path)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("strun: error: ") and message in lines[0]
    assert "Traceback" not in res.stdout + res.stderr
    assert fits_files(tmp_path) == ["in/jw01_nrca1_rate.fits", "notfits.fits"]
    assert not list(tmp_path.rglob("*.part"))


def test_help_lists_every_parameter_with_default(tmp_path):
    res = strun("wf_test_steps.TwoStepPipeline", "-h", cwd=tmp_path)
    assert res.returncode == 0 and res.stderr == ""
    lines = res.stdout.splitlines()
    value = [ln for ln in lines if ln.strip().startswith("--steps.add_constant.value ")]
    assert len(value) == 1 and "float, default 1.0" in value[0]
    assert "Constant added to SCI" in value[0]
    for name in ("--save_secondary", "--steps.scale.override_gain", "--steps.scale.skip",
                 "--steps.add_constant.mode", "--output_dir", "--logcfg"):
        assert any(ln.strip().startswith(name) for ln in lines), name


def test_detector1_help_lists_every_step_parameter(tmp_path):
    entry = catalog.find("calwebb_detector1")
    if not catalog.is_implemented(entry):
        pytest.skip("Detector1Pipeline not written yet")
    cls = catalog.resolve("calwebb_detector1")
    res = strun("calwebb_detector1", "-h", cwd=tmp_path)
    assert res.returncode == 0 and res.stderr == ""
    lines = {ln.split()[0]: ln for ln in res.stdout.splitlines() if ln.startswith("  --")}
    for step_name, step_cls in cls.step_defs.items():
        for key, param in step_cls.full_spec().items():
            line = lines[f"--steps.{step_name}.{key}"]
            assert param.describe() in line


def test_logcfg_writes_log_file(rate_file, tmp_path):
    (tmp_path / "pipeline-log.cfg").write_text("handler = file:pipeline.log\nlevel = INFO\n")
    res = strun("wf_test_steps.AddConstantStep", "in/jw01_nrca1_rate.fits", "--logcfg",
                "pipeline-log.cfg", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    log = (tmp_path / "pipeline.log").read_text()
    assert "Step add_constant running with args" in log and "Step add_constant done" in log
    assert "Step add_constant" not in res.stdout
    # stpipe-log.cfg in the working directory is used without --logcfg
    (tmp_path / "stpipe-log.cfg").write_text("[*]\nhandler = file:auto.log\nlevel = WARNING\n")
    res = strun("wf_test_steps.AddConstantStep", "in/jw01_nrca1_rate.fits", "--refuse",
                cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    auto = (tmp_path / "auto.log").read_text()
    assert "Step add_constant skipped: asked to refuse" in auto
    assert "running with args" not in auto


def test_parse_args_forms():
    parsed = parse_args(["wf_test_steps.TwoStepPipeline", "x.fits", "--save_results",
                         "--steps.scale.extra", "2", "--steps.scale.skip", "false",
                         "--output_dir=o"])
    assert parsed["positional"] == ["wf_test_steps.TwoStepPipeline", "x.fits"]
    assert parsed["params"] == {"save_results": "True", "output_dir": "o",
                                "steps": {"scale": {"extra": "2", "skip": "false"}}}
    with pytest.raises(ParameterError, match="option --output_dir needs a value"):
        parse_args(["wf_test_steps.AddConstantStep", "x.fits", "--output_dir"])


def test_catalog_resolution():
    assert catalog.find("jwst.pipeline.Detector1Pipeline").alias == "calwebb_detector1"
    assert catalog.find("jwst.pipeline.calwebb_detector1.Detector1Pipeline").implementation \
        == "webbflow.pipelines.detector1:Detector1Pipeline"
    dq = catalog.find("jwst.dq_init.dq_init_step.DQInitStep")
    assert dq is catalog.find("dq_init.cfg") is catalog.find("DQInitStep")
    assert dq.implementation == "webbflow.steps.dq_init:DQInitStep"
    assert catalog.find("calwebb_tso1.cfg").alias == "calwebb_detector1"
    assert catalog.find("calwebb_wfs-image3").alias == "wfs_combine"
    assert catalog.find("jwst.ramp_fitting.ramp_fit_step.RampFitStep").alias == "ramp_fit"
    for alias in ("group_scale", "emicorr", "charge_migration", "clean_flicker_noise",
                  "picture_frame", "guider_cds", "resample", "source_catalog", "tweakreg",
                  "calwebb_ami3", "calwebb_coron3", "calwebb_tso3", "calwebb_guider"):
        assert catalog.find(alias) is not None, alias
    import wf_test_steps

    assert catalog.resolve("add_constant") is wf_test_steps.AddConstantStep
    assert catalog.resolve("wf_test_steps.ScaleStep") is wf_test_steps.ScaleStep
    catalog.register("ghost_step", "webbflow.steps.no_such_ghost:GhostStep")
    try:
        with pytest.raises(ParameterError) as err:
            catalog.resolve("ghost_step")
        assert str(err.value) == "step 'ghost_step' is not implemented in webbflow 0.1"
    finally:
        catalog.unregister("ghost_step")
    with pytest.raises(ParameterError, match=r"unknown step or pipeline 'dq_inti' \(did you "
                                             r"mean 'dq_init'"):
        catalog.resolve("dq_inti")


def test_collect_pipeline_cfgs(tmp_path):
    catalog.register("ghost_step", "webbflow.steps.no_such_ghost:GhostStep")
    try:
        written = {p.name for p in collect_pipeline_cfgs(tmp_path / "new" / "cfgs")}
    finally:
        catalog.unregister("ghost_step")
    assert {"add_constant.cfg", "scale.cfg", "test_two_step.cfg"} <= written
    assert "ghost_step.cfg" not in written
    pipe = read_cfg(tmp_path / "new" / "cfgs" / "test_two_step.cfg")
    assert pipe.class_name == "wf_test_steps.TwoStepPipeline"
    assert pipe.steps["add_constant"]["value"] == "1.0"
    assert pipe.steps["scale"]["override_gain"] == "None"
    for name in written:
        entry = catalog.find(name)
        assert entry is not None and catalog.is_implemented(entry)
