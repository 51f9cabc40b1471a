"""Workflow benchmark: a program of demo exposures through detector1 with --cores 1 and 2.

Prints the wall time of each run, the ratio, Snakemake's overhead per job: (wall time - sum
of the jobs' own run times from their benchmark files) / jobs, and where the time goes: the
start-up + DAG of a `snakemake` call (timed as a no-op rerun), the rest of Snakemake's share
per job, and inside each job the part outside the pipeline call (interpreter, imports, numba
cache loads, I/O). The load average is printed before each run. Nothing is asserted. See
bench/README.md ("workflow_bench.py").

    /tmp/venv/bin/python bench/workflow_bench.py                      # 16 x SUB160, ~3 min
    /tmp/venv/bin/python bench/workflow_bench.py --n-exposures 4 --out /tmp/wb
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
WORKFLOW_PARTS = ("Snakefile", "rules", "scripts", "config", "envs", "profiles")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n-exposures", type=int, default=16)
    p.add_argument("--subarray", default="SUB160")
    p.add_argument("--nints", type=int, default=1)
    p.add_argument("--ngroups", type=int, default=5)
    p.add_argument("--cores", default="1,2", help="comma list of --cores values (default 1,2)")
    p.add_argument("--out", type=Path, help="working directory (default: a new temporary one)")
    p.add_argument(
        "--scheduler",
        default="greedy",
        help="snakemake --scheduler (default greedy, as profiles/local; 'ilp' is Snakemake's "
        "default)",
    )
    p.add_argument(
        "--no-warmup",
        action="store_true",
        help="skip the one-exposure run that fills numba's cache first",
    )
    return p


def _copy_workflow(target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for part in WORKFLOW_PARTS:
        src = REPO / part
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, target / part)
    return target


def _run(
    workdir: Path, cores: int, demo: Path, roots: list[str], scheduler: str, *extra: str
) -> float:
    """One snakemake run over ``roots``; returns its wall time in seconds."""
    args = [
        SNAKEMAKE, "--cores", str(cores), "--scheduler", scheduler, *extra, "--config",
        f"inputs={{demo: {{enabled: false}}, uncal_dir: {demo / 'uncal'}}}",
        f"crds={{path: {demo / 'crds_cache'}}}",
        "--", *(f"results/stage1/{r}_{s}.fits" for r in roots for s in ("rate", "rateints")),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRDS_")}
    start = time.perf_counter()
    run = subprocess.run(args, cwd=workdir, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"workflow_bench: snakemake --cores {cores} failed:\n{run.stderr[-3000:]}")
    return wall


def _pipeline_seconds(workdir: Path) -> list[float]:
    """The pipeline call's own time of every detector1 job (its log's last 'done' line)."""
    pattern = re.compile(r"Step calwebb_detector1 done \(([\d.]+) s\)")
    found = []
    for path in sorted((workdir / "results" / "logs" / "detector1").glob("*.log")):
        times = pattern.findall(path.read_text())
        found.extend(float(t) for t in times[-1:])
    return found


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _job_seconds(workdir: Path, rule: str = "") -> list[float]:
    """The ``s`` column of the run's benchmark files (the manifest's and one per detector1
    job), or of one rule's only."""
    seconds = []
    for path in sorted((workdir / "results" / "benchmarks" / rule).rglob("*.tsv")):
        with path.open() as handle:
            seconds.extend(float(row["s"]) for row in csv.DictReader(handle, delimiter="\t"))
    return seconds


def main(argv: list[str] | None = None) -> int:
    opts = _parser().parse_args(argv)
    from webbflow.demo import generate_demo

    out = opts.out or Path(tempfile.mkdtemp(prefix="workflow_bench_"))
    out.mkdir(parents=True, exist_ok=True)
    demo = out / "demo"
    if not (demo / "demo.json").exists():
        generate_demo(
            demo,
            n_exposures=opts.n_exposures,
            subarray=opts.subarray,
            nints=opts.nints,
            ngroups=opts.ngroups,
        )
    roots = sorted(p.name.removesuffix("_uncal.fits") for p in (demo / "uncal").glob("*.fits"))
    print(
        f"program: {len(roots)} exposures, {opts.subarray} x {opts.nints} int x "
        f"{opts.ngroups} groups; {os.cpu_count()} CPUs; scheduler {opts.scheduler}; "
        f"{_load()} at start; work dir {out}"
    )
    if not opts.no_warmup:
        _run(_copy_workflow(out / "warmup"), 1, demo, roots[:1], opts.scheduler)

    rows = []
    for cores in (int(c) for c in opts.cores.split(",")):
        workdir = _copy_workflow(out / f"cores{cores}")
        print(f"--cores {cores}: {_load()} before", flush=True)
        wall = _run(workdir, cores, demo, roots, opts.scheduler)
        seconds = _job_seconds(workdir)  # every job has a benchmark file
        detector1, pipeline = _job_seconds(workdir, "detector1"), _pipeline_seconds(workdir)
        outside = (sum(detector1) - sum(pipeline)) / max(len(pipeline), 1)
        noop = _run(workdir, cores, demo, roots, opts.scheduler)  # start-up + DAG, no job
        rows.append((cores, wall, sum(seconds), len(seconds), noop, outside))
    print(f"end: {_load()}")

    print(
        f"{'cores':>5} {'wall_s':>7} {'jobs':>4} {'sum_job_s':>9} {'overhead_s/job':>14} "
        f"{'startup+dag_s':>13} {'rest_s/job':>10} {'slot_overhead_s/job':>19} "
        f"{'in_job_not_pipeline_s':>21}"
    )
    for cores, wall, busy, jobs, noop, outside in rows:
        print(
            f"{cores:>5} {wall:7.1f} {jobs:>4} {busy:9.1f} {(wall - busy) / jobs:14.2f} "
            f"{noop:13.1f} {(wall - busy - noop) / jobs:10.2f} "
            f"{(cores * wall - busy) / jobs:19.2f} {outside:21.2f}"
        )
    walls = {row[0]: row[1] for row in rows}
    if 1 in walls and 2 in walls:
        print(f"speed-up --cores 2 vs --cores 1: {walls[1] / walls[2]:.2f}x (ideal 2.00x)")
    print(
        "overhead_s/job = (wall - sum of job run times) / jobs (target < 1 s, meaningful at "
        "--cores 1); startup+dag_s = a no-op rerun of the same targets (snakemake start-up, "
        "Snakefile, DAG, checkpoint); rest_s/job = the remainder per job (scheduling, job "
        "bookkeeping); slot_overhead_s/job = (cores x wall - sum) / jobs: idle or scheduler time "
        "per job across all cores; in_job_not_pipeline_s = per detector1 job, its benchmark "
        "time minus the pipeline call (interpreter, imports, numba cache loads, I/O)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
