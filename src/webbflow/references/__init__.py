"""Reference files: CRDS selection, reading and cut-outs, reference models, local caches.

``get_reference(model, reftype)`` chooses a file through the ``crds`` library against the
pinned context, ``read_reference(path, reftype, science)`` opens it ready for the exposure,
``build_cache`` writes a local CRDS cache (used by the demo and the tests).
"""

from __future__ import annotations

from . import models
from .crds_select import (
    configure,
    context_in_use,
    crds_version,
    get_parameter_reference,
    get_reference,
)
from .local_cache import RefEntry, build_cache
from .models import REFTYPE_MODELS, open_reference
from .read import read_reference

__all__ = [
    "REFTYPE_MODELS",
    "RefEntry",
    "build_cache",
    "configure",
    "context_in_use",
    "crds_version",
    "get_parameter_reference",
    "get_reference",
    "models",
    "open_reference",
    "read_reference",
]
