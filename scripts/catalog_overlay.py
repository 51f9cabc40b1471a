"""Snakemake script of rule catalog_overlay: catalog sources marked on the mosaic."""

from webbflow import workflow

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake) as log:
    from webbflow.report import catalog_overlay

    _, n = catalog_overlay(snakemake.input.i2d, snakemake.input.cat, snakemake.output.png,
                           snakemake.params.max_size)
    log.info("%d catalog sources marked on %s", n, snakemake.input.i2d)
