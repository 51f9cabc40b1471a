"""Run one official JWST pipeline or step; executed by the ORACLE venv's python only.

``python official_driver.py request.json`` (written by ``oracle.run_official``). It imports
``jwst`` (the oracle; never webbflow), completes the reference overrides so that every reftype
a step declares is either a given file or ``'N/A'``, calls ``<Class>.call(input, ...)`` with
``save_results=True`` into ``output_dir``, and writes ``result`` (JSON): the products by suffix,
the wall time inside ``call``, the process's peak RSS and the versions.

Request keys: class, input, output_dir, overrides ({step or "*": {reftype: path}}), params
(pipeline-level ``call`` keywords), steps ({step: {param: value}}), result.
"""

from __future__ import annotations

import importlib
import json
import platform
import resource
import sys
import time
from importlib.metadata import version
from pathlib import Path


def _override_kwargs(step_cls, step_name, overrides):
    """``override_<reftype>`` for every reftype ``step_cls`` declares: given file or 'N/A'."""
    given = {**overrides.get("*", {}), **overrides.get(step_name, {})}
    return {f"override_{reftype}": given.get(reftype, "N/A")
            for reftype in getattr(step_cls, "reference_file_types", ())}


#: product suffixes besides step names (longest match wins: dark_current before current)
_SUFFIXES = ("uncal", "ramp", "rate", "rateints", "fitopt", "trapsfilled", "cal", "calints",
             "bsub", "bsubints", "i2d", "crf", "cat", "segm", "x1d", "x1dints", "s2d", "s3d",
             "gain_scale", "gain_scaleints")


def _products(output_dir, before, step_names):
    """New FITS files in ``output_dir`` by suffix (``dark_current``, ``rate``...)."""
    suffixes = sorted({*_SUFFIXES, *step_names}, key=len, reverse=True)
    products = {}
    for path in sorted(Path(output_dir).glob("*.fits")):
        if path.name in before:
            continue
        stem = path.stem
        suffix = next((s for s in suffixes if stem.endswith("_" + s)), stem.rsplit("_", 1)[-1])
        products[suffix] = str(path)
    return products


def _with_asdf(path, output_dir):
    """``path``, or a copy of it with the ASDF extension the official code reads.

    ``Step.call`` on a path takes the CRDS parameters from the ASDF extension only (KeyError
    'ASDF' otherwise), and Detector1 refuses an opened Level1bModel, so a FITS file written
    without one (as webbflow writes them) is re-saved by the official datamodels under the same
    name in ``<output_dir>/input/`` (outside the timed region: a real file has it already).
    """
    if not path.endswith(".fits"):
        return path
    from astropy.io import fits

    with fits.open(path) as hdul:
        if "ASDF" in hdul:
            return path
    from stdatamodels.jwst import datamodels

    copy = Path(output_dir) / "input" / Path(path).name
    copy.parent.mkdir(parents=True, exist_ok=True)
    with datamodels.open(path) as model:
        model.save(copy)
    return str(copy)


def main(request_path):
    """Run the request in ``request_path``; return the process exit status."""
    req = json.loads(Path(request_path).read_text())
    module_name, class_name = req["class"].rsplit(".", 1)
    cls = getattr(importlib.import_module(module_name), class_name)
    overrides = req["overrides"]
    kwargs = dict(req["params"])
    step_defs = getattr(cls, "step_defs", None) or {}
    if step_defs:
        steps = {}
        for name, step_cls in step_defs.items():
            steps[name] = {**_override_kwargs(step_cls, name, overrides),
                           **req["steps"].get(name, {})}
        kwargs["steps"] = steps
    else:
        kwargs = {**_override_kwargs(cls, getattr(cls, "class_alias", ""), overrides),
                  **kwargs}
    kwargs.update(output_dir=req["output_dir"], save_results=True)

    input_path = _with_asdf(req["input"], req["output_dir"])
    before = {p.name for p in Path(req["output_dir"]).glob("*.fits")}
    start = time.perf_counter()
    cls.call(input_path, **kwargs)
    call_wall = time.perf_counter() - start

    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "products": _products(req["output_dir"], before,
                              [*step_defs, getattr(cls, "class_alias", "")]),
        "call_wall_s": call_wall,
        "maxrss_self_bytes": usage.ru_maxrss * 1024,  # KiB on Linux
        "versions": {name: version(name) for name in
                     ("jwst", "stcal", "stdatamodels", "stpipe", "crds", "numpy")}
        | {"python": platform.python_version()},
    }
    tmp = Path(req["result"] + ".part")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(req["result"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
