"""BLAS threads of pipeline processes (``strun``, Snakemake jobs): one, unless the user chose.

numpy's wheels bundle OpenBLAS, which starts ``cores - 1`` worker threads when numpy is
imported; they busy-wait before they sleep. webbflow's parallel work runs on numba threads,
and its BLAS calls are small (2x2 to 6x6 solves, least squares with a few terms, spline
products of a few tens of knots), so the workers only take CPU from the numba threads: in a
full-frame Detector1 process on 2 cores they held 3 % of the samples of ``perf``, and a
MIRI Detector1 process used ~0.15 s less CPU without them. A user who sets any of
:data:`BLAS_THREAD_VARIABLES` keeps that choice.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

#: variables through which OpenBLAS takes its thread count (in its order of precedence)
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def one_blas_thread(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Set ``OPENBLAS_NUM_THREADS=1`` in ``environ`` unless a BLAS thread count is set there
    already; True when set. Effective only before numpy is first imported in the process
    (and in the processes it starts, which inherit the variable)."""
    if any(name in environ for name in BLAS_THREAD_VARIABLES):
        return False
    environ["OPENBLAS_NUM_THREADS"] = "1"
    return True
