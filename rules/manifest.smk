# The exposure manifest (a checkpoint: the DAG grows once it is known) and the run summary.


checkpoint manifest:
    input:
        unpack(manifest_inputs),
    output:
        tsv=f"{OUTDIR}/manifest.tsv",
    log:
        f"{OUTDIR}/logs/manifest.log",
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/manifest.py"


rule summary:
    input:
        manifest=f"{OUTDIR}/manifest.tsv",
        products=all_stage1_products,
    output:
        txt=f"{OUTDIR}/summary.txt",
    params:
        implemented=STAGE1_IMPLEMENTED,
        context=CONTEXT,
        version=VERSION,
    log:
        f"{OUTDIR}/logs/summary.log",
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/summary.py"
