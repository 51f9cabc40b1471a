"""Console-script entry points that must start light (nothing imported before their body).

``strun`` turns the cyclic garbage collector off before the first heavy import: see
:func:`webbflow.stpipe.cli.strun_console` (it is turned on again, with the start-up's
objects frozen, once the step is built). It also fixes the allocator's policy for large
arrays (:mod:`webbflow.memory_policy`) and, before numpy is imported, keeps BLAS to one
thread (:mod:`webbflow.thread_policy`).
"""

from __future__ import annotations

import gc


def strun() -> None:
    """The ``strun`` command."""
    gc.disable()
    from .memory_policy import map_large_allocations
    from .thread_policy import one_blas_thread

    one_blas_thread()
    map_large_allocations()
    from .stpipe.cli import strun_console

    strun_console()
