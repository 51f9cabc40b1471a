"""Start-up checks of the workflow config, in process (fast): schema, pin, inputs, CRDS env."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from webbflow import workflow
from webbflow.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "config" / "schema.yaml"


@pytest.fixture
def config() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def _error(config: dict) -> str:
    with pytest.raises(ConfigError) as info:
        workflow.check_config(config, SCHEMA)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_shipped_config_is_valid(config: dict) -> None:
    workflow.check_config(config, SCHEMA)
    workflow.check_version(config["webbflow_version"])
    assert config["crds"]["context"] == "jwst_9001.pmap"
    assert config["inputs"]["demo"]["enabled"] is True


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("outputdir",), "x", "config: unknown key 'outputdir'"),
        (("crds", "contxt"), "x", "config: unknown key 'crds.contxt' (did you mean 'context'?)"),
        (("inputs", "demo", "nint"), 2, "unknown key 'inputs.demo.nint' (did you mean 'nints'?)"),
        (("detector1", "save_ramps"), True, "unknown key 'detector1.save_ramps'"),
        (("image2", "step"), {}, "unknown key 'image2.step' (did you mean 'steps'?)"),
        (("crds", "context"), "jwst_latest", "config: crds.context: 'jwst_latest' does not match"),
        (("inputs", "demo", "ngroups"), 1, "config: inputs.demo.ngroups: 1 is less than"),
        (("detector1", "steps"), {"Jump": {}}, "config: detector1.steps: bad key 'Jump'"),
        (("detector1", "steps"), {"jump": 3}, "config: detector1.steps.jump: 3 is not of type"),
    ],
)
def test_schema_errors_are_one_line_naming_the_key(config, path, value, expected) -> None:
    target = config
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    assert expected in _error(config)


def test_version_pin() -> None:
    workflow.check_version(workflow.webbflow.__version__)
    with pytest.raises(ConfigError, match=r"pinned to '9\.9' but the installed webbflow is"):
        workflow.check_version("9.9")


def test_exactly_one_input(config: dict, tmp_path: Path) -> None:
    assert workflow.uncal_paths(config) == []
    both = copy.deepcopy(config)
    both["inputs"]["uncal_dir"] = str(tmp_path)
    with pytest.raises(ConfigError, match="set exactly one of"):
        workflow.uncal_paths(both)
    neither = copy.deepcopy(config)
    neither["inputs"]["demo"]["enabled"] = False
    with pytest.raises(ConfigError, match="set exactly one of"):
        workflow.uncal_paths(neither)
    real = copy.deepcopy(neither)
    real["inputs"]["uncal_dir"] = str(tmp_path)
    with pytest.raises(ConfigError, match=r"no \*_uncal.fits files"):
        workflow.uncal_paths(real)
    (tmp_path / "b_uncal.fits").touch()
    (tmp_path / "a_uncal.fits").touch()
    (tmp_path / "a_rate.fits").touch()
    assert [Path(p).name for p in workflow.uncal_paths(real)] == ["a_uncal.fits", "b_uncal.fits"]
    real["inputs"]["asn_files"] = [str(tmp_path / "nope_asn.json")]
    with pytest.raises(ConfigError, match=r"inputs\.asn_files: .*nope_asn\.json: no such file"):
        workflow.uncal_paths(real)


def test_crds_environment(config: dict, tmp_path: Path) -> None:
    env = workflow.crds_environment(config, environ={})
    assert env["CRDS_CONTEXT"] == "jwst_9001.pmap"
    assert env["CRDS_MODE"] == "local"
    assert env["CRDS_PATH"] == str(Path("results/demo/crds_cache").absolute())
    assert "CRDS_SERVER_URL" not in env
    # the user's CRDS_CONTEXT wins over the config, as officially
    env = workflow.crds_environment(config, environ={"CRDS_CONTEXT": "jwst_9002.pmap"})
    assert env["CRDS_CONTEXT"] == "jwst_9002.pmap"
    # real data: an explicit cache and server
    config["inputs"]["demo"]["enabled"] = False
    config["crds"].update(path=str(tmp_path), server_url="https://jwst-crds.stsci.edu")
    env = workflow.crds_environment(config, environ={"CRDS_PATH": "/elsewhere"})
    assert env == {
        "CRDS_CONTEXT": "jwst_9001.pmap",
        "CRDS_PATH": str(tmp_path),
        "CRDS_SERVER_URL": "https://jwst-crds.stsci.edu",
    }
    config["crds"].update(path=None, server_url=None)
    env = workflow.crds_environment(config, environ={"CRDS_PATH": "/elsewhere"})
    assert env["CRDS_PATH"] == "/elsewhere" and env["CRDS_MODE"] == "local"


def test_step_parameters_are_checked_by_the_pipeline(config: dict) -> None:
    if not workflow.implemented("calwebb_detector1"):
        pytest.skip("calwebb_detector1 is not importable yet")
    config["detector1"]["steps"] = {"jump": {"rejection_threshold": 5.0}, "ipc": {"skip": True}}
    workflow.check_pipeline_steps(config)
    config["detector1"]["steps"] = {"jumpp": {}}
    with pytest.raises(
        ConfigError, match=r"^config: detector1.steps: unknown step 'jumpp'.*'jump'"
    ):
        workflow.check_pipeline_steps(config)
    config["detector1"]["steps"] = {"jump": {"rejection_threshhold": 5.0}}
    with pytest.raises(ConfigError, match="unknown parameter 'rejection_threshhold'"):
        workflow.check_pipeline_steps(config)
    config["detector1"]["steps"] = {"jump": {"rejection_threshold": "abc"}}
    with pytest.raises(ConfigError, match=r"jump\.rejection_threshold: expected a float"):
        workflow.check_pipeline_steps(config)
    # a pipeline that does not exist yet is not judged
    config["detector1"]["steps"] = {}
    config["coron3"] = {"steps": {"anything": {"x": 1}}}
    if not workflow.implemented("calwebb_coron3"):
        workflow.check_pipeline_steps(config)


def test_override_files_must_exist(config: dict, tmp_path: Path) -> None:
    dark = tmp_path / "my_dark.fits"
    config["detector1"]["steps"] = {"dark_current": {"override_dark": str(dark)}}
    with pytest.raises(ConfigError) as info:
        workflow.check_override_files(config)
    assert str(info.value) == (
        f"config: detector1.steps.dark_current.override_dark: {dark}: no such file"
    )
    dark.touch()
    config["detector1"]["steps"]["ipc"] = {"override_ipc": "N/A"}
    workflow.check_override_files(config)


def test_startup_exports_crds_and_one_blas_thread_for_jobs(config: dict, monkeypatch) -> None:
    # jobs inherit the Snakemake process's environment: startup() is where it is set
    import os

    from webbflow.thread_policy import BLAS_THREAD_VARIABLES

    clean = {k: v for k, v in os.environ.items()
             if k not in BLAS_THREAD_VARIABLES and not k.startswith("CRDS_")}
    monkeypatch.setattr(os, "environ", clean)
    env = workflow.startup(config)
    assert clean["OPENBLAS_NUM_THREADS"] == "1"
    assert clean["CRDS_CONTEXT"] == env["CRDS_CONTEXT"] == "jwst_9001.pmap"
    kept = {k: v for k, v in clean.items() if k != "OPENBLAS_NUM_THREADS"}
    kept["OMP_NUM_THREADS"] = "8"  # a user's choice stays
    monkeypatch.setattr(os, "environ", kept)
    workflow.startup(config)
    assert "OPENBLAS_NUM_THREADS" not in kept and kept["OMP_NUM_THREADS"] == "8"
