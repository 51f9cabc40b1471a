# Start-up checks, the exposure manifest (a checkpoint), input functions, wildcard constraints.
import os
import sys
from pathlib import Path

from snakemake.utils import validate

import webbflow
from webbflow import workflow as wf
from webbflow.associations import ROOT_PATTERN, read_manifest
from webbflow.associations import program as prog
from webbflow.errors import WebbflowError

SCHEMA = Path(workflow.basedir) / "config" / "schema.yaml"

# One line and exit status 1 for any configuration mistake, before Snakemake plans anything.
try:
    wf.coerce_command_line(config, SCHEMA)  # nested --config values arrive as text
    wf.check_config(config, SCHEMA)
    validate(config, str(SCHEMA))  # fills the schema's defaults
    CRDS_ENV = wf.startup(config)  # version pin, inputs, step names; exports CRDS_*, BLAS
except WebbflowError as exc:
    sys.exit(f"webbflow: {exc}")

# envs/webbflow.yaml pip-installs webbflow from this checkout (pip expands ${WEBBFLOW_SRC}).
os.environ.setdefault("WEBBFLOW_SRC", str(Path(workflow.basedir).absolute()))

OUTDIR = config["outdir"].rstrip("/")
CONTEXT = CRDS_ENV["CRDS_CONTEXT"]
VERSION = webbflow.__version__
DEMO = config["inputs"]["demo"]["enabled"]
UNCAL_PATHS = wf.uncal_paths(config)
ASN_FILES = [str(Path(p).absolute()) for p in config["inputs"].get("asn_files", [])]
REPORT = config["report"]["enabled"]

# Stage-1 pipeline alias -> (config section, products relative to OUTDIR). A route whose
# pipeline does not import yet plans nothing and is reported in the run summary.
STAGE1_ROUTES = {
    alias: (section_name, prog.STAGE1_PRODUCTS[alias])
    for section_name, alias in wf.PIPELINE_SECTIONS.items()
    if alias in prog.STAGE1_PRODUCTS
}
# Every pipeline alias -> whether it imports (decides, with the manifest, what is planned).
IMPLEMENTED = {alias: wf.implemented(alias) for alias in wf.PIPELINE_SECTIONS.values()}
STAGE1_IMPLEMENTED = {alias: IMPLEMENTED[alias] for alias in STAGE1_ROUTES}
SECTION_OF = {alias: name for name, alias in wf.PIPELINE_SECTIONS.items()}


wildcard_constraints:
    root=ROOT_PATTERN,
    product=r"[A-Za-z0-9][A-Za-z0-9_+-]*",


localrules:
    all,
    manifest,
    associations,
    asn,
    summary,


def section(name):
    """A pipeline section of the config, with its defaults."""
    return {"threads": 1, "steps": {}, **(config.get(name) or {})}


# The manifest and what is derived from it, read once per manifest file version: input
# functions, params and resources are re-evaluated for every ready job at every scheduling
# round, so reading the TSV each time made scheduling cost grow as jobs x exposures.
_MEMO = {}
PLAN_FILE = f"{OUTDIR}/logs/progress/plan.tsv"
os.environ[wf.PLAN_ENV] = str(Path(PLAN_FILE).absolute())  # the jobs' progress lines read it


def _memo():
    tsv = checkpoints.manifest.get().output.tsv  # raises until the checkpoint has run
    stat = os.stat(tsv)
    key = (tsv, stat.st_mtime_ns, stat.st_size)
    if _MEMO.get("key") != key:
        table = read_manifest(tsv)
        _MEMO.clear()
        _MEMO.update(key=key, table=table, rows={r["root"]: r for _, r in table.iterrows()})
        _MEMO["plans"] = prog.build_associations(table, ASN_FILES)
        wf.write_plan(PLAN_FILE, planned_jobs(table, _MEMO["plans"]))
    return _MEMO


def manifest_table():
    """The exposure manifest (after the checkpoint has run); do not modify it."""
    return _memo()["table"]


def planned_jobs(table, plans):
    """(rule, first product) of every pipeline job the program plans, stages 1-3."""
    jobs = []
    for _, row in table.iterrows():
        for stage, products in ((1, stage1_products(row)), (2, stage2_products(row))):
            if products:
                jobs.append((row[f"stage{stage}"], products[0]))
    for plan in plans:
        if plan.level == "Level3" and runnable(plan, table):
            jobs.append((plan.pipeline, f"{OUTDIR}/{plan.products()[0]}"))
    return jobs


def manifest_inputs(wildcards):
    """Raw exposures: the demo's uncal directory or the files of inputs.uncal_dir."""
    if DEMO:
        return {"uncal": rules.demo.output.uncal}
    return {"uncal": UNCAL_PATHS}


def ok(alias):
    """Whether a pipeline alias is implemented (None: no pipeline at that stage)."""
    return bool(alias) and IMPLEMENTED.get(alias, wf.implemented(alias))


def stage1_products(row):
    """Products of one manifest row's stage-1 pipeline, [] when it is not implemented."""
    if not ok(row["stage1"]):
        return []
    return [f"{OUTDIR}/{p}" for p in prog.stage_products(row, 1)]


def stage2_products(row):
    """Products of one row's stage-2 pipeline, [] when it or stage 1 is not implemented."""
    if not (ok(row["stage1"]) and ok(row["stage2"])):
        return []
    return [f"{OUTDIR}/{p}" for p in prog.stage_products(row, 2)]


def asn_plans():
    """The program's associations, from the manifest checkpoint (what the associations rule
    writes to associations.tsv; computed here so stage 1-2 planning never waits on it)."""
    return _memo()["plans"]


def runnable(plan, table=None):
    """A stage-3 association runs when its pipeline and every member's stages 1-2 do."""
    rows = (manifest_table() if table is None else table).set_index("root")
    members = [rows.loc[m[0]] for m in plan.members]
    return ok(plan.pipeline) and all(ok(r["stage1"]) and ok(r["stage2"]) for r in members)


def all_stage1_products(wildcards):
    products = []
    for _, row in manifest_table().iterrows():
        products.extend(stage1_products(row))
    return products


def all_products(wildcards):
    """Every planned product of stages 1-3."""
    products = all_stage1_products(wildcards)
    for _, row in manifest_table().iterrows():
        products.extend(stage2_products(row))
    for plan in asn_plans():
        if plan.level == "Level3" and runnable(plan):
            products.extend(f"{OUTDIR}/{p}" for p in plan.products())
    return products


def all_targets(wildcards):
    """Targets of `all`: manifest, associations, summary, every planned product (+ report)."""
    targets = [f"{OUTDIR}/manifest.tsv", f"{OUTDIR}/associations.tsv", f"{OUTDIR}/summary.txt"]
    targets += all_products(wildcards)
    if REPORT:
        targets += report_targets(wildcards)
    return targets


QUICKLOOK_SUFFIXES = ("rate", "cal", "i2d")


def report_targets(wildcards):
    """PNGs and tables of every planned product (after the checkpoints)."""
    targets = []
    for path in all_products(wildcards):
        rel = Path(path).relative_to(OUTDIR)
        stem = rel.name.removesuffix(".fits")
        if rel.suffix == ".fits" and stem.rsplit("_", 1)[-1] in QUICKLOOK_SUFFIXES:
            targets.append(f"{OUTDIR}/report/{rel.parent}/{stem}.png")
        if rel.name.endswith("_rate.fits"):
            targets.append(f"{OUTDIR}/report/dq/{stem.removesuffix('_rate')}_dq.html")
        if rel.name.endswith("_cat.ecsv"):
            product = rel.name.removesuffix("_cat.ecsv")
            targets.append(f"{OUTDIR}/report/catalogs/{product}_cat.png")
    return targets + [f"{OUTDIR}/report/runtime.html"]


def row_of(root):
    """The manifest row of an exposure root (a one-line error when there is none)."""
    row = _memo()["rows"].get(root)
    if row is None:
        raise WebbflowError(f"{root}: not an exposure of {OUTDIR}/manifest.tsv")
    return row


def not_routed_here(rule_name, root):
    """An input nothing makes, so Snakemake takes another producer of this output instead."""
    return f"{OUTDIR}/.routing/{rule_name}/{root}.not-this-route"


def stage2_inputs(alias, kind):
    """Input function of a stage-2 rule: the stage-1 product(s) or a Level-2 association."""

    def inputs(wildcards):
        row = row_of(wildcards.root)
        if row["stage2"] != alias or prog.stage2_kind(row) != kind:
            return {"route": not_routed_here(f"{alias}-{kind}", wildcards.root)}
        suffix = prog.STAGE2_KINDS[kind][0]
        found = {"exposure": f"{OUTDIR}/stage1/{wildcards.root}_{suffix}.fits"}
        for plan in asn_plans():
            if plan.level == "Level2" and plan.product == wildcards.root:
                found["asn"] = f"{OUTDIR}/{plan.folder}/{plan.file}"
                found["members"] = [f"{OUTDIR}/{plan.member_path(r, s)}" for r, _, s in plan.members]
        found["overrides"] = override_files(SECTION_OF[alias])
        if DEMO:
            found["crds_cache"] = rules.demo.output.crds
        return found

    return inputs


def plan_named(product, asn_type):
    """The Level-3 association of ``product`` of this type, or None."""
    for plan in asn_plans():
        if plan.level == "Level3" and plan.product == product and plan.asn_type == asn_type:
            return plan
    return None


def stage3_inputs(alias):
    """Input function of a stage-3 rule: the association and its members' stage-2 products."""
    asn_type = prog.ASN_TYPES[alias][0]

    def inputs(wildcards):
        plan = plan_named(wildcards.product, asn_type)
        if plan is None:  # another stage-3 rule's product (coron3 and image3 both make i2d)
            return {"route": not_routed_here(asn_type, wildcards.product)}
        found = {
            "asn": f"{OUTDIR}/{plan.folder}/{plan.file}",
            "members": [f"{OUTDIR}/{plan.member_path(r, s)}" for r, _, s in plan.members],
            "overrides": override_files(SECTION_OF[alias]),
        }
        if DEMO:
            found["crds_cache"] = rules.demo.output.crds
        return found

    return inputs


def asn_members(wildcards):
    """The params of the asn rule (the association; its file reruns when it changes)."""
    for plan in asn_plans():
        if plan.file == f"{wildcards.name}_asn.json" and plan.folder == wildcards.folder:
            return plan
    raise WebbflowError(f"{wildcards.name}_asn.json: not in {OUTDIR}/associations.tsv")


def section_steps(alias):
    return section(SECTION_OF[alias])["steps"]


def steps_without_resample(alias):
    """Stage-2 steps where no i2d is declared (image2_cal): resample skipped unless the config sets
    it (as the official WFS&C image2 parameter reference does), so no stray i2d is left."""
    steps = {name: dict(params or {}) for name, params in section_steps(alias).items()}
    steps.setdefault("resample", {}).setdefault("skip", True)
    return steps


def section_threads(alias):
    return section(SECTION_OF[alias])["threads"]


def files_mb(names, base_mb, per_mb):
    """Resource estimate from the size of some inputs (MB of input x per_mb + base_mb)."""

    def estimate(wildcards, input):
        size = sum(Path(p).stat().st_size for n in names for p in _as_list(input.get(n, [])))
        return int(base_mb + per_mb * size / 2**20)

    return estimate


def _as_list(value):
    return [value] if isinstance(value, str) else list(value)


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
        row = row_of(wildcards.root)
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
