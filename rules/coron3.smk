# calwebb_coron3 (a thin route: planned once webbflow has the pipeline): {product}_coron3_asn.json (calints) -> {product}_psfsub.fits, _i2d.fits

if IMPLEMENTED["calwebb_coron3"]:

    rule coron3:
        input:
            unpack(stage3_inputs("calwebb_coron3")),
        output:
            psfsub=f"{OUTDIR}/stage3/{{product}}_psfsub.fits",
            i2d=f"{OUTDIR}/stage3/{{product}}_i2d.fits",
        params:
            pipeline="calwebb_coron3",
            context=CONTEXT,
            version=VERSION,
            steps=section_steps("calwebb_coron3"),
        log:
            f"{OUTDIR}/logs/coron3/{{product}}.log",
        benchmark:
            f"{OUTDIR}/benchmarks/coron3/{{product}}.tsv"
        threads: section_threads("calwebb_coron3")
        resources:
            mem_mb=files_mb(["members"], base_mb=1500, per_mb=3),
            runtime=files_mb(["members"], base_mb=10, per_mb=0.2),
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/stage3.py"
