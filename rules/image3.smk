# calwebb_image3: {product}_image3_asn.json (members: stage2/{root}_cal.fits) ->
# {product}_i2d.fits, _cat.ecsv, _segm.fits (and a _crf.fits per member, named by the pipeline).

if IMPLEMENTED["calwebb_image3"]:

    rule image3:
        input:
            unpack(stage3_inputs("calwebb_image3")),
        output:
            i2d=f"{OUTDIR}/stage3/{{product}}_i2d.fits",
            cat=f"{OUTDIR}/stage3/{{product}}_cat.ecsv",
            segm=f"{OUTDIR}/stage3/{{product}}_segm.fits",
        params:
            pipeline="calwebb_image3",
            context=CONTEXT,
            version=VERSION,
            steps=section_steps("calwebb_image3"),
        log:
            f"{OUTDIR}/logs/image3/{{product}}.log",
        benchmark:
            f"{OUTDIR}/benchmarks/image3/{{product}}.tsv"
        threads: section_threads("calwebb_image3")
        resources:
            mem_mb=files_mb(["members"], base_mb=1500, per_mb=3),
            runtime=files_mb(["members"], base_mb=10, per_mb=0.2),
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/stage3.py"
