"""Snakemake script of rule summary: what the run did and did not do for each exposure."""

from webbflow import workflow
from webbflow.associations import read_manifest

snakemake = globals()["snakemake"]  # injected by Snakemake's script: directive

with workflow.log_to(snakemake.log[0]):
    table = read_manifest(snakemake.input.manifest)
    implemented = snakemake.params.implemented
    lines = [f"webbflow {snakemake.params.version}, CRDS context {snakemake.params.context}"]
    for row in table.itertuples():
        stage1 = row.stage1 or "none"
        if row.stage1 and implemented.get(row.stage1):
            made = [p for p in snakemake.input.products if f"/{row.root}_" in p]
            stage1 = f"{row.stage1} -> {', '.join(made)}"
        elif row.stage1:
            stage1 = f"{row.stage1}: not available in this webbflow, nothing planned"
        later = [f"{n} {p or 'none'}" for n, p in (("stage2", row.stage2), ("stage3", row.stage3))]
        lines.append(
            f"{row.root}\t{row.exp_type}\tstage1 {stage1}; "
            + "; ".join(f"{x}: not yet in the workflow" if "none" not in x else x for x in later)
        )
    with open(snakemake.output.txt, "w") as out:
        out.write("\n".join(lines) + "\n")
