# calwebb_wfs-image3 (a thin route: planned once webbflow has the pipeline): WFS&C pairs, {product}_wfs-image3_asn.json (cal) -> {product}_wfscmb.fits

if IMPLEMENTED["calwebb_wfs-image3"]:

    rule wfs_image3:
        input:
            unpack(stage3_inputs("calwebb_wfs-image3")),
        output:
            combined=f"{OUTDIR}/stage3/{{product}}_wfscmb.fits",
        params:
            pipeline="calwebb_wfs-image3",
            context=CONTEXT,
            version=VERSION,
            steps=section_steps("calwebb_wfs-image3"),
        log:
            f"{OUTDIR}/logs/wfs_image3/{{product}}.log",
        benchmark:
            f"{OUTDIR}/benchmarks/wfs_image3/{{product}}.tsv"
        threads: section_threads("calwebb_wfs-image3")
        resources:
            mem_mb=files_mb(["members"], base_mb=1500, per_mb=3),
            runtime=files_mb(["members"], base_mb=10, per_mb=0.2),
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/stage3.py"
