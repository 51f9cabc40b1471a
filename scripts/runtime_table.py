"""Snakemake script of rule runtime_table: run time and memory per rule from benchmarks."""

from webbflow import workflow

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake) as log:
    from webbflow.report import benchmark_table

    totals = benchmark_table(snakemake.params.benchmarks, snakemake.output.html)
    log.info("benchmarks of %d rules", len(totals))
