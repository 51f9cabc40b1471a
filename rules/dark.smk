# calwebb_dark: dark exposures, {root}_uncal.fits -> {root}_dark.fits (corrected ramp)


rule dark:
    input:
        unpack(stage1_inputs("calwebb_dark")),
    output:
        dark=f"{OUTDIR}/stage1/{{root}}_dark.fits",
    params:
        pipeline="calwebb_dark",
        context=CONTEXT,
        version=VERSION,
        steps=section("dark")["steps"],
    log:
        f"{OUTDIR}/logs/dark/{{root}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/dark/{{root}}.tsv"
    threads: section("dark")["threads"]
    resources:
        cpus_per_task=lambda wildcards, threads: threads,  # SLURM --cpus-per-task
        mem_mb=mem_mb(per_input_mb=16),
        runtime=runtime_min(per_input_mb=0.3),
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/stage1.py"
