"""``webbflow demo DIR``: write the demo observation and its local CRDS cache."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..errors import WebbflowError
from .generate import generate_demo
from .tables import READPATTS, SUBARRAYS

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="webbflow demo", description=(
        "Generate a dithered NIRCam F200W imaging observation from a known truth, with "
        "matching reference files and a local CRDS cache."))
    p.add_argument("dir", type=Path, help="output directory")
    p.add_argument("--n-exposures", type=int, default=4)
    p.add_argument("--subarray", default="SUB640", choices=list(SUBARRAYS),
                   type=str.upper)
    p.add_argument("--full-frame", action="store_true",
                   help="FULL, 1 integration, 10 groups, MEDIUM8 (the benchmark exposure)")
    p.add_argument("--nints", type=int, default=None)
    p.add_argument("--ngroups", type=int, default=None)
    p.add_argument("--readpatt", default="MEDIUM8", choices=list(READPATTS), type=str.upper)
    p.add_argument("--seed", type=int, default=20261121)
    p.add_argument("--context", default="jwst_9001.pmap")
    p.add_argument("--no-cosmic-rays", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (errors: one line, status 1)."""
    args = _parser().parse_args(argv)
    full = args.full_frame or args.subarray == "FULL"
    subarray = "FULL" if full else args.subarray
    nints = args.nints if args.nints is not None else (1 if full else 2)
    ngroups = args.ngroups if args.ngroups is not None else (10 if full else 8)
    readpatt = "MEDIUM8" if args.full_frame else args.readpatt
    t0 = time.perf_counter()
    try:
        obs = generate_demo(args.dir, n_exposures=args.n_exposures, subarray=subarray,
                            nints=nints, ngroups=ngroups, readpatt=readpatt, seed=args.seed,
                            context=args.context, cosmic_rays=not args.no_cosmic_rays)
    except WebbflowError as exc:
        print(f"webbflow demo: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"wrote {len(obs.uncal_files)} exposures, {len(obs.reference_files)} references "
          f"and CRDS context {obs.context} under {args.dir} "
          f"in {time.perf_counter() - t0:.1f} s")
    print(f"export CRDS_PATH={obs.crds_path.resolve()} CRDS_CONTEXT={obs.context}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
