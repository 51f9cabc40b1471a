"""numba's array registry loads without scipy.linalg, and BLAS/LAPACK still work when used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_SCRIPT = """
import json, sys
import numpy as np
{before}
import webbflow.kernels
import numba
import numba.np.arraymath as arraymath

@numba.njit
def total(a):
    return a.sum()

first = float(total(np.arange(4.0)))
after_first_kernel = "scipy.linalg" in sys.modules

@numba.njit
def solve(m, v):
    return np.linalg.solve(m, v), np.dot(m, v)

x, mv = solve(np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([3.0, 5.0]))
print(json.dumps({{"first": first, "after_first_kernel": after_first_kernel,
                  "have_blas": arraymath._HAVE_BLAS, "x": x.tolist(), "mv": mv.tolist(),
                  "after_linalg": "scipy.linalg" in sys.modules,
                  "probe_left": sys.modules.get("scipy.linalg.cython_blas", 0) is None}}))
"""


def _run(before: str = "") -> dict:
    out = subprocess.run([sys.executable, "-c", _SCRIPT.format(before=before)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_first_kernel_does_not_import_scipy_linalg_and_linalg_still_works():
    got = _run()
    assert got["first"] == 6.0
    assert got["after_first_kernel"] is False
    assert got["have_blas"] is False  # only picks np.convolve/np.correlate's inner loop
    assert got["probe_left"] is False  # the import block is lifted after the registry load
    assert got["x"] == pytest.approx([0.8, 1.4], rel=1e-12)  # 2x + y = 3, x + 3y = 5
    assert got["mv"] == [11.0, 18.0]
    assert got["after_linalg"] is True


def test_registry_untouched_when_scipy_linalg_is_already_loaded():
    got = _run("import scipy.linalg")
    assert got["have_blas"] is True
    assert got["x"] == pytest.approx([0.8, 1.4], rel=1e-12)
