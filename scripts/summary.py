"""Snakemake script of rule summary: where each exposure's processing went, or stopped."""

from webbflow import workflow
from webbflow.associations import program, read_manifest

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.job(snakemake):
    table = read_manifest(snakemake.input.manifest)
    plans = program.read_index(snakemake.input.associations)
    implemented = snakemake.params.implemented
    lines = [f"webbflow {snakemake.params.version}, CRDS context {snakemake.params.context}"]
    lines += program.summary_lines(table, plans, lambda alias: bool(implemented.get(alias)))
    with open(snakemake.output.txt, "w") as out:
        out.write("\n".join(lines) + "\n")
