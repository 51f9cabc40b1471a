"""Report pieces of a workflow run: quick-look PNGs, DQ tables, catalog overlays, run times.

Snakemake's ``--report`` collects the files the report rules mark with ``report()``; this
package writes them. PNGs come from a small zlib writer (:mod:`.png`), matplotlib not needed.
"""

from .benchmarks import benchmark_table
from .dq import dq_counts, dq_table_html
from .png import write_png
from .quicklook import catalog_overlay, quicklook_png, stretch_asinh

__all__ = [
    "benchmark_table",
    "catalog_overlay",
    "dq_counts",
    "dq_table_html",
    "quicklook_png",
    "stretch_asinh",
    "write_png",
]
