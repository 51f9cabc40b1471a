"""The official JWST pipeline as an external oracle, in its own virtual environment.

The official pipeline (PyPI ``jwst`` with stcal, stdatamodels, stpipe, crds) is never imported
here nor by webbflow: :func:`ensure_oracle_env` installs it into a separate venv, and
:func:`run_official` runs ``official_driver.py`` with that venv's python in a subprocess, offline
against a local CRDS cache (see /work/shared/PARITY.md), and reports the products and the
figures benchmarks need. The oracle venv's ``bin`` is never put on PATH, so its ``strun`` cannot
shadow webbflow's.

Command line::

    python tests/parity/oracle.py ensure [--venv DIR]          # create / check the oracle venv
    python tests/parity/oracle.py run KIND UNCAL OUTDIR --crds-path DIR --context jwst_9001.pmap
           [--ref mask=PATH ...] [--maximum-cores 1|all] [--save-ramp] [--save-steps a,b]

Environment: ``WEBBFLOW_ORACLE_VENV`` (venv location, default ``<repo>/.oracle-venv``).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time
import venv
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the sibling module importable
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from proctree import Measured, run_measured  # type: ignore[no-redef]
else:
    from .proctree import Measured, run_measured

__all__ = [
    "JWST_VERSION",
    "MIRI_ONLY_STEPS",
    "OFFICIAL_CLASSES",
    "OfficialRun",
    "OracleEnvError",
    "OracleRunError",
    "ensure_oracle_env",
    "oracle_env",
    "oracle_venv_path",
    "run_official",
]

#: the pinned official release every parity figure refers to
JWST_VERSION = "3.0.0"
JWST_REQUIREMENT = f"jwst=={JWST_VERSION}"

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).resolve().with_name("official_driver.py")

#: ``kind`` -> official class path (single steps: any catalogued step alias, see below)
OFFICIAL_CLASSES: dict[str, str] = {
    "detector1": "jwst.pipeline.Detector1Pipeline",
    "image2": "jwst.pipeline.Image2Pipeline",
    "image3": "jwst.pipeline.Image3Pipeline",
    "spec2": "jwst.pipeline.Spec2Pipeline",
    "dark": "jwst.pipeline.DarkPipeline",
}

#: steps of calwebb_detector1 that serve MIRI only; skipped for other instruments so their
#: reference types are not even asked for (PARITY.md: rscd and reset are on by default)
MIRI_ONLY_STEPS: tuple[str, ...] = ("emicorr", "firstframe", "lastframe", "reset", "rscd")

#: pipeline steps that take ``maximum_cores``
_MULTICORE_STEPS: dict[str, tuple[str, ...]] = {"detector1": ("jump", "ramp_fit")}

_TRUE = ("1", "true", "t", "yes", "y")


class OracleEnvError(RuntimeError):
    """The oracle venv could not be created (no network, pip failure...)."""


class OracleRunError(RuntimeError):
    """The official pipeline failed; the message ends with the tail of its log."""


# --------------------------------------------------------------------------- environment
def oracle_venv_path(path: str | os.PathLike | None = None) -> Path:
    """Where the oracle venv lives: ``path``, else ``$WEBBFLOW_ORACLE_VENV``, else
    ``<repo>/.oracle-venv``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("WEBBFLOW_ORACLE_VENV")
    return Path(env) if env else REPO / ".oracle-venv"


def _python(venv_dir: Path) -> Path:
    return venv_dir / "bin" / "python"


def _installed_version(venv_dir: Path) -> str | None:
    """The jwst version installed in ``venv_dir`` (None when absent or broken)."""
    python = _python(venv_dir)
    if not python.exists():
        return None
    probe = "from importlib.metadata import version; print(version('jwst'))"
    try:
        out = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                             timeout=120, env=_clean_env())
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # parallel pytest workers wait here
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_oracle_env(path: str | os.PathLike | None = None, *, quiet: bool = True) -> Path:
    """Create (once) the oracle venv with ``jwst==JWST_VERSION`` and return its directory.

    Idempotent and safe under parallel callers: a lock file ``<venv>.lock`` serialises the
    check-and-install, and an existing venv with the pinned version is reused as it is (it is
    never written to). A venv holding another version is upgraded in place.

    Parameters
    ----------
    path : path-like, optional
        The venv directory (default :func:`oracle_venv_path`).
    quiet : bool
        Hide pip's output unless it fails.

    Returns
    -------
    Path
        The venv directory; its python is ``<dir>/bin/python``.

    Raises
    ------
    OracleEnvError
        The venv could not be created or ``pip install jwst==...`` failed (with pip's last
        lines: typically no network to PyPI).
    """
    venv_dir = oracle_venv_path(path).absolute()
    if _installed_version(venv_dir) == JWST_VERSION:
        return venv_dir
    with _locked(venv_dir.with_name(venv_dir.name + ".lock")):
        if _installed_version(venv_dir) == JWST_VERSION:  # another worker made it meanwhile
            return venv_dir
        start = time.perf_counter()
        if not _python(venv_dir).exists():
            try:
                venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
            except Exception as exc:  # venv raises CalledProcessError, OSError...
                raise OracleEnvError(f"{venv_dir}: cannot create the oracle venv: {exc}") from exc
        cmd = [str(_python(venv_dir)), "-m", "pip", "install", "--disable-pip-version-check",
               "--no-input", "--progress-bar", "off", JWST_REQUIREMENT]
        out = subprocess.run(cmd, capture_output=quiet, text=True, env=_clean_env())
        if out.returncode != 0 or _installed_version(venv_dir) != JWST_VERSION:
            tail = "\n".join(((out.stdout or "") + (out.stderr or "")).splitlines()[-15:])
            raise OracleEnvError(
                f"{venv_dir}: 'pip install {JWST_REQUIREMENT}' failed (exit {out.returncode}); "
                f"PyPI must be reachable to build the oracle (or set WEBBFLOW_ORACLE_VENV to "
                f"an existing venv holding {JWST_REQUIREMENT}).\n{tail}")
        if not quiet:
            print(f"oracle venv {venv_dir} ready in {time.perf_counter() - start:.0f} s",
                  file=sys.stderr)
    return venv_dir


def oracle_env(crds_path: str | os.PathLike, context: str) -> dict[str, str]:
    """The environment of an offline official run (PARITY.md, "CRDS with no server").

    Our own venv's variables (VIRTUAL_ENV, PYTHONPATH, PYTHONHOME) are removed so nothing of
    webbflow's environment leaks into the oracle, and PATH is left as it is (the oracle's
    ``bin`` is not added, so its ``strun`` shadows nothing).
    """
    env = _clean_env()
    env.update({
        "CRDS_PATH": str(Path(crds_path).absolute()),
        "CRDS_MODE": "local",
        "CRDS_CONTEXT": context,
        "CRDS_SERVER_URL": "https://jwst-crds.stsci.edu",  # never contacted in local mode
        "STPIPE_DISABLE_CRDS_STEPPARS": "true",  # '1' is silently ignored by stpipe
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
           and not k.startswith("CRDS_")}
    return env


# --------------------------------------------------------------------------- running
class OfficialRun(dict):
    """The products of an official run (suffix -> Path) plus the measured figures.

    A ``dict`` so that ``run["rate"]`` is the rate file; the attributes carry the rest.

    Attributes
    ----------
    call_wall_s : float
        Wall time inside ``<Class>.call`` (s), measured in the driver.
    process_wall_s : float
        Whole-process wall time, python start-up and imports included (s).
    peak_rss : int
        Peak RSS of the process tree, summed over forked workers (bytes).
    peak_pss : int
        Peak PSS of the process tree (bytes): shared pages counted once.
    max_procs : int
        Largest number of processes in the tree at once.
    log : Path
        The official pipeline's log (stdout and stderr).
    versions : dict
        jwst, stcal, stdatamodels, stpipe, crds versions and the python version.
    """

    call_wall_s: float
    process_wall_s: float
    peak_rss: int
    peak_pss: int
    max_procs: int
    log: Path
    versions: dict[str, str]

    def figures(self) -> dict[str, float]:
        """The benchmark figures as a plain dict (seconds, bytes)."""
        return {"call_wall_s": self.call_wall_s, "process_wall_s": self.process_wall_s,
                "peak_rss": self.peak_rss, "peak_pss": self.peak_pss,
                "max_procs": self.max_procs}


def official_class(kind: str) -> str:
    """The official class path for ``kind``: a key of :data:`OFFICIAL_CLASSES`, a pipeline
    alias (``calwebb_detector1``), a step alias (``saturation``) or a ``jwst.`` class path."""
    key = kind.removeprefix("calwebb_")
    if key in OFFICIAL_CLASSES:
        return OFFICIAL_CLASSES[key]
    if kind.startswith("jwst."):
        return kind
    from webbflow import catalog  # the official names of every step are catalogued there

    entry = catalog.find(kind)
    if entry is None or not entry.official:
        raise ValueError(f"unknown official step or pipeline {kind!r}")
    return entry.official[0]


def _instrument(input_path: Path) -> str | None:
    if input_path.suffix.lower() != ".fits":
        return None
    from astropy.io import fits

    try:
        return str(fits.getval(input_path, "INSTRUME")).upper()
    except (OSError, KeyError):
        return None


def run_official(kind: str, input_path: str | os.PathLike, output_dir: str | os.PathLike,
                 overrides: Mapping[str, Mapping[str, str]], crds_path: str | os.PathLike,
                 context: str, params: Mapping[str, Any] | None = None, *,
                 maximum_cores: str = "1", save_ramp: bool = False,
                 save_steps: tuple[str, ...] | list[str] = (),
                 venv_dir: str | os.PathLike | None = None,
                 timeout: float | None = 3600.0) -> OfficialRun:
    """Run an official pipeline or step offline in the oracle venv and collect its products.

    Parameters
    ----------
    kind : str
        ``"detector1"`` (or ``"calwebb_detector1"``), ``"image2"``, ``"image3"``..., or a step
        alias (``"saturation"``) to run that step alone.
    input_path : path-like
        The input (uncal / ramp / rate file, or an association for stage 3).
    output_dir : path-like
        Where the products and ``official.log`` are written (created).
    overrides : mapping of str to mapping of str to str
        Reference files, ``{step: {reftype: path or "N/A"}}``; the step ``"*"`` applies to
        every step that declares that reftype (``{"*": {"gain": g, "readnoise": r}}`` serves
        jump, ramp_fit and gain_scale). Every reftype a step declares and that is not given
        here is overridden with ``"N/A"``, so nothing is chosen behind the test's back.
    crds_path : path-like
        The local CRDS cache (it must hold ``config/jwst/server_config`` even when every
        reference is overridden).
    context : str
        ``CRDS_CONTEXT``, e.g. ``"jwst_9001.pmap"``.
    params : mapping, optional
        Extra ``call`` keywords: pipeline parameters and ``{"steps": {step: {param: value}}}``.
    maximum_cores : str
        ``"1"``, ``"half"``, ``"quarter"`` or ``"all"`` for the steps that fork (jump,
        ramp_fit).
    save_ramp : bool
        Also save the calibrated ramp (``_ramp``) of Detector1.
    save_steps : sequence of str
        Pipeline steps whose output is saved too (suffix = step name, e.g. ``_saturation``).
    venv_dir : path-like, optional
        The oracle venv (default: :func:`ensure_oracle_env`).
    timeout : float, optional
        Seconds before the run is killed.

    Returns
    -------
    OfficialRun
        ``{suffix: Path}`` (``rate``, ``rateints``, ``ramp``, step names...) with the timings
        and peak memory as attributes.

    Raises
    ------
    OracleRunError
        The official run failed (the message carries the tail of its log).
    """
    venv_path = Path(venv_dir) if venv_dir is not None else ensure_oracle_env()
    input_path = Path(input_path).absolute()
    output_dir = Path(output_dir).absolute()
    output_dir.mkdir(parents=True, exist_ok=True)
    params = dict(params or {})
    steps = {name: dict(values) for name, values in dict(params.pop("steps", {})).items()}
    key = kind.removeprefix("calwebb_")
    for step in _MULTICORE_STEPS.get(key, ()):
        steps.setdefault(step, {}).setdefault("maximum_cores", maximum_cores)
    if key == "detector1":
        if save_ramp:
            params["save_calibrated_ramp"] = True
        if _instrument(input_path) not in (None, "MIRI"):
            for step in MIRI_ONLY_STEPS:
                steps.setdefault(step, {}).setdefault("skip", True)
    elif "maximum_cores" not in params and kind in ("jump", "ramp_fit"):
        params["maximum_cores"] = maximum_cores
    for step in save_steps:
        steps.setdefault(step, {})["save_results"] = True

    request = {
        "class": official_class(kind),
        "input": str(input_path),
        "output_dir": str(output_dir),
        "overrides": {s: {r: str(p) for r, p in refs.items()} for s, refs in overrides.items()},
        "params": params,
        "steps": steps,
        "result": str(output_dir / "official_result.json"),
    }
    request_path = output_dir / "official_request.json"
    request_path.write_text(json.dumps(request, indent=1))
    result_path = Path(request["result"])
    result_path.unlink(missing_ok=True)
    measured: Measured = run_measured(
        [str(_python(venv_path)), str(DRIVER), str(request_path)],
        log=output_dir / "official.log", env=oracle_env(crds_path, context),
        cwd=output_dir, timeout=timeout)
    if measured.returncode != 0 or not result_path.exists():
        raise OracleRunError(f"official {request['class']} on {input_path.name} failed "
                             f"(exit {measured.returncode}); log {measured.log}:\n"
                             f"{measured.tail(25)}")
    result = json.loads(result_path.read_text())
    run = OfficialRun({k: Path(v) for k, v in result["products"].items()})
    run.call_wall_s = float(result["call_wall_s"])
    run.process_wall_s = measured.wall_s
    # the driver's own high-water mark catches a peak between two samples
    run.peak_rss = max(measured.peak_rss, int(result["maxrss_self_bytes"]))
    run.peak_pss = measured.peak_pss
    run.max_procs = measured.max_procs
    run.log = measured.log
    run.versions = result["versions"]
    return run


# --------------------------------------------------------------------------- command line
def _parse_refs(items: list[str]) -> dict[str, dict[str, str]]:
    overrides: dict[str, dict[str, str]] = {}
    for item in items:
        target, _, path = item.partition("=")
        step, _, reftype = target.rpartition(".")
        overrides.setdefault(step or "*", {})[reftype] = path
    return overrides


def main(argv: list[str] | None = None) -> int:
    """``oracle.py ensure`` / ``oracle.py run ...`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="oracle.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ens = sub.add_parser("ensure", help="create or check the oracle venv")
    ens.add_argument("--venv", default=None)
    run = sub.add_parser("run", help="run an official pipeline or step offline")
    run.add_argument("kind")
    run.add_argument("input")
    run.add_argument("output_dir")
    run.add_argument("--crds-path", required=True)
    run.add_argument("--context", required=True)
    run.add_argument("--ref", action="append", default=[],
                     help="[step.]reftype=PATH|N/A (no step: every step declaring it)")
    run.add_argument("--maximum-cores", default="1")
    run.add_argument("--save-ramp", action="store_true")
    run.add_argument("--save-steps", default="")
    run.add_argument("--venv", default=None)
    args = parser.parse_args(argv)
    try:
        venv_dir = ensure_oracle_env(args.venv, quiet=False)
    except OracleEnvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.command == "ensure":
        print(venv_dir)
        return 0
    try:
        result = run_official(args.kind, args.input, args.output_dir, _parse_refs(args.ref),
                              args.crds_path, args.context, maximum_cores=args.maximum_cores,
                              save_ramp=args.save_ramp,
                              save_steps=[s for s in args.save_steps.split(",") if s],
                              venv_dir=venv_dir)
    except OracleRunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"products": {k: str(v) for k, v in result.items()},
                      **result.figures(), "versions": result.versions}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
