# Start-up checks, the exposure manifest (a checkpoint), input functions, wildcard constraints.
import os
import sys
from pathlib import Path

from snakemake.utils import validate

import webbflow
from webbflow import workflow as wf
from webbflow.associations import ROOT_PATTERN, read_manifest
from webbflow.errors import WebbflowError

SCHEMA = Path(workflow.basedir) / "config" / "schema.yaml"

# One line and exit status 1 for any configuration mistake, before Snakemake plans anything.
try:
    wf.coerce_command_line(config, SCHEMA)  # nested --config values arrive as text
    wf.check_config(config, SCHEMA)
    validate(config, str(SCHEMA))  # fills the schema's defaults
    CRDS_ENV = wf.startup(config)  # version pin, inputs, step names; exports CRDS_* variables
except WebbflowError as exc:
    sys.exit(f"webbflow: {exc}")

# envs/webbflow.yaml pip-installs webbflow from this checkout (pip expands ${WEBBFLOW_SRC}).
os.environ.setdefault("WEBBFLOW_SRC", str(Path(workflow.basedir).absolute()))

OUTDIR = config["outdir"].rstrip("/")
CONTEXT = CRDS_ENV["CRDS_CONTEXT"]
VERSION = webbflow.__version__
DEMO = config["inputs"]["demo"]["enabled"]
UNCAL_PATHS = wf.uncal_paths(config)

# Stage-1 pipeline alias -> (config section, products relative to OUTDIR). A route whose
# pipeline does not import yet plans nothing and is reported in the run summary.
STAGE1_ROUTES = {
    "calwebb_detector1": (
        "detector1",
        ("stage1/{root}_rate.fits", "stage1/{root}_rateints.fits"),
    ),
    "calwebb_dark": ("dark", ("stage1/{root}_dark.fits",)),
    "calwebb_guider": ("guider", ("stage1/{root}_cal.fits",)),
}
STAGE1_IMPLEMENTED = {alias: wf.implemented(alias) for alias in STAGE1_ROUTES}


wildcard_constraints:
    root=ROOT_PATTERN,


localrules:
    all,
    manifest,
    summary,


def section(name):
    """A pipeline section of the config, with its defaults."""
    return {"threads": 1, "steps": {}, **(config.get(name) or {})}


def manifest_table():
    """The exposure manifest (after the checkpoint has run)."""
    return read_manifest(checkpoints.manifest.get().output.tsv)


def manifest_inputs(wildcards):
    """Raw exposures: the demo's uncal directory or the files of inputs.uncal_dir."""
    if DEMO:
        return {"uncal": rules.demo.output.uncal}
    return {"uncal": UNCAL_PATHS}


def stage1_products(row):
    """Products of one manifest row's stage-1 pipeline, [] when it is not implemented."""
    alias = row["stage1"]
    if alias not in STAGE1_ROUTES or not STAGE1_IMPLEMENTED[alias]:
        return []
    return [f"{OUTDIR}/{p}".format(root=row["root"]) for p in STAGE1_ROUTES[alias][1]]


def all_stage1_products(wildcards):
    products = []
    for _, row in manifest_table().iterrows():
        products.extend(stage1_products(row))
    return products


def all_targets(wildcards):
    """Targets of `all`: the manifest, the run summary and every planned stage-1 product."""
    return [f"{OUTDIR}/manifest.tsv", f"{OUTDIR}/summary.txt", *all_stage1_products(wildcards)]


def override_files(section_name):
    """Reference overrides (override_<reftype> values that are files) of a pipeline section."""
    files = []
    for params in section(section_name)["steps"].values():
        for key, value in (params or {}).items():
            if key.startswith("override_") and value not in (None, "", "N/A"):
                files.append(str(value))
    return sorted(set(files))


def stage1_inputs(alias):
    """Input function of a stage-1 rule: the raw file, the demo CRDS cache, override files."""

    def inputs(wildcards):
        table = manifest_table()
        rows = table[table["root"] == wildcards.root]
        if rows.empty:
            raise WebbflowError(f"{wildcards.root}: not an exposure of {OUTDIR}/manifest.tsv")
        row = rows.iloc[0]
        if row["stage1"] != alias:
            raise WebbflowError(
                f"{wildcards.root}: EXP_TYPE {row['exp_type']} takes {row['stage1']}, not {alias}"
            )
        found = {"uncal": row["path"], "overrides": override_files(STAGE1_ROUTES[alias][0])}
        if DEMO:
            found["crds_cache"] = rules.demo.output.crds
        return found

    return inputs


def mem_mb(per_input_mb, base_mb=1000):
    """Memory request scaled from the raw file size (uint16 ramps grow ~per_input_mb x)."""

    def estimate(wildcards, input):
        return int(base_mb + per_input_mb * Path(input.uncal).stat().st_size / 2**20)

    return estimate


def runtime_min(per_input_mb, base_min=5):
    """Wall-time request in minutes scaled from the raw file size."""

    def estimate(wildcards, input):
        return int(base_min + per_input_mb * Path(input.uncal).stat().st_size / 2**20)

    return estimate
