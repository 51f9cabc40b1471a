"""gain_scale: rescale rates taken with a non-standard gain by the GAIN reference's GAINFACT."""

from __future__ import annotations

from ..kernels.simple import gain_scale
from ..stpipe.step import Step
from .support import load_reference


class GainScaleStep(Step):
    """Multiply SCI and ERR by GAINFACT and the variances by its square."""

    class_alias = "gain_scale"
    reference_file_types = ("gain",)

    def process(self, model):
        gain = load_reference(self, model, "gain")
        factor = None if gain is None else gain.meta.exposure.gain_factor
        if factor is None:
            return self.skip_step(model, "the GAIN reference has no GAINFACT keyword")
        factor = float(factor)
        model.data = gain_scale(model.data, factor)
        model.err = gain_scale(model.err, factor)
        for name in ("var_poisson", "var_rnoise"):
            setattr(model, name, gain_scale(getattr(model, name), factor * factor))
        model.meta.exposure.gain_factor = factor
        return model
