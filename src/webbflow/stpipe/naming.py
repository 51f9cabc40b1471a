"""Output file names: product suffixes, suffix removal, and the three naming schemes.

- A pipeline's product replaces the input's suffix: ``x_uncal.fits`` → ``x_rate.fits``.
- A lone step run without ``output_file`` appends its suffix to the input's whole root:
  ``x_uncal.fits`` → ``x_uncal_dq_init.fits`` (as the official documentation describes).
- A step saved inside a pipeline is named from the pipeline's input root:
  ``x_uncal.fits`` → ``x_dq_init.fits``.

``output_file`` always wins over the scheme; ``output_dir`` prefixes whatever name is chosen.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Product suffixes of the official pipeline (the table in the documentation) and the other
#: products stage 2/3 write. Step aliases are added from the catalog.
PRODUCT_SUFFIXES: tuple[str, ...] = (
    "uncal", "ramp", "rate", "rateints", "fitopt", "bsub", "bsubints", "cal", "calints",
    "x1d", "x1dints", "i2d", "s2d", "s3d", "c1d", "crf", "crfints", "cat", "segm",
    "psfstack", "psfalign", "psfsub", "ami-oi", "amimulti-oi", "amilg", "phot", "whtlt",
    "dark", "trapsfilled", "wfscmb", "median", "blot",
)


def known_suffixes() -> frozenset[str]:
    """Product suffixes plus every catalogued step alias (and registered test aliases)."""
    from .. import catalog

    return frozenset(PRODUCT_SUFFIXES) | catalog.step_aliases()


def remove_suffix(root: str) -> str:
    """Strip trailing known suffixes (``_uncal``, ``_rate``, ``_dq_init``...) from a name root.

    >>> remove_suffix("jw001_nrca1_uncal")
    'jw001_nrca1'
    """
    suffixes = known_suffixes()
    changed = True
    while changed:
        changed = False
        for suffix in sorted(suffixes, key=len, reverse=True):
            tail = "_" + suffix
            if root.endswith(tail) and len(root) > len(tail):
                root = root[: -len(tail)]
                changed = True
                break
    return root


def split_name(filename: str | os.PathLike) -> tuple[str, str]:
    """``("dir/x_uncal.fits")`` → ``("x_uncal", ".fits")`` (the directory is dropped)."""
    name = Path(filename).name
    stem, ext = os.path.splitext(name)
    return stem, ext


def _in_dir(name: str, output_dir: str | None) -> str:
    return str(Path(output_dir) / name) if output_dir else name


def product_name(input_name: str, suffix: str, ext: str = ".fits",
                 output_dir: str | None = None) -> str:
    """A pipeline product or an intermediate saved inside a pipeline: suffix replaced."""
    stem, _ = split_name(input_name)
    return _in_dir(f"{remove_suffix(stem)}_{suffix}{ext}", output_dir)


def lone_step_name(input_name: str, suffix: str, ext: str = ".fits",
                   output_dir: str | None = None) -> str:
    """A step run on its own: suffix appended to the input's whole root."""
    stem, _ = split_name(input_name)
    return _in_dir(f"{stem}_{suffix}{ext}", output_dir)


def output_file_name(output_file: str, ext: str = ".fits", suffix: str | None = None,
                     output_dir: str | None = None) -> str:
    """Name from a user's ``output_file``.

    The main product is ``output_file`` itself (``ext`` added when it has none). A secondary
    product (``suffix`` given, e.g. ``rateints`` next to ``rate``) takes the output file's root
    with its known suffix replaced: ``out_rate.fits`` → ``out_rateints.fits``.
    """
    path = Path(output_file)
    stem, own_ext = os.path.splitext(path.name)
    own_ext = own_ext or ext
    if suffix is not None:
        name = f"{remove_suffix(stem)}_{suffix}{own_ext}"
    else:
        name = f"{stem}{own_ext}"
    if output_dir and not path.is_absolute():
        return str(Path(output_dir) / path.parent / name)
    return str(path.parent / name) if str(path.parent) != "." else name
