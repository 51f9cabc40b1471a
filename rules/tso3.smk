# calwebb_tso3 (a thin route: planned once webbflow has the pipeline): {product}_tso3_asn.json (calints) -> {product}_phot.ecsv

if IMPLEMENTED["calwebb_tso3"]:

    rule tso3:
        input:
            unpack(stage3_inputs("calwebb_tso3")),
        output:
            phot=f"{OUTDIR}/stage3/{{product}}_phot.ecsv",
        params:
            pipeline="calwebb_tso3",
            context=CONTEXT,
            version=VERSION,
            steps=section_steps("calwebb_tso3"),
        log:
            f"{OUTDIR}/logs/tso3/{{product}}.log",
        benchmark:
            f"{OUTDIR}/benchmarks/tso3/{{product}}.tsv"
        threads: section_threads("calwebb_tso3")
        resources:
            mem_mb=files_mb(["members"], base_mb=1500, per_mb=3),
            runtime=files_mb(["members"], base_mb=10, per_mb=0.2),
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/stage3.py"
