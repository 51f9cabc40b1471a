"""Numba kernels: array in, array out, no I/O.

Importing the package loads numba's array registry without scipy's BLAS probe
(:func:`load_array_registry`), which every kernel module needs first.
"""

from __future__ import annotations

import sys

_BLAS_PROBE = "scipy.linalg.cython_blas"


def load_array_registry() -> None:
    """Import ``numba.np.arraymath`` without importing ``scipy.linalg`` (0.2-0.3 s saved).

    At import, numba's array-math module imports ``scipy.linalg.cython_blas`` only to set a
    flag that picks BLAS or a plain loop for ``np.convolve``/``np.correlate`` (no kernel here
    uses them); numba imports it on the first kernel load of every process, cached or not.
    The probe is answered "absent" for the duration of that one import; later imports, and
    numba's own BLAS/LAPACK set-up when a kernel uses ``np.dot`` or ``np.linalg``, import
    scipy as usual. Nothing changes where ``scipy.linalg`` is already loaded.
    """
    if "numba.np.arraymath" in sys.modules or _BLAS_PROBE in sys.modules:
        return
    sys.modules[_BLAS_PROBE] = None  # ``import`` raises ImportError for a None entry
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if sys.modules.get(_BLAS_PROBE, 0) is None:
            del sys.modules[_BLAS_PROBE]


load_array_registry()
