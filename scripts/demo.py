"""Snakemake script of rule demo: the demo observation and its local CRDS cache."""

from pathlib import Path

from webbflow import workflow

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake) as log:
    from webbflow.demo import generate_demo
    from webbflow.demo.program import generate_program

    out_dir = Path(snakemake.output.json).parent
    settings = dict(snakemake.params.settings)
    kind = settings.pop("program", "single")
    log.info("demo %s program in %s: %s", kind, out_dir, settings)
    if kind == "mixed":
        settings.pop("n_exposures", None)
        generate_program(out_dir, context=snakemake.params.context, **settings)
    else:
        generate_demo(out_dir, context=snakemake.params.context, **settings)
