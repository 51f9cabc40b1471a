"""Reference files: CRDS selection, reading and cut-outs, reference models, local caches."""

from __future__ import annotations

from . import models
from .local_cache import RefEntry, build_cache

__all__ = ["RefEntry", "build_cache", "models"]
