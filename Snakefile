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


rule all:
    input:
        all_targets,
    default_target: True
