"""A tiny NIRCam exposure with known truth and matching reference files (overrides)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from webbflow import datamodels as dm
from webbflow.references import models as rm

NY = NX = 32
NINTS, NGROUPS = 2, 6
TFRAME, NFRAMES, GROUPGAP = 1.0, 2, 1
TGROUP = (NFRAMES + GROUPGAP) * TFRAME
BIAS = 12000.0
SAT = 60000.0


@dataclass
class TinyExposure:
    uncal: Path
    truth_rate: np.ndarray  # (NY, NX) DN/s
    overrides: dict[str, dict[str, str]]  # step -> {override_<reftype>: path}
    refdir: Path


def _meta(model: dm.DataModel) -> dm.DataModel:
    m = model.meta
    m.instrument.name, m.instrument.detector = "NIRCAM", "NRCA1"
    m.instrument.filter, m.instrument.pupil = "F200W", "CLEAR"
    m.exposure.type, m.exposure.readpatt = "NRC_IMAGE", "TESTPATT"
    m.subarray.name, m.subarray.xstart, m.subarray.ystart = "SUB32", 101, 101
    m.subarray.xsize, m.subarray.ysize = NX, NY
    m.subarray.fastaxis, m.subarray.slowaxis = -1, 2
    m.observation.date, m.observation.time = "2024-01-01", "00:00:00"
    return model


def _ref(model: rm.ReferenceModel, path: Path) -> str:
    _meta(model)
    model.meta.author, model.meta.pedigree, model.meta.useafter = "test", "DUMMY", "2022-01-01"
    model.meta.description = "tiny test reference"
    return model.save(path)


def make_tiny(tmp: Path, *, rate: np.ndarray | None = None) -> TinyExposure:
    """Noiseless, linear, CR-free ramps: group g of int i holds BIAS + rate·TGROUP·(g+1).

    The default rates are whole DN per group, so the uint16 ramps hold them exactly.
    """
    rng = np.random.default_rng(7)
    truth = rng.integers(1, 600, size=(NY, NX)) / TGROUP if rate is None else rate
    groups = BIAS + truth[None, None] * TGROUP * (np.arange(NGROUPS)[None, :, None, None] + 1)
    groups = np.broadcast_to(groups, (NINTS, NGROUPS, NY, NX))
    raw = _meta(dm.Level1bModel(np.clip(np.round(groups), 0, 65535).astype(np.uint16)))
    exp = raw.meta.exposure
    exp.nints, exp.ngroups, exp.nframes, exp.groupgap = NINTS, NGROUPS, NFRAMES, GROUPGAP
    exp.frame_time, exp.group_time, exp.noutputs = TFRAME, TGROUP, 1
    uncal = Path(raw.save(tmp / "jw01234001001_01101_00001_nrca1_uncal.fits"))
    refdir = tmp / "refs"
    refdir.mkdir(exist_ok=True)
    flat2d = np.zeros((NY, NX), np.float32)
    refs = {
        "mask": _ref(rm.MaskModel(dq=np.zeros((NY, NX), np.uint32)), refdir / "mask.fits"),
        "saturation": _ref(rm.SaturationModel(data=flat2d + SAT, dq=flat2d.astype("u4")),
                           refdir / "sat.fits"),
        "superbias": _ref(rm.SuperBiasModel(data=flat2d + BIAS, err=flat2d,
                                            dq=flat2d.astype("u4")), refdir / "bias.fits"),
        "linearity": _ref(rm.LinearityModel(coeffs=np.stack([flat2d, flat2d + 1, flat2d]),
                                            dq=flat2d.astype("u4")), refdir / "lin.fits"),
        "gain": _ref(rm.GainModel(data=flat2d + 2.0), refdir / "gain.fits"),
        "readnoise": _ref(rm.ReadnoiseModel(data=flat2d + 10.0), refdir / "rn.fits"),
    }
    dark = rm.DarkModel(data=np.zeros((40, NY, NX), np.float32), err=np.zeros((40, NY, NX), "f4"),
                        dq=flat2d.astype("u4"))
    dark.meta.exposure.nframes, dark.meta.exposure.groupgap, dark.meta.exposure.ngroups = 1, 0, 40
    refs["dark"] = _ref(dark, refdir / "dark.fits")
    overrides = {
        "dq_init": {"override_mask": refs["mask"]},
        "saturation": {"override_saturation": refs["saturation"],
                       "override_superbias": refs["superbias"]},
        "ipc": {"override_ipc": "N/A"},
        "superbias": {"override_superbias": refs["superbias"]},
        "refpix": {"override_refpix": "N/A"},
        "linearity": {"override_linearity": refs["linearity"]},
        "persistence": {"override_trapdensity": "N/A", "override_trappars": "N/A",
                        "override_persat": "N/A"},
        "dark_current": {"override_dark": refs["dark"]},
        "jump": {"override_gain": refs["gain"], "override_readnoise": refs["readnoise"]},
        "ramp_fit": {"override_gain": refs["gain"], "override_readnoise": refs["readnoise"]},
        "gain_scale": {"override_gain": refs["gain"]},
    }
    return TinyExposure(uncal, truth, overrides, refdir)
