"""photom: count rates (DN/s) -> surface brightness (MJy/sr) for imaging.

The PHOTOM table row whose match columns (``filter``, ``pupil``, ``subarray`` when the table
has them, :data:`ROW_MATCH`) equal the exposure's gives PHOTMJSR (MJy/sr per DN/s). SCI and ERR
are multiplied by it, VAR_POISSON/VAR_RNOISE/VAR_FLAT by its square (``inverse`` divides).
PHOTUJA2 = PHOTMJSR x (MJy/sr -> uJy/arcsec^2). The AREA reference (cut to the subarray) is
attached as the ``area`` array, and PIXAR_SR/PIXAR_A2 come from it, else from the PHOTOM file.
Spectroscopic modes are not implemented (SKIPPED with the reason).
"""

from __future__ import annotations

import math

import numpy as np

from ..datamodels import CubeModel, DataModel, ImageModel
from ..errors import ReferenceError_, input_error
from ..stpipe.params import Param
from ..stpipe.step import Step
from .assign_wcs import IMAGING_EXP_TYPES
from .support import load_reference

#: PHOTOM table column -> science meta path used to select the row (when the column exists)
ROW_MATCH = {"filter": "instrument.filter", "pupil": "instrument.pupil",
             "subarray": "subarray.name"}

#: 1 MJy/sr in uJy/arcsec^2: 1e12 / (180/pi * 3600)**2
MJSR_TO_UJA2 = 1.0e12 / (180.0 / math.pi * 3600.0) ** 2


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value if value is not None else "").strip().upper()


def find_row(table: np.ndarray, model: DataModel) -> tuple[int | None, dict[str, str]]:
    """Index of the first PHOTOM row matching ``model`` (or None) and the values matched."""
    names = table.dtype.names or ()
    wanted = {col: _text(model.meta.get(path)) for col, path in ROW_MATCH.items()
              if col in names}
    for i in range(len(table)):
        if all(_text(table[col][i]) == value for col, value in wanted.items()):
            return i, wanted
    return None, wanted


class PhotomStep(Step):
    """Multiply imaging count rates by PHOTMJSR; attach the pixel area map."""

    class_alias = "photom"
    reference_file_types = ("photom", "area")
    spec = {
        "inverse": Param("boolean", False, "Divide by the conversion instead of multiplying"),
        "source_type": Param("string", None, "Process as this source type (spectroscopy; "
                             "not used for imaging)"),
        "apply_time_correction": Param("boolean", True, "Apply a time-dependent correction "
                                       "when the PHOTOM file has one (none supported yet)"),
        "mrs_time_correction": Param("boolean", True, "MIRI MRS only (not used)"),
    }

    def process(self, model):
        if not isinstance(model, ImageModel | CubeModel):
            raise input_error(model.meta.filename or "<model>",
                              f"{self.name} needs a rate/cal or rateints/calints product, got "
                              f"{type(model).__name__}")
        exp_type = str(model.meta.exposure.type or "").upper()
        if exp_type not in IMAGING_EXP_TYPES:
            what = exp_type or "unknown EXP_TYPE"
            return self.skip_step(model, f"photometric calibration of {what} is not "
                                         "implemented in webbflow")
        phot = load_reference(self, model, "photom")
        if phot is None:
            return self.skip_step(model, "no PHOTOM reference applies (N/A)")
        area = load_reference(self, model, "area")
        self._store_area(model, phot, area)

        table = phot.phot_table
        row, wanted = find_row(table, model)
        if row is None:
            raise ReferenceError_(f"{phot.meta.filename}: photom reference has no row for "
                                  f"{what_row(wanted)}")
        conversion = table["photmjsr"][row]
        if not np.isfinite(conversion):
            raise ReferenceError_(f"{phot.meta.filename}: PHOTMJSR of {what_row(wanted)} is "
                                  f"{conversion}")
        conv = np.float32(conversion)
        self.log.info("PHOTMJSR value: %.6g", float(conv))
        model.meta.photometry.conversion_megajanskys = float(conv)
        model.meta.photometry.conversion_microjanskys = float(conv * MJSR_TO_UJA2)
        square = conv * conv
        if self.inverse:
            model.data = model.data / conv
            model.err = model.err / conv
        else:
            model.data = model.data * conv
            model.err = model.err * conv
        for name in ("var_poisson", "var_rnoise", "var_flat"):
            var = getattr(model, name)
            if var is not None and var.size:
                setattr(model, name, var / square if self.inverse else var * square)
        unit = "DN/s" if self.inverse else "MJy/sr"
        model.meta.bunit_data = unit
        model.meta.bunit_err = unit
        return model

    def _store_area(self, model: DataModel, phot: DataModel, area: DataModel | None) -> None:
        """AREA array and PIXAR_SR/PIXAR_A2: the area file's values win over PHOTOM's."""
        sr = a2 = None
        if area is not None:
            model.area = np.asarray(area.data, dtype=np.float32)
            sr = area.meta.photometry.pixelarea_steradians
            a2 = area.meta.photometry.pixelarea_arcsecsq
            self.log.info("Pixel area map copied to output")
        if sr is None or a2 is None:
            sr = phot.meta.photometry.pixelarea_steradians if sr is None else sr
            a2 = phot.meta.photometry.pixelarea_arcsecsq if a2 is None else a2
        if sr is None or a2 is None:
            self.log.warning("PIXAR_SR/PIXAR_A2 missing from both the AREA and PHOTOM files")
        model.meta.photometry.pixelarea_steradians = None if sr is None else float(sr)
        model.meta.photometry.pixelarea_arcsecsq = None if a2 is None else float(a2)


def what_row(wanted: dict[str, str]) -> str:
    """``FILTER=F200W, PUPIL=CLEAR`` for messages."""
    return ", ".join(f"{k.upper()}={v or '(none)'}" for k, v in wanted.items())
