"""Snakemake script of rule detector1: one uncal file through calwebb_detector1."""

from pathlib import Path

from webbflow import workflow

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake):
    workflow.run_pipeline(
        snakemake.params.pipeline,
        snakemake.input.uncal,
        Path(snakemake.output.rate).parent,
        steps=snakemake.params.steps,
        context=snakemake.params.context,
        threads=snakemake.threads,
        save_calibrated_ramp=snakemake.params.save_ramp,
    )
