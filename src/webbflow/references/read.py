"""Reading a reference file for one science exposure: validate, cut to the subarray, standard DQ.

``read_reference(path, reftype, science)``:

1. opens the file as its reference model (``models.open_reference``);
2. checks its instrument and detector against the science data (``ANY``/``N/A``/``MULTIPLE``
   and an absent keyword accept anything; ``P_DETECT`` patterns such as ``NRCA1|NRCA2|`` are
   honoured);
3. cuts pixel maps to the science subarray: the reference's and the science's placement on
   the detector come from SUBSTRT1/2 (1-based) and the array sizes (SUBSIZE1/2 must agree with
   the arrays when present); a reference already at the science subarray is used as is; one
   that does not cover it is an error;
4. translates DQ arrays to the standard JWST bits through the file's DQ_DEF table (the table is
   then dropped: ``dq`` holds standard bits).

FITS pixel maps are read window first: only the science subarray's section of each image
extension is read from the file (``fits_arrays``), extensions a step never uses can be left
out (``drop``), and of a cube only the planes the exposure uses (``planes_needed`` of the
model class: the dark planes its read pattern averages), so a subarray exposure does not pay
for full-frame references and a dark's ERR cube and group-gap frames are never read.
Anything unusual (no SUBSTRT/SUBSIZE agreement, a window outside the reference) takes the
plain path, which reports the problem.

NaNs in reference arrays are passed through untouched: each step decides what a NaN means
(e.g. flat field flags NO_FLAT_FIELD, dark subtraction treats it as no correction).
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np

from ..datamodels import DataModel, fitsio
from ..datamodels.dqflags import dq_from_def_table
from ..datamodels.fits_arrays import read_plain_image
from ..datamodels.model import HDUs, read_fits
from ..errors import InputError, ReferenceError_
from . import models
from .models import open_reference

__all__ = ["read_reference", "subarray_window"]

_WILDCARDS = {"", "ANY", "N/A", "MULTIPLE", "GENERIC"}


def _is_pixel_map(ref: DataModel, reftype: str) -> bool:
    """False for references whose arrays are not detector images (2-D IPC kernel, tables)."""
    if not ref.shape:
        return False
    if reftype == "ipc" and len(ref.shape) == 2 and ref.shape[0] <= 9 and ref.shape[1] <= 9:
        return False
    return len(ref.shape) >= 2


def _check_identity(ref: DataModel, reftype: str, science: DataModel, name: str) -> None:
    sci_inst = str(science.meta.instrument.name or "").upper()
    ref_inst = str(ref.meta.instrument.name or "").upper()
    if sci_inst and ref_inst not in _WILDCARDS and ref_inst != sci_inst:
        raise ReferenceError_(f"{name}: {reftype} reference is for {ref_inst}, the science "
                              f"data is {sci_inst}")
    sci_det = str(science.meta.instrument.detector or "").upper()
    if not sci_det:
        return
    ref_det = str(ref.meta.instrument.detector or "").upper()
    if ref_det not in _WILDCARDS and ref_det != sci_det:
        raise ReferenceError_(f"{name}: {reftype} reference is for detector {ref_det}, the "
                              f"science data is {sci_det}")
    pattern = str(ref.meta.instrument.p_detector or "").upper()
    allowed = {p.strip() for p in pattern.split("|") if p.strip()}
    if ref_det in _WILDCARDS and allowed and not allowed & _WILDCARDS and sci_det not in allowed:
        raise ReferenceError_(f"{name}: {reftype} reference is for detectors {pattern}, the "
                              f"science data is {sci_det}")


def subarray_window(model: DataModel, shape: tuple[int, ...] | None = None
                    ) -> tuple[int, int, int, int]:
    """Placement of ``model`` on the detector: ``(xstart, ystart, xsize, ysize)``, 1-based.

    SUBSTRT1/2 default to 1; the sizes come from the array ``shape`` (last two axes) when
    given, else SUBSIZE1/2.
    """
    sub = model.meta.subarray
    xstart = int(sub.xstart or 1)
    ystart = int(sub.ystart or 1)
    if shape is not None and len(shape) >= 2:
        return xstart, ystart, int(shape[-1]), int(shape[-2])
    return xstart, ystart, int(sub.xsize or 0), int(sub.ysize or 0)


def _science_shape(science: DataModel) -> tuple[int, ...] | None:
    try:
        data = science.data
    except AttributeError:
        return None
    return None if data is None else data.shape


def _pixel_arrays(ref: DataModel) -> dict[str, np.ndarray]:
    ny, nx = ref.shape[-2:]
    out = {}
    for attr in type(ref).arrays:
        arr = ref._arrays.get(attr)
        if arr is not None and arr.ndim >= 2 and arr.shape[-2:] == (ny, nx):
            out[attr] = arr
    return out


def _cut(ref: DataModel, reftype: str, science: DataModel, name: str) -> None:
    ref_x, ref_y, ref_nx, ref_ny = subarray_window(ref, ref.shape)
    size = (ref.meta.subarray.xsize, ref.meta.subarray.ysize)
    if size[0] and size[1] and (int(size[0]), int(size[1])) != (ref_nx, ref_ny):
        raise ReferenceError_(f"{name}: {reftype} reference arrays are {ref_ny}x{ref_nx} "
                              f"(rows x columns) but SUBSIZE1/2 say {size[1]}x{size[0]}")
    sci_x, sci_y, sci_nx, sci_ny = subarray_window(science, _science_shape(science))
    if not (sci_nx and sci_ny):
        raise ReferenceError_(f"{name}: cannot place the {reftype} reference: the science data "
                              "has neither a data array nor SUBSIZE1/2")
    if (ref_x, ref_y, ref_nx, ref_ny) == (sci_x, sci_y, sci_nx, sci_ny):
        return
    x0, y0 = sci_x - ref_x, sci_y - ref_y
    if x0 < 0 or y0 < 0 or x0 + sci_nx > ref_nx or y0 + sci_ny > ref_ny:
        raise ReferenceError_(
            f"{name}: {reftype} reference covers columns {ref_x}-{ref_x + ref_nx - 1}, rows "
            f"{ref_y}-{ref_y + ref_ny - 1} (1-based) but the science subarray "
            f"{science.meta.subarray.name or ''} needs columns {sci_x}-{sci_x + sci_nx - 1}, "
            f"rows {sci_y}-{sci_y + sci_ny - 1}")
    for attr, arr in _pixel_arrays(ref).items():
        setattr(ref, attr, np.ascontiguousarray(arr[..., y0:y0 + sci_ny, x0:x0 + sci_nx]))
    sub = ref.meta.subarray
    sub.xstart, sub.ystart, sub.xsize, sub.ysize = sci_x, sci_y, sci_nx, sci_ny
    if science.meta.subarray.name:
        sub.name = science.meta.subarray.name


def _standard_dq(ref: DataModel) -> None:
    if "dq" not in type(ref).arrays or ref._arrays.get("dq") is None:
        return
    dq_def: Any = ref._tables.get("dq_def") if "dq_def" in type(ref).tables else None
    ref.dq = dq_from_def_table(ref._arrays["dq"], dq_def, overwrite=True)  # DQ as read
    if dq_def is not None:
        ref.dq_def = None


def _fits_class(path: Path, reftype: str, hdul: HDUs) -> type | None:
    """The reference class ``open_reference`` would choose for a FITS file."""
    from .. import datamodels

    fallback = models.REFTYPE_MODELS.get(reftype)
    cls = datamodels._REGISTRY.get(hdul[0].header.get("DATAMODL"))
    if cls is None or (fallback is not None and not issubclass(cls, models.ReferenceModel)):
        cls = fallback
    return cls


class _Windowed(NamedTuple):
    """What :func:`_window_hdus` read: the science window when smaller than the reference
    (the metadata to update), and the planes of ``data`` read (``PlanesRead``) when not all."""

    window: tuple[int, int, int, int] | None
    planes: models.PlanesRead | None


def _window_hdus(hdul: HDUs, cls: type, science: DataModel,
                 drop: tuple[str, ...], raw: BinaryIO) -> _Windowed:
    """Load only the science window of ``hdul``'s pixel-map extensions (nothing of the
    ``drop`` attributes' extensions, and of ``data`` only the planes the class says the
    science exposure uses: ``ReferenceModel.planes_needed``)."""
    extnames = [spec.extname for spec in cls.arrays.values()]
    frame = None
    for hdu in hdul[1:]:
        if fitsio.is_image_extension(hdu) and hdu.name.upper() in extnames \
                and hdu.header.get("NAXIS", 0) >= 2:
            frame = (int(hdu.header["NAXIS2"]), int(hdu.header["NAXIS1"]))
            break
    if frame is None:
        return _Windowed(None, None)
    primary = hdul[0].header
    size = (primary.get("SUBSIZE1"), primary.get("SUBSIZE2"))
    if size[0] and size[1] and (int(size[1]), int(size[0])) != frame:
        return _Windowed(None, None)
    ref_x, ref_y = int(primary.get("SUBSTRT1") or 1), int(primary.get("SUBSTRT2") or 1)
    sci_x, sci_y, sci_nx, sci_ny = subarray_window(science, _science_shape(science))
    x0, y0 = sci_x - ref_x, sci_y - ref_y
    if not (sci_nx and sci_ny) or x0 < 0 or y0 < 0 or x0 + sci_nx > frame[1] \
            or y0 + sci_ny > frame[0]:
        return _Windowed(None, None)
    dropped = {cls.arrays[a].extname for a in drop if a in cls.arrays}
    data_ext = cls.arrays["data"].extname if "data" in cls.arrays else None
    held = None
    for hdu in hdul[1:]:
        if not fitsio.is_image_extension(hdu) or hdu.name.upper() not in extnames:
            continue
        if hdu.name.upper() in dropped:
            hdu.data = None
            continue
        naxis = int(hdu.header.get("NAXIS", 0))
        if naxis < 2 or (int(hdu.header["NAXIS2"]), int(hdu.header["NAXIS1"])) != frame:
            continue
        planes = None
        if naxis >= 3 and hdu.name.upper() == data_ext:
            nplanes = int(hdu.header["NAXIS3"])
            planes = cls.planes_needed(primary, science, nplanes)
            held = None if planes is None else models.PlanesRead(planes, nplanes)
        hdu.data = _read_section(hdu, y0, x0, sci_ny, sci_nx, raw, planes)
    window = None if (sci_nx, sci_ny) == (frame[1], frame[0]) else (sci_x, sci_y, sci_nx,
                                                                      sci_ny)
    return _Windowed(window, held)


def _read_section(hdu: Any, y0: int, x0: int, ny: int, nx: int,
                  raw: BinaryIO, planes: np.ndarray | None = None) -> np.ndarray:
    """``hdu``'s [..., y0:y0+ny, x0:x0+nx] in native byte order, read plane by plane: each
    plane's rows whole, one contiguous read, cut to the columns in memory (a column window
    makes astropy read row by row, 5x slower for a SUB640 window of a full-frame
    reference). Plain images are read straight from ``raw`` (``fits_arrays``); others
    through astropy's sections (converted from the file's byte order plane by plane, so a
    whole cube never exists twice). ``planes``: only these indices of axis -3."""
    direct = read_plain_image(hdu, raw, rows=(y0, y0 + ny), cols=(x0, x0 + nx), planes=planes)
    if direct is not None:
        return direct
    lead = tuple(int(hdu.header[f"NAXIS{k}"]) for k in range(int(hdu.header["NAXIS"]), 2, -1))
    chosen = list(range(lead[-1])) if planes is None else [int(p) for p in planes]
    kept = (*lead[:-1], len(chosen))
    rows = slice(y0, y0 + ny)
    out = None
    for index in np.ndindex(*kept):
        source = (*index[:-1], chosen[index[-1]])
        plane = hdu.section[(*source, rows, slice(None))][:, x0:x0 + nx]
        if out is None:
            out = np.empty((*kept, ny, nx), dtype=plane.dtype.newbyteorder("="))
        out[index] = plane
    return out


def _read_window(ref: DataModel, science: DataModel, drop: tuple[str, ...],
                 path: Path) -> None:
    """Stands in for ``DataModel._read`` on one instance: the same reading, from a window."""
    object.__delattr__(ref, "_read")
    with read_fits(path, "data", lazy_load_hdus=False) as hdul, open(path, "rb") as raw:
        read = _window_hdus(hdul, type(ref), science, drop, raw)
        ref._read_hdul(hdul, path, raw)
    ref.meta.filename = path.name
    ref.planes_read = read.planes
    if read.window is not None:  # as ``_cut`` records a cut
        sub = ref.meta.subarray
        sub.xstart, sub.ystart, sub.xsize, sub.ysize = read.window
        if science.meta.subarray.name:
            sub.name = science.meta.subarray.name


def _open_windowed(path: Path, reftype: str, science: DataModel,
                   drop: tuple[str, ...]) -> DataModel | None:
    """The reference read through :func:`_read_window`, or None where the plain
    ``open_reference`` must be used (ASDF, IPC kernels, unknown classes, unreadable files)."""
    if reftype == "ipc" or not path.exists() or models._is_asdf(path):
        return None
    try:
        with read_fits(path, "header") as hdul:
            cls = _fits_class(path, reftype, hdul)
    except InputError:
        return None
    if cls is None or not issubclass(cls, models.ReferenceModel) or "_read" in vars(cls):
        return None
    ref = cls.__new__(cls)
    object.__setattr__(ref, "_read", partial(_read_window, ref, science, drop))
    cls.__init__(ref, path)
    if "_read" in vars(ref):
        object.__delattr__(ref, "_read")
    return ref


def read_reference(path: str | os.PathLike, reftype: str, science: DataModel,
                   drop: tuple[str, ...] = ()) -> DataModel:
    """Open reference ``path`` of type ``reftype`` ready for ``science``.

    Parameters
    ----------
    path : str
        Reference file (FITS or ASDF), e.g. from ``get_reference``.
    reftype : str
        CRDS reference type (chooses the model when DATAMODL does not).
    science : DataModel
        The exposure the reference will correct: instrument, detector and subarray
        (SUBSTRT1/2 and its data shape) are taken from it.
    drop : tuple of str
        Array attributes not to read (e.g. ``("err",)`` for a dark): left None.

    Returns
    -------
    DataModel
        The reference model; pixel maps cut to the science subarray (last two axes
        [ny, nx] of every array), DQ in standard bits. NaNs are left as they are.

    Raises
    ------
    ReferenceError_
        One line: unreadable file, wrong instrument or detector, arrays that disagree with
        SUBSIZE1/2, or a reference that does not cover the science subarray.
    """
    reftype = reftype.lower()
    name = os.path.basename(os.fspath(path))
    try:
        ref = _open_windowed(Path(path), reftype, science, tuple(drop))
        if ref is None:
            ref = open_reference(path, reftype)
    except InputError as exc:
        raise ReferenceError_(f"{reftype} reference {exc}") from None
    _check_identity(ref, reftype, science, name)
    if _is_pixel_map(ref, reftype):
        _cut(ref, reftype, science, name)
    _standard_dq(ref)
    return ref
