"""Metadata-only reads: a product's headers and ASDF-only metadata (the WCS) without its pixels.

:func:`open_meta` gives the model ``open`` would give, with the same ``meta``, ``extra_fits``
and ``extra_hdus``, but no arrays or tables read (the HDUs' data are not touched except the
ASDF extension's and those of HDUs the model keeps whole), plus the shapes of the arrays the
file holds, from their ``NAXISn`` keywords. For stage-3 steps that hand exposures along as
file-backed records and read the pixels later, one exposure at a time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import input_error
from .model import DataModel, read_fits

__all__ = ["open_meta"]


def _hdu_shape(header: Any) -> tuple[int, ...] | None:
    """Data shape (numpy order) from NAXIS/NAXISn; None without data."""
    naxis = int(header.get("NAXIS", 0))
    if naxis == 0:
        return None
    return tuple(int(header[f"NAXIS{k}"]) for k in range(naxis, 0, -1))


def open_meta(path: str | os.PathLike) -> tuple[DataModel, dict[str, tuple[int, ...]]]:
    """The model class ``datamodels.open`` picks for ``path``, holding only its metadata.

    Returns
    -------
    (model, shapes)
        ``model``: metadata (``meta``, incl. ``meta.wcs`` and ``meta.filename``),
        ``extra_fits`` and ``extra_hdus`` as ``open`` reads them; no arrays.
        ``shapes``: ``{attr: shape}`` of each model array present in the file with data
        (e.g. ``{"data": (2048, 2048), "dq": (2048, 2048), ...}``).

    Raises
    ------
    InputError
        Missing or unreadable file, no SCI data, wrong number of dimensions or missing
        required keywords (as ``open``).
    """
    from . import _guess_class

    path = Path(path)
    if not path.exists():
        raise input_error(path, "no such file")
    model = _guess_class(path)()
    with read_fits(path, "header") as hdul:
        model._check_required(hdul, path)
        shapes: dict[str, tuple[int, ...]] = {}
        for name, spec in type(model).arrays.items():
            if spec.extname in [h.name.upper() for h in hdul]:
                shape = _hdu_shape(hdul[spec.extname].header)
                if shape is not None:
                    shapes[name] = shape
        model._check_data(path, shapes.get("data"))
        model._read_extras(hdul, path)
    model.meta.filename = path.name
    return model, shapes
