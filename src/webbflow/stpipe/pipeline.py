"""The Pipeline base class: an ordered set of named steps with nested parameters.

A pipeline author declares the steps and writes ``process``::

    class Detector1Pipeline(Pipeline):
        class_alias = "calwebb_detector1"
        default_suffix = "rate"
        step_defs = {"group_scale": GroupScaleStep, "dq_init": DQInitStep, ...}

        def process(self, model):
            order = STEP_ORDER[model.meta.instrument.name]     # a table, not if-chains
            ramp = self.run_steps(model, order)
            rate, rateints = self.ramp_fit.run(ramp)
            if self.save_results:
                self.save_model(rateints, suffix="rateints")
            return rate                                       # saved as <root>_rate.fits

Each step instance is ``self.<name>``; its parameters come from the nested ``steps`` section
(``Pipeline.call(x, steps={"jump": {"rejection_threshold": 5.0}})``, ``--steps.jump.<p>=``,
a ``[steps]`` section in a ``.cfg``, ``steps:`` in an ``.asdf`` file).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import ParameterError
from .params import suggest
from .step import Step, merge_layers


class Pipeline(Step):
    """Base class of pipelines (a Step whose ``process`` runs other steps)."""

    #: ordered ``{step name: Step class}``
    step_defs: ClassVar[dict[str, type[Step]]] = {}
    cal_step_name: ClassVar[str | None] = None
    is_pipeline: ClassVar[bool] = True

    def __init__(self, name: str | None = None, parent: Step | None = None,
                 steps: Mapping[str, Mapping[str, Any]] | None = None, **params: Any) -> None:
        super().__init__(name=name, parent=parent, **params)
        steps = dict(steps or {})
        self._check_step_names(steps, self.name)
        instances = {}
        for step_name, step_cls in self.step_defs.items():
            sub = dict(steps.get(step_name, {}))
            instances[step_name] = step_cls(name=step_name, parent=self, **sub)
            object.__setattr__(self, step_name, instances[step_name])
        object.__setattr__(self, "steps", instances)

    @classmethod
    def _check_step_names(cls, steps: Mapping[str, Any], owner: str) -> None:
        for step_name in steps:
            if step_name not in cls.step_defs:
                raise ParameterError(f"unknown step {step_name!r} in pipeline {owner!r}"
                                     f"{suggest(step_name, cls.step_defs)}")

    @classmethod
    def validate_layer(cls, layer: Mapping[str, Any], name: str | None = None,
                       strict: bool = True) -> dict[str, Any]:
        """Parse pipeline parameters and the nested ``steps`` section."""
        name = name or cls.alias()
        layer = dict(layer)
        steps = layer.pop("steps", None) or {}
        out = super().validate_layer(layer, name, strict)
        if not isinstance(steps, Mapping):
            raise ParameterError(f"{name}.steps: expected a mapping of step names to "
                                 f"parameters, got {steps!r}")
        if strict:
            cls._check_step_names(steps, name)
        parsed = {}
        for step_name, sub in steps.items():
            step_cls = cls.step_defs.get(step_name)
            if step_cls is None:
                continue
            if not isinstance(sub, Mapping):
                raise ParameterError(f"{name}.steps.{step_name}: expected a mapping of "
                                     f"parameters, got {sub!r}")
            parsed[step_name] = step_cls.validate_layer(sub, step_name, strict)
        if parsed:
            out["steps"] = parsed
        return out

    @classmethod
    def crds_parameters_layer(cls, dataset: Any, name: str) -> dict[str, Any]:
        """The pipeline's ``pars-*`` reference, then each step's own (which wins for it)."""
        layer = super().crds_parameters_layer(dataset, name)
        for step_name, step_cls in cls.step_defs.items():
            sub = step_cls.crds_parameters_layer(dataset, step_name)
            sub.pop("steps", None)
            if sub:
                layer = merge_layers(layer, {"steps": {step_name: sub}})
        return layer

    def get_parameters(self) -> dict[str, Any]:
        """Pipeline parameters with a nested ``steps`` dict of each step's parameters."""
        out = super().get_parameters()
        out["steps"] = {name: step.get_parameters() for name, step in self.steps.items()}
        return out

    def run_steps(self, model: Any, names: list[str] | tuple[str, ...]) -> Any:
        """Run the named steps in order, each on the previous one's result.

        The models handed from step to step belong to the pipeline, so no copies are made
        (``self.<step>.run(model)`` instead copies ``model`` first).
        """
        for step_name in names:
            step = self.steps.get(step_name)
            if step is None:
                raise ParameterError(f"unknown step {step_name!r} in pipeline {self.name!r}"
                                     f"{suggest(step_name, self.step_defs)}")
            model = step._run(model, owned=True)
        return model
