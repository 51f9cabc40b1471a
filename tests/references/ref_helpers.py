"""Helpers of the reference tests: tiny reference files and science exposures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from webbflow.datamodels import ImageModel
from webbflow.references import models as M

DET = "META.INSTRUMENT.DETECTOR"
SUB = "META.SUBARRAY.NAME"


def ref_meta(model, reftype: str, detector: str = "NRCA1", subarray: str = "FULL") -> None:
    """Set the keywords every reference file carries."""
    m = model.meta
    m.reftype = reftype.upper()
    m.instrument.name = "NIRCAM"
    m.instrument.detector = detector
    try:
        m.subarray.name = subarray
    except AttributeError:  # official models whose schema has no SUBARRAY (ipc, area)
        pass
    m.useafter = "2022-01-01T00:00:00"
    m.pedigree = "DUMMY"
    m.description = f"test {reftype}"
    m.author = "webbflow tests"


def science(detector: str = "NRCA1", subarray: str = "FULL", date: str = "2023-07-01",
            shape: tuple[int, int] = (8, 8), instrument: str = "NIRCAM") -> ImageModel:
    """A small NIRCam imaging exposure with the keywords CRDS selects on."""
    sci = ImageModel(shape)
    m = sci.meta
    m.instrument.name = instrument
    m.instrument.detector = detector
    m.subarray.name = subarray
    m.exposure.type = "NRC_IMAGE"
    m.exposure.readpatt = "RAPID"
    m.observation.date = date
    m.observation.time = "12:00:00"
    return sci


def make_mask(path: Path, detector: str, value: int) -> Path:
    mask = M.MaskModel((8, 8))
    mask.dq[:] = value
    ref_meta(mask, "mask", detector)
    mask.save(path)
    return path


def make_gain(path: Path, value: float) -> Path:
    gain = M.GainModel(np.full((8, 8), value, dtype=np.float32))
    ref_meta(gain, "gain")
    gain.save(path)
    return path


