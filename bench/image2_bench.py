"""Image2 per exposure (rate -> cal + i2d) against the official pipeline.

Plain script (see bench/README.md)::

    /tmp/venv/bin/python bench/image2_bench.py [--out DIR] [--subarray FULL|SUB640] [--n 2]

Uses the cached products of ``bench/image3_bench.py`` (``DIR/rate``); per exposure: ours
``strun calwebb_image2`` (own process) and the official ``Image2Pipeline`` (oracle venv).
Prints wall time, call time and peak RSS; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from image3_bench import GB, Row, call_seconds, make_cal, print_table, strun
from oracle import ensure_oracle_env, run_official


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--subarray", default="SUB640")
    ap.add_argument("--n", type=int, default=2)
    ap.add_argument("--oracle-venv", default=None)
    args = ap.parse_args(argv)
    work = args.out or Path(tempfile.mkdtemp(prefix="image2_bench_"))
    cals, obs, refs = make_cal(work, args.subarray, args.n)
    venv = ensure_oracle_env(args.oracle_venv)
    rows: list[Row] = []
    for k, cal in enumerate(cals):
        rate = work / "rate" / cal.name.replace("_cal", "_rate")
        out = work / f"ours2_{k}"
        m = strun("calwebb_image2", rate, out, refs)
        rows.append(Row(args.subarray, "webbflow", k + 1, m.wall_s,
                        call_seconds(out / "calwebb_image2.log"), m.peak_rss / GB))
        run = run_official("image2", rate, work / f"official2_{k}", {"*": refs},
                           obs.crds_path, obs.context, venv_dir=venv)
        rows.append(Row(args.subarray, "official", k + 1, run.process_wall_s,
                        run.call_wall_s, run.peak_rss / GB))
        print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
