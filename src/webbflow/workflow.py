"""Glue between the Snakemake workflow (``Snakefile``, ``rules/``, ``scripts/``) and the library.

Two halves:

* start-up checks run by ``rules/common.smk`` — the config against ``config/schema.yaml`` with
  one-line messages, the ``webbflow_version`` pin, the inputs, the per-step parameters (asked
  of the step classes when they import), and the CRDS environment the jobs inherit;
* the boilerplate every ``scripts/*.py`` needs — the rule's log file as the log destination,
  the config's ``steps`` section as ``steps=``, one pipeline call.

Nothing numerical lives here.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import webbflow

from .errors import ConfigError, ParameterError, WebbflowError
from .memory_policy import map_large_allocations
from .thread_policy import one_blas_thread

__all__ = [
    "PIPELINE_SECTIONS",
    "check_config",
    "check_pipeline_steps",
    "crds_environment",
    "implemented",
    "job",
    "log_to",
    "run_pipeline",
    "run_summary",
    "uncal_paths",
]

#: Config section → pipeline alias (the official ``calwebb_*`` names).
PIPELINE_SECTIONS: dict[str, str] = {
    "detector1": "calwebb_detector1",
    "dark": "calwebb_dark",
    "guider": "calwebb_guider",
    "image2": "calwebb_image2",
    "spec2": "calwebb_spec2",
    "image3": "calwebb_image3",
    "spec3": "calwebb_spec3",
    "coron3": "calwebb_coron3",
    "ami3": "calwebb_ami3",
    "tso3": "calwebb_tso3",
    "wfs_image3": "calwebb_wfs-image3",
}

# --------------------------------------------------------------------------- start-up checks


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _validation_line(error: Any) -> str:
    """One line naming the config key for a ``jsonschema`` ValidationError."""
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        key = f"{where}.{extra[0]}" if where else str(extra[0])
        return (
            f"config: unknown key {key!r}{_did_you_mean(str(extra[0]), allowed)}; "
            f"allowed here: {', '.join(allowed)}"
        )
    if error.validator == "required":
        return f"config: {where or 'top level'}: {error.message}"
    if "propertyNames" in error.absolute_schema_path:
        return f"config: {where}: bad key {error.instance!r} (lower-case letters, digits, '_')"
    message = " ".join(str(error.message).split())
    return f"config: {where or 'top level'}: {message}"


_SCALARS = {"true": True, "false": False, "null": None, "~": None}


def _coerce(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        schema = root["$defs"][ref.rsplit("/", 1)[1]]
    if isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key, extra if isinstance(extra, Mapping) else {})
            value[key] = _coerce(item, sub, root)
        return value
    if not isinstance(value, str):
        return value
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if "string" in kinds:
        return value
    lowered = value.strip().lower()
    if lowered in _SCALARS and ("boolean" in kinds or "null" in kinds):
        return _SCALARS[lowered]
    for kind, convert in (("integer", int), ("number", float)):
        if kind in kinds:
            with contextlib.suppress(ValueError):
                return convert(value)
    return value


def coerce_command_line(config: dict[str, Any], schema_path: str | os.PathLike) -> None:
    """Turn the strings of nested ``--config`` overrides into the schema's types, in place.

    Snakemake reads nested ``--config 'inputs={demo: {n_exposures: 2}}'`` values as text;
    ``"2"`` becomes 2 and ``"false"`` False where the schema wants a number or a boolean.
    """
    import yaml  # here, not at module level: job scripts import this module too

    schema = yaml.safe_load(Path(schema_path).read_text())
    _coerce(config, schema, schema)


def check_config(config: Mapping[str, Any], schema_path: str | os.PathLike) -> None:
    """Validate ``config`` against the JSON schema, raising a one-line ConfigError.

    Raises
    ------
    ConfigError
        ``"config: unknown key 'detector1.stepz' (did you mean 'steps'?); allowed here: ..."``,
        ``"config: inputs.demo.nints: 'two' is not of type 'integer'"``, and so on.
    """
    import jsonschema
    import yaml

    schema = yaml.safe_load(Path(schema_path).read_text())
    validator_cls = jsonschema.validators.validator_for(schema)
    error = jsonschema.exceptions.best_match(validator_cls(schema).iter_errors(dict(config)))
    if error is not None:
        raise ConfigError(_validation_line(error))


def check_version(pinned: str) -> None:
    """The ``webbflow_version`` pin must equal the installed ``webbflow.__version__``."""
    if str(pinned) != webbflow.__version__:
        raise ConfigError(
            f"config: webbflow_version is pinned to {pinned!r} but the installed webbflow is "
            f"{webbflow.__version__!r}; install the pinned version or change the pin"
        )


def uncal_paths(config: Mapping[str, Any]) -> list[str]:
    """The raw exposures of ``inputs.uncal_dir`` (sorted ``*_uncal.fits``); [] for the demo.

    Raises
    ------
    ConfigError
        Neither or both of ``inputs.demo.enabled`` and ``inputs.uncal_dir``; a missing
        directory or one without ``*_uncal.fits``; a missing ``inputs.asn_files`` entry.
    """
    inputs = config["inputs"]
    demo = bool(inputs["demo"]["enabled"])
    uncal_dir = inputs.get("uncal_dir")
    for asn in inputs.get("asn_files", []):
        if not Path(asn).is_file():
            raise ConfigError(f"config: inputs.asn_files: {asn}: no such file")
    if demo == bool(uncal_dir):
        raise ConfigError(
            "config: inputs: set exactly one of inputs.demo.enabled=true and inputs.uncal_dir "
            f"(now demo.enabled={demo}, uncal_dir={uncal_dir!r})"
        )
    if demo:
        return []
    folder = Path(uncal_dir)
    if not folder.is_dir():
        raise ConfigError(f"config: inputs.uncal_dir: {uncal_dir}: no such directory")
    paths = sorted(str(p) for p in folder.glob("*_uncal.fits"))
    if not paths:
        raise ConfigError(f"config: inputs.uncal_dir: {uncal_dir}: no *_uncal.fits files in it")
    return paths


def implemented(alias: str) -> bool:
    """Whether the catalog's module for ``alias`` exists (the pipeline is implemented).

    Asked of the module finder, without importing: Snakemake's start-up (which asks this of
    every pipeline) then loads no numba kernels or reference readers (~3 s saved per run). A
    module that exists but fails to import fails the jobs that run it, with its traceback in
    their logs.
    """
    from . import catalog

    entry = catalog.find(alias)
    if entry is None:
        return False
    module = entry.implementation.partition(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _resolve(alias: str) -> type:
    from . import catalog  # lazily: written alongside this module

    return catalog.resolve(alias)


def check_pipeline_steps(config: Mapping[str, Any]) -> None:
    """Check step names, parameter names and values of every section whose pipeline imports.

    The pipeline class itself judges (``validate_layer({"steps": ...})``), so the rules of
    ``strun --steps.<step>.<param>=`` apply. A section whose pipeline is not implemented yet is
    not checked (its rules cannot run).

    Raises
    ------
    ConfigError
        ``"config: detector1: unknown step 'jumpp' in pipeline 'calwebb_detector1' (did you
        mean 'jump'?)"``, or the one-line message for an unknown parameter or a bad value.
    """
    for section, alias in PIPELINE_SECTIONS.items():
        steps = (config.get(section) or {}).get("steps") or {}
        if not steps:
            continue
        try:
            pipeline = _resolve(alias)
        except WebbflowError:  # not implemented yet: its rules cannot run either
            continue
        try:
            pipeline.validate_layer({"steps": steps}, alias)
        except ParameterError as exc:
            raise ConfigError(f"config: {section}.steps: {exc}") from None


def check_override_files(config: Mapping[str, Any]) -> None:
    """Every ``override_<reftype>`` that is not ``N/A`` must name an existing file.

    Raises
    ------
    ConfigError
        ``"config: detector1.steps.dark_current.override_dark: my_dark.fits: no such file"``.
    """
    for section in PIPELINE_SECTIONS:
        steps = (config.get(section) or {}).get("steps") or {}
        for step, params in steps.items():
            for key, value in (params or {}).items():
                if not key.startswith("override_") or value in (None, "", "N/A"):
                    continue
                if not Path(str(value)).is_file():
                    raise ConfigError(
                        f"config: {section}.steps.{step}.{key}: {value}: no such file"
                    )


def crds_environment(
    config: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The CRDS environment variables the workflow's jobs run with.

    ``CRDS_CONTEXT`` set by the user in the environment wins over ``crds.context``, as with
    the official pipeline; ``crds.path`` (default: ``<outdir>/demo/crds_cache`` for the demo,
    else the user's ``CRDS_PATH``) becomes an absolute ``CRDS_PATH``; with no
    ``crds.server_url`` the library works offline (``CRDS_MODE=local``).

    Returns
    -------
    dict
        Keys among ``CRDS_CONTEXT``, ``CRDS_PATH``, ``CRDS_SERVER_URL``, ``CRDS_MODE``.
    """
    environ = os.environ if environ is None else environ
    crds = config.get("crds") or {}
    env: dict[str, str] = {"CRDS_CONTEXT": environ.get("CRDS_CONTEXT") or str(crds["context"])}
    path = crds.get("path")
    if not path and config["inputs"]["demo"]["enabled"]:
        path = str(Path(config["outdir"]) / "demo" / "crds_cache")
    path = path or environ.get("CRDS_PATH")
    if path:
        env["CRDS_PATH"] = str(Path(path).absolute())
    server_url = crds.get("server_url") or environ.get("CRDS_SERVER_URL")
    if server_url:
        env["CRDS_SERVER_URL"] = str(server_url)
        if environ.get("CRDS_MODE"):
            env["CRDS_MODE"] = environ["CRDS_MODE"]
    else:
        env["CRDS_MODE"] = "local"
    return env


def startup(config: dict[str, Any]) -> dict[str, str]:
    """Checks after schema validation; exports and returns the CRDS environment.

    The ``webbflow_version`` pin, the inputs, the step names and parameters; then the
    :func:`crds_environment` is put into ``os.environ`` so every job inherits it, with one
    BLAS thread per job unless the user set a count (:mod:`webbflow.thread_policy`).
    """
    check_version(config["webbflow_version"])
    uncal_paths(config)
    check_pipeline_steps(config)
    check_override_files(config)
    env = crds_environment(config)
    os.environ.update(env)
    one_blas_thread(os.environ)
    return env


# --------------------------------------------------------------------------- job scripts


@contextlib.contextmanager
def log_to(path: str | os.PathLike | None, level: int = logging.INFO) -> Iterator[logging.Logger]:
    """Send the ``webbflow`` logger (and Python warnings) to the rule's log file.

    A :class:`WebbflowError` raised inside is written to the log as one line before it
    propagates, so the job fails with the reason at the end of its log.
    """
    logger = logging.getLogger("webbflow")
    handler: logging.Handler
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, mode="w")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").addHandler(handler)
    try:
        yield logger
    except WebbflowError as exc:
        logger.error("%s: %s", type(exc).__name__, exc)
        raise
    except Exception:  # a bug: its traceback belongs in the rule's log too
        logger.exception("unexpected error")
        raise
    finally:
        logging.getLogger("py.warnings").removeHandler(handler)
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        handler.close()


#: Environment variable naming the plan file of the run's program (set by rules/common.smk):
#: one line per planned pipeline job, ``<rule>\t<its first product>``.
PLAN_ENV = "WEBBFLOW_PLAN"


def write_plan(path: str | os.PathLike, jobs: list[tuple[str, str]]) -> None:
    """Write the plan file (``jobs``: (rule, first product) pairs); untouched when unchanged."""
    path = Path(path)
    text = "".join(f"{rule}\t{product}\n" for rule, product in jobs)
    if path.is_file() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(text)
    tmp.replace(path)


def plan_progress(
    product: str | os.PathLike, path: str | os.PathLike | None = None
) -> tuple[int, int] | None:
    """(planned pipeline jobs whose first product exists, planned jobs) when ``product`` is
    one job's first product in the plan file, else None (no plan, or not a pipeline job).

    ``path`` defaults to the file named by ``$WEBBFLOW_PLAN``.
    """
    path = path or os.environ.get(PLAN_ENV)
    if not path or not Path(path).is_file():
        return None
    products = [line.split("\t")[-1] for line in Path(path).read_text().splitlines() if line]
    if os.path.normpath(product) not in {os.path.normpath(p) for p in products}:
        return None
    return sum(Path(p).exists() for p in products), len(products)


def _product_kind(path: str | os.PathLike) -> str:
    """``x_rateints.fits`` -> ``rateints``; ``p_cat.ecsv`` -> ``cat``; a folder: its name."""
    stem, dot, _ = Path(path).name.partition(".")
    return stem.rsplit("_", 1)[-1] if dot else stem


def job_label(rule: str, inputs: Any, outputs: Any) -> str:
    """``detector1 x_uncal.fits -> rate, rateints``: what one Snakemake job does."""
    source = next((inputs.get(k) for k in ("uncal", "asn", "exposure") if inputs.get(k)),
                  None) or next(iter(inputs), "")
    if not isinstance(source, str | os.PathLike):  # a named list of files: its first
        source = next(iter(source), "")
    kinds = ", ".join(dict.fromkeys(_product_kind(p) for p in outputs))
    return f"{rule} {Path(source).name} -> {kinds}" if source else f"{rule} -> {kinds}"


def _progress(logger: logging.Logger, line: str, console: bool) -> None:
    logger.info(line)
    if console:  # the job's stderr is Snakemake's console (local runs) or the SLURM log
        sys.stderr.flush()
        # one write(2) call: concurrent jobs' lines never interleave (atomic below PIPE_BUF)
        os.write(sys.stderr.fileno(), (line + "\n").encode())


@contextlib.contextmanager
def job(smk: Any, level: int = logging.INFO) -> Iterator[logging.Logger]:
    """:func:`log_to` the rule's log, with one progress line as the job starts and ends.

    ``smk`` is the ``snakemake`` object of a ``script:`` job. The lines go to the log and to
    the console, e.g. ``[webbflow] detector1 x_uncal.fits -> rate, rateints: started`` and
    ``[webbflow] detector1 x_uncal.fits -> rate, rateints (3/17) 4.2 s`` where 3 of the
    program's 17 planned pipeline jobs (:data:`PLAN_ENV`) have their products (no count for
    jobs that are not pipeline jobs); a failure ends ``FAILED after 4.2 s: <error>``. The
    job's process gets ``strun``'s allocator policy (:mod:`webbflow.memory_policy`).
    """
    map_large_allocations()  # a script job is a process of its own
    label = "[webbflow] " + job_label(smk.rule, smk.input, smk.output)
    log_path = smk.log[0] if len(smk.log) else None
    with log_to(log_path, level) as logger:
        _progress(logger, f"{label}: started", log_path is not None)
        start = time.perf_counter()
        try:
            yield logger
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else ""
            _progress(logger, f"{label} FAILED after {time.perf_counter() - start:.1f} s: "
                      f"{type(exc).__name__}: {reason}", log_path is not None)
            raise
        counts = plan_progress(smk.output[0]) if len(smk.output) else None
        where = f" ({counts[0]}/{counts[1]})" if counts else ""
        _progress(logger, f"{label}{where} {time.perf_counter() - start:.1f} s",
                  log_path is not None)


def raw_files(items: str | os.PathLike | list[str | os.PathLike]) -> list[Path]:
    """A rule's raw inputs as files: one path or a list; a directory gives its *_uncal.fits."""
    paths: list[Path] = []
    for item in [items] if isinstance(items, str | os.PathLike) else items:
        item = Path(item)
        paths.extend(sorted(item.glob("*_uncal.fits")) if item.is_dir() else [item])
    return paths


def set_threads(threads: int) -> None:
    """Let the numba kernels use ``threads`` threads (the rule's ``threads:``)."""
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency
        return
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))


def run_pipeline(
    alias: str,
    input_path: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    steps: Mapping[str, Mapping[str, Any]] | None = None,
    context: str | None = None,
    threads: int = 1,
    **pipeline_params: Any,
) -> Any:
    """Run one pipeline on one input and save its products in ``output_dir``.

    Parameters
    ----------
    alias : str
        Pipeline alias (``"calwebb_detector1"``) or class name known to ``webbflow.catalog``.
    input_path : path-like
        The input product or association.
    output_dir : path-like
        Where the products land, with the official names (``x_uncal`` → ``x_rate``...).
    steps : mapping, optional
        ``{step: {param: value}}`` from the config, passed as ``steps=``.
    context : str, optional
        CRDS context for reference selection (``CRDS_CONTEXT`` in the environment still wins).
    threads : int
        Threads the kernels may use.
    **pipeline_params
        Pipeline-level parameters (``save_calibrated_ramp=True``...).
    """
    from . import references

    references.configure(
        context=context,
        crds_path=os.environ.get("CRDS_PATH"),
        server_url=os.environ.get("CRDS_SERVER_URL"),
    )
    set_threads(threads)
    pipeline = _resolve(alias)
    step_params = {name: dict(params or {}) for name, params in (steps or {}).items()}
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    try:
        return pipeline.call(
            str(input_path),
            steps=step_params,
            output_dir=str(output_dir),
            save_results=True,
            **pipeline_params,
        )
    except ParameterError as exc:  # a config typo the start-up check could not see
        raise ConfigError(f"config: {alias}: {exc}") from None


# --------------------------------------------------------------------------- end of a run


def run_summary(
    outdir: str | os.PathLike,
    implemented: Mapping[str, bool],
    context: str,
    failed: bool = False,
) -> str:
    """The run summary printed when a run ends (``onsuccess``/``onerror``).

    One line per exposure of ``<outdir>/manifest.tsv`` (see
    :func:`webbflow.associations.program.summary_lines`), a planned product that is missing
    reading FAILED; a short note when the run ended before the manifest existed.
    """
    from .associations import program, read_manifest

    outdir = Path(outdir)
    title = f"webbflow {webbflow.__version__}, CRDS context {context}: run " + (
        "FAILED" if failed else "finished"
    )
    manifest = outdir / "manifest.tsv"
    if not manifest.is_file():
        return f"{title}; no manifest yet ({manifest}), so no exposure was processed"
    index = outdir / "associations.tsv"
    plans = program.read_index(index) if index.is_file() else []
    lines = program.summary_lines(
        read_manifest(manifest),
        plans,
        lambda alias: bool(implemented.get(alias)),
        exists=lambda rel: (outdir / rel).is_file(),
        failed=failed,
    )
    counts: dict[str, int] = {}
    for line in lines:
        verdict = line.split("\t")[2].split(" ")[0]
        counts[verdict] = counts.get(verdict, 0) + 1
    tally = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    return "\n".join([f"{title} ({tally}); per exposure:", *lines])
