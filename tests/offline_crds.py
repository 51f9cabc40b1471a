"""The offline CRDS environment of the tests (imported by ``tests/conftest.py`` and by test
modules that build inputs outside fixtures; ``tests/`` is on ``sys.path`` under pytest)."""

from __future__ import annotations

from typing import Any

import pytest


def point_crds_offline(mp: pytest.MonkeyPatch, obs: Any) -> None:
    """Point webbflow's CRDS at ``obs``'s local cache and context (``obs.crds_path``,
    ``obs.context``, e.g. a demo observation), offline and without CRDS step parameters, for
    as long as ``mp`` lasts (the selection configuration itself stays)."""
    from webbflow import references

    mp.setenv("CRDS_PATH", str(obs.crds_path))
    mp.setenv("CRDS_CONTEXT", obs.context)
    mp.setenv("CRDS_MODE", "local")
    mp.delenv("CRDS_SERVER_URL", raising=False)
    mp.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "true")
    references.configure(context=obs.context, crds_path=str(obs.crds_path))
