"""Fixtures of the step tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_exposure import TinyExposure, make_tiny


@pytest.fixture
def tiny(tmp_path: Path) -> TinyExposure:
    """A noiseless 2-integration, 6-group NIRCam ramp and its reference overrides."""
    return make_tiny(tmp_path)
