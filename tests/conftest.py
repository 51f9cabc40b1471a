"""Fixtures shared by every test directory."""

from __future__ import annotations

import pytest

from offline_crds import point_crds_offline


@pytest.fixture(scope="session")
def offline_crds():
    """:func:`point_crds_offline`, for fixtures of any scope: ``offline_crds(mp, obs)``."""
    return point_crds_offline
