"""Fixtures of the step-framework tests: a small rate file, a GAIN file, catalog entries."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from wf_test_steps import make_rate

from webbflow import catalog

TEST_ENTRIES = {
    "add_constant": ("wf_test_steps:AddConstantStep", "step"),
    "scale": ("wf_test_steps:ScaleStep", "step"),
    "test_two_step": ("wf_test_steps:TwoStepPipeline", "pipeline"),
}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """Test steps catalogued; cwd is tmp_path; no CRDS parameter lookups unless a test asks."""
    for name, (impl, kind) in TEST_ENTRIES.items():
        catalog.register(name, impl, kind=kind)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STPIPE_DISABLE_CRDS_STEPPARS", raising=False)
    yield
    for name in TEST_ENTRIES:
        catalog.unregister(name)


@pytest.fixture
def rate_file(tmp_path):
    """``jw01_nrca1_rate.fits`` in tmp_path (SCI = 1 + column)."""
    path = tmp_path / "in" / "jw01_nrca1_rate.fits"
    make_rate().save(path)
    return path


@pytest.fixture
def gain_file(tmp_path):
    """A GAIN-like FITS file whose SCI is 2.0 everywhere (4x5)."""
    path = tmp_path / "gain_two.fits"
    fits.HDUList([fits.PrimaryHDU(),
                  fits.ImageHDU(np.full((4, 5), 2.0, np.float32), name="SCI")]).writeto(path)
    return path
