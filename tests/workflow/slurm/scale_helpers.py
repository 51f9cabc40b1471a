"""Helpers of the workflow-at-scale tests (test_slurm, test_resume, test_reproducibility,
test_cache): the shared tiny demo, stage-1 targets, array checksums, dry-run job counts.

Imported as ``from slurm.scale_helpers import ...`` (pytest puts ``tests/workflow`` on the path).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from astropy.io import fits

#: the tiny demo: 2 exposures x SUB160 x 1 integration x 5 groups
TINY = {"n_exposures": 2, "subarray": "SUB160", "nints": 1, "ngroups": 5}
TINY_CONFIG = "inputs={demo: {n_exposures: 2, subarray: SUB160, nints: 1, ngroups: 5}}"
ROOTS = ("jw01234001001_01101_00001_nrca1", "jw01234001001_01101_00002_nrca1")
STAGE1_SUFFIXES = ("rate", "rateints")
ARRAYS = ("SCI", "ERR", "DQ")

_DEMO: dict[str, Path] = {}


def tiny_demo(tmp_path_factory) -> Path:
    """The tiny demo (``uncal/``, ``crds_cache/`` with context jwst_9001), made once a session.

    Tests only read it; one wanting other files copies or links them elsewhere.
    """
    if "dir" not in _DEMO:
        from webbflow.demo import generate_demo

        out = tmp_path_factory.mktemp("tiny_demo")
        generate_demo(out, **TINY)
        _DEMO["dir"] = out
    return _DEMO["dir"]


def uncal_dir_config(
    uncal_dir: Path, crds_path: Path, context: str = "jwst_9001.pmap"
) -> list[str]:
    """``--config`` items running the workflow on a directory of raw files (no demo rule)."""
    return [
        f"inputs={{demo: {{enabled: false}}, uncal_dir: {uncal_dir}}}",
        f"crds={{context: {context}, path: {crds_path}}}",
    ]


def stage1_targets(outdir: str = "results", roots: tuple[str, ...] = ROOTS) -> list[str]:
    """The detector1 products of ``roots`` (explicit targets: later stages are not planned)."""
    return [f"{outdir}/stage1/{r}_{s}.fits" for r in roots for s in STAGE1_SUFFIXES]


def array_checksums(paths: list[Path]) -> dict[str, str]:
    """SHA-256 of each product's SCI/ERR/DQ arrays (shape, dtype and bytes; headers ignored).

    Returns
    -------
    dict
        ``{"<file name>[<EXTNAME>]": hexdigest}``.
    """
    sums = {}
    for path in paths:
        with fits.open(path) as hdul:
            for name in ARRAYS:
                if name not in hdul:
                    continue
                data = hdul[name].data
                digest = hashlib.sha256(f"{data.shape}{data.dtype.str}".encode())
                digest.update(data.tobytes())
                sums[f"{Path(path).name}[{name}]"] = digest.hexdigest()
    return sums


def job_counts(output: str) -> dict[str, int]:
    """The ``Job stats`` table of a Snakemake (dry) run: ``{rule: count, "total": n}``."""
    counts = {}
    if "Job stats:" not in output:
        return counts
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    for line in table.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def planned_roots(output: str, rule: str = "detector1") -> list[str]:
    """Wildcards ``root`` of the ``rule`` jobs a (dry) run lists, sorted."""
    roots = set()
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", output):
        if re.match(rf"(?:local)?rule {rule}:", block.strip()):
            found = re.search(r"wildcards: root=(\S+)", block)
            if found:
                roots.add(found.group(1).rstrip(","))
    return sorted(roots)


def add_context(cache: Path, old: str, new: str, replace: dict[str, Path]) -> None:
    """Add context ``new`` to a local CRDS cache: ``old``'s mappings with some files replaced.

    Parameters
    ----------
    cache : Path
        The cache root (CRDS_PATH) holding ``old`` (e.g. ``jwst_9001.pmap``).
    old, new : str
        Context names ``jwst_<serial>.pmap``.
    replace : dict of str to Path
        Reference file name in ``old`` -> the new file (copied next to it, a new unique name).
    """
    from webbflow.references.local_cache import checksum_text

    old_serial, new_serial = old.split("_")[1].split(".")[0], new.split("_")[1].split(".")[0]
    mapdir = cache / "mappings" / "jwst"
    for path in sorted(mapdir.glob(f"*_{old_serial}.*map")):
        text = path.read_text().replace(f"_{old_serial}.", f"_{new_serial}.")
        for old_name, new_file in replace.items():
            if old_name in text:
                instrument = re.search(r"'instrument' : '(\w+)'", text).group(1).lower()
                target = cache / "references" / "jwst" / instrument / new_file.name
                shutil.copyfile(new_file, target)
                text = text.replace(old_name, new_file.name)
        text = re.sub(r"'sha1sum' : '[0-9a-f]*'", "'sha1sum' : ''", text)
        text = text.replace("'sha1sum' : ''", f"'sha1sum' : {checksum_text(text)!r}")
        (mapdir / path.name.replace(f"_{old_serial}.", f"_{new_serial}.")).write_text(text)


REPO = Path(__file__).resolve().parents[3]
WORKFLOW_PARTS = ("Snakefile", "rules", "scripts", "config", "envs", "profiles")


def copy_workflow(target: Path) -> Path:
    """A private copy of the workflow (as the ``workflow_dir`` fixture makes) in ``target``."""
    target.mkdir(parents=True)
    for part in WORKFLOW_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            shutil.copy2(source, target / part)
    return target
