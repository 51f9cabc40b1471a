"""The step framework: Step, Pipeline, typed parameters, parameter files, strun, logging.

See :mod:`webbflow.stpipe.step` for how a step declares parameters and reference types and
:mod:`webbflow.stpipe.pipeline` for how a pipeline runs its steps.
"""

from __future__ import annotations

from .config_files import (
    ParamFile,
    read_parameter_file,
    write_asdf,
    write_cfg,
    write_parameter_file,
)
from .params import Param
from .pipeline import Pipeline
from .step import UNIVERSAL_SPEC, Step

__all__ = [
    "UNIVERSAL_SPEC",
    "Param",
    "ParamFile",
    "Pipeline",
    "Step",
    "read_parameter_file",
    "write_asdf",
    "write_cfg",
    "write_parameter_file",
]
