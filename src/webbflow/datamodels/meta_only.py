"""Metadata-only reads: a product's headers and ASDF-only metadata (the WCS) without its pixels.

:func:`open_meta` gives the model ``open`` would give, with the same ``meta``, ``extra_fits``
and ``extra_hdus``, but no arrays or tables read (the HDUs' data are not touched except the
ASDF extension's and those of HDUs the model keeps whole), plus the shapes of the arrays the
file holds, from their ``NAXISn`` keywords. For stage-3 steps that hand exposures along as
file-backed records and read the pixels later, one exposure at a time.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from astropy.io import fits

from ..errors import WebbflowError, input_error
from .model import ASDF_EXTNAME, DataModel

__all__ = ["open_meta"]


def _hdu_shape(header: fits.Header) -> tuple[int, ...] | None:
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
    cls = _guess_class(path)
    model = cls()
    try:
        hdul = fits.open(path, memmap=False)
    except (OSError, ValueError, TypeError) as exc:
        raise input_error(path, f"not a readable FITS file ({exc})") from None
    with hdul, warnings.catch_warnings():
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)
        try:
            shapes = _read_meta(model, hdul, path)
        except (ValueError, TypeError, OSError, IndexError) as exc:
            if isinstance(exc, WebbflowError):
                raise
            raise input_error(path, f"unreadable header, the file may be truncated ({exc})"
                              ) from None
    model.meta.filename = path.name
    return model, shapes


def _read_meta(model: DataModel, hdul: fits.HDUList, path: Path
               ) -> dict[str, tuple[int, ...]]:
    cls = type(model)
    primary = hdul[0].header
    for key in cls.required_keywords:
        if key not in primary or primary[key] in (None, ""):
            raise input_error(path, f"primary header has no {key} keyword")
    names = [h.name.upper() for h in hdul]
    shapes: dict[str, tuple[int, ...]] = {}
    for name, spec in cls.arrays.items():
        if spec.extname in names:
            shape = _hdu_shape(hdul[spec.extname].header)
            if shape is not None:
                shapes[name] = shape
    if "data" in cls.arrays and "data" not in shapes:
        raise input_error(path, f"no {cls.arrays['data'].extname} extension with data")
    if cls.ndim is not None and len(shapes["data"]) != cls.ndim:
        raise input_error(path, f"{cls.arrays['data'].extname} has {len(shapes['data'])} "
                          f"dimensions, {cls.__name__} needs {cls.ndim}")
    model._read_headers(hdul)
    known = {s.extname for s in cls.arrays.values()} | set(cls.tables.values())
    for hdu in hdul[1:]:
        if hdu.name.upper() not in known and hdu.name.upper() != ASDF_EXTNAME:
            model.extra_hdus.append(hdu.copy())
    if ASDF_EXTNAME in names:
        model._read_asdf_tree(hdul[ASDF_EXTNAME], path)
    return shapes
