"""Snakemake script of rule quicklook: an asinh-stretched PNG of one product."""

from webbflow import workflow

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake) as log:
    from webbflow.report import quicklook_png

    quicklook_png(snakemake.input.product, snakemake.output.png, snakemake.params.max_size)
    log.info("quick-look %s -> %s", snakemake.input.product, snakemake.output.png)
