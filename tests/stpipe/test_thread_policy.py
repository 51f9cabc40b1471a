"""BLAS threads of pipeline processes: one unless the user set a count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from webbflow.thread_policy import BLAS_THREAD_VARIABLES, one_blas_thread

# threads of a process that imported numpy (and nothing that starts threads of its own)
CODE = """
import os, sys
from webbflow.thread_policy import one_blas_thread
if sys.argv[1] == "policy":
    one_blas_thread()
import numpy
print(len(os.listdir("/proc/self/task")))
"""


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES}


@pytest.mark.skipif(not Path("/proc/self/task").is_dir() or (os.cpu_count() or 1) < 2,
                    reason="counts threads in /proc; OpenBLAS starts none on one core")
def test_numpy_starts_no_blas_workers_under_the_policy():
    def threads(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", CODE, mode], env=_clean_env(),
                             capture_output=True, text=True, check=True)
        return int(out.stdout)

    assert threads("none") > 1  # numpy's OpenBLAS starts its workers at import...
    assert threads("policy") == 1  # ...and none with the policy


def test_a_users_choice_is_kept():
    env = {"OMP_NUM_THREADS": "4"}
    assert not one_blas_thread(env)
    assert env == {"OMP_NUM_THREADS": "4"}
    env = {"PATH": "/bin"}
    assert one_blas_thread(env)
    assert env == {"PATH": "/bin", "OPENBLAS_NUM_THREADS": "1"}
