"""A whole program from its manifest: stage-2/3 associations, the products each exposure
yields, and the one-line-per-exposure run summary.

The workflow (``rules/common.smk``) asks three questions of this module, all answered from the
manifest and tables here, never from if-chains on instruments:

* which products does each stage make for an exposure (:func:`stage_products`)?
* which associations does the program hold (:func:`build_associations`): Level-3 products per
  program / observation / instrument / optical elements / mode, named as officially
  (``jw01234-o001_t001_nircam_clear-f200w``, file ``<product>_image3_asn.json``), and Level-2
  associations for image2 when background exposures (``BKGDTARG``) exist?
* where did each exposure stop, and why (:func:`summary_lines`)?
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import input_error
from .asn import Association, Member, Product, read_asn, write_asn

__all__ = [
    "ASN_TYPES",
    "STAGE1_PRODUCTS",
    "STAGE3_SUFFIXES",
    "AsnPlan",
    "asn_from_user_file",
    "build_associations",
    "product_name",
    "read_index",
    "stage2_kind",
    "stage_products",
    "summary_lines",
    "write_association",
    "write_index",
]

#: stage-1 alias -> products relative to the output directory
STAGE1_PRODUCTS: dict[str, tuple[str, ...]] = {
    "calwebb_detector1": ("stage1/{root}_rate.fits", "stage1/{root}_rateints.fits"),
    "calwebb_dark": ("stage1/{root}_dark.fits",),
    "calwebb_guider": ("stage1/{root}_cal.fits",),
}

#: stage-2 product kind -> (input suffix, product suffixes)
STAGE2_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "cal+i2d": ("rate", ("cal", "i2d")),
    "cal": ("rate", ("cal",)),
    "calints": ("rateints", ("calints",)),
}

#: EXP_TYPEs whose calwebb_image2 resamples the cal image into a per-exposure i2d (official)
I2D_EXP_TYPES = frozenset({"MIR_IMAGE", "NRC_IMAGE", "NIS_IMAGE", "FGS_IMAGE"})

#: stage-3 alias -> (association type, stage-2 member suffix, product suffixes)
ASN_TYPES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "calwebb_image3": ("image3", "cal", ("i2d.fits", "cat.ecsv", "segm.fits")),
    "calwebb_wfs-image3": ("wfs-image3", "cal", ("wfscmb.fits",)),
    "calwebb_tso3": ("tso3", "calints", ("phot.ecsv",)),
    "calwebb_coron3": ("coron3", "calints", ("psfsub.fits", "i2d.fits")),
    "calwebb_ami3": ("ami3", "calints", ("ami-oi.fits",)),
    "calwebb_spec3": ("spec3", "cal", ("x1d.fits",)),
}
STAGE3_SUFFIXES = {alias: spec[2] for alias, spec in ASN_TYPES.items()}
_ALIAS_OF_TYPE = {spec[0]: alias for alias, spec in ASN_TYPES.items()}

#: stage-3 modes whose product names carry the subarray (official TSO/coron/AMI names)
_SUBARRAY_IN_NAME = frozenset({"tso3", "coron3", "ami3"})
_NO_ELEMENT = frozenset({"", "N/A", "NONE", "ANY"})

Implemented = Callable[[str], bool]


@dataclass(frozen=True)
class AsnPlan:
    """One association the workflow writes: file, product, pipeline and members.

    ``members`` holds ``(root, exptype, suffix)``: the member file is ``<root>_<suffix>.fits``
    in ``stage2/`` (Level 3) or ``stage1/`` (Level 2).
    """

    file: str
    product: str
    asn_type: str
    pipeline: str
    level: str
    members: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)

    @property
    def folder(self) -> str:
        """Folder of the association and its products, relative to the output directory."""
        return "stage3" if self.level == "Level3" else "stage2"

    def member_path(self, root: str, suffix: str) -> str:
        """A member's file relative to the output directory."""
        return f"{'stage2' if self.level == 'Level3' else 'stage1'}/{root}_{suffix}.fits"

    def products(self) -> list[str]:
        """Stage-3 products relative to the output directory ([] for Level 2)."""
        if self.level != "Level3":
            return []
        return [f"stage3/{self.product}_{s}" for s in STAGE3_SUFFIXES[self.pipeline]]


# --------------------------------------------------------------------------- naming


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def product_name(row: Mapping[str, object], asn_type: str) -> str:
    """Official Level-3 product name of the exposure ``row`` in an ``asn_type`` association.

    ``jw<program>-o<observation>_t001_<instrument>_<optical elements>[-<subarray>]``: the
    filter and pupil (lower case, sorted, CLEAR kept, N/A dropped) joined by ``-``; TSO,
    coronagraphic and AMI names add the subarray when it is not FULL. The target is ``t001``
    (the demo and raw headers carry no association-pool target number).
    """
    program = int(_text(row["program"]) or 0)
    observation = int(_text(row["observation"]) or 0)
    elements = sorted(
        _text(row.get(key)).lower()
        for key in ("filter", "pupil")
        if _text(row.get(key)).upper() not in _NO_ELEMENT
    )
    subarray = _text(row.get("subarray")).upper()
    if asn_type in _SUBARRAY_IN_NAME and subarray and subarray != "FULL":
        elements.append(subarray.lower())
    optical = "-".join(elements) or "clear"
    instrument = _text(row["instrument"]).lower()
    return f"jw{program:05d}-o{observation:03d}_t001_{instrument}_{optical}"


# --------------------------------------------------------------------------- routes


def stage2_kind(row: Mapping[str, object]) -> str | None:
    """Stage-2 product kind of an exposure: ``cal+i2d``, ``cal``, ``calints`` or None.

    Modes whose stage 3 works on integrations (TSO, coronagraphy, AMI) calibrate the
    ``rateints``; imaging EXP_TYPEs of :data:`I2D_EXP_TYPES` also get a per-exposure i2d
    (not WFS&C, whose official image2 configuration skips resample).
    """
    if not _alias(row.get("stage2")):
        return None
    stage3 = _alias(row.get("stage3"))
    if stage3 in ASN_TYPES and ASN_TYPES[stage3][1] == "calints":
        return "calints"
    if (
        row["stage2"] == "calwebb_image2"
        and row["exp_type"] in I2D_EXP_TYPES
        and stage3 != "calwebb_wfs-image3"
    ):
        return "cal+i2d"
    return "cal"


def stage_products(row: Mapping[str, object], stage: int) -> list[str]:
    """Products (relative to the output directory) of one stage of one exposure."""
    root = str(row["root"])
    if stage == 1:
        return [p.format(root=root) for p in STAGE1_PRODUCTS.get(str(row["stage1"]), ())]
    if stage == 2:
        kind = stage2_kind(row)
        if kind is None:
            return []
        return [f"stage2/{root}_{suffix}.fits" for suffix in STAGE2_KINDS[kind][1]]
    raise ValueError(f"stage {stage}: stage-3 products belong to associations")


# --------------------------------------------------------------------------- associations


def _group_key(row: Mapping[str, object]) -> tuple:
    return tuple(_text(row[k]) for k in ("program", "instrument", "filter", "pupil", "exp_type"))


def _level2(table: pd.DataFrame) -> list[AsnPlan]:
    """image2 associations of science exposures that have background exposures (BKGDTARG)."""
    plans = []
    rows = [r for _, r in table.iterrows() if r["stage2"] == "calwebb_image2"]
    backgrounds = [r for r in rows if r["bkgdtarg"]]
    for row in rows:
        if row["bkgdtarg"]:
            continue
        kind = stage2_kind(row)
        suffix = STAGE2_KINDS[kind][0] if kind else "rate"
        bkg = [b for b in backgrounds if _group_key(b) == _group_key(row)]
        if not bkg:
            continue
        members = ((row["root"], "science", suffix),
                   *((b["root"], "background", suffix) for b in bkg))
        plans.append(
            AsnPlan(
                f"{row['root']}_image2_asn.json",
                str(row["root"]),
                "image2",
                "calwebb_image2",
                "Level2",
                members,
            )
        )
    return plans


def _pairs(rows: list) -> list[list]:
    """WFS&C dithered pairs, in exposure order (an odd last exposure stays alone)."""
    return [rows[i : i + 2] for i in range(0, len(rows), 2)]


def _level3(table: pd.DataFrame) -> list[AsnPlan]:
    groups: dict[tuple[str, str], list] = {}
    for _, row in table.iterrows():
        alias = row["stage3"]
        if alias not in ASN_TYPES or row["bkgdtarg"]:
            continue
        asn_type = ASN_TYPES[alias][0]
        name = product_name(row, asn_type)
        if asn_type == "wfs-image3":
            name = f"{name}-{_text(row['detector']).lower()}"
        groups.setdefault((name, alias), []).append(row)
    plans = []
    for (name, alias), rows in sorted(groups.items()):
        asn_type, suffix, _ = ASN_TYPES[alias]
        chunks = _pairs(rows) if asn_type == "wfs-image3" else [rows]
        for n, chunk in enumerate(chunks, 1):
            product = name if len(chunks) == 1 else f"{name}-{n:02d}"
            members = tuple((r["root"], "science", suffix) for r in chunk)
            plans.append(
                AsnPlan(f"{product}_{asn_type}_asn.json", product, asn_type, alias, "Level3",
                        members)
            )
    return plans


def build_associations(
    table: pd.DataFrame, user_asn: Iterable[str | os.PathLike] = ()
) -> list[AsnPlan]:
    """Every association of the program in ``table`` (a manifest).

    Level 2: one per science exposure with background exposures of the same program,
    instrument, optical elements and EXP_TYPE. Level 3: one per product (see
    :func:`product_name`); WFS&C exposures in pairs; background exposures are not science
    members. ``user_asn`` files replace the Level-3 associations built here.
    """
    plans = _level2(table)
    user = [asn_from_user_file(p, table) for p in user_asn]
    plans.extend(user if user else _level3(table))
    return plans


def asn_from_user_file(path: str | os.PathLike, table: pd.DataFrame) -> AsnPlan:
    """A user's Level-3 association, its members mapped to this run's stage-2 products.

    Raises
    ------
    InputError
        A member that is no exposure of the manifest, or an association type the EXP_TYPE
        table does not know.
    """
    asn = read_asn(path, check_members=False)
    if len(asn.products) != 1:
        raise input_error(path, f"association: {len(asn.products)} products; stage 3 takes one")
    product = asn.products[0]
    roots = {str(r["root"]): r for _, r in table.iterrows()}
    members = []
    for member in product.members:
        root = _member_root(member.expname)
        if root not in roots:
            raise input_error(path, f"member {member.expname}: no exposure {root} in the inputs")
        members.append((root, member.exptype))
    alias = _ALIAS_OF_TYPE.get(asn.asn_type.lower()) or roots[members[0][0]]["stage3"]
    if alias not in ASN_TYPES:
        raise input_error(path, f"association: asn_type {asn.asn_type!r} has no stage-3 route")
    suffix = ASN_TYPES[alias][1]
    return AsnPlan(Path(path).name, product.name, ASN_TYPES[alias][0], alias, "Level3",
                   tuple((r, t, suffix) for r, t in members))


def _member_root(expname: str) -> str:
    stem = Path(expname).name.removesuffix(".fits")
    for suffix in ("_uncal", "_rate", "_rateints", "_cal", "_calints", "_crf", "_crfints"):
        if stem.endswith(suffix):
            return stem[: -len(suffix)]
    return stem


def write_association(plan: AsnPlan, path: str | os.PathLike, program: str = "") -> Path:
    """Write ``plan`` as an official asn.json; member paths relative to the file's folder."""
    path = Path(path)
    prefix = "../stage2/" if plan.level == "Level3" else "../stage1/"
    members = [Member(f"{prefix}{root}_{suffix}.fits", exptype)
               for root, exptype, suffix in plan.members]
    asn = Association(
        products=[Product(plan.product, members)],
        asn_type=plan.asn_type,
        asn_rule="DMS_Level3_Base" if plan.level == "Level3" else "DMSLevel2bBase",
        asn_id="o" + plan.product.split("-o", 1)[1][:3] if "-o" in plan.product else "a3001",
        program=program or "noprogram",
        target="t001" if plan.level == "Level3" else None,
        asn_pool="webbflow_manifest",
    )
    return write_asn(asn, path)


_INDEX_COLUMNS = ("file", "product", "asn_type", "pipeline", "level", "members")


def write_index(plans: list[AsnPlan], path: str | os.PathLike) -> None:
    """The association index (TSV; members as ``root:exptype:suffix`` joined by ``,``)."""
    rows = [
        (p.file, p.product, p.asn_type, p.pipeline, p.level,
         ",".join(":".join(m) for m in p.members))
        for p in plans
    ]
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part")
    pd.DataFrame(rows, columns=list(_INDEX_COLUMNS)).to_csv(tmp, sep="\t", index=False)
    tmp.replace(path)


def read_index(path: str | os.PathLike) -> list[AsnPlan]:
    """Read :func:`write_index`'s TSV back."""
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    return [
        AsnPlan(r.file, r.product, r.asn_type, r.pipeline, r.level,
                tuple(tuple(m.split(":")) for m in r.members.split(",") if m))
        for r in frame.itertuples()
    ]


# --------------------------------------------------------------------------- summary


def summary_lines(
    table: pd.DataFrame,
    plans: list[AsnPlan],
    implemented: Implemented,
    exists: Callable[[str], bool] | None = None,
    failed: bool = False,
) -> list[str]:
    """One line per exposure: what each stage made, or where it stopped and why.

    ``<root>\\t<EXP_TYPE>\\t<verdict>\\t<stage details>``; the verdict is ``done``, ``stopped
    after stage N: <why>`` or ``not run: <why>``. With ``exists`` (a test on paths relative
    to the output directory) a planned product that is missing reads ``FAILED`` when the run
    ``failed``, else ``pending`` (a run asked for other targets only).
    """
    lines = []
    for _, row in table.iterrows():
        lines.append(_exposure_line(row, plans, implemented, exists, failed))
    return lines


def _alias(value: object) -> str | None:
    """A pipeline alias, None for N/A, empty or NaN."""
    return value if isinstance(value, str) and value not in ("", "N/A") else None


def _names(paths: list[str]) -> str:
    return ", ".join(Path(p).name for p in paths)


def _stopped(last_done: int, why: str) -> str:
    return f"stopped after stage {last_done}: {why}" if last_done else f"not run: {why}"


def _exposure_line(row, plans, implemented, exists, failed) -> str:
    root, exp_type = str(row["root"]), str(row["exp_type"])
    aliases = [_alias(row["stage1"]), _alias(row["stage2"]), _alias(row["stage3"])]
    if not any(aliases):
        return f"{root}\t{exp_type}\tnot run: EXP_TYPE {exp_type} is not in the EXP_TYPE table"
    parts: list[str] = []
    last_done = 0
    verdict = ""
    for stage, alias in enumerate(aliases, 1):
        if alias is None:
            continue
        if verdict:
            parts.append(f"stage{stage} {alias}: not reached")
            continue
        if not implemented(alias):
            parts.append(f"stage{stage} {alias}: not yet in the workflow")
            verdict = _stopped(last_done, f"{alias} is not available in this webbflow")
            continue
        if stage < 3:
            made = stage_products(row, stage)
        else:
            mine = [p for p in plans if p.level == "Level3" and
                    any(m[0] == root for m in p.members)]
            if not mine:
                why = ("background exposure: a background member of its image2 associations"
                       if row["bkgdtarg"] else "in no stage-3 association")
                parts.append(f"stage3 {alias}: {why}")
                verdict = (f"done after stage {last_done} ({why})" if row["bkgdtarg"]
                           else _stopped(last_done, why))
                continue
            made = [p for plan in mine for p in plan.products()]
        missing = [p for p in made if exists is not None and not exists(p)]
        if missing and failed:
            parts.append(f"stage{stage} {alias}: FAILED, missing {_names(missing)}")
            verdict = _stopped(last_done, f"{alias} did not finish")
            continue
        if missing:
            parts.append(f"stage{stage} {alias}: not made yet, {_names(missing)}")
            verdict = f"pending after stage {last_done}: {alias} products not made in this run"
            continue
        parts.append(f"stage{stage} {alias} -> {_names(made)}")
        last_done = stage
    if not verdict:
        absent = [f"stage {n}" for n, a in ((2, aliases[1]), (3, aliases[2])) if a is None]
        verdict = "done" + (f" ({exp_type} has no {' or '.join(absent)}, as officially)"
                            if absent else "")
    return f"{root}\t{exp_type}\t{verdict}\t" + "; ".join(parts)
