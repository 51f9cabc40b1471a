# calwebb_detector1: {root}_uncal.fits -> {root}_ramp.fits -> {root}_rate.fits, _rateints.fits
#
# Between-workflow caching (`snakemake --cache` with SNAKEMAKE_OUTPUT_CACHE=<shared dir>): the
# products are keyed on the raw file's content, the script, the params (CRDS context, webbflow
# version, step parameters) and, with --use-conda, the environment file; a second workflow
# asking for the same product symlinks it from the cache. Snakemake refuses `benchmark:` on a
# cacheable rule (a cache hit has no run time), so with --cache the rule has no benchmark file.

DETECTOR1_OUTPUT = {
    "rate": f"{OUTDIR}/stage1/{{root}}_rate.fits",
    "rateints": f"{OUTDIR}/stage1/{{root}}_rateints.fits",
}
# the corrected ramp (after jump) only when asked for: it is the largest product
if config["detector1"]["save_ramp"]:
    DETECTOR1_OUTPUT["ramp"] = f"{OUTDIR}/stage1/{{root}}_ramp.fits"
DETECTOR1_PARAMS = {
    "pipeline": "calwebb_detector1",
    "context": CONTEXT,
    "version": VERSION,
    "steps": section("detector1")["steps"],
    "save_ramp": bool(config["detector1"]["save_ramp"]),
}
# per job: memory and wall time from the raw file size; SLURM cpus from threads
DETECTOR1_RESOURCES = {
    "mem_mb": mem_mb(per_input_mb=32),
    "runtime": runtime_min(per_input_mb=0.5),
    "cpus_per_task": lambda wildcards, threads: threads,
}

if workflow.enable_cache:

    rule detector1:
        input:
            unpack(stage1_inputs("calwebb_detector1")),
        output:
            **DETECTOR1_OUTPUT,
        params:
            **DETECTOR1_PARAMS,
        log:
            f"{OUTDIR}/logs/detector1/{{root}}.log",
        threads: section("detector1")["threads"]
        resources:
            **DETECTOR1_RESOURCES,
        cache: True
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/detector1.py"

else:

    rule detector1:
        input:
            unpack(stage1_inputs("calwebb_detector1")),
        output:
            **DETECTOR1_OUTPUT,
        params:
            **DETECTOR1_PARAMS,
        log:
            f"{OUTDIR}/logs/detector1/{{root}}.log",
        benchmark:
            f"{OUTDIR}/benchmarks/detector1/{{root}}.tsv"
        threads: section("detector1")["threads"]
        resources:
            **DETECTOR1_RESOURCES,
        conda:
            "../envs/webbflow.yaml"
        script:
            "../scripts/detector1.py"
