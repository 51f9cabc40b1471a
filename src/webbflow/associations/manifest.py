"""The exposure manifest: one row per raw exposure, with the pipelines each stage applies.

The pipelines come from ``exptype_pipelines.tsv``, the official "Pipelines vs. Exposure Type"
table (EXP_TYPE and TSOVISIT select the stage-1/2/3 pipeline aliases). The manifest is what the
Snakemake workflow uses to decide which rules run for which exposure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import input_error

if TYPE_CHECKING:
    from astropy.io import fits

__all__ = [
    "MANIFEST_COLUMNS",
    "ROOT_PATTERN",
    "build_manifest",
    "exptype_table",
    "pipelines_for",
    "read_manifest",
    "root_of",
    "write_manifest",
]

#: A product root: the official ``jw<ppppp><ooo><vvv>_<ggsaa>_<eeeee>[-seg<nnn>]_<detector>``
#: file name stem, or else a plain name of letters, digits, ``+``/``-`` parts joined by single
#: underscores (no dots, slashes or spaces, so a root can never swallow a suffix or a folder).
ROOT_PATTERN = (
    r"jw\d{11}_\d{5}_\d{5}(?:-seg\d{3})?_[a-z0-9]+"
    r"|[A-Za-z0-9][A-Za-z0-9+-]*(?:_[A-Za-z0-9+-]+)*"
)

_ROOT_RE = re.compile(rf"(?:{ROOT_PATTERN})")

#: Manifest columns: (column, primary-header keyword or None, type).
_HEADER_COLUMNS: tuple[tuple[str, str, type], ...] = (
    ("instrument", "INSTRUME", str),
    ("detector", "DETECTOR", str),
    ("exp_type", "EXP_TYPE", str),
    ("tsovisit", "TSOVISIT", bool),
    ("readpatt", "READPATT", str),
    ("subarray", "SUBARRAY", str),
    ("filter", "FILTER", str),
    ("pupil", "PUPIL", str),
    ("program", "PROGRAM", str),
    ("observation", "OBSERVTN", str),
    ("visit", "VISIT", str),
    ("patttype", "PATTTYPE", str),
    ("bkgdtarg", "BKGDTARG", bool),
    ("nints", "NINTS", int),
    ("ngroups", "NGROUPS", int),
)
MANIFEST_COLUMNS: tuple[str, ...] = (
    "root",
    "path",
    *(c for c, _, _ in _HEADER_COLUMNS),
    "stage1",
    "stage2",
    "stage3",
)
_REQUIRED = ("INSTRUME", "EXP_TYPE")
#: PATTTYPE of wavefront-sensing dithers: such imaging pairs take calwebb_wfs-image3 at stage 3
WFSC_PATTTYPE = "WFSC"
WFS_IMAGE3 = "calwebb_wfs-image3"
_STAGES = ("stage1", "stage2", "stage3")
_RAW_SUFFIX = "_uncal"


@cache
def exptype_table() -> pd.DataFrame:
    """The EXP_TYPE → pipeline table (columns exp_type, tsovisit, stage1, stage2, stage3)."""
    path = Path(__file__).with_name("exptype_pipelines.tsv")
    return pd.read_csv(path, sep="\t", comment="#", dtype=str, keep_default_na=False)


Stages = tuple[str | None, str | None, str | None]


def pipelines_for(exp_type: str, tsovisit: bool | None, patttype: str | None = None) -> Stages:
    """Stage-1, stage-2 and stage-3 pipeline aliases for an exposure.

    Parameters
    ----------
    exp_type : str
        EXP_TYPE keyword value (case-insensitive).
    tsovisit : bool or None
        TSOVISIT keyword value; None (keyword absent) counts as False, as officially.
    patttype : str, optional
        PATTTYPE keyword value; ``WFSC`` turns an imaging exposure's stage 3 into
        ``calwebb_wfs-image3`` (the WFS&C dithered pairs).

    Returns
    -------
    tuple
        ``(stage1, stage2, stage3)``, e.g. ``("calwebb_detector1", "calwebb_image2",
        "calwebb_image3")``; None where the table says N/A. An EXP_TYPE that is not in the
        table gives ``(None, None, None)``. A mode listed only as TSO (``NRC_TSIMAGE``) takes
        its TSO row whatever TSOVISIT says.
    """
    stages = _table_stages(exp_type, tsovisit)
    wfsc = str(patttype or "").strip().upper() == WFSC_PATTTYPE
    if wfsc and stages[1] == "calwebb_image2" and stages[2] == "calwebb_image3":
        return (stages[0], stages[1], WFS_IMAGE3)
    return stages


def _table_stages(exp_type: str, tsovisit: bool | None) -> Stages:
    table = exptype_table()
    rows = table[table["exp_type"] == str(exp_type).strip().upper()]
    if rows.empty:
        return (None, None, None)
    wanted = "True" if tsovisit else "False"
    chosen = rows[rows["tsovisit"].isin(("N/A", wanted))]
    if chosen.empty:
        chosen = rows
    row = chosen.iloc[0]
    return tuple(None if row[s] == "N/A" else row[s] for s in _STAGES)


def root_of(path: str | os.PathLike) -> str:
    """Product root of a raw file name: ``dir/x_uncal.fits`` → ``x``.

    Raises
    ------
    InputError
        When the name does not end in ``_uncal.fits`` or the root has unsafe characters.
    """
    name = Path(path).name
    stem = name[: -len(".fits")] if name.endswith(".fits") else None
    if stem is None or not stem.endswith(_RAW_SUFFIX):
        raise input_error(path, "raw exposure names must end in '_uncal.fits'")
    root = stem[: -len(_RAW_SUFFIX)]
    if not _ROOT_RE.fullmatch(root):
        raise input_error(
            path,
            f"file name root {root!r} is neither a JWST name (jw..._<detector>) nor letters, "
            "digits, '+', '-' joined by single underscores",
        )
    return root


def _header_value(header: fits.Header, key: str, kind: type) -> object:
    value = header.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return False if kind is bool else (0 if kind is int else "")
    if kind is bool:
        if isinstance(value, str):
            return value.strip().upper() in ("T", "TRUE", "Y", "YES", "1")
        return bool(value)
    if kind is int:
        return int(value)
    return str(value).strip()


def _read_row(path: Path) -> dict[str, object]:
    # astropy.io.fits here, not at module level: Snakemake's start-up imports this module
    # and only the manifest job reads headers (astropy.units alone costs ~0.5 s per start)
    from astropy.io import fits

    if not path.exists():
        raise input_error(path, "no such file")
    try:
        header = fits.getheader(path, 0)
    except (OSError, ValueError) as exc:
        raise input_error(path, f"not a readable FITS file ({exc})") from None
    missing = [k for k in _REQUIRED if not str(header.get(k, "")).strip()]
    if missing:
        raise input_error(path, f"no {' or '.join(missing)} keyword in the primary header")
    row: dict[str, object] = {"root": root_of(path), "path": str(path)}
    for column, key, kind in _HEADER_COLUMNS:
        try:
            row[column] = _header_value(header, key, kind)
        except (TypeError, ValueError):
            raise input_error(path, f"{key} = {header.get(key)!r} is not {kind.__name__}") from None
    row["instrument"] = str(row["instrument"]).upper()
    row["exp_type"] = str(row["exp_type"]).upper()
    stages = pipelines_for(str(row["exp_type"]), bool(row["tsovisit"]), str(row["patttype"]))
    row.update({"stage1": stages[0], "stage2": stages[1], "stage3": stages[2]})
    return row


def build_manifest(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Read each raw exposure's primary header into one manifest row.

    Parameters
    ----------
    paths : iterable of path-like
        Raw ``*_uncal.fits`` files.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MANIFEST_COLUMNS`, one row per file, sorted by root; ``stage1/2/3`` hold
        pipeline aliases or None.

    Raises
    ------
    InputError
        One line naming the file: missing, not FITS, no INSTRUME/EXP_TYPE, a bad file name,
        or two files with the same root.
    """
    rows = [_read_row(Path(p)) for p in paths]
    frame = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    for stage in _STAGES:
        frame[stage] = _none_for_missing(frame[stage])
    duplicated = frame[frame["root"].duplicated()]
    if not duplicated.empty:
        first = duplicated.iloc[0]
        raise input_error(first["path"], f"another input has the same root {first['root']!r}")
    return frame.sort_values("root", ignore_index=True)


def _none_for_missing(column: pd.Series) -> pd.Series:
    """Pipeline aliases as Python objects, None (not NaN) where a stage has no pipeline."""
    values = [None if not isinstance(v, str) or v in ("", "N/A") else v for v in column]
    return pd.Series(values, index=column.index, dtype=object)


def write_manifest(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the manifest as TSV (None written as ``N/A``), atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, sep="\t", index=False, na_rep="N/A")
    os.replace(tmp, path)


def read_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """Read a manifest TSV back: text columns stay text (``"001"``), ``N/A`` becomes None."""
    kinds = {c: k for c, _, k in _HEADER_COLUMNS}
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    for column in frame.columns:
        if kinds.get(column) is int:
            frame[column] = frame[column].astype(int)
        elif kinds.get(column) is bool:
            frame[column] = frame[column] == "True"
    for stage in _STAGES:
        frame[stage] = _none_for_missing(frame[stage])
    return frame
