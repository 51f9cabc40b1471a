"""Workflow benchmark: a program of demo exposures through detector1 with --cores 1 and 2.

Prints the wall time of each run, the ratio, and Snakemake's scheduling overhead per job:
(wall time - sum of the jobs' own run times from their benchmark files) / jobs. Nothing is
asserted. See bench/README.md ("workflow_bench.py").

    /tmp/venv/bin/python bench/workflow_bench.py                      # 16 x SUB160, ~3 min
    /tmp/venv/bin/python bench/workflow_bench.py --n-exposures 4 --out /tmp/wb
"""

from __future__ import annotations

import argparse
import csv
import os
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


def _run(workdir: Path, cores: int, demo: Path, roots: list[str]) -> float:
    """One snakemake run over ``roots``; returns its wall time in seconds."""
    args = [
        SNAKEMAKE, "--cores", str(cores), "--config",
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


def _job_seconds(workdir: Path) -> list[float]:
    """The ``s`` column of every benchmark file of the run (one per detector1 job)."""
    seconds = []
    for path in sorted((workdir / "results" / "benchmarks").rglob("*.tsv")):
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
        f"{opts.ngroups} groups; {os.cpu_count()} CPUs; load average "
        f"{os.getloadavg()[0]:.1f} at start; work dir {out}"
    )
    if not opts.no_warmup:
        _run(_copy_workflow(out / "warmup"), 1, demo, roots[:1])

    rows = []
    for cores in (int(c) for c in opts.cores.split(",")):
        workdir = _copy_workflow(out / f"cores{cores}")
        wall = _run(workdir, cores, demo, roots)
        seconds = _job_seconds(workdir)
        jobs = len(seconds) + 1  # + the manifest job (no benchmark file: counted as overhead)
        rows.append((cores, wall, sum(seconds), jobs))

    print(
        f"{'cores':>5} {'wall_s':>8} {'jobs':>5} {'sum_job_s':>10} {'mean_job_s':>10} "
        f"{'overhead_s/job':>15} {'slot_overhead_s/job':>20}"
    )
    for cores, wall, busy, jobs in rows:
        print(
            f"{cores:>5} {wall:8.1f} {jobs:>5} {busy:10.1f} {busy / (jobs - 1):10.2f} "
            f"{(wall - busy) / jobs:15.2f} {(cores * wall - busy) / jobs:20.2f}"
        )
    walls = {cores: wall for cores, wall, _, _ in rows}
    if 1 in walls and 2 in walls:
        print(f"speed-up --cores 2 vs --cores 1: {walls[1] / walls[2]:.2f}x (ideal 2.00x)")
    print(
        "overhead_s/job = (wall - sum of job run times) / jobs (target < 1 s, meaningful at "
        "--cores 1); slot_overhead_s/job = (cores x wall - sum) / jobs: idle or scheduler "
        "time per job across all cores"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
