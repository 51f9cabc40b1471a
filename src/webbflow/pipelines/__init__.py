"""Pipelines (``calwebb_*``): ordered steps per instrument, run on one exposure or association.

Importing a pipeline class from here is lazy, so ``from webbflow.pipelines import
Detector1Pipeline`` only loads what that pipeline needs.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "Detector1Pipeline": "webbflow.pipelines.detector1",
    "DarkPipeline": "webbflow.pipelines.dark",
    "GuiderPipeline": "webbflow.pipelines.guider",
    "Image2Pipeline": "webbflow.pipelines.image2",
    "Image3Pipeline": "webbflow.pipelines.image3",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'webbflow.pipelines' has no attribute {name!r}")
