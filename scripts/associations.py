"""Snakemake script of checkpoint associations: the program's Level-2/3 associations."""

from webbflow import workflow
from webbflow.associations import program, read_manifest

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake) as log:
    table = read_manifest(snakemake.input.manifest)
    plans = program.build_associations(table, list(snakemake.input.asn_files))
    program.write_index(plans, snakemake.output.tsv)
    for plan in plans:
        log.info("%s: %s %s, %d members", plan.file, plan.level, plan.asn_type,
                 len(plan.members))
