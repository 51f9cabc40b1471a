"""Build a local CRDS cache (mappings, references, server config) from a list of files.

The cache works offline with the ``crds`` library (ours) and with the official pipeline::

    <cache_dir>/config/jwst/server_config          operational context, no server needed
    <cache_dir>/mappings/jwst/jwst_9001.pmap         selects on META.INSTRUMENT.NAME
    <cache_dir>/mappings/jwst/jwst_nircam_9001.imap  reftype -> rmap or 'N/A'
    <cache_dir>/mappings/jwst/jwst_nircam_dark_9001.rmap   Match + UseAfter
    <cache_dir>/references/jwst/nircam/<file>

Each rmap's Match parkeys are the union of its entries' ``match`` keys (an entry lacking a key
matches any value there, written 'N/A'); its UseAfter parkeys are META.OBSERVATION.DATE/TIME.
When some entries of a reftype are limited to EXP_TYPEs (a ``META.EXPOSURE.TYPE`` match key),
the rmap gets an ``rmap_relevance`` expression so other EXP_TYPEs get 'N/A', as in the
official rules. Every mapping carries ``derived_from`` and a valid ``sha1sum`` (sha1 of the
text without the sha1sum line, the check ``crds`` applies on load).

Several contexts can share one cache: mapping names carry the context serial, and the
server config names the context built last as operational.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, ReferenceError_

__all__ = [
    "DETECTOR1_IMAGE2_REFTYPES",
    "PARS_REFTYPES",
    "RefEntry",
    "build_cache",
    "checksum_text",
]

USEAFTER_KEYS = ("META.OBSERVATION.DATE", "META.OBSERVATION.TIME")
EXP_TYPE_KEY = "META.EXPOSURE.TYPE"

#: reference types the Detector1, Image2 and Image3 steps ask for (N/A when the cache has none)
DETECTOR1_IMAGE2_REFTYPES: tuple[str, ...] = (
    # detector1
    "mask", "saturation", "ipc", "superbias", "refpix", "sirskernel", "linearity", "dark",
    "reset", "rscd", "emicorr", "persat", "trapdensity", "trappars", "pictureframe", "gain",
    "readnoise",
    # image2 / spec2 assign_wcs, background, flat, photom
    "distortion", "filteroffset", "specwcs", "regions", "wavelengthrange", "camera",
    "chromcorr", "collimator", "disperser", "fore", "fpa", "msa", "ote", "ifupost", "ifufore",
    "ifuslicer", "bkg", "flat", "fflat", "sflat", "dflat", "photom", "area",
    # image3
    "apcorr", "abvegaoffset", "drizpars",
)

#: parameter reference types of the Detector1/Image2/Image3 pipelines and their steps
PARS_REFTYPES: tuple[str, ...] = tuple("pars-" + name for name in (
    "detector1pipeline", "image2pipeline", "image3pipeline", "groupscalestep", "dqinitstep",
    "emicorrstep", "saturationstep", "ipcstep", "superbiasstep", "refpixstep", "rscdstep",
    "firstframestep", "lastframestep", "linearitystep", "darkcurrentstep", "resetstep",
    "persistencestep", "chargemigrationstep", "jumpstep", "pictureframestep",
    "cleanflickernoisestep", "rampfitstep", "gainscalestep", "assignwcsstep",
    "backgroundstep", "imprintstep", "msaflagopenstep", "flatfieldstep", "photomstep",
    "resamplestep", "assignmtwcsstep", "tweakregstep", "skymatchstep",
    "outlierdetectionstep", "sourcecatalogstep",
))

_CONTEXT_RE = re.compile(r"^jwst_(\d+)\.pmap$")


@dataclass
class RefEntry:
    """One reference file and the selection that picks it.

    Parameters
    ----------
    instrument : str
        Instrument name (``"NIRCAM"``; case-insensitive).
    reftype : str
        CRDS reference type (``"dark"``, ``"pars-jumpstep"``; case-insensitive).
    path : Path
        The reference file to copy into the cache (its name is kept).
    match : dict of str to str
        CRDS parkeys and values, e.g. ``{"META.INSTRUMENT.DETECTOR": "NRCA1",
        "META.SUBARRAY.NAME": "FULL|SUB640"}`` (``|`` separates alternatives).
    useafter : str
        ``"YYYY-MM-DD HH:MM:SS"``: the file applies to exposures from this date on.
    """

    instrument: str
    reftype: str
    path: Path
    match: dict[str, str] = field(default_factory=dict)
    useafter: str = "2022-01-01 00:00:00"


def checksum_text(text: str) -> str:
    """sha1 hex digest of a mapping's text without its sha1sum line (CRDS's own rule)."""
    kept = "".join(line for line in text.splitlines(True) if "sha1sum" not in line)
    return hashlib.sha1(kept.encode("utf-8")).hexdigest()


def _render(header: dict, selector: str) -> str:
    lines = ["header = {"]
    for key in sorted(header):
        lines.append(f"    {key!r} : {header[key]!r},")
    lines.append("}")
    text = "\n".join(lines) + "\n\nselector = " + selector + "\n"
    digest = checksum_text(text)
    return text.replace("    'sha1sum' : '',", f"    'sha1sum' : {digest!r},")


def _write_mapping(path: Path, header: dict, selector: str) -> None:
    header = {**header, "sha1sum": ""}
    text = _render(header, selector)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text)
    tmp.replace(path)


def _dict_selector(mapping: dict[str, str]) -> str:
    body = "".join(f"    {k!r} : {v!r},\n" for k, v in sorted(mapping.items()))
    return "{\n" + body + "}"


def _check_useafter(entry: RefEntry) -> None:
    if not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", entry.useafter):
        raise ConfigError(f"{entry.path}: useafter {entry.useafter!r} is not "
                          "'YYYY-MM-DD HH:MM:SS'")


def _rmap_text_parts(instrument: str, reftype: str, name: str, entries: list[RefEntry],
                     derived_from: str) -> tuple[dict, str]:
    keys: list[str] = []
    for entry in entries:
        for key in entry.match:
            if key.upper() not in keys:
                keys.append(key.upper())
    rows: dict[tuple[str, ...], dict[str, str]] = {}
    for entry in entries:
        _check_useafter(entry)
        match = {k.upper(): str(v).upper() for k, v in entry.match.items()}
        key = tuple(match.get(k, "N/A") for k in keys)
        dates = rows.setdefault(key, {})
        if entry.useafter in dates:
            raise ConfigError(f"{entry.path}: {instrument} {reftype} has two files for "
                              f"{dict(zip(keys, key))} useafter {entry.useafter}")
        dates[entry.useafter] = entry.path.name
    header = {
        "derived_from": derived_from,
        "filekind": reftype.upper(),
        "instrument": instrument,
        "mapping": "REFERENCE",
        "name": name,
        "observatory": "JWST",
    }
    lines = []
    if keys:
        header["classes"] = ("Match", "UseAfter")
        header["parkey"] = (tuple(keys), USEAFTER_KEYS)
        lines.append("Match({")
        for key, dates in rows.items():
            lines.append(f"    {key!r} : UseAfter({{")
            lines.extend(f"        {d!r} : {f!r}," for d, f in sorted(dates.items()))
            lines.append("    }),")
        lines.append("})")
    else:
        header["classes"] = ("UseAfter",)
        header["parkey"] = (USEAFTER_KEYS,)
        lines.append("UseAfter({")
        lines.extend(f"    {d!r} : {f!r}," for d, f in sorted(rows[()].items()))
        lines.append("})")
    exp_limits = [e.match.get(EXP_TYPE_KEY) or e.match.get(EXP_TYPE_KEY.lower())
                  for e in entries]
    if all(exp_limits):
        allowed = sorted({v.upper() for lim in exp_limits for v in lim.split("|")})
        header["rmap_relevance"] = f"({EXP_TYPE_KEY} in {allowed!r})"
    return header, "\n".join(lines)


def _copy_reference(entry: RefEntry, dest_dir: Path) -> None:
    src = Path(entry.path)
    if not src.is_file():
        raise ReferenceError_(f"{src}: no such reference file for {entry.instrument} "
                              f"{entry.reftype}")
    dest = dest_dir / src.name
    if dest.exists():
        if dest.resolve() == src.resolve():
            return
        if dest.read_bytes() == src.read_bytes():
            return
        raise ReferenceError_(f"{dest}: a different file of the same name is already in the "
                              "cache (CRDS reference names must be unique)")
    tmp = dest.with_name(f".{dest.name}.part")
    shutil.copyfile(src, tmp)
    tmp.replace(dest)


def build_cache(cache_dir: Path, context: str, entries: list[RefEntry],
                exp_types: dict[str, list[str]]) -> Path:
    """Write a local CRDS cache holding ``entries`` under the pipeline mapping ``context``.

    Parameters
    ----------
    cache_dir : Path
        Cache root (CRDS_PATH); created if needed. Other contexts already there are kept.
    context : str
        Pipeline mapping name, ``"jwst_<serial>.pmap"`` (e.g. ``"jwst_9001.pmap"``).
    entries : list of RefEntry
        Reference files and their selections (``pars-*`` reftypes included).
    exp_types : dict of str to list of str
        EXP_TYPEs per instrument the cache serves (``{"NIRCAM": ["NRC_IMAGE"]}``); an
        instrument listed here without entries still gets an imap (all 'N/A').

    Returns
    -------
    Path
        The written pmap.

    Raises
    ------
    ConfigError
        Bad context name or useafter date, or two files for the same selection and date.
    ReferenceError_
        A reference file is missing or clashes with a different file of the same name.
    """
    match = _CONTEXT_RE.match(context)
    if match is None:
        raise ConfigError(f"context {context!r}: expected a name like 'jwst_9001.pmap'")
    serial = match.group(1)
    cache_dir = Path(cache_dir)
    mapdir = cache_dir / "mappings" / "jwst"
    mapdir.mkdir(parents=True, exist_ok=True)
    derived = f"generated by webbflow.references.local_cache for {context}"

    by_instrument: dict[str, dict[str, list[RefEntry]]] = {}
    for inst in exp_types:
        by_instrument.setdefault(inst.upper(), {})
    for entry in entries:
        inst = entry.instrument.upper()
        by_instrument.setdefault(inst, {}).setdefault(entry.reftype.lower(), []).append(entry)

    imaps: dict[str, str] = {}
    for inst, reftypes in sorted(by_instrument.items()):
        refdir = cache_dir / "references" / "jwst" / inst.lower()
        refdir.mkdir(parents=True, exist_ok=True)
        selections = dict.fromkeys(DETECTOR1_IMAGE2_REFTYPES + PARS_REFTYPES, "N/A")
        for reftype, group in sorted(reftypes.items()):
            for entry in group:
                _copy_reference(entry, refdir)
            rmap = f"jwst_{inst.lower()}_{reftype}_{serial}.rmap"
            header, selector = _rmap_text_parts(inst, reftype, rmap, group, derived)
            _write_mapping(mapdir / rmap, header, selector)
            selections[reftype] = rmap
        imap = f"jwst_{inst.lower()}_{serial}.imap"
        header = {"derived_from": derived, "instrument": inst, "mapping": "INSTRUMENT",
                  "name": imap, "observatory": "JWST", "parkey": (EXP_TYPE_KEY,)}
        _write_mapping(mapdir / imap, header, _dict_selector(selections))
        imaps[inst] = imap

    header = {"derived_from": derived, "mapping": "PIPELINE", "name": context,
              "observatory": "JWST", "parkey": ("META.INSTRUMENT.NAME",)}
    pmap = mapdir / context
    _write_mapping(pmap, header, _dict_selector(imaps))

    config_dir = cache_dir / "config" / "jwst"
    config_dir.mkdir(parents=True, exist_ok=True)
    server_config = {"observatory": "jwst", "operational_context": context,
                     "last_synced": "2026-01-01 00:00:00", "bad_files_list": [],
                     "force_remote_mode": False}
    tmp = config_dir / ".server_config.part"
    tmp.write_text(repr(server_config) + "\n")
    tmp.replace(config_dir / "server_config")
    return pmap
