"""The oracle harness itself: process-tree measurement, venv creation, offline official run."""

from __future__ import annotations

import sys
import textwrap

import oracle
import pytest
from astropy.io import fits
from proctree import run_measured

MB = 1024 * 1024


def test_tree_memory_sums_forked_children(tmp_path):
    """Two processes each touching 150 MB: the tree peak counts both, the PSS too."""
    script = textwrap.dedent("""
        import os, time
        import numpy as np
        pid = os.fork()
        block = np.ones(150 * 1024 * 1024 // 8)   # touched: resident in each process
        time.sleep(0.6)
        if pid:
            os.waitpid(pid, 0)
    """)
    measured = run_measured([sys.executable, "-c", script], tmp_path / "log.txt",
                            interval=0.02)
    assert measured.returncode == 0, measured.tail()
    assert measured.max_procs == 2
    assert measured.peak_rss > 300 * MB
    assert measured.peak_pss > 300 * MB
    assert 0.6 < measured.wall_s < 30


def test_run_measured_reports_failure_and_output(tmp_path):
    measured = run_measured([sys.executable, "-c", "print('hello'); raise SystemExit(3)"],
                            tmp_path / "log.txt")
    assert measured.returncode == 3
    assert measured.tail() == "hello"


def test_ensure_oracle_env_fails_clearly(tmp_path, monkeypatch):
    """An uninstallable pin gives OracleEnvError naming the venv and the requirement."""
    monkeypatch.setattr(oracle, "JWST_REQUIREMENT", "jwst==0.0.0.99999")
    with pytest.raises(oracle.OracleEnvError, match=r"pip install jwst==0\.0\.0\.99999"):
        oracle.ensure_oracle_env(tmp_path / "venv")
    assert (tmp_path / "venv" / "bin" / "python").exists()
    assert (tmp_path / "venv.lock").exists()


def test_ensure_oracle_env_reuses_a_ready_venv(oracle_env):
    assert oracle.ensure_oracle_env(oracle_env) == oracle_env
    assert oracle._installed_version(oracle_env) == oracle.JWST_VERSION


def test_official_classes():
    assert oracle.official_class("calwebb_detector1") == "jwst.pipeline.Detector1Pipeline"
    assert oracle.official_class("image3") == "jwst.pipeline.Image3Pipeline"
    assert oracle.official_class("saturation") == "jwst.saturation.SaturationStep"
    with pytest.raises(ValueError, match="unknown official"):
        oracle.official_class("no_such_step")


def test_official_run_used_our_references_offline(official_detector1, demo_obs):
    """R_* keywords name the demo's files; reftypes the demo lacks were forced to N/A;
    the MIRI-only steps did not run; the figures are filled in."""
    header = fits.getheader(official_detector1["rate"])
    by_keyword = {"R_MASK": "mask", "R_SATURA": "saturation", "R_SUPERB": "superbias",
                  "R_LINEAR": "linearity", "R_DARK": "dark", "R_GAIN": "gain",
                  "R_READNO": "readnoise", "R_IPC": "ipc"}
    for keyword, reftype in by_keyword.items():
        expected = str(demo_obs.reference_files.get(reftype, "N/A"))
        assert header.get(keyword) == expected, keyword
    assert header.get("R_RSCD") is None and header.get("S_RSCD") is None
    assert header["S_JUMP"] == "COMPLETE" and header["S_RAMP"] == "COMPLETE"
    assert header["CRDS_CTX"] == demo_obs.context
    run = official_detector1
    assert run.versions["jwst"] == oracle.JWST_VERSION
    assert 0 < run.call_wall_s < run.process_wall_s
    assert run.peak_rss > 100 * MB and run.peak_pss > 0
