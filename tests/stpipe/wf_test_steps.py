"""Small test-only steps and a two-step pipeline for the step-framework tests.

Importable as ``wf_test_steps`` (pytest puts this directory on ``sys.path``; the strun
subprocess tests put it on ``PYTHONPATH``).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from astropy.io import fits

from webbflow.datamodels import ImageModel
from webbflow.stpipe import Param, Pipeline, Step


class AddConstantStep(Step):
    """Add a constant to SCI (test step; records S_DARK so the keyword can be checked)."""

    class_alias = "add_constant"
    cal_step_name = "dark_sub"
    spec: ClassVar[dict[str, Param]] = {
        "value": Param("float", 1.0, "Constant added to SCI (DN/s)", min=-1000.0, max=1000.0),
        "mode": Param("option", "add", "How to apply it", options=("add", "subtract")),
        "columns": Param("int_list", None, "Only these columns (default all)"),
        "refuse": Param("boolean", False, "Skip itself at run time"),
    }

    def process(self, model: ImageModel) -> ImageModel:
        if self.refuse:
            return self.skip_step(model, "asked to refuse")
        sign = 1.0 if self.mode == "add" else -1.0
        cols = slice(None) if self.columns is None else np.asarray(self.columns)
        model.data[:, cols] += np.float32(sign * self.value)
        return model


class ScaleStep(Step):
    """Multiply SCI by the GAIN reference's SCI (test step with a reference type)."""

    class_alias = "scale"
    cal_step_name = "gain_scale"
    reference_file_types = ("gain",)
    spec: ClassVar[dict[str, Param]] = {
        "extra": Param("float", 1.0, "Extra factor", min=0.0),
    }

    def process(self, model: ImageModel) -> ImageModel:
        path = self.get_reference_file(model, "gain")
        if path == "N/A":
            return self.skip_step(model, "no GAIN reference")
        with fits.open(path) as hdul:
            gain = np.asarray(hdul["SCI"].data, dtype=np.float32)
        model.data *= gain * np.float32(self.extra)
        return model


class TwoStepPipeline(Pipeline):
    """add_constant then scale; saves a secondary ``calints`` product when saving."""

    class_alias = "test_two_step"
    default_suffix = "cal"
    step_defs: ClassVar[dict[str, type[Step]]] = {
        "add_constant": AddConstantStep,
        "scale": ScaleStep,
    }
    spec: ClassVar[dict[str, Param]] = {
        "save_secondary": Param("boolean", False, "Also save a calints copy"),
    }

    def process(self, model: ImageModel) -> ImageModel:
        result = self.run_steps(model, ["add_constant", "scale"])
        if self.save_secondary:
            self.save_model(result, suffix="calints")
        return result


def make_rate(value: float = 1.0, shape: tuple[int, int] = (4, 5)) -> ImageModel:
    """A NIRCam rate image, SCI = value + column index."""
    data = np.full(shape, value, np.float32) + np.arange(shape[1], dtype=np.float32)
    model = ImageModel(data=data)
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = "NRCA1"
    model.meta.exposure.type = "NRC_IMAGE"
    model.meta.filename = "jw01_nrca1_rate.fits"
    return model


class GcStateStep(Step):
    """Log the cyclic garbage collector's state and the BLAS thread count when the step
    runs (test step)."""

    class_alias = "gc_state"

    def process(self, model: ImageModel) -> ImageModel:
        import gc
        import os

        self.log.info("collector enabled=%s frozen=%d", gc.isenabled(), gc.get_freeze_count())
        self.log.info("blas threads=%s", os.environ.get("OPENBLAS_NUM_THREADS"))
        return model
