"""Demo observations generated once per test session (2 x SUB160 x 1 int x 5 groups)."""

from __future__ import annotations

import pytest

from webbflow.demo import SimOptions, generate_demo

SMALL = {"n_exposures": 2, "subarray": "SUB160", "nints": 1, "ngroups": 5,
         "readpatt": "MEDIUM8"}


@pytest.fixture(scope="session")
def small() -> dict:
    """Options of the small test observation."""
    return dict(SMALL)


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The realistic small demo (noise, cosmic rays, non-linearity, dark)."""
    return generate_demo(tmp_path_factory.mktemp("demo"), seed=7, **SMALL)


@pytest.fixture(scope="session")
def clean_demo(tmp_path_factory):
    """Noiseless, linear, dark-free, cosmic-ray-free variant of the same sky."""
    return generate_demo(tmp_path_factory.mktemp("clean"), seed=7, cosmic_rays=False,
                         options=SimOptions(noise=False, nonlinear=False, dark=False),
                         **SMALL)
