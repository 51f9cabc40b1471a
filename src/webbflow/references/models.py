"""Reference-file models in the CRDS / official JWST layouts.

FITS reference files (mask, saturation, superbias, linearity, dark, gain, readnoise, ipc, flat,
photom, area, persat, trapdensity, trappars) are :class:`~webbflow.datamodels.DataModel`
subclasses with the official EXTNAMEs, dtypes and DATAMODL names, registered so that
``webbflow.datamodels.open`` dispatches on DATAMODL. The WCS references (distortion,
filteroffset) are ASDF files read and written through ``asdf`` (``asdf-astropy`` serialises the
transforms) in the tree layout the official ``stdatamodels`` classes expect.

``open_reference(path)`` opens either kind. ``REFTYPE_MODELS`` maps a reftype to the class that
reads it: adding a reftype means adding a class here and a row there.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, NamedTuple

import numpy as np

from .. import datamodels
from ..datamodels import ArraySpec, DataModel, dqflags
from ..datamodels.meta import Keyword, by_path
from ..datamodels.model import HDUs, read_fits, table_values
from ..errors import input_error

__all__ = [
    "REFTYPE_MODELS",
    "AsdfReferenceModel",
    "DarkMIRIModel",
    "DarkModel",
    "DistortionModel",
    "FilteroffsetModel",
    "FlatModel",
    "GainModel",
    "IPCModel",
    "LinearityModel",
    "MaskModel",
    "NrcImgPhotomModel",
    "PersistenceSatModel",
    "PhotomModel",
    "PixelAreaModel",
    "ReadnoiseModel",
    "ReferenceModel",
    "SaturationModel",
    "SuperBiasModel",
    "TrapDensityModel",
    "TrapParsModel",
    "make_dq_def",
    "open_reference",
]

#: dtype of the DQ_DEF table (official dq_def schema: BIT int32, VALUE uint32, NAME, DESCRIPTION)
DQ_DEF_DTYPE = np.dtype([("BIT", ">i4"), ("VALUE", ">u4"), ("NAME", "S40"),
                         ("DESCRIPTION", "S80")])

_DQ_2D = ArraySpec("DQ", "uint32", "pixel", 0)
_DQ_DEF = {"dq_def": "DQ_DEF"}

# Keywords the shared table places elsewhere or lacks, as reference-file schemas have them.
_PIXAR_PRIMARY = {
    "photometry.pixelarea_steradians": Keyword("photometry.pixelarea_steradians", "PIXAR_SR",
                                               "PRIMARY", "number"),
    "photometry.pixelarea_arcsecsq": Keyword("photometry.pixelarea_arcsecsq", "PIXAR_A2",
                                             "PRIMARY", "number"),
}
_AVDRKCUR = {
    "exposure.average_dark_current": Keyword("exposure.average_dark_current", "AVDRKCUR",
                                             "PRIMARY", "number"),
}


def make_dq_def(names: Iterable[str] | None = None) -> np.ndarray:
    """Build a DQ_DEF table declaring standard JWST bits.

    Parameters
    ----------
    names : iterable of str, optional
        Flag names of ``dqflags.PIXEL`` to declare (default: every non-zero flag).

    Returns
    -------
    ndarray, structured (BIT, VALUE, NAME, DESCRIPTION), one row per flag.
    """
    names = [n for n, v in dqflags.PIXEL.items() if v] if names is None else list(names)
    rows = []
    for name in names:
        value = dqflags.interpret_bit_flags(name)
        rows.append((int(value).bit_length() - 1, value, name.upper(), name.upper()))
    return np.array(rows, dtype=DQ_DEF_DTYPE)


class PlanesRead(NamedTuple):
    """The planes of a reference's ``data`` (axis -3) that were read: the rest never were."""

    indices: np.ndarray  # (n,) int64 plane indices in the file, increasing
    count: int  # planes along axis -3 in the file


class ReferenceModel(DataModel):
    """Base of every FITS reference model.

    ``reftype`` is the CRDS reference type the class reads; ``extra_keywords`` maps metadata
    paths to FITS keywords where a reference schema differs from the shared product table
    (e.g. PIXAR_SR in the primary header of area and photom files).
    """

    model_type: ClassVar[str] = "ReferenceFileModel"
    reftype: ClassVar[str] = ""
    extra_keywords: ClassVar[dict[str, Keyword]] = {}
    #: which planes of ``data`` the windowed read took (:meth:`planes_needed`); None: all
    planes_read: PlanesRead | None = None

    def __init__(self, init: str | os.PathLike | tuple | None = None, **arrays: Any) -> None:
        super().__init__(init, **arrays)
        if init is None or isinstance(init, tuple):
            if self.reftype and self.meta.reftype is None:
                self.meta.reftype = self.reftype.upper()

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the main array (``data``, else ``dq``); ``()`` for table-only files."""
        for name in ("data", "dq"):
            if name in type(self).arrays and self._arrays.get(name) is not None:
                return self._arrays[name].shape
        return ()

    @classmethod
    def planes_needed(cls, primary: Any, science: DataModel,
                      nplanes: int) -> np.ndarray | None:
        """Indices along axis -3 of ``data`` (``nplanes`` in the file) that ``science`` uses,
        or None to read them all (the default). ``primary``: the reference's primary header."""
        return None

    def _read_hdul(self, hdul: HDUs, path: Path, raw: BinaryIO | None = None) -> None:
        super()._read_hdul(hdul, path, raw)
        # Re-read tables column by column so TZERO-scaled columns (uint32 VALUE of DQ_DEF)
        # keep their true values; a plain np.asarray of the FITS_rec returns the raw int32.
        names = [h.name.upper() for h in hdul]
        for attr, extname in type(self).tables.items():
            if extname in names and hdul[extname].data is not None:
                self._tables[attr] = table_values(hdul[extname].data)

    def _read_headers(self, hdul: HDUs) -> None:
        super()._read_headers(hdul)
        wanted = {(k.hdu, k.keyword): k for k in self.extra_keywords.values()}
        for hduname, cards in list(self.extra_fits.items()):
            kept = []
            for key, value, comment in cards:
                row = wanted.get((hduname, key))
                if row is None:
                    kept.append((key, value, comment))
                else:
                    self._store[row.path] = row.coerce(value)
            self.extra_fits[hduname] = kept

    def to_hdulist(self) -> HDUs:
        """Build the HDU list; ``extra_keywords`` land in the HDU their schema names."""
        hdul = super().to_hdulist()
        by_name = {("PRIMARY" if i == 0 else h.name.upper()): h for i, h in enumerate(hdul)}
        shared = by_path()
        for path, row in self.extra_keywords.items():
            value = self.meta.get(path)
            old = shared.get(path)
            if old is not None and old.hdu in by_name and old.hdu != row.hdu:
                by_name[old.hdu].header.remove(old.keyword, ignore_missing=True)
            if value is not None and row.hdu in by_name:
                by_name[row.hdu].header[row.keyword] = value
        return hdul


class MaskModel(ReferenceModel):
    """MASK: DQ uint32 [ny, nx] (bad-pixel flags in the file's own bits) and DQ_DEF."""

    model_type = "MaskModel"
    reftype = "mask"
    arrays: ClassVar[dict[str, ArraySpec]] = {"dq": ArraySpec("DQ", "uint32", None, 0)}
    tables: ClassVar[dict[str, str]] = _DQ_DEF
    required = ("dq",)

    def __init__(self, init: str | os.PathLike | tuple | None = None, **arrays: Any) -> None:
        if isinstance(init, tuple):
            arrays.setdefault("dq", np.zeros(init, dtype=np.uint32))
            init = None
        super().__init__(init, **arrays)

    def _read_hdul(self, hdul: HDUs, path: Path, raw: BinaryIO | None = None) -> None:
        super()._read_hdul(hdul, path, raw)
        if self._arrays.get("dq") is None:
            raise input_error(path, "no DQ extension with data")


class SaturationModel(ReferenceModel):
    """SATURATION: SCI float32 [ny, nx] saturation threshold (DN), DQ, DQ_DEF."""

    model_type = "SaturationModel"
    reftype = "saturation"
    arrays: ClassVar[dict[str, ArraySpec]] = {"data": ArraySpec("SCI", "float32", None),
                                              "dq": _DQ_2D}
    tables: ClassVar[dict[str, str]] = _DQ_DEF
    required = ("data", "dq")
    ndim = 2


class SuperBiasModel(ReferenceModel):
    """SUPERBIAS: SCI float32 [ny, nx] bias level (DN), ERR (DN), DQ, DQ_DEF."""

    model_type = "SuperBiasModel"
    reftype = "superbias"
    arrays: ClassVar[dict[str, ArraySpec]] = {"data": ArraySpec("SCI", "float32", None),
                                              "err": ArraySpec("ERR", "float32"),
                                              "dq": _DQ_2D}
    tables: ClassVar[dict[str, str]] = _DQ_DEF
    required = ("data", "err", "dq")
    ndim = 2


class LinearityModel(ReferenceModel):
    """LINEARITY: COEFFS float32 [ncoeffs, ny, nx] (polynomial in DN), DQ, DQ_DEF.

    ``data`` is an alias of ``coeffs`` kept for generic code; INV_COEFFS is optional.
    """

    model_type = "LinearityModel"
    reftype = "linearity"
    arrays: ClassVar[dict[str, ArraySpec]] = {"coeffs": ArraySpec("COEFFS", "float32", None),
                                              "inv_coeffs": ArraySpec("INV_COEFFS", "float32",
                                                                      None),
                                              "dq": ArraySpec("DQ", "uint32", None, 0)}
    tables: ClassVar[dict[str, str]] = _DQ_DEF
    required = ("coeffs",)

    def __init__(self, init: str | os.PathLike | tuple | None = None, **arrays: Any) -> None:
        if isinstance(init, tuple):
            arrays.setdefault("coeffs", np.zeros(init, dtype=np.float32))
            init = None
        super().__init__(init, **arrays)
        if self._arrays.get("dq") is None and self._arrays.get("coeffs") is not None:
            self.dq = np.zeros(self._arrays["coeffs"].shape[-2:], dtype=np.uint32)

    def _read_hdul(self, hdul: HDUs, path: Path, raw: BinaryIO | None = None) -> None:
        super()._read_hdul(hdul, path, raw)
        coeffs = self._arrays.get("coeffs")
        if coeffs is None or coeffs.ndim != 3:
            raise input_error(path, "COEFFS must be a 3-D array [ncoeffs, ny, nx]")

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``coeffs``: (ncoeffs, ny, nx)."""
        return self.coeffs.shape


class DarkModel(ReferenceModel):
    """DARK: SCI float32 [ngroups, ny, nx] (DN), ERR, DQ [ny, nx], DQ_DEF.

    NFRAMES, GROUPGAP and NGROUPS of the dark are ``meta.exposure.nframes/groupgap/ngroups``.
    A 4-D SCI [nints, ngroups, ny, nx] is written in the MIRI layout (DATAMODL DarkMIRIModel,
    4-D DQ) so the official datamodels accept it.
    """

    model_type = "DarkModel"
    reftype = "dark"
    arrays: ClassVar[dict[str, ArraySpec]] = {"data": ArraySpec("SCI", "float32", None),
                                              "err": ArraySpec("ERR", "float32"),
                                              "dq": _DQ_2D,
                                              "average_dark_current":
                                                  ArraySpec("AVDRKCUR", "float32", None)}
    tables: ClassVar[dict[str, str]] = _DQ_DEF
    required = ("data", "err", "dq")
    extra_keywords = _AVDRKCUR

    @classmethod
    def planes_needed(cls, primary: Any, science: DataModel,
                      nplanes: int) -> np.ndarray | None:
        """The dark planes ``science``'s read pattern averages (``kernels.dark``), when they
        are fewer than the file holds and within it; else None (all: the step then checks).

        A DEEP8 exposure of 20 groups averages 160 frames of a 388-frame dark, and a MEDIUM8
        one 80 of 98: the frames of the group gaps are never read.
        """
        from ..kernels.dark import dark_frames_sufficient, dark_planes_used

        shape = getattr(science, "data", None)
        shape = None if shape is None else shape.shape
        if shape is None or len(shape) != 4:
            return None
        exp = science.meta.exposure
        ngroups, nframes, groupgap = shape[1], int(exp.nframes or 1), int(exp.groupgap or 0)
        dark_nframes = int(primary.get("NFRAMES") or 1)
        dark_groupgap = int(primary.get("GROUPGAP") or 0)
        ok, _ = dark_frames_sufficient(ngroups, nframes, groupgap, nplanes, dark_nframes,
                                       dark_groupgap)
        planes = dark_planes_used(ngroups, nframes, groupgap, dark_nframes, dark_groupgap)
        if not ok or planes[-1] >= nplanes or planes.size >= nplanes:
            return None
        return planes

    def _read_hdul(self, hdul: HDUs, path: Path, raw: BinaryIO | None = None) -> None:
        super()._read_hdul(hdul, path, raw)
        if self._arrays["data"].ndim not in (3, 4):
            raise input_error(path, f"SCI has {self._arrays['data'].ndim} dimensions, a dark "
                              "needs 3 [ngroups, ny, nx] or 4 [nints, ngroups, ny, nx]")

    def to_hdulist(self) -> HDUs:
        """Build the HDU list (MIRI layout when SCI is 4-D)."""
        data = self.data
        if data is not None and data.ndim == 4 and self.model_type == "DarkModel":
            out = DarkMIRIModel()
            for attr in ("_arrays", "_tables", "_store", "extra_fits", "extra_hdus"):
                object.__setattr__(out, attr, dict(getattr(self, attr)))
            return out.to_hdulist()
        return super().to_hdulist()


class DarkMIRIModel(DarkModel):
    """MIRI DARK: SCI, ERR and DQ all [nints, ngroups, ny, nx], DQ_DEF."""

    model_type = "DarkMIRIModel"
    arrays: ClassVar[dict[str, ArraySpec]] = {**DarkModel.arrays,
                                              "dq": ArraySpec("DQ", "uint32", "data", 0)}

    def to_hdulist(self) -> HDUs:
        """Build the HDU list; a 2-D DQ is broadcast to SCI's shape."""
        dq, data = self._arrays.get("dq"), self._arrays.get("data")
        if dq is not None and data is not None and dq.shape != data.shape:
            self._arrays["dq"] = np.ascontiguousarray(np.broadcast_to(dq, data.shape))
        self.meta.model_type = "DarkMIRIModel"
        return ReferenceModel.to_hdulist(self)


class GainModel(ReferenceModel):
    """GAIN: SCI float32 [ny, nx] (electrons/DN)."""

    model_type = "GainModel"
    reftype = "gain"
    ndim = 2


class ReadnoiseModel(ReferenceModel):
    """READNOISE: SCI float32 [ny, nx], CDS read noise (DN)."""

    model_type = "ReadnoiseModel"
    reftype = "readnoise"
    ndim = 2


class IPCModel(ReferenceModel):
    """IPC: SCI float32 kernel, [ny_k, nx_k] (e.g. 3x3) or [ny_k, nx_k, ny, nx] per pixel."""

    model_type = "IPCModel"
    reftype = "ipc"


class FlatModel(ReferenceModel):
    """FLAT: SCI float32 [ny, nx] (normalised response), ERR, DQ, DQ_DEF."""

    model_type = "FlatModel"
    reftype = "flat"
    arrays: ClassVar[dict[str, ArraySpec]] = {"data": ArraySpec("SCI", "float32", None),
                                              "err": ArraySpec("ERR", "float32"),
                                              "dq": _DQ_2D}
    tables: ClassVar[dict[str, str]] = _DQ_DEF
    required = ("data", "err", "dq")
    ndim = 2


class PhotomModel(ReferenceModel):
    """PHOTOM base: a PHOTOM table (``phot_table``); PIXAR_SR/PIXAR_A2 in the primary header."""

    model_type = "PhotomModel"
    reftype = "photom"
    arrays: ClassVar[dict[str, ArraySpec]] = {}
    tables: ClassVar[dict[str, str]] = {"phot_table": "PHOTOM"}
    required = ()
    extra_keywords = _PIXAR_PRIMARY

    def _read_hdul(self, hdul: HDUs, path: Path, raw: BinaryIO | None = None) -> None:
        super()._read_hdul(hdul, path, raw)
        if self._tables.get("phot_table") is None:
            raise input_error(path, "no PHOTOM table")


class NrcImgPhotomModel(PhotomModel):
    """NIRCam imaging PHOTOM: rows of filter, pupil, photmjsr (MJy/sr per DN/s), uncertainty."""

    model_type = "NrcImgPhotomModel"
    #: dtype of ``phot_table`` rows
    row_dtype = np.dtype([("filter", "S12"), ("pupil", "S12"), ("photmjsr", ">f4"),
                          ("uncertainty", ">f4")])


class PixelAreaModel(ReferenceModel):
    """AREA: SCI float32 [ny, nx], pixel area relative to the nominal PIXAR_SR (sr) / PIXAR_A2.

    The official schema has no SUBARRAY keywords; the file covers the full detector.
    """

    model_type = "PixelAreaModel"
    reftype = "area"
    ndim = 2
    extra_keywords = _PIXAR_PRIMARY


class PersistenceSatModel(ReferenceModel):
    """PERSAT: SCI float32 [ny, nx] persistence saturation level (DN), DQ, DQ_DEF."""

    model_type = "PersistenceSatModel"
    reftype = "persat"
    arrays: ClassVar[dict[str, ArraySpec]] = {"data": ArraySpec("SCI", "float32", None),
                                              "dq": _DQ_2D}
    tables: ClassVar[dict[str, str]] = _DQ_DEF
    required = ("data", "dq")
    ndim = 2


class TrapDensityModel(ReferenceModel):
    """TRAPDENSITY: SCI float32 [ny, nx] trap density (traps/pixel), DQ, DQ_DEF."""

    model_type = "TrapDensityModel"
    reftype = "trapdensity"
    arrays: ClassVar[dict[str, ArraySpec]] = {"data": ArraySpec("SCI", "float32", None),
                                              "dq": _DQ_2D}
    tables: ClassVar[dict[str, str]] = _DQ_DEF
    required = ("data", "dq")
    ndim = 2


class TrapParsModel(ReferenceModel):
    """TRAPPARS: table TRAPPARS of capture0, capture1, capture2, decay_param (float64)."""

    model_type = "TrapParsModel"
    reftype = "trappars"
    arrays: ClassVar[dict[str, ArraySpec]] = {}
    tables: ClassVar[dict[str, str]] = {"trappars_table": "TRAPPARS"}
    required = ()
    row_dtype = np.dtype([("capture0", ">f8"), ("capture1", ">f8"), ("capture2", ">f8"),
                          ("decay_param", ">f8")])


for _cls in (MaskModel, SaturationModel, SuperBiasModel, LinearityModel, DarkModel,
             DarkMIRIModel, GainModel, ReadnoiseModel, IPCModel, FlatModel, PhotomModel,
             NrcImgPhotomModel, PixelAreaModel, PersistenceSatModel, TrapDensityModel,
             TrapParsModel):
    datamodels.register(_cls)


# ----------------------------------------------------------------------------- ASDF references
class AsdfReferenceModel(DataModel):
    """Base of ASDF reference files: a tree with ``meta`` (nested) and model-specific nodes.

    ``tree_nodes`` names the top-level nodes besides ``meta`` that become attributes.
    """

    model_type: ClassVar[str] = "ReferenceFileModel"
    reftype: ClassVar[str] = ""
    arrays: ClassVar[dict[str, ArraySpec]] = {}
    required = ()
    tree_nodes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, init: str | os.PathLike | None = None, **nodes: Any) -> None:
        for name in self.tree_nodes:
            object.__setattr__(self, name, None)
        super().__init__(None)
        if self.reftype:
            self.meta.reftype = self.reftype.upper()
        if init is not None:
            self._read(Path(init))
        for name, value in nodes.items():
            if name in self.tree_nodes:
                object.__setattr__(self, name, value)
            else:
                self.meta.set(name, value)

    @property
    def shape(self) -> tuple[int, ...]:
        """ASDF references hold no image: ``()``."""
        return ()

    def _read(self, path: Path) -> None:
        import asdf

        if not path.exists():
            raise input_error(path, "no such file")
        try:
            with asdf.open(path, lazy_load=False, memmap=False) as af:
                tree = dict(af.tree)
        except Exception as exc:  # asdf raises many kinds on a bad file
            raise input_error(path, f"not a readable ASDF file ({exc})") from None
        meta = tree.get("meta") or {}
        if not isinstance(meta, dict):
            raise input_error(path, "ASDF tree has no 'meta' mapping")
        self._store.clear()
        for key, value in meta.items():
            self.meta.set(key, value)
        for name in self.tree_nodes:
            object.__setattr__(self, name, tree.get(name))
        self.meta.filename = path.name

    def to_tree(self) -> dict[str, Any]:
        """The ASDF tree: ``{"meta": nested dict, <node>: value, ...}``."""
        self.meta.model_type = self.model_type
        tree: dict[str, Any] = {"meta": self.meta.to_dict()}
        for name in self.tree_nodes:
            value = getattr(self, name)
            if value is not None:
                tree[name] = value
        return tree

    def save(self, path: str | os.PathLike, overwrite: bool = True) -> str:
        """Write the ASDF file atomically (temporary name, then rename); return the path."""
        import asdf

        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(path)
        self.meta.filename = path.name
        self.meta.date = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        os.close(fd)
        try:
            asdf.AsdfFile(self.to_tree()).write_to(tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return str(path)

    def to_hdulist(self) -> HDUs:
        """ASDF references have no FITS form."""
        raise TypeError(f"{type(self).__name__} is stored as ASDF, not FITS")


class DistortionModel(AsdfReferenceModel):
    """DISTORTION: ``model``, an astropy transform (x, y) full-frame 0-based pixels -> (V2, V3)
    arcsec with an explicit ``.inverse``; ``meta.input_units`` "pixel", ``meta.output_units``
    "arcsec"; NIRCam files also carry ``meta.instrument.module/channel/p_pupil``.
    """

    model_type = "DistortionModel"
    reftype = "distortion"
    tree_nodes = ("model",)

    def __init__(self, init: str | os.PathLike | None = None, **nodes: Any) -> None:
        super().__init__(init, **nodes)
        if init is None:
            if self.meta.get("input_units") is None:
                self.meta.set("input_units", "pixel")
            if self.meta.get("output_units") is None:
                self.meta.set("output_units", "arcsec")


class FilteroffsetModel(AsdfReferenceModel):
    """FILTEROFFSET: ``filters``, a list of ``{"filter", "pupil", "column_offset",
    "row_offset"}`` (pixels) matched against the exposure's FILTER/PUPIL."""

    model_type = "FilteroffsetModel"
    reftype = "filteroffset"
    tree_nodes = ("filters",)

    def __init__(self, init: str | os.PathLike | None = None, **nodes: Any) -> None:
        super().__init__(init, **nodes)
        if init is None and self.meta.get("input_units") is None:
            self.meta.set("input_units", "pixel")


_ASDF_MODELS: dict[str, type[AsdfReferenceModel]] = {
    cls.model_type: cls for cls in (DistortionModel, FilteroffsetModel)
}

#: reftype -> model class used to read it (photom: the class named by DATAMODL wins)
REFTYPE_MODELS: dict[str, type[DataModel]] = {
    "mask": MaskModel,
    "saturation": SaturationModel,
    "superbias": SuperBiasModel,
    "linearity": LinearityModel,
    "dark": DarkModel,
    "gain": GainModel,
    "readnoise": ReadnoiseModel,
    "ipc": IPCModel,
    "flat": FlatModel,
    "photom": PhotomModel,
    "area": PixelAreaModel,
    "persat": PersistenceSatModel,
    "trapdensity": TrapDensityModel,
    "trappars": TrapParsModel,
    "distortion": DistortionModel,
    "filteroffset": FilteroffsetModel,
}


def _is_asdf(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(5) == b"#ASDF"


def open_reference(path: str | os.PathLike, reftype: str | None = None) -> DataModel:
    """Open a reference file (FITS or ASDF) as its reference model.

    The class is the one named by the file's DATAMODL (FITS) or ``meta.model_type`` (ASDF)
    when registered here, else the class of ``reftype``.

    Raises
    ------
    InputError
        One line: missing file, unreadable file, or no model known for it.
    """
    path = Path(path)
    if not path.exists():
        raise input_error(path, "no such file")
    fallback = REFTYPE_MODELS.get(reftype.lower()) if reftype else None
    if _is_asdf(path):
        import asdf

        try:
            with asdf.open(path, lazy_load=True, memmap=False) as af:
                model_type = (af.tree.get("meta") or {}).get("model_type")
        except Exception as exc:  # asdf raises many kinds on a bad file
            raise input_error(path, f"not a readable ASDF file ({exc})") from None
        cls = _ASDF_MODELS.get(model_type) or fallback
        if cls is None or not issubclass(cls, AsdfReferenceModel):
            raise input_error(path, f"no ASDF reference model for model_type={model_type!r}")
        return cls(path)
    with read_fits(Path(path), "header") as hdul:
        model_type = hdul[0].header.get("DATAMODL")
    cls = datamodels._REGISTRY.get(model_type)
    if cls is None or (fallback is not None and not issubclass(cls, ReferenceModel)):
        cls = fallback
    if cls is None:
        raise input_error(path, f"no reference model for DATAMODL={model_type!r}")
    return cls(path)


# ------------------------------------------------------------------ MIRI Detector1 references
class ResetModel(ReferenceModel):
    """RESET (MIRI): SCI float32 [nints, ngroups, ny, nx] reset-anomaly correction (DN), ERR
    (same shape), DQ uint32 [ny, nx], DQ_DEF. NINTS/NGROUPS give the corrected integrations
    and groups (``meta.exposure.nints/ngroups``)."""

    model_type = "ResetModel"
    reftype = "reset"
    arrays: ClassVar[dict[str, ArraySpec]] = {"data": ArraySpec("SCI", "float32", None),
                                              "err": ArraySpec("ERR", "float32"),
                                              "dq": _DQ_2D}
    tables: ClassVar[dict[str, str]] = _DQ_DEF
    required = ("data", "dq")
    ndim = 4


class RSCDModel(ReferenceModel):
    """RSCD (MIRI): table RSCD_GROUP_SKIP of subarray, readpatt, group_skip1 (groups flagged in
    integration 1), group_skip (integrations 2 and later)."""

    model_type = "RSCDModel"
    reftype = "rscd"
    arrays: ClassVar[dict[str, ArraySpec]] = {}
    tables: ClassVar[dict[str, str]] = {"rscd_group_skip_table": "RSCD_GROUP_SKIP"}
    required = ()
    row_dtype = np.dtype([("subarray", "S17"), ("readpatt", "S12"), ("group_skip1", ">i4"),
                          ("group_skip", ">i4")])

    def _read_hdul(self, hdul: HDUs, path: Path, raw: BinaryIO | None = None) -> None:
        super()._read_hdul(hdul, path, raw)
        if self._tables.get("rscd_group_skip_table") is None:
            raise input_error(path, "no RSCD_GROUP_SKIP table")


class EmiModel(AsdfReferenceModel):
    """EMICORR (MIRI, ASDF): ``frequencies`` ``{name: {"frequency": Hz, "phase_amplitudes":
    1-D waveform (DN) over one period}}`` and ``subarray_cases`` ``{subarray (FULL_FAST /
    FULL_SLOW for full frame): {"rowclocks", "frameclocks", "freqs": {"FAST": [names],
    "SLOW": {detector: [names]}}}}``."""

    model_type = "EmiModel"
    reftype = "emicorr"
    tree_nodes = ("frequencies", "subarray_cases")


for _cls in (ResetModel, RSCDModel):
    datamodels.register(_cls)
_ASDF_MODELS[EmiModel.model_type] = EmiModel
REFTYPE_MODELS.update({"reset": ResetModel, "rscd": RSCDModel, "emicorr": EmiModel})
__all__ += ["EmiModel", "RSCDModel", "ResetModel"]


# ------------------------------------------------------------------ Image3 source_catalog
class ApcorrImagingModel(ReferenceModel):
    """APCORR (imaging): table APCORR of the selectors (filter, pupil / subarray), eefraction,
    radius (native pixels), apcorr, skyin, skyout (native pixels)."""

    model_type = "NrcImgApcorrModel"
    reftype = "apcorr"
    arrays: ClassVar[dict[str, ArraySpec]] = {}
    tables: ClassVar[dict[str, str]] = {"apcorr_table": "APCORR"}
    required = ()
    row_dtype = np.dtype([("filter", "S12"), ("pupil", "S15"), ("eefraction", ">f4"),
                          ("radius", ">f4"), ("apcorr", ">f4"), ("skyin", ">f4"),
                          ("skyout", ">f4")])

    def _read_hdul(self, hdul: HDUs, path: Path, raw: BinaryIO | None = None) -> None:
        super()._read_hdul(hdul, path, raw)
        if self._tables.get("apcorr_table") is None:
            raise input_error(path, "no APCORR table")


class NrcImgApcorrModel(ApcorrImagingModel):
    model_type = "NrcImgApcorrModel"


class NisImgApcorrModel(ApcorrImagingModel):
    model_type = "NisImgApcorrModel"


class MirImgApcorrModel(ApcorrImagingModel):
    model_type = "MirImgApcorrModel"
    row_dtype = np.dtype([("filter", "S12"), ("subarray", "S15"), ("eefraction", ">f4"),
                          ("radius", ">f4"), ("apcorr", ">f4"), ("skyin", ">f4"),
                          ("skyout", ">f4")])


class FgsImgApcorrModel(ApcorrImagingModel):
    model_type = "FgsImgApcorrModel"
    row_dtype = np.dtype([("eefraction", ">f4"), ("radius", ">f4"), ("apcorr", ">f4"),
                          ("skyin", ">f4"), ("skyout", ">f4")])


class ABVegaOffsetModel(AsdfReferenceModel):
    """ABVEGAOFFSET (ASDF): ``abvega_offset``, a table of the selectors (filter, pupil /
    filter / detector) and ``abvega_offset`` = m_AB - m_Vega."""

    model_type = "ABVegaOffsetModel"
    reftype = "abvegaoffset"
    tree_nodes = ("abvega_offset",)


for _cls in (NrcImgApcorrModel, NisImgApcorrModel, MirImgApcorrModel, FgsImgApcorrModel):
    datamodels.register(_cls)
_ASDF_MODELS[ABVegaOffsetModel.model_type] = ABVegaOffsetModel
REFTYPE_MODELS.update({"apcorr": NrcImgApcorrModel, "abvegaoffset": ABVegaOffsetModel})
__all__ += ["ABVegaOffsetModel", "ApcorrImagingModel", "FgsImgApcorrModel",
            "MirImgApcorrModel", "NisImgApcorrModel", "NrcImgApcorrModel"]


# ------------------------------------------------------------------ Detector1 picture_frame
class PictureFrameModel(ReferenceModel):
    """PICTUREFRAME (NIRSpec full frame): SCI float32 [2048, 2048], the thermal picture-frame
    pattern as a rate image (DN/s); the step scales it by the science data's edge-minus-centre
    level in each group."""

    model_type = "PictureFrameModel"
    reftype = "pictureframe"
    ndim = 2


datamodels.register(PictureFrameModel)
REFTYPE_MODELS["pictureframe"] = PictureFrameModel
__all__ += ["PictureFrameModel"]
