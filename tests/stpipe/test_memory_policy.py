"""The allocator policy of pipeline processes: freed large arrays go back to the system."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")

# A 24 MiB array freed raises glibc's dynamic mmap threshold to 24 MiB; a 12 MiB array made
# and freed after it then stays in the process (heap) unless the threshold is fixed.
CODE = """
import os, sys
import numpy as np
from webbflow.memory_policy import map_large_allocations
if sys.argv[1] == "policy":
    assert map_large_allocations()
def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
a = np.ones(24 << 20, np.uint8)
del a
before = resident()
b = np.ones(12 << 20, np.uint8)
del b
print((resident() - before) / 2**20)
"""


def _kept_mib(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", CODE, mode], capture_output=True, text=True,
                         check=True)
    return float(out.stdout)


def test_freed_arrays_return_to_the_system_only_with_the_policy():
    assert _kept_mib("policy") < 2.0
    assert _kept_mib("default") > 8.0  # glibc's default keeps the 12 MiB: the policy matters
