# The demo observation: raw exposures from a known truth and their own local CRDS cache.


if DEMO:

    rule demo:
        output:
            json=f"{OUTDIR}/demo/demo.json",
            uncal=directory(f"{OUTDIR}/demo/uncal"),
            crds=directory(f"{OUTDIR}/demo/crds_cache"),
            truth=directory(f"{OUTDIR}/demo/truth"),
        params:
            settings={k: v for k, v in config["inputs"]["demo"].items() if k != "enabled"},
            context=CONTEXT,
            version=VERSION,
        log:
            f"{OUTDIR}/logs/demo.log",
        benchmark:
            f"{OUTDIR}/benchmarks/demo.tsv"
        threads: 1
        resources:
            mem_mb=4000,
            runtime=30,
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/demo.py"
