"""Snakemake script of rule demo: the demo observation and its local CRDS cache."""

from pathlib import Path

from webbflow import workflow

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.log_to(snakemake.log[0]) as log:
    from webbflow.demo import generate_demo

    out_dir = Path(snakemake.output.json).parent
    log.info("demo observation in %s: %s", out_dir, snakemake.params.settings)
    generate_demo(out_dir, context=snakemake.params.context, **snakemake.params.settings)
