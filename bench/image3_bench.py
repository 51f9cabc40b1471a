"""Image3 (and the Detector1 + Image2 products it needs) against the official pipeline.

Plain script (see bench/README.md)::

    /tmp/venv/bin/python bench/image3_bench.py [--out DIR] [--subarray FULL|SUB640]
        [--ns 4,8,16] [--oracle-venv DIR] [--no-official] [--no-warm]

Demo NIRCam exposures (``webbflow.demo.generate_demo``, max(ns) dither positions) are run
once through ``strun calwebb_detector1`` and ``strun calwebb_image2`` (every reference by
override) and cached under ``DIR/cal``; then for each N an association of the first N cal
files is combined by ours (``strun calwebb_image3 asn --in_memory=False``, its own process)
and by the official ``Image3Pipeline`` (oracle venv, ``tests/parity/oracle.py``). Printed:
wall time of the process and inside the call, peak RSS of the process tree, official/ours
ratios next to the targets (>= 5x faster, memory flat in N). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "parity"))
from oracle import ensure_oracle_env, run_official  # noqa: E402
from proctree import compile_bytecode, run_measured  # noqa: E402

GB = 1e9
TARGET_SPEED = 5.0
_DONE = re.compile(r"Step calwebb_image[23] done \(([0-9.]+) s\)")
_STEP = re.compile(r"^(\S+ \S+) - \S+ - INFO - Step (\w+) (running|done)")
STEPS = ("tweakreg", "skymatch", "outlier_detection", "resample", "source_catalog")


@dataclass
class Row:
    case: str
    side: str
    n: int
    process_s: float
    call_s: float
    rss_gb: float
    load: float = float("nan")
    steps: dict | None = None


def strun(pipeline: str, inp: Path, out: Path, refs: dict[str, str], *extra: str):
    """``strun <pipeline>`` as its own process (every reference overridden); Measured."""
    from webbflow import catalog

    cmd = [str(Path(sys.executable).with_name("strun")), pipeline, str(inp),
           f"--output_dir={out}", *extra]
    for name, step_cls in catalog.resolve(pipeline).step_defs.items():
        for reftype in step_cls.reference_file_types:
            cmd.append(f"--steps.{name}.override_{reftype}={refs.get(reftype, 'N/A')}")
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "STPIPE_DISABLE_CRDS_STEPPARS": "true"}
    m = run_measured(cmd, out / f"{pipeline}.log", env=env, cwd=out)
    if m.returncode != 0:
        raise RuntimeError(f"strun {pipeline} {inp.name} failed:\n{m.tail(20)}")
    return m


def call_seconds(log: Path) -> float:
    found = _DONE.findall(log.read_text(errors="replace"))
    return float(found[-1]) if found else float("nan")


def step_seconds(log: Path) -> dict[str, float]:
    """Seconds per stage-3 step from a log's 'running'/'done' timestamps (either side)."""
    from datetime import datetime

    start: dict[str, datetime] = {}
    out: dict[str, float] = {}
    for line in log.read_text(errors="replace").splitlines():
        m = _STEP.match(line)
        if not m or m.group(2) not in STEPS:
            continue
        t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
        if m.group(3) == "running":
            start[m.group(2)] = t
        elif m.group(2) in start:
            out[m.group(2)] = (t - start.pop(m.group(2))).total_seconds()
    return out


def cached_demo(demo: Path, subarray: str, n: int, opts: dict):
    """The demo already written in ``demo`` (same subarray/options, >= n exposures), or None
    (regenerating 16 full-frame exposures takes minutes)."""
    from webbflow.demo.generate import DemoObservation

    manifest = demo / "demo.json"
    if not manifest.exists():
        return None
    info = json.loads(manifest.read_text())
    o = info["options"]
    if (o["subarray"] != subarray or o["n_exposures"] < n
            or any(o.get(k) != v for k, v in opts.items())):
        return None
    files = [demo / f for f in info["uncal_files"]]  # needed only where no cal is cached
    return DemoObservation(uncal_files=files, crds_path=demo / info["crds_path"],
                           context=o["context"], truth_dir=demo / info["truth_dir"],
                           reference_files={k: demo / v
                                            for k, v in info["reference_files"].items()})


def make_cal(work: Path, subarray: str, n: int) -> tuple[list[Path], object, dict[str, str]]:
    """Demo exposures -> rate -> cal (cached: reused when DIR/cal has them)."""
    from webbflow.demo import generate_demo

    opts = {"nints": 1, "ngroups": 10} if subarray == "FULL" else {}
    obs = cached_demo(work / "demo", subarray, n, opts)
    if obs is None:
        obs = generate_demo(work / "demo", n_exposures=n, subarray=subarray, **opts)
    refs = {k: str(v) for k, v in obs.reference_files.items()}
    cal_dir = work / "cal"
    cals = []
    for uncal in obs.uncal_files:
        cal = cal_dir / uncal.name.replace("_uncal", "_cal")
        if not cal.exists():
            strun("calwebb_detector1", uncal, work / "rate", refs)
            rate = work / "rate" / uncal.name.replace("_uncal", "_rate")
            strun("calwebb_image2", rate, cal_dir, refs)
        cals.append(cal)
    return cals, obs, refs


def write_asn(cals: list[Path], path: Path) -> Path:
    asn = {"asn_type": "image3", "asn_pool": "bench", "products": [{
        "name": path.stem.removesuffix("_asn"),
        "members": [{"expname": str(c), "exptype": "science"} for c in cals]}]}
    path.write_text(json.dumps(asn, indent=1))
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--subarray", default="SUB640")
    ap.add_argument("--ns", default="4,8,16")
    ap.add_argument("--oracle-venv", default=None)
    ap.add_argument("--no-official", action="store_true")
    ap.add_argument("--no-warm", action="store_true")
    args = ap.parse_args(argv)
    work = args.out or Path(tempfile.mkdtemp(prefix="image3_bench_"))
    ns = [int(x) for x in args.ns.split(",")]
    cals, obs, refs = make_cal(work, args.subarray, max(ns))
    venv = None if args.no_official else ensure_oracle_env(args.oracle_venv)
    compile_bytecode()  # timed runs must not recompile our modules
    rows: list[Row] = []
    if not args.no_warm:
        asn = write_asn(cals[:min(ns)], work / "warm_image3_asn.json")
        strun("calwebb_image3", asn, work / "warm", refs, "--in_memory=False")
    for n in ns:
        asn = write_asn(cals[:n], work / f"bench-n{n}_image3_asn.json")
        out = work / f"ours_n{n}"
        m = strun("calwebb_image3", asn, out, refs, "--in_memory=False")
        log = out / "calwebb_image3.log"
        rows.append(Row(args.subarray, "webbflow", n, m.wall_s, call_seconds(log),
                        m.peak_rss / GB, os.getloadavg()[0], step_seconds(log)))
        if venv is not None:
            run = run_official("image3", asn, work / f"official_n{n}", {"*": refs},
                               obs.crds_path, obs.context, venv_dir=venv)
            olog = work / f"official_n{n}" / "official.log"
            rows.append(Row(args.subarray, "official", n, run.process_wall_s,
                            run.call_wall_s, run.peak_rss / GB, os.getloadavg()[0],
                            step_seconds(olog) if olog.exists() else None))
        print_table(rows)
    (work / "results.json").write_text(json.dumps([asdict(r) for r in rows], indent=1))
    return 0


def print_table(rows: list[Row]) -> None:
    heads = "".join(f" {s[:8]:>8}" for s in STEPS)
    print(f"\n{'case':<8} {'side':<9} {'N':>3} {'proc_s':>8} {'call_s':>8} {'rss_GB':>7} "
          f"{'load':>5}{heads}")
    for r in rows:
        per = "".join(f" {(r.steps or {}).get(s, float('nan')):8.1f}" for s in STEPS)
        print(f"{r.case:<8} {r.side:<9} {r.n:3d} {r.process_s:8.1f} {r.call_s:8.1f} "
              f"{r.rss_gb:7.2f} {r.load:5.1f}{per}")
    by = {(r.side, r.n): r for r in rows}
    for (side, n), ours in by.items():
        off = by.get(("official", n))
        if side == "webbflow" and off is not None:
            speed = off.call_s / ours.call_s
            print(f"N={n}: official/ours call time {speed:.1f}x "
                  f"({'ok' if speed >= TARGET_SPEED else 'BELOW'} target {TARGET_SPEED}x), "
                  f"RSS {off.rss_gb:.2f} / {ours.rss_gb:.2f} GB")


if __name__ == "__main__":
    sys.exit(main())
