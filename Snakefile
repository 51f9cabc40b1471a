# webbflow: the JWST calibration pipeline as a Snakemake workflow. Edit config/config.yaml.
from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/manifest.smk"
include: "rules/demo.smk"
include: "rules/detector1.smk"
include: "rules/dark.smk"
include: "rules/guider.smk"
include: "rules/image2.smk"
include: "rules/spec2.smk"
include: "rules/image3.smk"
include: "rules/tso3.smk"
include: "rules/coron3.smk"
include: "rules/ami3.smk"
include: "rules/wfs.smk"
include: "rules/report.smk"


rule all:
    input:
        all_targets,
    default_target: True
