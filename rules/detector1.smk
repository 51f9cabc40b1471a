# calwebb_detector1: {root}_uncal.fits -> {root}_ramp.fits -> {root}_rate.fits, _rateints.fits


rule detector1:
    input:
        unpack(stage1_inputs("calwebb_detector1")),
    output:
        rate=f"{OUTDIR}/stage1/{{root}}_rate.fits",
        rateints=f"{OUTDIR}/stage1/{{root}}_rateints.fits",
        ramp=(
            f"{OUTDIR}/stage1/{{root}}_ramp.fits"
            if config["detector1"]["save_ramp"]
            else temp(f"{OUTDIR}/stage1/{{root}}_ramp.fits")
        ),
    params:
        pipeline="calwebb_detector1",
        context=CONTEXT,
        version=VERSION,
        steps=section("detector1")["steps"],
    log:
        f"{OUTDIR}/logs/detector1/{{root}}.log",
    benchmark:
        f"{OUTDIR}/benchmarks/detector1/{{root}}.tsv"
    threads: section("detector1")["threads"]
    resources:
        mem_mb=mem_mb(per_input_mb=32),
        runtime=runtime_min(per_input_mb=0.5),
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/detector1.py"
