"""The data-model base class: arrays, tables and metadata read from and written to JWST FITS.

A subclass declares its arrays (attribute -> EXTNAME, dtype, shape rule) and tables; the base
class reads any JWST-layout FITS file into them, writes them back (atomically: a temporary
name renamed when complete) and keeps header keywords it does not know so nothing is lost.
Files go through :mod:`fitsio` (astropy only for files outside its plain subset), so a
stage-1 process never imports astropy.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

import numpy as np

from ..errors import WebbflowError, input_error
from . import fitsio
from .asdf_meta import holds_asdf_only, plain_asdf_bytes
from .fits_arrays import image_data
from .meta import Meta, by_hdu_keyword, by_path

if TYPE_CHECKING:
    from astropy.io import fits

#: an HDU list as read: :mod:`fitsio`'s, or astropy's for files outside its plain subset
HDUs = Any

#: name of the extension holding the ASDF tree (the JWST products' convention)
ASDF_EXTNAME = "ASDF"
#: metadata paths that live in the ASDF tree instead of FITS keywords
ASDF_ONLY_PATHS = ("wcs",)

# Keywords the FITS writer manages itself: never copied into meta or extra_fits.
_STRUCTURAL = {
    "SIMPLE", "BITPIX", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT", "EXTNAME", "EXTVER",
    "BSCALE", "BZERO", "TFIELDS", "CHECKSUM", "DATASUM", "COMMENT", "HISTORY", "",
}


def _is_structural(key: str) -> bool:
    if key in _STRUCTURAL:
        return True
    return key.startswith(("NAXIS", "TTYPE", "TFORM", "TUNIT", "TDIM", "TNULL", "TSCAL",
                           "TZERO", "TDISP"))


def table_values(rec: np.ndarray | fits.FITS_rec) -> np.ndarray:
    """A FITS table as a plain structured array of true (TZERO/TSCAL-applied) values.

    ``fitsio`` tables already are; for astropy's ``FITS_rec``, ``np.asarray`` would return
    the stored integers, so an unsigned column (uint32 stored as int32 with TZERO) would
    come back wrong: it is rebuilt column by column.
    """
    names = rec.dtype.names or ()
    cols = [np.asarray(rec[name]) for name in names]
    out = np.empty(len(rec), dtype=[(n, c.dtype, c.shape[1:]) for n, c in zip(names, cols)])
    for name, col in zip(names, cols):
        out[name] = col
    return out


@dataclass(frozen=True)
class ArraySpec:
    """How one array attribute is stored.

    ``shape`` says how to build a default when the array is first needed: ``"data"`` (the
    shape of ``data``), ``"pixel"`` (the last two axes of ``data``), or ``None`` (no default).
    """

    extname: str
    dtype: str
    shape: str | None = "data"
    default: float = 0.0


def _unreadable(path: Path, what: str, exc: BaseException) -> WebbflowError:
    return input_error(path, f"unreadable {what}, the file may be truncated ({exc})")


@contextlib.contextmanager
def _read_errors(path: Path, what: str) -> Iterator[None]:
    """A read error inside the block becomes a one-line InputError (``unreadable <what>, the
    file may be truncated``)."""
    try:
        yield
    except (ValueError, TypeError, OSError, IndexError) as exc:
        if isinstance(exc, WebbflowError):
            raise
        raise _unreadable(path, what, exc) from None


@contextlib.contextmanager
def read_fits(path: Path, what: str, **open_kw: Any) -> Iterator[HDUs]:
    """``path``'s HDUs: parsed by :mod:`fitsio` (data read on access), or by astropy (no
    memmap, VerifyWarnings silenced, ``open_kw`` passed on) where the file is outside
    fitsio's plain subset. A missing or unreadable file, and a read error inside the block,
    become one-line InputErrors."""
    if not path.exists():
        raise input_error(path, "no such file")
    try:
        plain = fitsio.read_hdus(path)
    except fitsio.NeedsAstropy:
        plain = None
    except OSError as exc:
        raise input_error(path, f"not a readable FITS file ({exc})") from None
    except ValueError as exc:  # a header cut short
        raise _unreadable(path, what, exc) from None
    if plain is not None:
        with _read_errors(path, what):
            yield plain
        return
    from astropy.io import fits

    try:
        hdul = fits.open(path, memmap=False, **open_kw)
    except (OSError, ValueError, TypeError) as exc:
        raise input_error(path, f"not a readable FITS file ({exc})") from None
    with hdul, warnings.catch_warnings(), _read_errors(path, what):
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)
        yield hdul


class DataModel:
    """Base of every product and reference model.

    Parameters
    ----------
    init : str, Path, tuple, ndarray or None
        A FITS file to read, a shape for ``data``, the ``data`` array itself, or nothing.
    **arrays
        Arrays to set by attribute name (``data=...``, ``dq=...``).
    """

    model_type: ClassVar[str] = "JwstDataModel"
    arrays: ClassVar[dict[str, ArraySpec]] = {"data": ArraySpec("SCI", "float32", None)}
    tables: ClassVar[dict[str, str]] = {}
    #: arrays always written (created from defaults when missing)
    required: ClassVar[tuple[str, ...]] = ("data",)
    #: dimensionality the SCI array must have (None: any)
    ndim: ClassVar[int | None] = None
    #: primary-header keywords a file must carry to be read as this model
    required_keywords: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, init: str | os.PathLike | tuple | np.ndarray | None = None, **arrays: Any
    ) -> None:
        object.__setattr__(self, "_arrays", {})
        object.__setattr__(self, "_tables", {})
        object.__setattr__(self, "_store", {})
        object.__setattr__(self, "extra_fits", {})
        object.__setattr__(self, "extra_hdus", [])
        self.meta.model_type = self.model_type
        self.meta.telescope = "JWST"
        if isinstance(init, tuple):
            spec = self.arrays["data"]
            self.data = np.full(init, spec.default, dtype=spec.dtype)
        elif isinstance(init, np.ndarray):
            self.data = init
        elif init is not None:
            self._read(Path(init))
        for name, value in arrays.items():
            setattr(self, name, value)

    # ----------------------------------------------------------------- attributes
    @property
    def meta(self) -> Meta:
        """Metadata view (``model.meta.exposure.ngroups``)."""
        return Meta(self._store)

    def __getattr__(self, name: str) -> Any:
        spec = type(self).arrays.get(name)
        if spec is not None:
            arr = self._arrays.get(name)
            if arr is None:
                arr = self._default_array(name, spec)
                if arr is not None:
                    self._arrays[name] = arr
            return arr
        if name in type(self).tables:
            return self._tables.get(name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        spec = type(self).arrays.get(name)
        if spec is not None:
            self._arrays[name] = None if value is None else np.asarray(value, dtype=spec.dtype)
        elif name in type(self).tables:
            self._tables[name] = value
        else:
            object.__setattr__(self, name, value)

    def has(self, name: str) -> bool:
        """True when array or table ``name`` holds data (not a default still to be made)."""
        return self._arrays.get(name) is not None or self._tables.get(name) is not None

    def _default_array(self, name: str, spec: ArraySpec) -> np.ndarray | None:
        data = self._arrays.get("data")
        if spec.shape is None or data is None or name == "data":
            return None
        shape = data.shape if spec.shape == "data" else data.shape[-2:]
        return np.full(shape, spec.default, dtype=spec.dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``data``."""
        return self.data.shape

    def copy(self) -> DataModel:
        """A deep copy (arrays, tables and metadata)."""
        new = type(self).__new__(type(self))
        for attr in ("_arrays", "_tables", "_store", "extra_fits", "extra_hdus"):
            object.__setattr__(new, attr, copy.deepcopy(getattr(self, attr)))
        for key, value in self.__dict__.items():
            if key not in new.__dict__:
                object.__setattr__(new, key, copy.deepcopy(value))
        return new

    def crds_parameters(self) -> dict[str, str]:
        """Metadata as CRDS selection parameters: ``{"META.INSTRUMENT.NAME": "NIRCAM", ...}``."""
        out = {}
        for path, value in self.meta.items():
            if value is None or not isinstance(value, (str, int, float, bool, np.generic)):
                continue
            if isinstance(value, bool):
                value = "T" if value else "F"
            out["META." + path.upper()] = str(value)
        return out

    def __enter__(self) -> DataModel:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        """Nothing to release: arrays are read into memory."""

    def __repr__(self) -> str:
        shape = None if self._arrays.get("data") is None else self._arrays["data"].shape
        return f"<{type(self).__name__}{shape} {self.meta.filename or ''}>"

    # ----------------------------------------------------------------- reading
    def _read(self, path: Path) -> None:
        with read_fits(path, "data", lazy_load_hdus=False) as hdul, open(path, "rb") as raw:
            self._read_hdul(hdul, path, raw)
        self.meta.filename = path.name

    def _read_hdul(self, hdul: HDUs, path: Path, raw: BinaryIO | None = None) -> None:
        """Arrays, tables and metadata from ``hdul``; image data is read from ``raw`` (the
        same file, opened binary) where it is a plain image (see ``fits_arrays``)."""
        self._check_required(hdul, path)
        names = [h.name.upper() for h in hdul]
        for name, spec in type(self).arrays.items():
            if spec.extname in names:
                hdu = hdul[spec.extname]
                data = hdu.data if raw is None else image_data(hdu, raw)
                if data is not None:
                    self._arrays[name] = np.ascontiguousarray(data, dtype=spec.dtype)
        for name, extname in type(self).tables.items():
            if extname in names and hdul[extname].data is not None:
                self._tables[name] = table_values(hdul[extname].data)
        data = self._arrays.get("data")
        self._check_data(path, None if data is None else data.shape)
        self._read_extras(hdul, path)

    def _check_required(self, hdul: HDUs, path: Path) -> None:
        """One-line InputError when the primary header lacks a required keyword."""
        primary = hdul[0].header
        for key in self.required_keywords:
            if key not in primary or primary[key] in (None, ""):
                raise input_error(path, f"primary header has no {key} keyword")

    def _check_data(self, path: Path, shape: tuple[int, ...] | None) -> None:
        """One-line InputError when the SCI array (of ``shape``) is missing or has the wrong
        number of dimensions for this model."""
        arrays = type(self).arrays
        if "data" in arrays and shape is None:
            raise input_error(path, f"no {arrays['data'].extname} extension with data")
        ndim = type(self).ndim
        if ndim is not None and len(shape) != ndim:
            raise input_error(path, f"{arrays['data'].extname} has {len(shape)} dimensions, "
                              f"{type(self).__name__} needs {ndim}")

    def _read_extras(self, hdul: HDUs, path: Path) -> None:
        """Metadata from the headers, unknown HDUs kept, ASDF-only metadata (the WCS)."""
        self._read_headers(hdul)
        known = {s.extname for s in type(self).arrays.values()} | set(type(self).tables.values())
        for hdu in hdul[1:]:
            if hdu.name.upper() not in known and hdu.name.upper() != ASDF_EXTNAME:
                self.extra_hdus.append(hdu.copy())
        if ASDF_EXTNAME in [h.name.upper() for h in hdul]:
            self._read_asdf_tree(hdul[ASDF_EXTNAME], path)

    def _read_asdf_tree(self, hdu: fits.BinTableHDU, path: Path) -> None:
        """Take the ASDF-only metadata (the WCS) from the ASDF extension, if any.

        The tree is parsed (loading asdf and its extensions, seconds) only when a text scan
        finds such an entry; every other metadata value comes from the FITS keywords.
        """
        raw = hdu.data.tobytes()
        if not holds_asdf_only(raw):
            return
        import asdf

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with asdf.open(io.BytesIO(raw), lazy_load=False,
                               memmap=False, ignore_unrecognized_tag=True) as af:
                    meta = af.tree.get("meta", {}) or {}
                    for key in ASDF_ONLY_PATHS:
                        if meta.get(key) is not None:
                            self._store[key] = meta[key]
        except Exception as exc:  # an unreadable tree must not hide the FITS content
            warnings.warn(f"{path}: ASDF extension not read ({exc})", stacklevel=2)

    def _read_headers(self, hdul: HDUs) -> None:
        table = by_hdu_keyword()
        for index, hdu in enumerate(hdul):
            hduname = "PRIMARY" if index == 0 else hdu.name.upper()
            for card in hdu.header.cards:
                key = card.keyword
                if _is_structural(key):
                    continue
                row = table.get((hduname, key))
                if row is not None:
                    self._store[row.path] = row.coerce(card.value)
                elif not fitsio.is_undefined(card.value):
                    self.extra_fits.setdefault(hduname, []).append(
                        (key, card.value, card.comment))

    # ----------------------------------------------------------------- writing
    def to_hdulist(self) -> fitsio.HDUList:
        """Build the FITS HDU list of this model (PRIMARY, arrays, tables, ASDF)."""
        self.meta.model_type = self.model_type
        headers: dict[str, fitsio.Header] = {"PRIMARY": fitsio.Header()}
        table = by_path()
        for path, value in self.meta.items():
            row = table.get(path)
            if row is None or value is None or isinstance(value, (dict, list, np.ndarray)):
                continue
            headers.setdefault(row.hdu, fitsio.Header())[row.keyword] = value
        for hduname, cards in self.extra_fits.items():
            hdr = headers.setdefault(hduname, fitsio.Header())
            for key, value, comment in cards:
                if key not in hdr:
                    hdr[key] = (value, comment)
        hdus: list[Any] = []
        for name, spec in type(self).arrays.items():
            arr = self._arrays.get(name)
            if arr is None and name in self.required:
                arr = getattr(self, name)
            if arr is None:
                continue
            hdus.append(fitsio.image_hdu(np.asarray(arr, dtype=spec.dtype),
                                         headers.get(spec.extname), spec.extname))
        for name, extname in type(self).tables.items():
            tab = self._tables.get(name)
            if tab is not None:
                hdus.append(fitsio.table_hdu(np.asarray(tab), headers.get(extname), extname))
        hdus.extend(h.copy() for h in self.extra_hdus)
        hdus.append(self._asdf_hdu())
        return fitsio.HDUList([fitsio.primary_hdu(headers["PRIMARY"]), *hdus])

    def _asdf_hdu(self) -> fitsio.HDU:
        """The ASDF extension: the whole metadata tree (and the gwcs WCS), as JWST products have.

        The official pipeline reads product metadata from this tree (its FITS keywords are
        the same values), so every product carries it; arrays stay in their FITS HDUs.
        """
        meta: dict[str, Any] = {}
        for path, value in self.meta.items():
            if isinstance(value, np.generic):
                value = value.item()
            node = meta
            *parents, leaf = path.split(".")
            for part in parents:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    break
                node = child
            else:
                node[leaf] = value
        raw = plain_asdf_bytes({"meta": meta})
        if raw is None:  # a gwcs object or another value only asdf can serialise
            import asdf

            buffer = io.BytesIO()
            asdf.AsdfFile({"meta": meta}).write_to(buffer)
            raw = buffer.getvalue()
        row = np.zeros(1, dtype=[("ASDF_METADATA", np.uint8, (len(raw),))])
        row["ASDF_METADATA"][0] = np.frombuffer(raw, dtype=np.uint8)
        return fitsio.table_hdu(row, None, ASDF_EXTNAME)

    def save(self, path: str | os.PathLike, overwrite: bool = True) -> str:
        """Write the model to ``path`` atomically; return the path written.

        The file is written under a temporary name in the same directory and renamed when
        complete, so an interrupted write never leaves a truncated product.
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(path)
        self.meta.filename = path.name
        self.meta.date = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        hdul = self.to_hdulist()
        path.parent.mkdir(parents=True, exist_ok=True)
        # A fixed temporary name: a write killed half-way leaves ".<name>.part", which the
        # next save of the same product overwrites (never a truncated file under the name).
        tmp = path.parent / f".{path.name}.part"
        try:
            fitsio.write(hdul, tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return str(path)
