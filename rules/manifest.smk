# The exposure manifest (a checkpoint: the DAG grows once it is known), the program's
# associations built from it (index and one file each), and the run summary (also printed
# when the run ends).


checkpoint manifest:
    input:
        unpack(manifest_inputs),
    output:
        tsv=f"{OUTDIR}/manifest.tsv",
    log:
        f"{OUTDIR}/logs/manifest.log",
    benchmark:
        f"{OUTDIR}/benchmarks/manifest.tsv"
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/manifest.py"


rule associations:
    input:
        manifest=f"{OUTDIR}/manifest.tsv",
        asn_files=ASN_FILES,
    output:
        tsv=f"{OUTDIR}/associations.tsv",
    log:
        f"{OUTDIR}/logs/associations.log",
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/associations.py"


rule asn:
    input:
        index=ancient(f"{OUTDIR}/associations.tsv"),  # content changes rerun through params
    output:
        json=f"{OUTDIR}/{{folder}}/{{name}}_asn.json",
    params:
        plan=asn_members,
    log:
        f"{OUTDIR}/logs/asn/{{folder}}/{{name}}.log",
    wildcard_constraints:
        folder="stage2|stage3",
        name=r"[A-Za-z0-9][A-Za-z0-9_+-]*",
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/asn.py"


rule summary:
    input:
        manifest=f"{OUTDIR}/manifest.tsv",
        associations=f"{OUTDIR}/associations.tsv",
        products=all_products,
    output:
        txt=f"{OUTDIR}/summary.txt",
    params:
        implemented=IMPLEMENTED,
        context=CONTEXT,
        version=VERSION,
    log:
        f"{OUTDIR}/logs/summary.log",
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/summary.py"


onsuccess:
    print(wf.run_summary(OUTDIR, IMPLEMENTED, CONTEXT), file=sys.stderr)


onerror:
    print(wf.run_summary(OUTDIR, IMPLEMENTED, CONTEXT, failed=True), file=sys.stderr)
