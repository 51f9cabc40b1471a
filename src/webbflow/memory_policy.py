"""Process-wide allocator policy for pipeline processes (``strun``, Snakemake jobs).

glibc's malloc serves requests above ``M_MMAP_THRESHOLD`` (128 KiB at start) with their own
mapping, returned to the system when freed. By default the threshold is dynamic: each time
such a block is freed the threshold rises to its size (up to 32 MiB), so later arrays of a
few MiB come from the heap instead, where freed memory is kept for reuse rather than
returned. A pipeline allocates and frees arrays of 4-170 MB step after step; with the
dynamic threshold a full-frame Detector1 process peaked at 741 MB and took 3.3-3.4 s,
with the threshold fixed at 128 KiB 663 MB and 2.6-3.0 s (same products).
"""

from __future__ import annotations

#: glibc's ``mallopt`` parameter number of M_MMAP_THRESHOLD (malloc.h)
_M_MMAP_THRESHOLD = -3
#: bytes: allocations above this always get their own mapping (glibc's initial value)
MMAP_THRESHOLD = 128 * 1024


def map_large_allocations() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD` (setting it turns the dynamic
    adjustment off); True when done, False where the C library has no ``mallopt``."""
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
