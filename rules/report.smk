# Report pieces (report.enabled): quick-look PNGs of every rate, cal and i2d, a DQ table per
# exposure, the catalog drawn on each mosaic, run time and memory per rule. Then
# `snakemake --report report.html` gathers them by category.

rule quicklook:
    input:
        product=f"{OUTDIR}/{{stage}}/{{name}}.fits",
    output:
        png=report(
            f"{OUTDIR}/report/{{stage}}/{{name}}.png",
            category="Quick-look images",
            subcategory="{stage}",
            labels={"product": "{name}"},
        ),
    params:
        max_size=config["report"]["max_size"],
    log:
        f"{OUTDIR}/logs/report/{{stage}}/{{name}}.log",
    wildcard_constraints:
        stage="stage1|stage2|stage3",
        name=r"[^/]+_(rate|cal|i2d)",
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/quicklook.py"


rule dq_table:
    input:
        rate=f"{OUTDIR}/stage1/{{root}}_rate.fits",
    output:
        html=report(
            f"{OUTDIR}/report/dq/{{root}}_dq.html",
            category="DQ summary",
            labels={"exposure": "{root}"},
        ),
    log:
        f"{OUTDIR}/logs/report/dq/{{root}}.log",
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/dq_table.py"


rule catalog_overlay:
    input:
        i2d=f"{OUTDIR}/stage3/{{product}}_i2d.fits",
        cat=f"{OUTDIR}/stage3/{{product}}_cat.ecsv",
    output:
        png=report(
            f"{OUTDIR}/report/catalogs/{{product}}_cat.png",
            category="Catalogs on mosaics",
            labels={"product": "{product}"},
        ),
    params:
        max_size=config["report"]["max_size"],
    log:
        f"{OUTDIR}/logs/report/catalogs/{{product}}.log",
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/catalog_overlay.py"


rule runtime_table:
    input:
        products=all_products,
    output:
        html=report(
            f"{OUTDIR}/report/runtime.html",
            category="Run time and memory",
            labels={"table": "per rule"},
        ),
    params:
        benchmarks=f"{OUTDIR}/benchmarks",
    log:
        f"{OUTDIR}/logs/report/runtime.log",
    conda:
        "../envs/webbflow.yaml"
    script:
        "../scripts/runtime_table.py"
