"""Snakemake script of the stage-3 rules: one Level-3 association in, its products out."""

from pathlib import Path

from webbflow import workflow

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake):
    workflow.run_pipeline(
        snakemake.params.pipeline,
        snakemake.input.asn,
        Path(snakemake.output[0]).parent,
        steps=snakemake.params.steps,
        context=snakemake.params.context,
        threads=snakemake.threads,
    )
