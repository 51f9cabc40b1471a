"""Snakemake script of checkpoint manifest: one row per raw exposure, from its header."""

from pathlib import Path

from webbflow import workflow
from webbflow.associations import build_manifest, write_manifest

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.log_to(snakemake.log[0]) as log:
    paths = []
    for item in map(Path, snakemake.input.uncal):
        paths.extend(sorted(item.glob("*_uncal.fits")) if item.is_dir() else [item])
    table = build_manifest(paths)
    write_manifest(table, snakemake.output.tsv)
    log.info("%d exposures: %s", len(table), dict(table["exp_type"].value_counts()))
