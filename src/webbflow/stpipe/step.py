"""The Step base class: parameters, reference files, status keywords, saving, logging.

A step subclass declares, in one place::

    class DarkCurrentStep(Step):
        class_alias = "dark_current"
        cal_step_name = "dark_sub"              # meta.cal_step.dark_sub (S_DARK)
        reference_file_types = ("dark",)        # adds parameter override_dark
        spec = {"average_dark_current": Param("float", None, "e-/s", min=0.0)}

        def process(self, model):
            dark_path = self.get_reference_file(model, "dark")
            if dark_path == "N/A":
                return self.skip_step(model, "no DARK reference file")
            ...
            return model

and is run with ``DarkCurrentStep.call("x_uncal.fits", config_file=..., **params)`` or
``DarkCurrentStep(**params).run(model)``. ``process`` always receives a model the caller does
not own elsewhere (a copy of the caller's model, or one the framework opened), so the caller's
model is never modified.

Parameter precedence, lowest to highest: class defaults < CRDS parameter reference
``pars-<lowercase class name>`` < parameter file (``config_file``) < keyword arguments / the
command line.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from .. import __version__
from ..datamodels import DataModel
from ..datamodels import open as open_model
from ..errors import ParameterError, ReferenceError_, WebbflowError
from . import log as stlog
from . import naming
from .params import Param, unknown_parameter

#: Parameters every step and pipeline has (as officially).
UNIVERSAL_SPEC: dict[str, Param] = {
    "pre_hooks": Param("string_list", [], "Steps to run before this step (not supported)"),
    "post_hooks": Param("string_list", [], "Steps to run after this step (not supported)"),
    "output_file": Param("path", None, "File to save the output to"),
    "output_dir": Param("path", None, "Directory for output files"),
    "output_ext": Param("string", ".fits", "Extension of output files"),
    "output_use_model": Param("boolean", False, "Accepted for compatibility; unused"),
    "output_use_index": Param("boolean", True, "Accepted for compatibility; unused"),
    "save_results": Param("boolean", False, "Save the results of this step"),
    "skip": Param("boolean", False, "Skip this step"),
    "suffix": Param("string", None, "Suffix of the output file (default: the step's)"),
    "search_output_file": Param("boolean", True, "Accepted for compatibility; unused"),
    "input_dir": Param("path", None, "Directory relative input paths are looked up in"),
}

_DISABLE_ENV = "STPIPE_DISABLE_CRDS_STEPPARS"


def crds_steppars_disabled() -> bool:
    """True when ``STPIPE_DISABLE_CRDS_STEPPARS`` is true/t/yes/y (as officially; not 1)."""
    return os.environ.get(_DISABLE_ENV, "").strip().lower() in ("true", "t", "yes", "y")


def iter_models(result: Any) -> Iterator[DataModel]:
    """The data models inside a step result (a model, or a list/tuple of models)."""
    if isinstance(result, DataModel):
        yield result
    elif isinstance(result, list | tuple):
        for item in result:
            if isinstance(item, DataModel):
                yield item


def merge_layers(base: dict[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a parsed parameter layer into ``base`` (nested ``steps`` merged per step)."""
    out = dict(base)
    for key, value in layer.items():
        if key == "steps":
            steps = {k: dict(v) for k, v in out.get("steps", {}).items()}
            for name, sub in value.items():
                steps[name] = {**steps.get(name, {}), **sub}
            out["steps"] = steps
        else:
            out[key] = value
    return out


class Step:
    """Base class of every calibration step.

    Parameters
    ----------
    name : str, optional
        Instance name (in a pipeline: its key in ``step_defs``); default the class alias.
    parent : Step, optional
        The pipeline this step runs in.
    **params
        Parameter values (Python values or text), validated against :meth:`full_spec`.
    """

    #: short name (``"dq_init"``); default: the catalog alias, else the lowercase class name
    class_alias: ClassVar[str | None] = None
    #: step-specific parameters
    spec: ClassVar[dict[str, Param]] = {}
    #: reference types this step reads; each adds an ``override_<reftype>`` parameter
    reference_file_types: ClassVar[tuple[str, ...]] = ()
    #: key of ``meta.cal_step`` this step records (default: the alias; None: record nothing)
    cal_step_name: ClassVar[str | None] = ""
    #: suffix of the saved product (default: the alias)
    default_suffix: ClassVar[str | None] = None
    is_pipeline: ClassVar[bool] = False

    # ------------------------------------------------------------------ class info
    @classmethod
    def alias(cls) -> str:
        """The step's short name (``dq_init``, ``calwebb_detector1``)."""
        if cls.class_alias:
            return cls.class_alias
        from .. import catalog

        entry = catalog.entry_for_class(cls)
        return entry.alias if entry is not None else cls.__name__.lower()

    @classmethod
    def full_spec(cls) -> dict[str, Param]:
        """Universal parameters, ``override_<reftype>`` parameters, then the step's own."""
        spec = dict(UNIVERSAL_SPEC)
        for reftype in cls.reference_file_types:
            spec[f"override_{reftype}"] = Param(
                "path", None, f"Override the {reftype} reference file (a path or N/A)")
        spec.update(cls.spec)
        return spec

    @classmethod
    def official_class(cls) -> str:
        """The class path written to parameter files (official path when catalogued)."""
        from .. import catalog

        entry = catalog.entry_for_class(cls)
        return entry.official_class if entry is not None else f"{cls.__module__}.{cls.__name__}"

    @classmethod
    def status_key(cls) -> str | None:
        """The ``meta.cal_step`` key this step records, or None."""
        if cls.cal_step_name is None or cls.is_pipeline:
            return None
        return cls.cal_step_name or cls.alias()

    # ------------------------------------------------------------------ construction
    def __init__(self, name: str | None = None, parent: Step | None = None,
                 **params: Any) -> None:
        object.__setattr__(self, "name", name or self.alias())
        object.__setattr__(self, "parent", parent)
        object.__setattr__(self, "params", {
            k: copy.deepcopy(p.default) for k, p in self.full_spec().items()})
        object.__setattr__(self, "log", logging.getLogger(f"webbflow.{self.name}"))
        object.__setattr__(self, "_refs_used", {})
        object.__setattr__(self, "_status", None)
        object.__setattr__(self, "_input_name", None)
        self.update(params)

    def update(self, params: Mapping[str, Any]) -> None:
        """Set parameters (validated; unknown names raise a one-line ParameterError)."""
        for key, value in self.validate_layer(params, self.name).items():
            self.params[key] = value

    @classmethod
    def validate_layer(cls, layer: Mapping[str, Any], name: str | None = None,
                       strict: bool = True) -> dict[str, Any]:
        """Parse one source of parameters ``{param: raw value}``.

        With ``strict=False`` unknown names are logged and dropped (CRDS parameter references
        may carry parameters of the official steps webbflow does not have).
        """
        name = name or cls.alias()
        spec = cls.full_spec()
        out = {}
        for key, value in layer.items():
            if key in ("name", "class", "config_file"):
                continue
            param = spec.get(key)
            if param is None:
                if strict:
                    raise unknown_parameter(key, name, spec, cls._kind())
                logging.getLogger(f"webbflow.{name}").warning(
                    "Ignoring parameter %r unknown to webbflow's %s", key, name)
                continue
            out[key] = param.parse(value, f"{name}.{key}")
        return out

    @classmethod
    def _kind(cls) -> str:
        return "pipeline" if cls.is_pipeline else "step"

    def __getattr__(self, key: str) -> Any:
        params = self.__dict__.get("params")
        if params is not None and key in params:
            return params[key]
        raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")

    def __setattr__(self, key: str, value: Any) -> None:
        if key in self.__dict__.get("params", {}):
            self.update({key: value})
        else:
            object.__setattr__(self, key, value)

    def get_parameters(self) -> dict[str, Any]:
        """Current parameter values (a copy)."""
        return copy.deepcopy(self.params)

    # ------------------------------------------------------------------ configuration
    @classmethod
    def build_config(cls, dataset: Any = None, config_file: str | os.PathLike | None = None,
                     params: Mapping[str, Any] | None = None,
                     name: str | None = None) -> dict[str, Any]:
        """Merge the parameter sources in precedence order into one validated dict.

        Parameters
        ----------
        dataset : DataModel, optional
            Selects the CRDS parameter reference (skipped when None or disabled).
        config_file : path, optional
            ``.asdf`` or ``.cfg`` parameter file.
        params : mapping, optional
            Keyword arguments / command-line values (pipelines: with a nested ``steps``).
        """
        from .config_files import read_parameter_file

        name = name or cls.alias()
        config: dict[str, Any] = {}
        config = merge_layers(config, cls.crds_parameters_layer(dataset, name))
        if config_file is not None:
            pfile = read_parameter_file(config_file)
            config = merge_layers(config, cls.validate_layer(pfile.as_layer(), name))
        if params:
            config = merge_layers(config, cls.validate_layer(params, name))
        return config

    @classmethod
    def crds_parameters_layer(cls, dataset: Any, name: str) -> dict[str, Any]:
        """Parameters from the CRDS ``pars-<lowercase class name>`` reference, if any."""
        path = cls._parameter_reference(dataset)
        if path is None:
            return {}
        from .config_files import read_parameter_file

        logging.getLogger(f"webbflow.{name}").info(
            "Using CRDS parameter reference %s for %s", Path(path).name, cls.__name__)
        return cls.validate_layer(read_parameter_file(path).as_layer(), name, strict=False)

    @classmethod
    def _parameter_reference(cls, dataset: Any) -> str | None:
        if not isinstance(dataset, DataModel) or crds_steppars_disabled():
            return None
        try:
            from .. import references
            lookup = references.get_parameter_reference
        except (ImportError, AttributeError):
            return None
        try:
            return lookup(dataset, cls.__name__)
        except ReferenceError_ as exc:
            # As officially: no parameter reference to be had means no CRDS parameters.
            logging.getLogger(f"webbflow.{cls.alias()}").debug(
                "No CRDS parameters for %s: %s", cls.__name__, exc)
            return None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], name: str | None = None,
                    parent: Step | None = None) -> Step:
        """Instantiate from a validated configuration (see :meth:`build_config`)."""
        return cls(name=name, parent=parent, **config)

    @classmethod
    def call(cls, input: Any, config_file: str | os.PathLike | None = None,
             **params: Any) -> Any:
        """Run the step on ``input`` (a path or a model) with all parameter sources merged.

        Returns the result model; the caller's model is never modified.
        """
        model, owned = cls._open_input_for(input, params.get("input_dir"))
        config = cls.build_config(model, config_file, params)
        step = cls.from_config(config)
        return step._run(model, owned=owned, input_name=_input_name(input, model))

    # ------------------------------------------------------------------ running
    @classmethod
    def _open_input_for(cls, input: Any, input_dir: str | None = None) -> tuple[Any, bool]:
        """Open a path into a model (owned by the framework); pass models through."""
        if isinstance(input, str | os.PathLike):
            path = Path(input)
            if input_dir and not path.is_absolute() and not path.exists():
                path = Path(input_dir) / path
            return cls.open_input(path), True
        return input, False

    @classmethod
    def open_input(cls, path: Path) -> Any:
        """Open an input file; override for inputs other than FITS products (associations)."""
        return open_model(path)

    def run(self, input: Any) -> Any:
        """Run on ``input`` (path or model) with this instance's parameters."""
        model, owned = self._open_input_for(input, self.input_dir)
        return self._run(model, owned=owned, input_name=_input_name(input, model))

    def _run(self, model: Any, owned: bool, input_name: str | None = None) -> Any:
        stlog.ensure_default_logging()
        self._check_hooks()
        self._input_name = input_name or _input_name(model, model)
        self._refs_used = {}
        self._status = None
        args = model.meta.filename if isinstance(model, DataModel) else model
        self.log.info("Step %s running with args (%r,).", self.name, args)
        start = time.perf_counter()
        work = model if owned else _copy(model)
        if self.skip:
            self.log.info("Step %s skipped.", self.name)
            self._status = "SKIPPED"
            result = work
            self._finalize(result)
        else:
            result = self.process(work)
            if result is None:
                raise TypeError(f"{type(self).__name__}.process returned None")
            self._finalize(result)
            if self.save_results or self.output_file:
                for path in self._save_result(result):
                    self.log.info("Saved model in %s", path)
        self.log.info("Step %s done (%.3f s)", self.name, time.perf_counter() - start)
        return result

    def process(self, model: Any) -> Any:
        """Do the step's work on ``model`` (owned: modify freely) and return the result."""
        raise NotImplementedError(f"{type(self).__name__} must implement process()")

    def skip_step(self, model: Any, reason: str) -> Any:
        """Log ``reason``, mark the step SKIPPED, and return ``model`` (call from process)."""
        self.log.warning("Step %s skipped: %s", self.name, reason)
        self._status = "SKIPPED"
        return model

    def fail_step(self, model: Any, reason: str) -> Any:
        """Log ``reason``, mark the step FAILED (data left unchanged), return ``model``.

        For a step that cannot apply its correction to this exposure but must not stop
        the pipeline, as the official steps record ``S_* = FAILED``.
        """
        self.log.warning("Step %s failed: %s", self.name, reason)
        self._status = "FAILED"
        return model

    def _check_hooks(self) -> None:
        for key in ("pre_hooks", "post_hooks"):
            if self.params[key]:
                raise ParameterError(f"{self.name}.{key}: hooks are not supported in webbflow "
                                     f"{'.'.join(__version__.split('.')[:2])}")

    def _finalize(self, result: Any) -> None:
        status_key = self.status_key()
        context = sw_version = None
        if self._refs_used:
            context, sw_version = _crds_versions()
        for model in iter_models(result):
            if status_key is not None:
                model.meta.set(f"cal_step.{status_key}", self._status or "COMPLETE")
            model.meta.calibration_software_version = f"webbflow-{__version__}"
            for reftype, recorded in self._refs_used.items():
                model.meta.set(f"ref_file.{reftype}.name", recorded)
            if context is not None:
                model.meta.set("ref_file.crds.context_used", context)
            if sw_version is not None:
                model.meta.set("ref_file.crds.sw_version", sw_version)
            if self.status_key() is not None or self.is_pipeline:
                # the parameters this step ran with, in the product's ASDF tree (no FITS card)
                model.meta.set(f"webbflow.parameters.{self.name}", self._parameter_record())

    def _parameter_record(self) -> dict[str, Any]:
        """This step's parameters as plain YAML values (others as their text)."""
        record: dict[str, Any] = {}
        for key, value in self.params.items():
            if isinstance(value, list | tuple):
                value = [v if isinstance(v, bool | int | float | str) else str(v) for v in value]
            elif not (value is None or isinstance(value, bool | int | float | str)):
                value = str(value)
            record[key] = value
        return record

    # ------------------------------------------------------------------ references
    def get_reference_file(self, model: DataModel, reftype: str) -> str:
        """Path of the ``reftype`` reference for ``model`` (or ``"N/A"``), recorded in meta.

        The ``override_<reftype>`` parameter wins; otherwise CRDS selects the file. The name
        recorded in ``meta.ref_file.<reftype>.name`` (R_* keyword) is ``crds://<basename>``
        for CRDS files, the path as given for overrides, ``N/A`` when none applies.

        Raises
        ------
        ReferenceError_
            The override does not exist, or CRDS cannot supply the reference.
        """
        if reftype not in self.reference_file_types:
            raise ValueError(f"{type(self).__name__} does not declare reference type "
                             f"{reftype!r} in reference_file_types")
        override = self.params.get(f"override_{reftype}")
        if override not in (None, ""):
            override = str(override)
            if override.strip().upper() == "N/A":
                path = recorded = "N/A"
            else:
                if not Path(override).is_file():
                    raise ReferenceError_(f"{self.name}.override_{reftype}: {override}: "
                                          "no such file")
                path = recorded = override
            self.log.info("Using overridden %s reference file %s", reftype, path)
        else:
            from .. import references

            path = str(references.get_reference(model, reftype))
            recorded = "N/A" if path == "N/A" else f"crds://{Path(path).name}"
            self.log.info("Using %s reference file %s", reftype, path)
        self._refs_used[reftype] = recorded
        if isinstance(model, DataModel):
            model.meta.set(f"ref_file.{reftype}.name", recorded)
        return path

    # ------------------------------------------------------------------ saving
    def _output_dir(self) -> str | None:
        step: Step | None = self
        while step is not None:
            if step.params.get("output_dir"):
                return step.params["output_dir"]
            step = step.parent
        return None

    def _root_input_name(self) -> str:
        step: Step = self
        while step.parent is not None and step.parent._input_name:
            step = step.parent
        return step._input_name or self._input_name or f"{self.name}.fits"

    def output_path(self, suffix: str | None = None, index: int | None = None) -> str:
        """Where a product of this step is saved.

        ``suffix=None`` is the main product (suffix: the ``suffix`` parameter, else
        ``default_suffix``, else the alias); a given ``suffix`` names a secondary product.
        ``index`` numbers the models of a step that returns several (``<root>_1_<suffix>``,
        as officially with ``output_use_index``).
        """
        ext = self.output_ext or ".fits"
        output_dir = self._output_dir()
        main = self.suffix or self.default_suffix or self.alias()
        if index is not None:
            main = f"{index}_{main}" if self.output_use_index else main
        if self.output_file:
            if index is not None and suffix is None:
                suffix = str(index)
            return naming.output_file_name(self.output_file, ext, suffix, output_dir)
        input_name = self._root_input_name()
        if suffix is None and self.parent is None and not self.is_pipeline:
            return naming.lone_step_name(input_name, main, ext, output_dir)
        return naming.product_name(input_name, suffix or main, ext, output_dir)

    def save_model(self, model: DataModel, suffix: str | None = None) -> str:
        """Save ``model`` atomically under this step's naming rules; return the path."""
        path = self.output_path(suffix)
        model.save(path)
        return path

    def _save_result(self, result: Any) -> list[str]:
        models = list(iter_models(result))
        if len(models) == 1:
            return [self.save_model(models[0])]
        paths = []
        for index, model in enumerate(models):
            path = self.output_path(index=index)
            model.save(path)
            paths.append(path)
        return paths

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def _input_name(input: Any, model: Any) -> str | None:
    if isinstance(input, str | os.PathLike):
        return Path(input).name
    if isinstance(model, DataModel):
        return model.meta.filename
    return None


def _copy(model: Any) -> Any:
    if isinstance(model, DataModel):
        return model.copy()
    if isinstance(model, list | tuple):
        return type(model)(_copy(m) for m in model)
    return model


def _crds_versions() -> tuple[str | None, str | None]:
    """CRDS context and library version, when the references package can tell."""
    try:
        from .. import references

        return references.context_in_use(), references.crds_version()
    except (ImportError, AttributeError, WebbflowError) as exc:
        logging.getLogger("webbflow").debug("CRDS context not recorded: %s", exc)
        return None, None
