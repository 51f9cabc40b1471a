"""Session fixtures of the parity tests: the oracle venv, a small demo exposure, the official
Detector1 products on it (with every intermediate step saved) and ours.

Every test under ``tests/parity`` gets the ``parity`` marker. The oracle venv is created on first
use (``pip install jwst==3.0.0``, about 2 minutes; needs PyPI). When it cannot be created the
tests FAIL with pip's message: in CI a missing oracle is an error, never a silent skip.

Environment:

``WEBBFLOW_SKIP_PARITY=1``
    Developer opt-out: skip every parity test (with that reason shown by ``-ra``).
``WEBBFLOW_ORACLE_VENV=DIR``
    Use (or create) the oracle venv there instead of ``<repo>/.oracle-venv``.
``WEBBFLOW_PARITY_DATA=mini``
    Use the hand-made SUB160 exposure of ``mini_obs.py`` instead of the demo generator
    (debugging the harness only; the acceptance runs on the demo).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from oracle import OfficialRun, OracleEnvError, ensure_oracle_env, run_official
from parity_support import STEP_CHAIN, our_overrides

HERE = Path(__file__).resolve().parent
_TRUE = ("1", "true", "t", "yes", "y")

#: the small exposure the acceptance runs on (fast: ~1 s of generation, ~20 s official run)
DEMO_OPTIONS = {"n_exposures": 1, "subarray": "SUB320", "nints": 2, "ngroups": 8,
                "readpatt": "MEDIUM8", "seed": 20261121, "cosmic_rays": True}

def _skip_requested() -> bool:
    return os.environ.get("WEBBFLOW_SKIP_PARITY", "").strip().lower() in _TRUE


#: fixtures that make a test slow (oracle install on first use, official and our runs)
_SLOW_FIXTURES = {"oracle_env", "official_detector1", "our_detector1", "demo_obs"}


def pytest_collection_modifyitems(config, items):
    """Mark the tests of this directory ``parity`` (and ``slow`` when they need the oracle or
    the demo: ~1 minute per session, plus ~2.5 minutes the first time the venv is made);
    skip them on WEBBFLOW_SKIP_PARITY=1."""
    skip = pytest.mark.skip(reason="WEBBFLOW_SKIP_PARITY=1 (developer opt-out)")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.parity)
            if _SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
                item.add_marker(pytest.mark.slow)
            if _skip_requested():
                item.add_marker(skip)


@dataclass
class ParityData:
    """One exposure, its references and local CRDS cache (demo or hand-made)."""

    uncal: Path
    crds_path: Path
    context: str
    reference_files: dict[str, Path]
    source: str


@pytest.fixture(scope="session")
def oracle_env() -> Path:
    """The oracle venv (created on first use); a failure to create it fails the tests."""
    try:
        return ensure_oracle_env()
    except OracleEnvError as exc:
        pytest.fail(f"the official-pipeline oracle is unavailable: {exc}\n"
                    "(developers without network: WEBBFLOW_SKIP_PARITY=1 skips the parity "
                    "tests, WEBBFLOW_ORACLE_VENV=DIR points at an existing oracle venv)",
                    pytrace=False)


@pytest.fixture(scope="session")
def demo_obs(tmp_path_factory):
    """A small demo observation: 1 exposure, SUB320, 2 integrations, 8 MEDIUM8 groups."""
    out = tmp_path_factory.mktemp("parity_demo")
    if os.environ.get("WEBBFLOW_PARITY_DATA", "") == "mini":
        from mini_obs import make_mini_observation

        mini = make_mini_observation(out)
        return ParityData(mini.uncal, mini.crds_path, mini.context, mini.reference_files,
                          "mini")
    from webbflow.demo import generate_demo

    obs = generate_demo(out, **DEMO_OPTIONS)
    return ParityData(Path(obs.uncal_files[0]), Path(obs.crds_path), obs.context,
                      {k: Path(v) for k, v in obs.reference_files.items()}, "demo")


@pytest.fixture(scope="session")
def crds_env(demo_obs, offline_crds):
    """Point our side's CRDS at the demo cache and context, offline, for the session."""
    with pytest.MonkeyPatch.context() as mp:
        offline_crds(mp, demo_obs)
        yield demo_obs


@pytest.fixture(scope="session")
def official_detector1(oracle_env, demo_obs, tmp_path_factory) -> OfficialRun:
    """Official Detector1 on the demo exposure, with the ramp and every step in
    :data:`STEP_CHAIN` saved; every reference overridden with the demo's file (or N/A)."""
    out = tmp_path_factory.mktemp("official_detector1")
    refs = {k: str(v) for k, v in demo_obs.reference_files.items()}
    return run_official("detector1", demo_obs.uncal, out, {"*": refs}, demo_obs.crds_path,
                        demo_obs.context, maximum_cores="1", save_ramp=True,
                        save_steps=STEP_CHAIN, venv_dir=oracle_env)


@pytest.fixture(scope="session")
def our_detector1(crds_env, tmp_path_factory) -> dict[str, Path]:
    """Our Detector1 on the same exposure with the same references: ``{suffix: Path}``."""
    from webbflow import catalog

    out = tmp_path_factory.mktemp("our_detector1")
    pipeline = catalog.resolve("calwebb_detector1")
    steps = {name: our_overrides(cls, crds_env.reference_files)
             for name, cls in pipeline.step_defs.items()}
    pipeline.call(str(crds_env.uncal), output_dir=str(out), save_results=True, steps=steps,
                  save_calibrated_ramp=True)
    root = crds_env.uncal.name.removesuffix("_uncal.fits")
    return {suffix: out / f"{root}_{suffix}.fits" for suffix in ("rate", "rateints", "ramp")}
