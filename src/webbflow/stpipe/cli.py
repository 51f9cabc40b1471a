"""``strun`` and ``collect_pipeline_cfgs``, used as officially.

::

    strun <class | alias | file.cfg | file.asdf> <input> [-h] [--<param>=<value>]
          [--steps.<step>.<param>=<value>] [--output_dir D] [--output_file F]
          [--save_results] [--logcfg F] [--verbose] [--save-parameters F]
          [--disable-crds-steppars]
    collect_pipeline_cfgs <dir>

Every user error (:class:`~webbflow.errors.WebbflowError`) is printed as one line,
``strun: error: <message>``, on stderr, and the exit status is 1. The top-level step or
pipeline saves its result unless ``--save_results=False`` or a parameter file says otherwise.
"""

from __future__ import annotations

import gc
import inspect
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import catalog
from ..errors import ParameterError, WebbflowError
from . import log as stlog
from .config_files import read_parameter_file, write_cfg, write_parameter_file
from .params import Param, parse_bool, suggest, unknown_parameter
from .pipeline import Pipeline
from .step import Step

_VALUE_OPTIONS = ("logcfg", "save-parameters")
_FLAG_OPTIONS = ("verbose", "disable-crds-steppars", "debug")
USAGE = ("usage: strun <class | alias | file.cfg | file.asdf> <input> [-h] [--<param>=<value>] "
         "[--steps.<step>.<param>=<value>] [--logcfg F] [--verbose] [--save-parameters F] "
         "[--disable-crds-steppars]")


# ---------------------------------------------------------------------- target
def resolve_target(target: str) -> tuple[type[Step], Path | None]:
    """The class to run and the parameter file named by ``target`` (if it is one)."""
    path = Path(target)
    if target.lower().endswith((".cfg", ".asdf")) and path.is_file():
        pfile = read_parameter_file(path)
        if not pfile.class_name:
            raise ParameterError(f"{path}: parameter file has no 'class' entry")
        return catalog.resolve(pfile.class_name), path
    return catalog.resolve(target), None


def _param_table(cls: type[Step]) -> dict[str, Param]:
    """``{"rejection_threshold": Param, "steps.jump.rejection_threshold": Param, ...}``."""
    table = dict(cls.full_spec())
    if issubclass(cls, Pipeline):
        for sname, scls in cls.step_defs.items():
            for key, param in scls.full_spec().items():
                table[f"steps.{sname}.{key}"] = param
    return table


# ---------------------------------------------------------------------- help
def help_text(cls: type[Step]) -> str:
    """Every parameter (and, for pipelines, every ``--steps.<step>.<param>``) with defaults."""
    doc = (inspect.getdoc(cls) or "").splitlines()
    lines = [USAGE.replace("<class | alias | file.cfg | file.asdf>", cls.alias()), "",
             f"{cls.__name__} ({cls.official_class()}, alias {cls.alias()})"
             + (f": {doc[0]}" if doc else ""), "", "parameters:"]

    def block(prefix: str, spec: dict[str, Param]) -> None:
        width = max((len(prefix + k) for k in spec), default=0) + 4
        for key, param in spec.items():
            lines.append(f"  {'--' + prefix + key:<{width}} {param.describe()}")

    block("", cls.full_spec())
    if issubclass(cls, Pipeline):
        for sname, scls in cls.step_defs.items():
            lines += ["", f"step {sname} ({scls.__name__}):"]
            block(f"steps.{sname}.", scls.full_spec())
    lines += ["", "strun options:",
              "  -h, --help                 show this listing and exit",
              "  --logcfg F                 log configuration file (default ./stpipe-log.cfg)",
              "  --verbose                  log DEBUG messages",
              "  --save-parameters F        write the parameters used to F (.asdf or .cfg)",
              "  --disable-crds-steppars    do not read CRDS pars-* parameter references"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- parsing
def _set_nested(params: dict[str, Any], key: str, value: Any) -> None:
    if key.startswith("steps."):
        _, step_name, param = key.split(".", 2)
        params.setdefault("steps", {}).setdefault(step_name, {})[param] = value
    else:
        params[key] = value


def _unknown_option(name: str, cls: type[Step]) -> ParameterError:
    if name.startswith("steps.") and issubclass(cls, Pipeline):
        parts = name.split(".", 2)
        step_name = parts[1]
        if step_name not in cls.step_defs:
            return ParameterError(f"unknown step {step_name!r} in pipeline {cls.alias()!r}"
                                  f"{suggest(step_name, cls.step_defs)}")
        if len(parts) == 3:
            scls = cls.step_defs[step_name]
            return unknown_parameter(parts[2], step_name, scls.full_spec())
    kind = "pipeline" if cls.is_pipeline else "step"
    return unknown_parameter(name, cls.alias(), _param_table(cls), kind)


def parse_args(argv: list[str]) -> dict[str, Any]:
    """Split ``argv`` into target, input, strun options and parameters (raw text)."""
    out: dict[str, Any] = {"help": False, "positional": [], "options": {}, "params": {},
                           "cls": None, "config_file": None}
    i = 0
    while i < len(argv):
        tok = argv[i]
        i += 1
        if tok in ("-h", "--help"):
            out["help"] = True
            continue
        if not tok.startswith("--"):
            if tok.startswith("-") and tok != "-":
                raise ParameterError(f"unknown option {tok!r}")
            out["positional"].append(tok)
            if len(out["positional"]) == 1:
                out["cls"], out["config_file"] = resolve_target(tok)
            continue
        name, eq, value = tok[2:].partition("=")
        if name in _FLAG_OPTIONS:
            out["options"][name] = True if not eq else parse_bool(value)
            continue
        if name in _VALUE_OPTIONS or name.replace("_", "-") in _VALUE_OPTIONS:
            if not eq:
                if i >= len(argv):
                    raise ParameterError(f"option --{name} needs a value")
                value, i = argv[i], i + 1
            out["options"][name.replace("_", "-")] = value
            continue
        cls = out["cls"]
        param = _param_table(cls).get(name) if cls is not None else None
        if cls is not None and param is None:
            raise _unknown_option(name, cls)
        if not eq:
            nxt = argv[i] if i < len(argv) else None
            if param is not None and param.type == "boolean":
                if nxt is not None and parse_bool(nxt) is not None:
                    value, i = nxt, i + 1
                else:
                    value = "True"
            elif nxt is None or (nxt.startswith("--") and len(nxt) > 2):
                raise ParameterError(f"option --{name} needs a value (--{name}=<value>)")
            else:
                value, i = nxt, i + 1
        out["params"][name] = value
    if out["cls"] is not None:
        for name in list(out["params"]):
            if name not in _param_table(out["cls"]):
                raise _unknown_option(name, out["cls"])
    nested: dict[str, Any] = {}
    for name, value in out["params"].items():
        _set_nested(nested, name, value)
    out["params"] = nested
    return out


# ---------------------------------------------------------------------- strun
def run_strun(argv: list[str], ready: Callable[[], None] | None = None) -> Any:
    """Run strun on ``argv`` (without the program name); return the result (None for -h).

    ``ready`` is called once the step is built and its input open, just before it runs.
    """
    args = parse_args(argv)
    cls = args["cls"]
    if args["help"]:
        sys.stdout.write(help_text(cls) if cls is not None else USAGE + "\n")
        return None
    if cls is None:
        raise ParameterError("no step or pipeline given; " + USAGE)
    if len(args["positional"]) < 2:
        raise ParameterError(f"no input file given for {cls.alias()}; " + USAGE)
    if len(args["positional"]) > 2:
        raise ParameterError(f"unexpected extra argument {args['positional'][2]!r}")
    options = args["options"]
    stlog.configure(options.get("logcfg"), verbose=bool(options.get("verbose")
                                                        or options.get("debug")))
    if options.get("disable-crds-steppars"):
        os.environ["STPIPE_DISABLE_CRDS_STEPPARS"] = "true"
    input_path = args["positional"][1]
    input_dir = args["params"].get("input_dir")
    model, _ = cls._open_input_for(input_path, input_dir)
    config = cls.build_config(model, args["config_file"], args["params"])
    config.setdefault("save_results", True)
    step = cls.from_config(config)
    if options.get("save-parameters"):
        write_parameter_file(options["save-parameters"], step)
    if ready is not None:
        ready()
    return step._run(model, owned=True, input_name=Path(input_path).name)


def strun_main(argv: list[str] | None = None, ready: Callable[[], None] | None = None) -> int:
    """Console entry point of ``strun``; returns the exit status (``ready``: see
    :func:`run_strun`)."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        run_strun(argv, ready)
    except WebbflowError as exc:
        sys.stdout.flush()
        print(f"strun: error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        stlog.shutdown()
    return 0


def _collect_from_here() -> None:
    """End of start-up: keep what the imports made for good, and collect from now on."""
    gc.freeze()
    gc.enable()


def strun_console() -> None:
    """The ``strun`` command: :func:`strun_main`, then an immediate exit.

    The cyclic garbage collector is off while the process starts: the imports (numpy,
    numba, the pipeline's steps, astropy where a step needs it) make 100 000+ objects that
    live as long as the process, and collecting as they come cost ~0.1 s of a full-frame
    Detector1 run (340 collections, with astropy then imported). Once the step is built
    and its input open they are frozen (never scanned again) and the collector runs as
    usual for the pipeline's own objects.

    Every product is saved atomically and closed and the logs are flushed before
    :func:`strun_main` returns, so the interpreter's teardown (freeing every imported
    module's objects: about 0.2 s after a full-frame Detector1 run) does nothing the user
    needs; it is skipped (an exception still ends the process the normal way).
    """
    gc.disable()
    code = strun_main(ready=_collect_from_here)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# ---------------------------------------------------------------------- collect
def collect_pipeline_cfgs(directory: str | os.PathLike) -> list[Path]:
    """Write a ``.cfg`` with every parameter and its default for each implemented entry."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in catalog.entries():
        if not entry.alias or not catalog.is_implemented(entry):
            continue
        cls = catalog.resolve(entry.alias)
        written.append(write_cfg(directory / entry.cfg_names[0], cls))
    return written


def collect_pipeline_cfgs_main(argv: list[str] | None = None) -> int:
    """Console entry point of ``collect_pipeline_cfgs <dir>``."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or len(argv) != 1:
        stream = sys.stdout if argv and argv[0] in ("-h", "--help") else sys.stderr
        print("usage: collect_pipeline_cfgs <dir>  (writes a .cfg for every implemented "
              "step and pipeline)", file=stream)
        return 0 if stream is sys.stdout else 1
    try:
        written = collect_pipeline_cfgs(argv[0])
    except WebbflowError as exc:
        print(f"collect_pipeline_cfgs: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"collect_pipeline_cfgs: error: {argv[0]}: {exc.strerror}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0
