"""Exposures of a stage-3 association handed from step to step without their pixels.

An :class:`Exposure` is what Image3's tweakreg, skymatch and outlier_detection pass along:
a metadata-only image model (``meta``, with the WCS object itself, ``extra_fits``) plus where
the pixels are. Two kinds:

* backed by a model in memory (``in_memory=True``, or models given in Python): :meth:`open`
  returns that model and every change is made on it directly;
* backed by a file (``in_memory=False``): the pixels stay in the file and :meth:`open` reads
  them afresh (one exposure at a time, released by the caller); metadata changes (a new WCS,
  sky level, status keywords) live in ``meta`` and a sky level to subtract in
  ``data_offset``; nothing is written until a step needs a product (outlier_detection's
  ``crf``), after which the exposure is backed by that file.

So no exposure is re-serialised between steps (the WCS objects are never written to ASDF and
read back) and, with files, memory holds one exposure's pixels whatever the number of
exposures.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..datamodels import DataModel, ImageModel
from ..datamodels import open as open_model
from ..datamodels.fits_arrays import image_data
from ..datamodels.meta_only import open_meta
from ..datamodels.model import read_fits
from ..errors import input_error

__all__ = ["Exposure", "as_exposures", "results_like"]


def _meta_stub(model: DataModel) -> ImageModel:
    """An ImageModel holding ``model``'s metadata (the same WCS object) and no arrays."""
    stub = ImageModel()
    for key, value in model.meta.items():
        stub.meta.set(key, value)
    stub.extra_fits = {k: list(v) for k, v in model.extra_fits.items()}
    stub.extra_hdus = list(model.extra_hdus)
    return stub


class Exposure:
    """One calibrated 2-D exposure: metadata in memory, pixels in a model or a file.

    Parameters
    ----------
    model : ImageModel, optional
        The exposure in memory (changes are made on it).
    path : str, optional
        A cal-like FITS file holding the pixels (used when ``model`` is None).
    stub : ImageModel, optional
        Metadata of the file-backed exposure (read from ``path`` when not given).
    shape : (ny, nx), optional
        SCI shape of the file-backed exposure.
    """

    def __init__(self, model: ImageModel | None = None, path: str | None = None,
                 stub: ImageModel | None = None, shape: tuple[int, int] | None = None
                 ) -> None:
        self._model = model
        self.path = path
        self._stub = stub
        self._shape = shape
        #: sky level (data units) still to subtract from SCI when the file is read
        self.data_offset = 0.0
        if model is None and (stub is None or shape is None):
            self._stub, self._shape = self._read_meta()

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_item(cls, item: Any, in_memory: bool = True) -> Exposure:
        """An exposure from a model, a path (read into memory unless ``in_memory`` is
        False) or an Exposure (returned as is)."""
        if isinstance(item, Exposure):
            return item
        if isinstance(item, DataModel):
            if not isinstance(item, ImageModel):
                raise input_error(item.meta.filename or "<model>",
                                  f"needs a cal image (ImageModel), got {type(item).__name__}")
            return cls(model=item)
        path = str(item)
        if not Path(path).is_file():
            raise input_error(path, "no such file")
        if in_memory:
            model = open_model(path)
            if not isinstance(model, ImageModel):
                raise input_error(path, f"needs a cal image (ImageModel), got "
                                        f"{type(model).__name__}")
            return cls(model=model)
        return cls(path=path)

    # ----------------------------------------------------------------- properties
    @property
    def in_memory(self) -> bool:
        """True when backed by a model in memory."""
        return self._model is not None

    @property
    def meta(self) -> Any:
        """The exposure's metadata (``model.meta`` or the stub's)."""
        return (self._model if self._model is not None else self._stub).meta

    @property
    def shape(self) -> tuple[int, int]:
        """(ny, nx) of SCI."""
        if self._model is not None:
            return tuple(self._model.data.shape)
        return self._shape

    @property
    def name(self) -> str:
        """The file name recorded in the metadata (or the path's)."""
        return str(self.meta.filename or (Path(self.path).name if self.path else "<model>"))

    # ----------------------------------------------------------------- pixels
    def _read_meta(self) -> tuple[ImageModel, tuple[int, int]]:
        """The file's metadata (no pixels read) and SCI shape."""
        stub, shapes = open_meta(self.path)
        if not isinstance(stub, ImageModel):
            raise input_error(self.path, f"needs a cal image (ImageModel), got "
                                         f"{type(stub).__name__}")
        return stub, tuple(shapes["data"])

    def _read_arrays(self, arrays: tuple[str, ...] | None = None) -> ImageModel:
        """The file's arrays (all, or those named in ``arrays``; no ASDF tree parsed) under
        the exposure's metadata."""
        model = ImageModel()
        path = Path(self.path)
        with read_fits(path, "data") as hdul, open(path, "rb") as raw:
            names = {h.name.upper() for h in hdul}
            for attr, spec in ImageModel.arrays.items():
                if arrays is not None and attr != "data" and attr not in arrays:
                    continue
                if spec.extname in names:
                    data = image_data(hdul[spec.extname], raw)
                    if data is not None:
                        setattr(model, attr, np.asarray(data, dtype=spec.dtype))
        if model.data is None:
            raise input_error(self.path, "no SCI extension with data")
        stub = self._stub
        for key, value in stub.meta.items():
            model.meta.set(key, value)
        model.extra_fits = {k: list(v) for k, v in stub.extra_fits.items()}
        model.extra_hdus = list(stub.extra_hdus)
        return model

    def open(self, arrays: tuple[str, ...] | None = None) -> ImageModel:
        """The exposure as a full ImageModel with every recorded change applied.

        File-backed: a new model each call (the caller drops it when done); its metadata
        is a copy of ``meta`` (changes to it are not kept: use :meth:`adopt`). ``arrays``
        (e.g. ``("dq",)``): read only SCI and those (a read-only look at the pixels: don't
        save it); a model in memory is returned whole.
        """
        if self._model is not None:
            return self._model
        model = self._read_arrays(arrays)
        if self.data_offset:
            model.data -= np.float32(self.data_offset)
        return model

    def subtract(self, level: float) -> None:
        """Subtract ``level`` (data units) from SCI (now, or when the file is read)."""
        if self._model is not None:
            self._model.data = (self._model.data - np.float32(level)).astype(np.float32)
        else:
            self.data_offset += float(level)

    def adopt(self, model: ImageModel, path: str | None = None) -> None:
        """Make ``model`` (an updated version of this exposure) its new content: kept in
        memory, or, given ``path`` (where it was saved), as that file."""
        if self._model is not None or path is None:
            self._model = model
            return
        self.path = path
        self._stub = _meta_stub(model)
        self._shape = tuple(model.data.shape)
        self.data_offset = 0.0

    def save(self, path: str | os.PathLike) -> str:
        """Write the exposure (changes applied) to ``path``; a file-backed exposure is then
        backed by it. Returns the path."""
        model = self.open()
        written = model.save(path)
        self.adopt(model, written)
        return written

    def result(self) -> ImageModel:
        """The exposure as a model (what a step returns to a caller that gave paths)."""
        return self.open()

    def __repr__(self) -> str:
        return f"<Exposure {self.name}>"


def as_exposures(items: Any, in_memory: bool = True) -> list[Exposure]:
    """The input (a model, a path, an Exposure, or a list of them) as Exposures."""
    if isinstance(items, DataModel | Exposure | str | os.PathLike):
        items = [items]
    return [Exposure.from_item(i, in_memory) for i in items]


def results_like(inputs: Any, exposures: Iterable[Exposure]) -> list[Any]:
    """What a step returns: the Exposures when it was given Exposures (a pipeline passing
    them along), else models (paths given to a step on its own give models, as officially)."""
    given = inputs if isinstance(inputs, list | tuple) else [inputs]
    if given and all(isinstance(i, Exposure) for i in given):
        return list(exposures)
    return [e.result() for e in exposures]
