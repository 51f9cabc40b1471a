"""Snakemake script of the stage-2 rules: one exposure (or its Level-2 association) in."""

from pathlib import Path

from webbflow import workflow

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake):
    source = snakemake.input.get("asn") or snakemake.input.exposure
    workflow.run_pipeline(
        snakemake.params.pipeline,
        source,
        Path(snakemake.output[0]).parent,
        steps=snakemake.params.steps,
        context=snakemake.params.context,
        threads=snakemake.threads,
    )
