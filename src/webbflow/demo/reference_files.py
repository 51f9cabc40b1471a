"""CRDS-format reference files of the demo detector, and the local CRDS cache that serves them.

Full-frame files (as the CRDS NIRCam references are; the pipeline cuts them to the science
subarray): mask, saturation, superbias, linearity, gain, readnoise, flat, area; a 3x3 IPC
kernel; the photom table; the distortion and filteroffset ASDF files. The dark is written per
subarray (as NIRCam darks are), frame by frame (NFRAMES=1, GROUPGAP=0) with as many frames as
the demo's integrations have; for FULL it is group-averaged with the exposure's read pattern
to keep it at 10 planes instead of ~100 (the dark step uses such a file directly).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datamodels import dqflags
from ..references.local_cache import RefEntry, build_cache
from ..references.models import (
    DarkModel,
    DistortionModel,
    FilteroffsetModel,
    FlatModel,
    GainModel,
    IPCModel,
    LinearityModel,
    MaskModel,
    NrcImgPhotomModel,
    PixelAreaModel,
    ReadnoiseModel,
    SaturationModel,
    SuperBiasModel,
    make_dq_def,
)
from ..wcs import DistortionSolution, distortion_model
from .detector import IPC_KERNEL, Detector
from .ramps import apply_ipc
from .stage3_references import write_stage3_references
from .tables import SUBARRAYS, ReadPattern, Subarray, Timing

__all__ = ["PHOTMJSR", "linearity_coefficients", "write_references"]

F = dqflags.PIXEL
#: MJy/sr per DN/s for F200W/CLEAR (1 DN/s ~ AB 28.0 for a point source)
PHOTMJSR = 1.0
_USEAFTER = "2022-01-01T00:00:00"
_ALL_SUBS = "|".join(SUBARRAYS)


def linearity_coefficients(beta: np.ndarray, ncoeffs: int = 5) -> np.ndarray:
    """COEFFS [ncoeffs, ny, nx] of ``t = sum c_k m^k`` inverting ``m = t (1 - beta t)``.

    The inverse ``beta t = g(beta m)``, ``g(u) = (1 - sqrt(1 - 4u)) / 2``, is fitted once as
    a polynomial in ``u`` (c0 = 0, c1 = 1 fixed) over u in [0, 0.075] (10 % beyond the
    largest full-well signal), then ``c_k = a_k beta^(k-1)``; residual < 0.01 DN.
    """
    u = np.linspace(0.0, 0.075, 2001)
    g = (1.0 - np.sqrt(1.0 - 4.0 * u)) / 2.0
    powers = np.stack([u**k for k in range(2, ncoeffs)], axis=1)
    a = np.linalg.lstsq(powers, g - u, rcond=None)[0]
    b = beta.astype(np.float64)
    out = np.zeros((ncoeffs, *beta.shape), dtype=np.float32)
    out[1] = 1.0
    for k in range(2, ncoeffs):
        out[k] = (a[k - 2] * b ** (k - 1)).astype(np.float32)
    return out


def _common(model, reftype: str, description: str, sub: Subarray | None = None) -> None:
    m = model.meta
    m.reftype = reftype.upper()
    m.useafter = _USEAFTER
    m.pedigree = "SIMULATION"
    m.author = "webbflow demo generator"
    m.description = description
    m.telescope = "JWST"
    m.instrument.name = "NIRCAM"
    m.instrument.detector = "NRCA1"
    m.instrument.module = "A"
    m.instrument.channel = "SHORT"
    m.exposure.type = "NRC_IMAGE"
    m.exposure.p_exptype = "NRC_IMAGE|NRC_TACQ|NRC_TACONFIRM|NRC_FOCUS|NRC_TSIMAGE|"
    sub = sub or SUBARRAYS["FULL"]
    m.subarray.name = sub.name
    m.subarray.xstart, m.subarray.ystart = sub.xstart, sub.ystart
    m.subarray.xsize, m.subarray.ysize = sub.xsize, sub.ysize
    m.subarray.fastaxis, m.subarray.slowaxis = -1, 2


def _mask_dq(det: Detector) -> np.ndarray:
    dq = np.zeros(det.gain.shape, dtype=np.uint32)
    dq[det.dead] |= F["DEAD"] | F["DO_NOT_USE"]
    dq[det.hot] |= F["HOT"]
    dq[det.warm] |= F["WARM"]
    dq[det.no_gain] |= F["NO_GAIN_VALUE"] | F["DO_NOT_USE"]
    dq[det.refpix] |= F["REFERENCE_PIXEL"]
    return dq


def _dark(det: Detector, sub: Subarray, patt: ReadPattern, ngroups: int, tim: Timing
          ) -> DarkModel:
    sl = sub.slices
    light = ~det.refpix[sl]
    rate_dn = apply_ipc(np.where(det.dead[sl], 0.0, det.dark[sl] / det.gain[sl]), light)
    frames = tim.frames_per_int
    if sub.name == "FULL":
        period = patt.nframes + patt.groupgap
        times = np.array([(g * period + (patt.nframes + 1) / 2.0) * tim.tframe
                          for g in range(ngroups)])
        nframes, groupgap = patt.nframes, patt.groupgap
    else:
        times = (np.arange(frames) + 1.0) * tim.tframe
        nframes, groupgap = 1, 0
    data = (times[:, None, None] * rate_dn[None]).astype(np.float32)
    dq = np.zeros(rate_dn.shape, dtype=np.uint32)
    dq[det.hot[sl]] |= F["HOT"]
    dq[det.warm[sl]] |= F["WARM"]
    model = DarkModel(data=data, err=np.full_like(data, 0.05), dq=dq)
    _common(model, "dark", f"Demo dark for {sub.name}: IPC-convolved dark current x time",
            sub)
    model.meta.exposure.nframes = nframes
    model.meta.exposure.groupgap = groupgap
    model.meta.exposure.ngroups = data.shape[0]
    model.meta.exposure.nints = 1
    model.meta.exposure.readpatt = "ANY" if nframes == 1 else patt.name
    model.meta.exposure.p_readpatt = "ANY|" if nframes == 1 else f"{patt.name}|"
    model.dq_def = make_dq_def(["HOT", "WARM"])
    return model


def write_references(det: Detector, distortion: DistortionSolution, area: np.ndarray,
                     pixar_a2: float, sub: Subarray, patt: ReadPattern, ngroups: int,
                     tim: Timing, cache_dir: Path, context: str) -> dict[str, Path]:
    """Write every reference into the cache's reference directory, build the mappings.

    Returns ``{reftype: path}`` of the files in the cache.
    """
    refdir = Path(cache_dir) / "references" / "jwst" / "nircam"
    refdir.mkdir(parents=True, exist_ok=True)
    pixar_sr = pixar_a2 / (180.0 / np.pi * 3600.0) ** 2
    files: dict[str, Path] = {}
    models: dict[str, object] = {}

    mask = MaskModel(dq=_mask_dq(det))
    mask.dq_def = make_dq_def(["DO_NOT_USE", "DEAD", "HOT", "WARM", "NO_GAIN_VALUE",
                               "REFERENCE_PIXEL"])
    models["mask"] = mask

    thr = (det.superbias + det.sat_signal).astype(np.float32)
    thr[det.no_sat_check] = np.nan
    sdq = np.where(det.no_sat_check, F["NO_SAT_CHECK"], 0).astype(np.uint32)
    sat = SaturationModel(data=thr, dq=sdq)
    sat.dq_def = make_dq_def(["NO_SAT_CHECK"])
    models["saturation"] = sat

    bias = SuperBiasModel(data=det.superbias, err=np.full_like(det.superbias, 0.5),
                          dq=np.zeros(det.superbias.shape, np.uint32))
    bias.dq_def = make_dq_def(["UNRELIABLE_BIAS"])
    models["superbias"] = bias

    ldq = np.where(det.no_lin_corr, F["NO_LIN_CORR"], 0).astype(np.uint32)
    lin = LinearityModel(coeffs=linearity_coefficients(det.nl_beta), dq=ldq)
    lin.dq_def = make_dq_def(["NO_LIN_CORR"])
    models["linearity"] = lin

    models["gain"] = GainModel(data=det.gain)
    models["readnoise"] = ReadnoiseModel(
        data=(det.read_noise * np.float32(np.sqrt(2.0))).astype(np.float32))
    models["ipc"] = IPCModel(data=IPC_KERNEL)

    fdq = np.zeros(det.flat.shape, dtype=np.uint32)
    fdq[det.dead] |= F["NO_FLAT_FIELD"] | F["DO_NOT_USE"]
    fdq[det.refpix] |= F["NO_FLAT_FIELD"]
    flat = FlatModel(data=det.flat, err=np.full_like(det.flat, 0.005), dq=fdq)
    flat.dq_def = make_dq_def(["DO_NOT_USE", "NO_FLAT_FIELD"])
    models["flat"] = flat

    phot = NrcImgPhotomModel()
    phot.phot_table = np.array([(b"F200W", b"CLEAR", PHOTMJSR, 0.01 * PHOTMJSR),
                                (b"F150W", b"CLEAR", 1.3, 0.013),
                                (b"F115W", b"CLEAR", 1.6, 0.016),
                                (b"F090W", b"CLEAR", 2.1, 0.021)],
                               dtype=NrcImgPhotomModel.row_dtype)
    models["photom"] = phot

    area_model = PixelAreaModel(data=area)
    models["area"] = area_model

    for reftype, model in models.items():
        _common(model, reftype, f"Demo {reftype} reference for the webbflow demo detector")
        if reftype in ("photom", "area"):
            model.meta.photometry.pixelarea_steradians = pixar_sr
            model.meta.photometry.pixelarea_arcsecsq = pixar_a2
        if reftype in ("flat", "area"):
            model.meta.instrument.filter = "F200W"
            model.meta.instrument.pupil = "CLEAR"
        path = refdir / f"jwst_nircam_{reftype}_demo_nrca1.fits"
        model.save(path)
        files[reftype] = path

    dark = _dark(det, sub, patt, ngroups, tim)
    files["dark"] = refdir / f"jwst_nircam_dark_demo_nrca1_{sub.name.lower()}.fits"
    dark.save(files["dark"])

    dist = DistortionModel(model=distortion_model(distortion))
    _asdf_meta(dist, "distortion", "Demo NRCA1 distortion (pixels -> V2V3 arcsec)")
    dist.meta.set("instrument.p_pupil", "CLEAR|")
    files["distortion"] = refdir / "jwst_nircam_distortion_demo_nrca1.asdf"
    dist.save(files["distortion"])

    offs = FilteroffsetModel(filters=[
        {"filter": "F200W", "pupil": "CLEAR", "column_offset": 0.0, "row_offset": 0.0},
        {"filter": "F150W", "pupil": "CLEAR", "column_offset": 0.12, "row_offset": -0.08},
        {"filter": "F115W", "pupil": "CLEAR", "column_offset": -0.21, "row_offset": 0.15},
    ])
    _asdf_meta(offs, "filteroffset", "Demo NRCA1 filter offsets (pixels)")
    files["filteroffset"] = refdir / "jwst_nircam_filteroffset_demo_nrca1.asdf"
    offs.save(files["filteroffset"])
    files.update(write_stage3_references(refdir, _common, _asdf_meta))

    det_key = {"META.INSTRUMENT.DETECTOR": "NRCA1"}
    img = {"META.EXPOSURE.TYPE": "NRC_IMAGE"}
    match = {
        "mask": {**det_key, "META.SUBARRAY.NAME": _ALL_SUBS},
        "saturation": {**det_key, "META.SUBARRAY.NAME": _ALL_SUBS},
        "superbias": {**det_key, "META.SUBARRAY.NAME": _ALL_SUBS},
        "linearity": {**det_key, "META.SUBARRAY.NAME": _ALL_SUBS},
        "gain": {**det_key, "META.SUBARRAY.NAME": _ALL_SUBS},
        "readnoise": {**det_key, "META.SUBARRAY.NAME": _ALL_SUBS},
        "ipc": dict(det_key),
        "dark": {**det_key, "META.SUBARRAY.NAME": sub.name},
        "flat": {**det_key, **img, "META.INSTRUMENT.FILTER": "F200W",
                 "META.INSTRUMENT.PUPIL": "CLEAR"},
        "photom": {**det_key, **img},
        "area": {**det_key, **img, "META.INSTRUMENT.FILTER": "F200W",
                 "META.INSTRUMENT.PUPIL": "CLEAR"},
        "distortion": {**det_key, **img},
        "filteroffset": {**det_key, **img},
        "apcorr": {**det_key, **img},
        "abvegaoffset": {**det_key, **img},
    }
    entries = [RefEntry("NIRCAM", rt, files[rt], match[rt], "2022-01-01 00:00:00")
               for rt in files]
    build_cache(Path(cache_dir), context, entries, {"NIRCAM": ["NRC_IMAGE"]})
    return files


def _asdf_meta(model, reftype: str, description: str) -> None:
    for key, value in {
        "reftype": reftype.upper(), "useafter": _USEAFTER, "pedigree": "SIMULATION",
        "author": "webbflow demo generator", "description": description,
        "telescope": "JWST", "instrument.name": "NIRCAM", "instrument.detector": "NRCA1",
        "instrument.module": "A", "instrument.channel": "SHORT",
        "exposure.type": "NRC_IMAGE", "exposure.p_exptype": "NRC_IMAGE|NRC_TSIMAGE|",
    }.items():
        model.meta.set(key, value)
