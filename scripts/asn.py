"""Snakemake script of rule asn: one association file, members relative to its folder."""

from webbflow import workflow
from webbflow.associations import program

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake) as log:
    plan = snakemake.params.plan
    program.write_association(plan, snakemake.output.json)
    log.info("%s: product %s, members %s", snakemake.output.json, plan.product,
             [m[0] for m in plan.members])
