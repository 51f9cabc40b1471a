"""Snakemake script of checkpoint manifest: one row per raw exposure, from its header."""

from webbflow import workflow
from webbflow.associations import build_manifest, write_manifest

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake) as log:
    table = build_manifest(workflow.raw_files(snakemake.input.uncal))
    write_manifest(table, snakemake.output.tsv)
    log.info("%d exposures: %s", len(table), dict(table["exp_type"].value_counts()))
