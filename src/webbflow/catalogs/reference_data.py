"""Aperture radii/corrections (APCORR) and the AB-Vega offset (ABVEGAOFFSET) for a mosaic.

Rows are selected by the instrument's selector columns (a table, as the official
``source_catalog``): NIRCam/NIRISS filter+pupil, MIRI filter+subarray (APCORR) or filter
(ABVEGAOFFSET), FGS none (APCORR) or detector (ABVEGAOFFSET). Radii are in native pixels in
the reference and are divided by the mosaic's ``pixel_scale_ratio``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ReferenceError_

#: instrument -> (APCORR selector columns, ABVEGAOFFSET selector columns), meta paths
SELECTORS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "NIRCAM": (("filter", "pupil"), ("filter", "pupil")),
    "NIRISS": (("filter", "pupil"), ("filter", "pupil")),
    "MIRI": (("filter", "subarray"), ("filter",)),
    "FGS": ((), ("detector",)),
}
_META_PATH = {"filter": "instrument.filter", "pupil": "instrument.pupil",
              "subarray": "subarray.name", "detector": "instrument.detector"}


@dataclass
class ApertureParams:
    """Aperture parameters of the three encircled energies (radii in mosaic pixels)."""

    aperture_ee: tuple[int, int, int]
    radii: np.ndarray
    corrections: np.ndarray
    bkg_inner: float
    bkg_outer: float

    def as_meta(self) -> dict:
        return {"aperture_radii": [float(r) for r in self.radii],
                "aperture_corrections": [float(c) for c in self.corrections],
                "aperture_ee": [int(e) for e in self.aperture_ee],
                "bkg_aperture_inner_radius": float(self.bkg_inner),
                "bkg_aperture_outer_radius": float(self.bkg_outer)}


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode()
    return str(value).strip().upper()


def _select(rows, columns: tuple[str, ...], model, what: str, name: str):
    """Rows (records) whose selector columns equal the model's values."""
    keep = []
    for row in rows:
        ok = True
        for col in columns:
            try:
                have = _text(row[col])
            except (KeyError, ValueError, IndexError):
                raise ReferenceError_(f"{name}: {what} has no column {col!r}") from None
            want = _text(model.meta.get(_META_PATH[col]) or "")
            if have not in (want, "ANY", "N/A"):
                ok = False
                break
        if ok:
            keep.append(row)
    return keep


def check_aperture_ee(aperture_ee) -> tuple[int, int, int]:
    """Three strictly increasing integers in (0, 100)."""
    ee = tuple(int(e) for e in aperture_ee)
    if len(ee) != 3 or not (ee[0] < ee[1] < ee[2]) or ee[0] <= 0 or ee[2] >= 100:
        from ..errors import ParameterError

        raise ParameterError(f"source_catalog.aperture_ee1/2/3: {ee} must be three strictly "
                             "increasing percentages between 0 and 100")
    return ee  # type: ignore[return-value]


def aperture_params(apcorr, model, aperture_ee) -> ApertureParams:
    """Aperture parameters from an APCORR model (None: the official fallback radii 1, 2, 3
    native pixels, no correction, background annulus 5-10)."""
    ee = check_aperture_ee(aperture_ee)
    ratio = model.meta.get("resample.pixel_scale_ratio") or 1.0
    if apcorr is None:
        return ApertureParams(ee, np.array([1.0, 2.0, 3.0]), np.ones(3), 5.0, 10.0)
    name = apcorr.meta.filename or "APCORR"
    instrument = _text(model.meta.instrument.name)
    columns = SELECTORS.get(instrument, ((), ()))[0]
    rows = _select(apcorr.apcorr_table, columns, model, "the APCORR table", name)
    if not rows:
        raise ReferenceError_(f"{name}: no APCORR row for this mosaic's "
                              f"{', '.join(columns)}")
    radii, corr, sky_in, sky_out = [], [], set(), set()
    for e in ee:
        match = [r for r in rows if round(float(r["eefraction"]) * 100) == e]
        if len(match) != 1:
            raise ReferenceError_(f"{name}: {len(match)} APCORR rows for encircled energy "
                                  f"{e} % (need exactly one)")
        radii.append(float(match[0]["radius"]))
        corr.append(float(match[0]["apcorr"]))
        sky_in.add(float(match[0]["skyin"]))
        sky_out.add(float(match[0]["skyout"]))
    if len(sky_in) != 1 or len(sky_out) != 1:
        raise ReferenceError_(f"{name}: the rows give several skyin/skyout values")
    return ApertureParams(ee, np.array(radii) / ratio, np.array(corr),
                          sky_in.pop() / ratio, sky_out.pop() / ratio)


def abvega_offset(ref, model) -> float:
    """m_AB - m_Vega for the mosaic (0 when no reference)."""
    if ref is None:
        return 0.0
    name = ref.meta.filename or "ABVEGAOFFSET"
    table = ref.abvega_offset
    instrument = _text(model.meta.instrument.name)
    columns = SELECTORS.get(instrument, ((), ()))[1]
    if hasattr(table, "colnames"):
        rows = [dict(zip(table.colnames, r)) for r in table]
    else:
        rows = list(table)
    match = _select(rows, columns, model, "the ABVEGAOFFSET table", name)
    if len(match) != 1:
        raise ReferenceError_(f"{name}: {len(match)} ABVEGAOFFSET rows match this mosaic "
                              "(need exactly one)")
    return float(match[0]["abvega_offset"])
