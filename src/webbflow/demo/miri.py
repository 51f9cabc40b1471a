"""A MIRI imager exposure for the stage-1 benchmark: full frame 1032 x 1024, FASTR1.

:func:`generate_miri` writes one raw exposure (MIRIMAGE, F770W, MIR_IMAGE, FULL, FASTR1) with
the reference files the MIRI Detector1 order needs (mask, saturation, linearity, dark in the
MIRI 4-D layout, reset, rscd, emicorr, gain, readnoise) in CRDS format, and a local CRDS cache
holding them. The ramps are simple on purpose (it is a speed benchmark, not an accuracy
truth): a bias, a per-pixel rate, read noise, a dark, a quadratic non-linearity, a few
saturating pixels and cosmic-ray jumps; columns 0-3 and 1028-1031 are reference pixels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..datamodels import Level1bModel
from ..datamodels.dqflags import PIXEL
from ..references import models as rm
from ..references.local_cache import RefEntry, build_cache
from .generate import DemoObservation

#: MIRI full frame: 1024 rows x 1032 columns, 4 reference columns on each side
NY, NX = 1024, 1032
REF_COLUMNS = (slice(0, 4), slice(NX - 4, NX))
#: FASTR1 full-frame frame time (s)
TFRAME = 2.77504
GAIN, READNOISE, BIAS, SATURATION = 5.5, 6.0, 12000.0, 60000.0
_USEAFTER = "2022-01-01T00:00:00"
_ROOT = "jw01234002001_01101_00001_mirimage"
_P_EXPTYPE = "MIR_IMAGE|MIR_TACQ|MIR_LYOT|MIR_4QPM|MIR_CORONCAL|MIR_TACONFIRM|"


def _identity(meta) -> None:
    meta.telescope = "JWST"
    meta.instrument.name, meta.instrument.detector = "MIRI", "MIRIMAGE"
    meta.subarray.name = "FULL"
    meta.subarray.xstart, meta.subarray.ystart = 1, 1
    meta.subarray.xsize, meta.subarray.ysize = NX, NY
    meta.subarray.fastaxis, meta.subarray.slowaxis = 1, 2


def _reference(model, reftype: str, description: str):
    m = model.meta
    _identity(m)
    m.reftype = reftype.upper()
    m.useafter = _USEAFTER
    m.pedigree = "SIMULATION"
    m.author = "webbflow demo generator"
    m.description = description
    m.exposure.type = "MIR_IMAGE"
    m.exposure.p_exptype = _P_EXPTYPE
    return model


def _exposure(ngroups: int, nints: int) -> dict[str, object]:
    duration = round(TFRAME * (ngroups + 1) * nints, 5)
    return {
        "origin": "webbflow demo", "time_sys": "UTC", "time_unit": "s",
        "observation.date": "2024-03-01", "observation.time": "12:00:00.000",
        "observation.date_beg": "2024-03-01T12:00:00.000",
        "observation.program_number": "01234", "observation.observation_number": "002",
        "observation.visit_number": "001", "observation.visit_group": "01",
        "observation.sequence_id": "1", "observation.activity_id": "01",
        "observation.exposure_number": "1", "observation.visit_id": "01234002001",
        "observation.obs_id": "V01234002001P0000000001101",
        "program.title": "webbflow MIRI benchmark", "program.pi_name": "Demo, Webbflow",
        "visit.type": "PRIME_TARGETED_FIXED", "visit.tsovisit": False,
        "target.ra": 53.16, "target.dec": -27.78, "target.type": "FIXED",
        "instrument.filter": "F770W", "instrument.band": "N/A",
        "exposure.type": "MIR_IMAGE", "exposure.readpatt": "FASTR1",
        "exposure.nints": nints, "exposure.ngroups": ngroups, "exposure.nframes": 1,
        "exposure.groupgap": 0, "exposure.integration_start": 1,
        "exposure.integration_end": nints, "exposure.nsamples": 1,
        "exposure.sample_time": 10.0, "exposure.frame_time": TFRAME,
        "exposure.group_time": TFRAME,
        "exposure.integration_time": round(TFRAME * (ngroups - 1), 5),
        "exposure.exposure_time": round(TFRAME * (ngroups - 1) * nints, 5),
        "exposure.effective_exposure_time": round(TFRAME * (ngroups - 1) * nints, 5),
        "exposure.duration": duration, "exposure.elapsed_exposure_time": duration,
        "exposure.nresets_at_start": 1, "exposure.nresets_between_ints": 1,
        "exposure.zero_frame": False, "exposure.drop_frames1": 0, "exposure.drop_frames3": 0,
        "exposure.frame_divisor": 1, "exposure.noutputs": 4, "exposure.data_problem": False,
        "exposure.start_time": 60370.5, "exposure.mid_time": 60370.5001,
        "exposure.end_time": 60370.5003, "bunit_data": "DN",
        "aperture.name": "MIRIM_FULL", "aperture.pps_name": "MIRIM_FULL",
        "wcsinfo.ra_ref": 53.16, "wcsinfo.dec_ref": -27.78, "wcsinfo.roll_ref": 71.3,
        "wcsinfo.v2_ref": -453.559, "wcsinfo.v3_ref": -373.814, "wcsinfo.vparity": -1,
        "wcsinfo.v3yangle": 4.4497,
    }


def _ramps(rng: np.random.Generator, ngroups: int, nints: int, light: np.ndarray,
           rate: np.ndarray, dark_rate: np.ndarray) -> np.ndarray:
    """Raw DN (nints, ngroups, NY, NX) uint16: bias + (rate + dark) t, quadratic
    non-linearity, read noise, Poisson noise, cosmic-ray jumps, capped at the A/D limit."""
    out = np.empty((nints, ngroups, NY, NX), dtype=np.uint16)
    for i in range(nints):
        acc = np.zeros((NY, NX))
        step = (rate * light + dark_rate) * TFRAME
        for g in range(ngroups):
            acc += rng.poisson(np.maximum(step * GAIN, 0.0)) / GAIN
            if g > 0:  # cosmic rays: 2e-4 of the pixels per group
                hits = rng.random((NY, NX)) < 2e-4
                acc[hits] += rng.uniform(50.0, 2000.0, hits.sum())
            signal = acc - 2.0e-6 * acc * acc
            raw = BIAS + signal + rng.normal(0.0, READNOISE / np.sqrt(2.0), (NY, NX))
            out[i, g] = np.clip(np.rint(raw), 0, 65535).astype(np.uint16)
    return out


def generate_miri(out_dir: Path, *, ngroups: int = 10, nints: int = 1,
                  seed: int = 20261122, context: str = "jwst_9002.pmap") -> DemoObservation:
    """Write the MIRI exposure, its references and a local CRDS cache under ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Created; holds ``uncal/``, ``refs/``, ``crds_cache/`` and ``demo.json``.
    ngroups, nints : int
        Ramp size (FASTR1: 1 frame per group).
    seed : int
        Random seed (same seed, same files).
    context : str
        Name of the local pipeline mapping.

    Returns
    -------
    DemoObservation
        One uncal file; ``reference_files`` by reftype (paths inside the cache).
    """
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    light = np.ones((NY, NX), dtype=bool)
    for cols in REF_COLUMNS:
        light[:, cols] = False
    rate = rng.gamma(2.0, 10.0, (NY, NX))           # DN/s, sky-like MIRI background
    rate[rng.random((NY, NX)) < 1e-3] = 3000.0      # bright pixels: saturate mid-ramp
    dark_rate = np.full((NY, NX), 0.3)

    uncal_dir, ref_dir = out_dir / "uncal", out_dir / "refs"
    model = Level1bModel(data=_ramps(rng, ngroups, nints, light, rate, dark_rate))
    _identity(model.meta)
    for key, value in _exposure(ngroups, nints).items():
        model.meta.set(key, value)
    uncal = Path(model.save(uncal_dir / f"{_ROOT}_uncal.fits"))

    refs: dict[str, Path] = {}

    def save(reftype: str, ref, description: str, suffix: str = ".fits") -> None:
        _reference(ref, reftype, description)
        refs[reftype] = Path(ref.save(ref_dir / f"jwst_miri_{reftype}_demo_mirimage{suffix}"))

    mask = np.zeros((NY, NX), np.uint32)
    for cols in REF_COLUMNS:
        mask[:, cols] = PIXEL["REFERENCE_PIXEL"]
    dq_def = rm.make_dq_def(["REFERENCE_PIXEL"])
    save("mask", rm.MaskModel(dq=mask, dq_def=dq_def), "Demo MIRI mask: reference columns")
    save("saturation", rm.SaturationModel(data=np.full((NY, NX), SATURATION, np.float32),
                                          dq=np.zeros((NY, NX), np.uint32),
                                          dq_def=dq_def), "Demo MIRI saturation")
    coeffs = np.zeros((5, NY, NX), np.float32)
    coeffs[1], coeffs[2] = 1.0, 2.0e-6
    save("linearity", rm.LinearityModel(coeffs=coeffs, dq=np.zeros((NY, NX), np.uint32),
                                        dq_def=dq_def), "Demo MIRI linearity: quadratic")
    times = (np.arange(ngroups) + 1.0) * TFRAME
    dark = (times[None, :, None, None] * dark_rate[None, None]).astype(np.float32)
    dark_model = rm.DarkMIRIModel(data=dark, err=np.full_like(dark, 0.05),
                                  dq=np.zeros(dark.shape, np.uint32), dq_def=dq_def)
    dark_model.meta.exposure.nframes, dark_model.meta.exposure.groupgap = 1, 0
    dark_model.meta.exposure.ngroups, dark_model.meta.exposure.nints = ngroups, 1
    dark_model.meta.exposure.readpatt = "FASTR1"
    dark_model.meta.exposure.p_readpatt = "FASTR1|"
    save("dark", dark_model, "Demo MIRI dark: 0.3 DN/s")
    reset = np.zeros((1, ngroups, NY, NX), np.float32)
    reset[0, 0], reset[0, 1] = 4.0, 1.0
    reset_model = rm.ResetModel(data=reset, err=np.zeros_like(reset),
                                dq=np.zeros((NY, NX), np.uint32), dq_def=dq_def)
    reset_model.meta.exposure.nints, reset_model.meta.exposure.ngroups = 1, ngroups
    reset_model.meta.exposure.readpatt = "FASTR1"
    save("reset", reset_model, "Demo MIRI reset anomaly")
    rscd = rm.RSCDModel()
    rscd.rscd_group_skip_table = np.array([(b"FULL", b"FASTR1", 0, 4)],
                                          dtype=rm.RSCDModel.row_dtype)
    save("rscd", rscd, "Demo MIRI RSCD group skips")
    save("gain", rm.GainModel(data=np.full((NY, NX), GAIN, np.float32)), "Demo MIRI gain")
    save("readnoise", rm.ReadnoiseModel(data=np.full((NY, NX), READNOISE, np.float32)),
         "Demo MIRI CDS read noise")
    wave = np.sin(2 * np.pi * (np.arange(256) + 0.5) / 256).astype(np.float32)
    emi = rm.EmiModel(frequencies={"Hz390": {"frequency": 390.625, "phase_amplitudes": wave}},
                      subarray_cases={"FULL_FAST": {"rowclocks": 271, "frameclocks": 277504,
                                                    "freqs": {"FAST": ["Hz390"]}}})
    emi.meta.instrument.name = "MIRI"
    emi.meta.reftype, emi.meta.useafter = "EMICORR", _USEAFTER
    emi.meta.author, emi.meta.pedigree = "webbflow demo generator", "SIMULATION"
    emi.meta.description = "Demo MIRI EMI: one 390.625 Hz sinusoid"
    emi.meta.telescope = "JWST"
    refs["emicorr"] = Path(emi.save(ref_dir / "jwst_miri_emicorr_demo.asdf"))

    cache = out_dir / "crds_cache"
    entries = [RefEntry("MIRI", reftype, path,
                        {"META.INSTRUMENT.DETECTOR": "MIRIMAGE"}, "2022-01-01 00:00:00")
               for reftype, path in refs.items()]
    build_cache(cache, context, entries, {"MIRI": ["MIR_IMAGE"]})
    in_cache = {k: cache / "references" / "jwst" / "miri" / p.name for k, p in refs.items()}
    obs = DemoObservation(uncal_files=[uncal], crds_path=cache, context=context,
                          truth_dir=out_dir, reference_files=in_cache)
    (out_dir / "demo.json").write_text(json.dumps({
        "options": {"instrument": "MIRI", "subarray": "FULL", "readpatt": "FASTR1",
                    "nints": nints, "ngroups": ngroups, "seed": seed, "context": context},
        "uncal_files": [str(uncal.relative_to(out_dir))],
        "crds_path": str(cache.relative_to(out_dir)),
        "reference_files": {k: str(v.relative_to(out_dir)) for k, v in in_cache.items()},
    }, indent=1) + "\n")
    return obs
