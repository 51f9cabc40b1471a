# calwebb_ami3 (a thin route: planned once webbflow has the pipeline): {product}_ami3_asn.json (calints) -> {product}_ami-oi.fits

if IMPLEMENTED["calwebb_ami3"]:

    rule ami3:
        input:
            unpack(stage3_inputs("calwebb_ami3")),
        output:
            oi=f"{OUTDIR}/stage3/{{product}}_ami-oi.fits",
        params:
            pipeline="calwebb_ami3",
            context=CONTEXT,
            version=VERSION,
            steps=section_steps("calwebb_ami3"),
        log:
            f"{OUTDIR}/logs/ami3/{{product}}.log",
        benchmark:
            f"{OUTDIR}/benchmarks/ami3/{{product}}.tsv"
        threads: section_threads("calwebb_ami3")
        resources:
            mem_mb=files_mb(["members"], base_mb=1500, per_mb=3),
            runtime=files_mb(["members"], base_mb=10, per_mb=0.2),
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/stage3.py"
