# calwebb_spec2 (a thin route: planned once webbflow.pipelines has Spec2Pipeline):
# {root}_rate.fits -> {root}_cal.fits, {root}_rateints.fits -> {root}_calints.fits.

if IMPLEMENTED["calwebb_spec2"]:

    rule spec2:
        input:
            unpack(stage2_inputs("calwebb_spec2", "cal")),
        output:
            cal=f"{OUTDIR}/stage2/{{root}}_cal.fits",
        params:
            pipeline="calwebb_spec2",
            context=CONTEXT,
            version=VERSION,
            steps=section_steps("calwebb_spec2"),
        log:
            f"{OUTDIR}/logs/spec2/{{root}}.log",
        benchmark:
            f"{OUTDIR}/benchmarks/spec2/{{root}}.tsv"
        threads: section_threads("calwebb_spec2")
        resources:
            mem_mb=files_mb(["exposure"], base_mb=2000, per_mb=16),
            runtime=files_mb(["exposure"], base_mb=10, per_mb=0.3),
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/stage2.py"

    rule spec2_ints:
        input:
            unpack(stage2_inputs("calwebb_spec2", "calints")),
        output:
            cal=f"{OUTDIR}/stage2/{{root}}_calints.fits",
        params:
            pipeline="calwebb_spec2",
            context=CONTEXT,
            version=VERSION,
            steps=section_steps("calwebb_spec2"),
        log:
            f"{OUTDIR}/logs/spec2/{{root}}.log",
        benchmark:
            f"{OUTDIR}/benchmarks/spec2/{{root}}.tsv"
        threads: section_threads("calwebb_spec2")
        resources:
            mem_mb=files_mb(["exposure"], base_mb=2000, per_mb=16),
            runtime=files_mb(["exposure"], base_mb=10, per_mb=0.3),
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/stage2.py"
