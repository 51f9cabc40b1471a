"""A small FITS reader and writer for the plain files JWST products and references are.

Importing ``astropy.io.fits`` costs 0.2-0.3 s (it imports ``astropy.units`` through
``astropy.utils.data``), a sixth of a whole stage-1 process on a MIRI exposure. Every JWST
product and reference this project reads or writes is plain FITS: a header-only primary HDU,
IMAGE extensions and BINTABLE extensions with fixed-width columns. This module parses and
writes exactly that, and answers :class:`NeedsAstropy` for anything else, so the caller hands
the file to astropy (same values either way):

* reading: gzip files, HIERARCH or malformed cards, complex-valued keywords, random groups,
  ASCII tables, compressed images, scaled images (BSCALE != 1, BZERO other than the unsigned
  convention, BLANK), variable-length (P/Q) or bit (X) columns, TSCAL/TZERO other than the
  unsigned and signed-byte conventions, TDIM on string columns;
* writing: keywords longer than 8 characters, non-ASCII text, non-finite floats, array and
  column types FITS has no plain form for (bool images, object columns...).

Objects: :class:`Header` (ordered :class:`Card` s, dict-like access to the first card of a
keyword), :class:`HDU` (header, EXTNAME, data read lazily from the file), :class:`HDUList`.
Values read match astropy's: strings without trailing blanks (long strings joined from their
CONTINUE cards), ``T``/``F`` as bool, integers as int, reals as float, an empty value as
:data:`UNDEFINED`; table columns as astropy's true values (unsigned integers under the TZERO
convention, ``L`` as bool, strings as ``str`` without trailing blanks).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np

from .fits_header import (
    BLOCK,
    COMMENTARY,
    KEYWORD,
    UNDEFINED,
    Card,
    Header,
    NeedsAstropy,
    check_text,
    is_undefined,
    read_header,
    value_cards,
)

__all__ = ["HDU", "UNDEFINED", "Card", "HDUList", "Header", "NeedsAstropy", "image_hdu",
           "is_image_extension", "is_undefined", "primary_hdu", "read_hdus", "table_hdu",
           "write"]


def is_image_extension(hdu: Any) -> bool:
    """True for an IMAGE extension (this module's HDU, or astropy's ImageHDU)."""
    if isinstance(hdu, HDU):
        return hdu.kind == "image"
    from astropy.io import fits  # an astropy HDU: astropy is already imported

    return isinstance(hdu, fits.ImageHDU)


# ------------------------------------------------------------------------------- tables
#: TFORM code -> big-endian file dtype (L: the bytes "T"/"F"; A: characters)
_TFORM_DTYPES = {"L": "u1", "B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4",
                 "D": ">f8", "C": ">c8", "M": ">c16", "A": "S"}
_TFORM = re.compile(r"\s*(\d*)([LBIJKEDCMA])\s*\Z")
#: (TFORM code, TZERO) -> native dtype of the true values, and the bit to flip
_ZERO_CONVENTIONS = {("B", -128): ("i1", 1 << 7), ("I", 1 << 15): ("u2", 1 << 15),
                     ("J", 1 << 31): ("u4", 1 << 31), ("K", 1 << 63): ("u8", 1 << 63)}


class _Column(NamedTuple):
    name: str
    code: str
    repeat: int
    shape: tuple[int, ...]  # of one cell, numpy order; () for a scalar
    offset: int
    flip: tuple[str, int] | None  # (native dtype, sign bit) under a TZERO convention


def _columns(header: Header) -> list[_Column]:
    """The columns of a BINTABLE header (NeedsAstropy where not plain)."""
    if header.get("ZIMAGE") or header.get("ZTABLE"):
        raise NeedsAstropy("a compressed HDU")
    columns, offset = [], 0
    for k in range(1, int(header.get("TFIELDS", 0)) + 1):
        match = _TFORM.match(str(header.get(f"TFORM{k}", "")))
        name = header.get(f"TTYPE{k}")
        if match is None or not isinstance(name, str):
            raise NeedsAstropy(f"column {k}: TFORM {header.get(f'TFORM{k}')!r}")
        repeat = int(match.group(1) or 1)
        code = match.group(2)
        if header.get(f"TSCAL{k}", 1) != 1:
            raise NeedsAstropy(f"column {name}: TSCAL")
        flip = None
        zero = header.get(f"TZERO{k}", 0)
        if zero:
            if (code, zero) not in _ZERO_CONVENTIONS:
                raise NeedsAstropy(f"column {name}: TZERO {zero}")
            flip = _ZERO_CONVENTIONS[(code, zero)]
        shape: tuple[int, ...] = () if repeat == 1 or code == "A" else (repeat,)
        tdim = header.get(f"TDIM{k}")
        if tdim is not None:
            if code == "A":
                raise NeedsAstropy(f"column {name}: TDIM on characters")
            dims = tuple(int(d) for d in str(tdim).strip(" ()").split(","))[::-1]
            if math.prod(dims) != repeat:
                raise NeedsAstropy(f"column {name}: TDIM {tdim} for {repeat} values")
            shape = dims
        if repeat == 0:
            raise NeedsAstropy(f"column {name}: no values")
        columns.append(_Column(name, code, repeat, shape, offset, flip))
        offset += repeat * (1 if code in "LBA" else np.dtype(_TFORM_DTYPES[code]).itemsize)
    if offset != int(header.get("NAXIS1", -1)):
        raise NeedsAstropy("columns do not add up to NAXIS1")
    return columns


def _file_dtype(header: Header, columns: list[_Column]) -> np.dtype:
    formats = []
    for col in columns:
        base = _TFORM_DTYPES[col.code]
        formats.append((f"S{col.repeat}", ()) if col.code == "A" else (base, col.shape))
    return np.dtype({"names": [c.name for c in columns],
                     "formats": [np.dtype((f, s)) if s else np.dtype(f) for f, s in formats],
                     "offsets": [c.offset for c in columns],
                     "itemsize": int(header["NAXIS1"])})


def _table_values(raw: np.ndarray, columns: list[_Column]) -> np.ndarray:
    """The rows ``raw`` (file dtype) as a packed native structured array of true values."""
    fields = []
    for col in columns:
        if col.code == "A":
            dtype: Any = np.dtype(f"U{col.repeat}")
        elif col.code == "L":
            dtype = np.dtype(bool)
        elif col.flip is not None:
            dtype = np.dtype(col.flip[0])
        else:
            dtype = raw.dtype[col.name].base.newbyteorder("=")
        fields.append((col.name, dtype, col.shape))
    out = np.empty(raw.shape[0], dtype=fields)
    for col in columns:
        source = raw[col.name]
        if col.code == "A":
            out[col.name] = np.char.decode(source, "latin-1")  # NULs dropped, blanks kept
        elif col.code == "L":
            out[col.name] = source == ord("T")
        elif col.flip is not None and col.code == "B":  # signed bytes: stored - 128
            out[col.name] = (source.astype(np.int16) - 128).astype(np.int8)
        elif col.flip is not None:  # unsigned: stored + TZERO is the stored bits, sign flipped
            unsigned = np.dtype(col.flip[0]).newbyteorder(">")
            out[col.name] = source.view(unsigned) ^ unsigned.type(col.flip[1])
        else:
            out[col.name] = source
    return out


# --------------------------------------------------------------------------------- HDUs
_NOT_READ = object()
#: BITPIX -> file dtype of an image (big-endian, as FITS stores it)
IMAGE_DTYPES = {8: ">u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}
#: BITPIX -> (BZERO of the unsigned-integer convention, which is also the sign bit the
#: stored value has flipped, and the unsigned file dtype)
UNSIGNED = {16: (1 << 15, ">u2"), 32: (1 << 31, ">u4"), 64: (1 << 63, ">u8")}


def plain_image_dtype(header: Header) -> tuple[np.dtype, int]:
    """(file dtype of the values, sign bit to flip or 0) of an image header: BITPIX of
    :data:`IMAGE_DTYPES`, no BLANK, BSCALE 1 and BZERO 0 or the unsigned convention
    (:data:`UNSIGNED`); NeedsAstropy for anything else (scaled images, random groups)."""
    bitpix = header.get("BITPIX")
    if bitpix not in IMAGE_DTYPES or header.get("GROUPS") or "BLANK" in header \
            or header.get("BSCALE", 1) != 1:
        raise NeedsAstropy(f"image with BITPIX {bitpix} / GROUPS / BLANK / BSCALE")
    zero = header.get("BZERO", 0)
    if not zero:
        return np.dtype(IMAGE_DTYPES[bitpix]), 0
    if UNSIGNED.get(bitpix, (None,))[0] != zero:
        raise NeedsAstropy(f"image with BZERO {zero}")
    return np.dtype(UNSIGNED[bitpix][1]), zero


class HDU:
    """One HDU: ``header``, ``name`` (EXTNAME upper case; "PRIMARY" for the first), ``kind``
    ("primary", "image" or "bintable") and ``data``, read from ``source`` on first access
    (an image as a native-order array, None when NAXIS is 0; a table as a structured array
    of true values)."""

    def __init__(self, header: Header, kind: str, name: str = "", data: Any = None,
                 source: Path | None = None, offset: int | None = None) -> None:
        self.header = header
        self.kind = kind
        self.name = (name or str(header.get("EXTNAME", "")).strip()).upper()
        if kind == "primary":
            self.name = "PRIMARY"
        self.source = source
        self.data_offset = offset
        self._data = _NOT_READ if source is not None else data

    @property
    def loaded(self) -> bool:
        """True once ``data`` holds the array (read, or set)."""
        return self._data is not _NOT_READ

    @property
    def data(self) -> Any:
        """The HDU's data (read from the file on first access)."""
        if self._data is _NOT_READ:
            self._data = self._read_data()
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value

    @property
    def image_shape(self) -> tuple[int, ...]:
        """(..., NAXIS2, NAXIS1) of an image; () when NAXIS is 0."""
        naxis = int(self.header.get("NAXIS", 0))
        return tuple(int(self.header[f"NAXIS{k}"]) for k in range(naxis, 0, -1))

    def _read_data(self) -> Any:
        with open(self.source, "rb") as fileobj:
            return self.read_data(fileobj)

    def read_data(self, fileobj: BinaryIO) -> Any:
        """The data, read from ``fileobj`` (the file this HDU came from)."""
        if self.kind == "bintable":
            columns = _columns(self.header)
            dtype = _file_dtype(self.header, columns)
            rows = int(self.header["NAXIS2"])
            fileobj.seek(self.data_offset)
            raw = fileobj.read(rows * dtype.itemsize)
            if len(raw) < rows * dtype.itemsize:
                raise ValueError(f"the file ends inside table {self.name}")
            return _table_values(np.frombuffer(raw, dtype=dtype, count=rows), columns)
        if not self.image_shape or min(self.image_shape) == 0:
            return None
        from .fits_arrays import read_plain_image

        return read_plain_image(self, fileobj)

    def copy(self) -> HDU:
        """An independent copy, data read."""
        data = self.data
        return HDU(self.header.copy(), self.kind, self.name,
                   None if data is None else data.copy())


def _data_size(header: Header, kind: str) -> int:
    """Bytes of data (padding excluded) after ``header``; NeedsAstropy where not plain."""
    if kind == "bintable":
        _columns(header)
        return int(header["NAXIS1"]) * int(header["NAXIS2"]) + int(header.get("PCOUNT", 0))
    itemsize = plain_image_dtype(header)[0].itemsize
    naxis = int(header.get("NAXIS", 0))
    if naxis == 0:
        return 0
    count = math.prod(int(header[f"NAXIS{k}"]) for k in range(1, naxis + 1))
    return itemsize * int(header.get("GCOUNT", 1)) * (int(header.get("PCOUNT", 0)) + count)


class HDUList(list):
    """HDUs in file order; ``hdul["SCI"]`` is the first HDU of that EXTNAME."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            wanted = key.upper()
            for hdu in self:
                if hdu.name == wanted:
                    return hdu
            raise KeyError(f"extension {key!r} not found")
        return super().__getitem__(key)

    def __enter__(self) -> HDUList:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        """Nothing to release: data are read on access from the file path."""

    def writeto(self, path: str | os.PathLike) -> None:
        """Write the HDUs to ``path`` (astropy does it where this module cannot)."""
        write(self, path)


def read_hdus(path: str | os.PathLike) -> HDUList:
    """Every header of FITS file ``path``, data left unread (read on access).

    Raises NeedsAstropy for files outside the plain subset (see the module docstring), and
    OSError when the file cannot be read.
    """
    path = Path(path)
    hdus = HDUList()
    with open(path, "rb") as fileobj:
        if fileobj.read(2) == b"\x1f\x8b":
            raise NeedsAstropy("a gzip file")
        fileobj.seek(0)
        offset = 0
        while True:
            try:
                got = read_header(fileobj)
            except ValueError:
                if not hdus:  # not even a primary header: let astropy say what it is
                    raise NeedsAstropy("a partial first block") from None
                raise ValueError(f"the file ends inside the header of HDU {len(hdus) + 1}"
                                 ) from None
            if got is None:
                break
            header, size = got
            if not hdus:
                if header.get("SIMPLE") is not True:
                    raise NeedsAstropy("not a FITS primary header")
                kind = "primary"
            else:
                xtension = str(header.get("XTENSION", "")).strip()
                kind = {"IMAGE": "image", "BINTABLE": "bintable"}.get(xtension)
                if kind is None:
                    raise NeedsAstropy(f"XTENSION {xtension!r}")
            data_offset = offset + size
            hdus.append(HDU(header, kind, source=path, offset=data_offset))
            padded = -(-_data_size(header, kind) // BLOCK) * BLOCK
            offset = data_offset + padded
            fileobj.seek(offset)
    if not hdus:
        raise NeedsAstropy("empty file")
    return hdus


# ------------------------------------------------------------------------------ writing
#: native dtype (kind + size) of an image -> (BITPIX, BZERO: the sign bit to flip, or 0)
_IMAGE_TYPES = {**{f"{np.dtype(d).kind}{np.dtype(d).itemsize}": (b, 0)
                   for b, d in IMAGE_DTYPES.items()},
                **{f"u{np.dtype(d).itemsize}": (b, zero) for b, (zero, d) in UNSIGNED.items()}}
#: native dtype (kind + size) -> (TFORM code, TZERO)
_COLUMN_TYPES = {"b1": ("L", 0), "u1": ("B", 0), "i1": ("B", -128), "i2": ("I", 0),
                 "u2": ("I", 1 << 15), "i4": ("J", 0), "u4": ("J", 1 << 31),
                 "i8": ("K", 0), "u8": ("K", 1 << 63), "f4": ("E", 0), "f8": ("D", 0),
                 "c8": ("C", 0), "c16": ("M", 0)}
_STRUCTURAL = {"SIMPLE", "BITPIX", "NAXIS", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT",
               "EXTNAME", "BSCALE", "BZERO", "TFIELDS", "CHECKSUM", "DATASUM", "THEAP",
               "END"}
#: keywords the writer derives from the data (TUNITn and TDISPn are the user's, kept)
_COLUMN_KEYS = re.compile(r"(NAXIS|TTYPE|TFORM|TDIM|TNULL|TSCAL|TZERO)\d+\Z")


def _type_key(dtype: np.dtype) -> str:
    return f"{dtype.kind}{dtype.itemsize}"


def primary_hdu(header: Header | None = None) -> HDU:
    """A header-only primary HDU."""
    return HDU(Header() if header is None else header, "primary")


def image_hdu(data: np.ndarray, header: Header | None = None, name: str = "") -> HDU:
    """An IMAGE extension holding ``data`` (any shape)."""
    return HDU(Header() if header is None else header, "image", name, np.asarray(data))


def table_hdu(rows: np.ndarray, header: Header | None = None, name: str = "") -> HDU:
    """A BINTABLE extension holding the structured array ``rows`` (one row per element)."""
    return HDU(Header() if header is None else header, "bintable", name, np.asarray(rows))


def _user_cards(header: Header) -> list[str]:
    images = []
    for card in header.cards:
        key = card.keyword
        if key in _STRUCTURAL or _COLUMN_KEYS.match(key):
            continue
        if not KEYWORD.match(key):
            raise NeedsAstropy(f"keyword {key!r}")
        if key in COMMENTARY:
            text = check_text(str(card.value))
            images += [f"{key:<8}{text[i:i + 72]}" for i in range(0, max(len(text), 1), 72)]
        else:
            images += value_cards(key, card.value, card.comment)
    return images


def _image_layout(hdu: HDU) -> tuple[list[str], np.ndarray | None, int]:
    """(structural cards, data, sign bit to flip) of a primary or image HDU."""
    data = hdu.data
    if data is None or (data.size == 0 and hdu.kind == "primary"):
        cards = [("BITPIX", 8), ("NAXIS", 0)]
        data, zero = None, 0
    else:
        dtype = data.dtype
        if _type_key(dtype) not in _IMAGE_TYPES:
            raise NeedsAstropy(f"image of dtype {dtype}")
        bitpix, zero = _IMAGE_TYPES[_type_key(dtype)]
        cards = [("BITPIX", bitpix), ("NAXIS", data.ndim)]
        cards += [(f"NAXIS{k}", data.shape[-k]) for k in range(1, data.ndim + 1)]
    if hdu.kind == "primary":
        cards = [("SIMPLE", True), *cards, ("EXTEND", True)]
    else:
        cards = [("XTENSION", "IMAGE"), *cards, ("PCOUNT", 0), ("GCOUNT", 1)]
    if zero:
        cards += [("BSCALE", 1), ("BZERO", zero)]
    if hdu.kind != "primary" and hdu.name:
        cards.append(("EXTNAME", hdu.name))
    images = [image for key, value in cards for image in value_cards(key, value, "")]
    return images, data, zero


def _table_layout(hdu: HDU) -> tuple[list[str], np.ndarray]:
    """(structural cards, big-endian packed rows) of a BINTABLE HDU."""
    rows = hdu.data
    if rows is None or rows.dtype.names is None:
        raise NeedsAstropy("a table HDU without a structured array")
    cards: list[tuple[str, Any]] = []
    formats, fill = [], []
    for k, name in enumerate(rows.dtype.names, start=1):
        field = rows.dtype[name]
        base, shape = field.base, field.shape
        repeat = math.prod(shape)
        column = rows[name]
        if base.kind in "SU":
            if shape:
                raise NeedsAstropy(f"column {name}: an array of strings")
            if base.kind == "U":
                try:
                    column = np.char.encode(column, "ascii")
                except UnicodeEncodeError:
                    raise NeedsAstropy(f"column {name}: not ASCII") from None
                base = np.dtype(f"S{max(1, base.itemsize // 4)}")
            column = np.char.rstrip(column, b" ").astype(base)  # as astropy: NUL-padded
            code, zero, file_type = f"{base.itemsize}A", 0, base
        else:
            if _type_key(base) not in _COLUMN_TYPES:
                raise NeedsAstropy(f"column {name} of dtype {base}")
            letter, zero = _COLUMN_TYPES[_type_key(base)]
            code = f"{repeat if repeat != 1 else ''}{letter}"
            file_type = np.dtype(_TFORM_DTYPES[letter]) if letter != "L" else np.dtype("u1")
            if zero and base.kind == "u":  # the stored signed value's bits: sign bit flipped
                file_type = base.newbyteorder(">")
        cards += [(f"TTYPE{k}", check_text(name)), (f"TFORM{k}", code)]
        if zero:
            cards.append((f"TZERO{k}", zero))
        if len(shape) > 1:
            cards.append((f"TDIM{k}", "(" + ",".join(str(d) for d in shape[::-1]) + ")"))
        formats.append((name, file_type, shape))
        fill.append((name, column, base, zero))
    out = np.zeros(rows.shape[0], dtype=formats)
    for name, column, base, zero in fill:
        if base.kind == "b":
            out[name] = np.where(column, ord("T"), ord("F"))
        elif zero and base.kind == "i":  # int8 stored as unsigned byte + 128
            out[name] = (column.astype(np.int16) + 128).astype(np.uint8)
        elif zero:
            out[name] = np.bitwise_xor(column, base.type(zero))
        else:
            out[name] = column
    head = [("XTENSION", "BINTABLE"), ("BITPIX", 8), ("NAXIS", 2),
            ("NAXIS1", out.dtype.itemsize), ("NAXIS2", out.shape[0]), ("PCOUNT", 0),
            ("GCOUNT", 1), ("TFIELDS", len(formats)), *cards]
    if hdu.name:
        head.append(("EXTNAME", hdu.name))
    images = [image for key, value in head for image in value_cards(key, value, "")]
    return images, out


def _header_bytes(images: Sequence[str]) -> bytes:
    text = "".join(f"{image:<80}" for image in [*images, "END"])
    return (text + " " * (-len(text) % BLOCK)).encode("ascii")


_WRITE_CHUNK = 4 << 20


def _write_image(fileobj: BinaryIO, data: np.ndarray, flip: int) -> int:
    """Write ``data`` big-endian (sign bit flipped under BZERO) in ~4 MB pieces; bytes."""
    flat = np.ascontiguousarray(data).reshape(-1)
    big = flat.dtype.newbyteorder(">")
    step = max(1, _WRITE_CHUNK // flat.dtype.itemsize)
    buffer = np.empty(min(step, flat.size), dtype=big)
    for start in range(0, flat.size, step):
        piece = flat[start:start + step]
        out = buffer[:piece.size]
        if flip:
            np.bitwise_xor(piece, flat.dtype.type(flip), out=out, casting="unsafe")
        else:
            np.copyto(out, piece, casting="equiv")
        fileobj.write(memoryview(out).cast("B"))
    return flat.nbytes


def _pad(fileobj: BinaryIO, size: int) -> None:
    if size % BLOCK:
        fileobj.write(b"\0" * (BLOCK - size % BLOCK))


def _write_ours(hdus: Sequence[HDU], fileobj: BinaryIO) -> None:
    laid = []
    for hdu in hdus:  # every header is built first: NeedsAstropy before a byte is written
        if hdu.kind == "bintable":
            images, rows = _table_layout(hdu)
            laid.append((images + _user_cards(hdu.header), rows, 0))
        else:
            images, data, flip = _image_layout(hdu)
            laid.append((images + _user_cards(hdu.header), data, flip))
    for images, data, flip in laid:
        fileobj.write(_header_bytes(images))
        if data is None:
            continue
        if data.dtype.names is not None:
            raw = data.tobytes()
            fileobj.write(raw)
            _pad(fileobj, len(raw))
        else:
            _pad(fileobj, _write_image(fileobj, data, flip))


def to_astropy(hdus: Sequence[Any]) -> Any:
    """The HDUs as an astropy HDUList (astropy HDUs passed through)."""
    from astropy.io import fits

    out = []
    for index, hdu in enumerate(hdus):
        if not isinstance(hdu, HDU):
            out.append(hdu)
            continue
        header = fits.Header()
        for card in hdu.header.cards:
            if card.keyword in COMMENTARY:
                header.add_comment(card.value) if card.keyword == "COMMENT" else \
                    header.add_history(card.value) if card.keyword == "HISTORY" else \
                    header.add_blank(card.value)
            elif not (card.keyword in _STRUCTURAL or _COLUMN_KEYS.match(card.keyword)):
                value = fits.card.UNDEFINED if is_undefined(card.value) else card.value
                header.append((card.keyword, value, card.comment))
        if hdu.kind == "primary" and index == 0:
            out.append(fits.PrimaryHDU(data=hdu.data, header=header))
        elif hdu.kind == "bintable":
            rows = np.asarray(hdu.data)
            wide = [(n, np.int16 if rows.dtype[n].base == np.int8 else rows.dtype[n].base,
                     rows.dtype[n].shape) for n in rows.dtype.names]
            rows = rows.astype(wide)  # astropy would write an int8 column as L (bool)
            table = fits.BinTableHDU(header=header, name=hdu.name)
            table.data = fits.FITS_rec.from_columns(fits.ColDefs(rows))
            out.append(table)
        else:
            out.append(fits.ImageHDU(data=hdu.data, header=header, name=hdu.name or None))
    return fits.HDUList(out)


def write(hdus: Sequence[Any], path: str | os.PathLike) -> None:
    """Write ``hdus`` (these HDUs, or astropy's) to ``path``; astropy writes the list
    where it holds astropy HDUs or a feature outside the plain subset."""
    if all(isinstance(h, HDU) for h in hdus) and hdus and hdus[0].kind == "primary":
        try:
            with open(path, "wb") as fileobj:
                _write_ours(hdus, fileobj)
            return
        except NeedsAstropy:
            pass
    import warnings

    from astropy.io import fits

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)
        to_astropy(hdus).writeto(path, overwrite=True, output_verify="silentfix")
