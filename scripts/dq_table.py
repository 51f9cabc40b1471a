"""Snakemake script of rule dq_table: DQ flag counts of one exposure's rate."""

from webbflow import workflow

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake) as log:
    from webbflow.report import dq_table_html

    dq_table_html(snakemake.input.rate, snakemake.output.html)
    log.info("DQ table of %s", snakemake.input.rate)
