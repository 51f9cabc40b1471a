"""Stage-3 references of the demo (APCORR, ABVEGAOFFSET), consistent with its stellar PSF.

The demo's stars are Moffat profiles with β = 2 (``sky.PSF_BETA``), whose encircled energy is
EE(r) = 1 − (1 + (r/α)²)^(1−β). For each encircled-energy fraction the aperture radius is the
EE inverse, and the aperture correction turns a background-subtracted aperture sum (local
background from the ``skyin``–``skyout`` annulus, which still holds some PSF light) into the
total flux:  apcorr = 1 / (EE(r) − πr² · (EE(r_out) − EE(r_in)) / (π(r_out² − r_in²))).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..references.models import ABVegaOffsetModel, NrcImgApcorrModel
from .sky import _ALPHA, PSF_BETA

#: encircled-energy fractions tabulated, as the NIRCam APCORR references do (0.1–0.8)
EE_FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
#: background annulus (native pixels), outside the PSF core
SKY_IN, SKY_OUT = 15.0, 20.0
#: m_AB − m_Vega of the demo filters (approximate NIRCam values; the demo's own choice)
AB_MINUS_VEGA = {"F090W": 0.51, "F115W": 0.79, "F150W": 1.22, "F200W": 1.70}


def encircled_energy(r: float) -> float:
    """Fraction of a demo star's flux within ``r`` native pixels."""
    return 1.0 - (1.0 + (r / _ALPHA) ** 2) ** (1.0 - PSF_BETA)


def ee_radius(fraction: float) -> float:
    """Radius (native pixels) enclosing ``fraction`` of a demo star's flux."""
    return _ALPHA * math.sqrt((1.0 - fraction) ** (1.0 / (1.0 - PSF_BETA)) - 1.0)


def aperture_correction(r: float) -> float:
    """Total flux / (aperture sum − annulus background × aperture area) for a demo star."""
    annulus_area = math.pi * (SKY_OUT**2 - SKY_IN**2)
    per_pixel = (encircled_energy(SKY_OUT) - encircled_energy(SKY_IN)) / annulus_area
    return 1.0 / (encircled_energy(r) - math.pi * r * r * per_pixel)


def apcorr_model() -> NrcImgApcorrModel:
    """The APCORR table for every demo filter with pupil CLEAR."""
    rows = [(f.encode(), b"CLEAR", ee, ee_radius(ee), aperture_correction(ee_radius(ee)),
             SKY_IN, SKY_OUT)
            for f in AB_MINUS_VEGA for ee in EE_FRACTIONS]
    model = NrcImgApcorrModel()
    model.apcorr_table = np.array(rows, dtype=NrcImgApcorrModel.row_dtype)
    return model


def abvegaoffset_model() -> ABVegaOffsetModel:
    """The ABVEGAOFFSET table of the demo filters with pupil CLEAR."""
    from astropy.table import Table

    table = Table({"filter": list(AB_MINUS_VEGA), "pupil": ["CLEAR"] * len(AB_MINUS_VEGA),
                   "abvega_offset": list(AB_MINUS_VEGA.values())})
    return ABVegaOffsetModel(abvega_offset=table)


def write_stage3_references(refdir: Path, stamp_fits, stamp_asdf) -> dict[str, Path]:
    """Write APCORR (FITS) and ABVEGAOFFSET (ASDF) into ``refdir``; return their paths.

    ``stamp_fits`` / ``stamp_asdf`` ``(model, reftype, description)`` set the usual
    reference keywords of a FITS / ASDF reference.
    """
    apcorr = apcorr_model()
    stamp_fits(apcorr, "apcorr", "Demo aperture corrections for the demo's Moffat PSF")
    offset = abvegaoffset_model()
    stamp_asdf(offset, "abvegaoffset", "Demo AB - Vega offsets")
    paths = {"apcorr": refdir / "jwst_nircam_apcorr_demo_nrca1.fits",
             "abvegaoffset": refdir / "jwst_nircam_abvegaoffset_demo_nrca1.asdf"}
    apcorr.save(paths["apcorr"])
    offset.save(paths["abvegaoffset"])
    return paths
