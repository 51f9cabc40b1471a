# calwebb_guider: FGS guiding exposures, {root}_uncal.fits -> {root}_cal.fits (stage 1+2)


rule guider:
    input:
        unpack(stage1_inputs("calwebb_guider")),
    output:
        cal=f"{OUTDIR}/stage1/{{root}}_cal.fits",
    params:
        pipeline="calwebb_guider",
        context=CONTEXT,
        version=VERSION,
        steps=section("guider")["steps"],
    log:
        f"{OUTDIR}/logs/guider/{{root}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/guider/{{root}}.tsv"
    threads: section("guider")["threads"]
    resources:
        cpus_per_task=lambda wildcards, threads: threads,  # SLURM --cpus-per-task
        mem_mb=mem_mb(per_input_mb=8),
        runtime=runtime_min(per_input_mb=0.2),
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/stage1.py"
