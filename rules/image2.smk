# calwebb_image2: {root}_rate.fits -> {root}_cal.fits (+ {root}_i2d.fits), rateints -> calints.
# Three rules because the products differ by mode; each one's input function routes only the
# exposures the manifest gives it (others get an input no rule makes, so Snakemake takes the
# rule whose route matches). With background exposures the input is a Level-2 association.

if IMPLEMENTED["calwebb_image2"]:

    rule image2:
        input:
            unpack(stage2_inputs("calwebb_image2", "cal+i2d")),
        output:
            cal=f"{OUTDIR}/stage2/{{root}}_cal.fits",
            i2d=f"{OUTDIR}/stage2/{{root}}_i2d.fits",
        params:
            pipeline="calwebb_image2",
            context=CONTEXT,
            version=VERSION,
            steps=section_steps("calwebb_image2"),
        log:
            f"{OUTDIR}/logs/image2/{{root}}.log",
        benchmark:
            f"{OUTDIR}/benchmarks/image2/{{root}}.tsv"
        threads: section_threads("calwebb_image2")
        resources:
            mem_mb=files_mb(["exposure"], base_mb=1000, per_mb=12),
            runtime=files_mb(["exposure"], base_mb=5, per_mb=0.2),
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/stage2.py"

    rule image2_cal:
        input:
            unpack(stage2_inputs("calwebb_image2", "cal")),
        output:
            cal=f"{OUTDIR}/stage2/{{root}}_cal.fits",
        params:
            pipeline="calwebb_image2",
            context=CONTEXT,
            version=VERSION,
            steps=steps_without_resample("calwebb_image2"),
        log:
            f"{OUTDIR}/logs/image2/{{root}}.log",
        benchmark:
            f"{OUTDIR}/benchmarks/image2/{{root}}.tsv"
        threads: section_threads("calwebb_image2")
        resources:
            mem_mb=files_mb(["exposure"], base_mb=1000, per_mb=8),
            runtime=files_mb(["exposure"], base_mb=5, per_mb=0.1),
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/stage2.py"

    rule image2_ints:
        input:
            unpack(stage2_inputs("calwebb_image2", "calints")),
        output:
            cal=f"{OUTDIR}/stage2/{{root}}_calints.fits",
        params:
            pipeline="calwebb_image2",
            context=CONTEXT,
            version=VERSION,
            steps=section_steps("calwebb_image2"),
        log:
            f"{OUTDIR}/logs/image2/{{root}}.log",
        benchmark:
            f"{OUTDIR}/benchmarks/image2/{{root}}.tsv"
        threads: section_threads("calwebb_image2")
        resources:
            mem_mb=files_mb(["exposure"], base_mb=1000, per_mb=8),
            runtime=files_mb(["exposure"], base_mb=5, per_mb=0.1),
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/stage2.py"
