"""Snakemake script of the one-product stage-1 rules (dark, guider): one uncal file in."""

from pathlib import Path

from webbflow import workflow

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake):
    workflow.run_pipeline(
        snakemake.params.pipeline,
        snakemake.input.uncal,
        Path(snakemake.output[0]).parent,
        steps=snakemake.params.steps,
        context=snakemake.params.context,
        threads=snakemake.threads,
    )
