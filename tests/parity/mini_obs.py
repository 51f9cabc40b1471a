"""A tiny hand-made NIRCam exposure with matching references and a local CRDS cache.

Used to check the oracle harness itself (``test_oracle_harness.py``) without the demo
generator: a SUB160 corner subarray (reference pixels on the two detector edges it touches),
MEDIUM2-like timing, a bias, a constant count rate per pixel, a quadratic non-linearity the
linearity reference undoes, a few saturated pixels, Poisson and read noise and one cosmic ray.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from webbflow import datamodels as dm
from webbflow.datamodels import dqflags
from webbflow.references import models as rm
from webbflow.references.local_cache import RefEntry, build_cache

__all__ = ["MiniObservation", "make_mini_observation"]

CONTEXT = "jwst_9101.pmap"
SIZE = 160
NFRAMES, GROUPGAP, TFRAME = 2, 0, 0.27864
GAIN, READNOISE_CDS = 2.0, 10.0  # e-/DN, DN
SATURATION = 60000.0  # DN (bias included)
NONLIN = -2.0e-6  # measured = true + NONLIN * true**2 (DN, bias removed)


@dataclass
class MiniObservation:
    """Paths of the hand-made exposure, its references and cache."""

    uncal: Path
    crds_path: Path
    context: str
    reference_files: dict[str, Path]


def _science_meta(model: dm.DataModel, ngroups: int, nints: int) -> None:
    meta = model.meta
    meta.instrument.name = "NIRCAM"
    meta.instrument.detector = "NRCA1"
    meta.instrument.module = "A"
    meta.instrument.channel = "SHORT"
    meta.instrument.filter = "F200W"
    meta.instrument.pupil = "CLEAR"
    meta.exposure.type = "NRC_IMAGE"
    meta.exposure.readpatt = "MEDIUM2"
    meta.exposure.nints = nints
    meta.exposure.ngroups = ngroups
    meta.exposure.nframes = NFRAMES
    meta.exposure.groupgap = GROUPGAP
    meta.exposure.frame_time = TFRAME
    meta.exposure.group_time = (NFRAMES + GROUPGAP) * TFRAME
    meta.exposure.integration_time = (ngroups - 1) * (NFRAMES + GROUPGAP) * TFRAME
    meta.exposure.noutputs = 1
    meta.exposure.start_time = 60310.0
    meta.exposure.mid_time = 60310.001
    meta.exposure.end_time = 60310.002
    meta.observation.date = "2024-01-01"
    meta.observation.time = "00:00:00.000"
    meta.subarray.name = "SUB160"
    meta.subarray.xstart = 1
    meta.subarray.ystart = 1
    meta.subarray.xsize = SIZE
    meta.subarray.ysize = SIZE
    meta.subarray.fastaxis = -1
    meta.subarray.slowaxis = 2


def _ref_meta(model: rm.ReferenceModel, reftype: str) -> None:
    meta = model.meta
    meta.instrument.name = "NIRCAM"
    meta.instrument.detector = "NRCA1"
    meta.reftype = reftype.upper()
    meta.author = "webbflow tests"
    meta.description = f"hand-made {reftype} for the oracle harness test"
    meta.pedigree = "DUMMY"
    meta.useafter = "2022-01-01T00:00:00"
    meta.subarray.name = "SUB160"
    meta.subarray.xstart = 1
    meta.subarray.ystart = 1
    meta.subarray.xsize = SIZE
    meta.subarray.ysize = SIZE
    meta.subarray.fastaxis = -1
    meta.subarray.slowaxis = 2
    meta.exposure.type = "NRC_IMAGE"


def make_mini_observation(out_dir: Path, *, nints: int = 2, ngroups: int = 6,
                          seed: int = 7) -> MiniObservation:
    """Write the exposure, references and cache under ``out_dir`` and return their paths."""
    out_dir = Path(out_dir)
    refdir = out_dir / "refs"
    refdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (SIZE, SIZE)
    refpix = np.zeros(shape, bool)
    refpix[:4, :] = refpix[:, :4] = True  # corner subarray: bottom rows, left columns

    bias = (12000.0 + rng.normal(0, 50, shape)).astype(np.float32)
    rate = rng.gamma(2.0, 5.0, shape).astype(np.float32)  # DN/s
    rate[40:43, 40:43] = 30000.0  # saturates within the ramp
    rate[refpix] = 0.0
    tgroup = (NFRAMES + GROUPGAP) * TFRAME
    t = tgroup * np.arange(1, ngroups + 1)
    rn_frame = READNOISE_CDS / np.sqrt(2.0)
    data = np.empty((nints, ngroups, *shape), np.float32)
    for i in range(nints):
        electrons = rng.poisson(np.maximum(rate * GAIN * tgroup, 0),
                                (ngroups, *shape)).cumsum(axis=0)
        true = electrons / GAIN
        if i == 0:
            true[3:, 100, 100] += 800.0  # a cosmic ray in group 4
        measured = true + NONLIN * true**2
        noise = rng.normal(0, rn_frame / np.sqrt(NFRAMES), (ngroups, *shape))
        data[i] = np.minimum(bias + measured + noise, 65535.0)
    del t
    uncal = dm.Level1bModel(np.round(data).astype(np.uint16))
    _science_meta(uncal, ngroups, nints)
    uncal.meta.filename = "jw09999001001_01101_00001_nrca1_uncal.fits"
    uncal_path = uncal.save(out_dir / "jw09999001001_01101_00001_nrca1_uncal.fits")

    refs: dict[str, Path] = {}
    mask = rm.MaskModel(shape)
    mask.dq[refpix] = dqflags.PIXEL["REFERENCE_PIXEL"]
    mask.dq[10, 20] = dqflags.PIXEL["DEAD"] | dqflags.PIXEL["DO_NOT_USE"]
    mask.dq_def = rm.make_dq_def(["DO_NOT_USE", "DEAD", "REFERENCE_PIXEL"])
    sat = rm.SaturationModel(data=np.full(shape, SATURATION, np.float32),
                             dq=np.zeros(shape, np.uint32))
    bias_ref = rm.SuperBiasModel(data=bias, err=np.full(shape, 1.0, np.float32),
                                 dq=np.zeros(shape, np.uint32))
    # correction: true = measured - NONLIN * measured**2 (good to ~1e-3 DN at 30000 DN)
    coeffs = np.zeros((3, *shape), np.float32)
    coeffs[1] = 1.0
    coeffs[2] = -NONLIN
    lin = rm.LinearityModel(coeffs=coeffs, dq=np.zeros(shape, np.uint32))
    dark = rm.DarkModel(data=np.zeros((ngroups * NFRAMES, *shape), np.float32),
                        err=np.zeros((ngroups * NFRAMES, *shape), np.float32),
                        dq=np.zeros(shape, np.uint32))
    dark.meta.exposure.nframes = 1
    dark.meta.exposure.groupgap = 0
    dark.meta.exposure.ngroups = ngroups * NFRAMES
    gain = rm.GainModel(data=np.full(shape, GAIN, np.float32))
    rnoise = rm.ReadnoiseModel(data=np.full(shape, READNOISE_CDS, np.float32))
    for reftype, model in (("mask", mask), ("saturation", sat), ("superbias", bias_ref),
                           ("linearity", lin), ("dark", dark), ("gain", gain),
                           ("readnoise", rnoise)):
        _ref_meta(model, reftype)
        refs[reftype] = Path(model.save(refdir / f"jwst_nircam_{reftype}_9101.fits"))

    match = {"META.INSTRUMENT.DETECTOR": "NRCA1", "META.SUBARRAY.NAME": "SUB160"}
    entries = [RefEntry("NIRCAM", reftype, path, match) for reftype, path in refs.items()]
    crds_path = out_dir / "crds_cache"
    build_cache(crds_path, CONTEXT, entries, {"NIRCAM": ["NRC_IMAGE"]})
    return MiniObservation(Path(uncal_path), crds_path, CONTEXT, refs)
