"""Make the ``crds`` library's JWST locator importable without the official datamodels.

``crds.jwst.locate`` (crds 14) imports ``ValidationWarning`` from ``stdatamodels`` at module
level, although reference *selection* never uses it (only certification and schema checks
do, through ``locate.get_datamodels()``). webbflow must not depend on the official pipeline's
packages, so when ``stdatamodels`` is not installed, the locator is imported once with a
placeholder module providing that one warning class; the placeholder is removed from
``sys.modules`` right after, so nothing else can mistake it for the real package.
When ``stdatamodels`` is installed it is used as is.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_PLACEHOLDER = ("stdatamodels", "stdatamodels.exceptions")


def _import_locator_without_stdatamodels() -> None:
    package = types.ModuleType("stdatamodels")
    package.__path__ = []  # a package, so the submodule import below resolves
    exceptions = types.ModuleType("stdatamodels.exceptions")

    class ValidationWarning(Warning):
        """Placeholder for ``stdatamodels.exceptions.ValidationWarning``."""

    exceptions.ValidationWarning = ValidationWarning
    package.exceptions = exceptions
    sys.modules.update(dict(zip(_PLACEHOLDER, (package, exceptions))))
    try:
        importlib.import_module("crds.jwst.locate")
    finally:
        for name in _PLACEHOLDER:
            if sys.modules.get(name) in (package, exceptions):
                del sys.modules[name]


def crds_library() -> Any:
    """The ``crds`` package, with its JWST locator loaded (see the module docstring)."""
    import crds

    if "crds.jwst.locate" not in sys.modules:
        try:
            importlib.import_module("stdatamodels.exceptions")
        except ImportError:
            _import_locator_without_stdatamodels()
    return crds
