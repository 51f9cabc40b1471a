"""``generate_program``: a small JWST program of mixed EXP_TYPEs, for routing a whole program.

Twenty raw exposures of one NIRCam detector (NRCA1, one subarray and read pattern for all, so
one dark reference serves them) plus an FGS guiding file, written with the single-visit
generator's detector, sky, ramps and headers (:mod:`webbflow.demo.generate`):

=====  ===================  ==========================================================
obs    EXP_TYPE             what
=====  ===================  ==========================================================
001    NRC_IMAGE            F200W, ``dithers`` dither positions
002    NRC_IMAGE            F150W, ``dithers`` dither positions
003    NRC_IMAGE            F150W background exposure (BKGDTARG=T, no sources)
004    NRC_DARK             2 darks (no light)
005    NRC_TSIMAGE          TSOVISIT=T, one exposure in 2 segments (``-seg001``/``-seg002``)
006    NRC_FLAT             a uniformly lit flat
007    NRC_CORON            a coronagraphic exposure (the field seen through CLEAR: cheap)
008    NRC_IMAGE            PATTTYPE=WFSC: a WFS&C dithered pair
009    FGS_FINEGUIDE        guider file in the GuiderRawModel layout (8x8, 3 x 8 groups)
=====  ===================  ==========================================================

The CRDS cache holds the NIRCam references of the single-visit generator, their imaging
selections widened to the EXP_TYPEs and filters above, and FGS mask, gain, readnoise and flat
references for the guider subarray. Same seed, same bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.time import Time, TimeDelta

from ..datamodels import Level1bModel
from ..datamodels.guider import TABLE_DTYPES, GuiderRawModel
from ..references import models as rm
from ..references.local_cache import RefEntry, build_cache
from ..wcs import Pointing, default_nircam_distortion, pixel_area_map, v23_to_sky
from .detector import make_detector
from .generate import ROLL_REF, SKY_DNS, START, TARGET, DemoObservation, _dither, _kernel_seed
from .headers import PROGRAM, ExposureId, exposure_meta, group_table, int_times_table
from .ramps import SimOptions, simulate_integration
from .reference_files import PHOTMJSR, write_references
from .sky import make_catalog, render_sources
from .tables import lookup_readpatt, lookup_subarray, timing

__all__ = ["ExposureSpec", "generate_program", "program_specs"]

#: source brightness per filter relative to F200W (DN/s), matching the demo photom table
FILTER_SCALE = {"F200W": 1.0, "F150W": PHOTMJSR / 1.3}
#: EXP_TYPEs the NIRCam imaging references serve in the program's cache
IMAGING_EXP_TYPES = "NRC_IMAGE|NRC_TSIMAGE|NRC_CORON|NRC_FLAT"
FLAT_DNS = 40.0
#: FGS guider file: subarray, groups, group time (s), star count rate (DN/s)
FGS_SHAPE, FGS_GROUPS, FGS_INTS, FGS_TGROUP, FGS_STAR = (8, 8), 8, 3, 0.064, 2.0e4


@dataclass(frozen=True)
class ExposureSpec:
    """One exposure of the program: its observation, mode and light."""

    observation: str
    number: int
    exp_type: str
    filter: str = "F200W"
    light: str = "sky"  # sky (sources + sky), background (sky only), flat, none
    dither: int = 0
    tsovisit: bool = False
    patttype: str = "INTRAMODULEBOX"
    bkgdtarg: bool = False
    segment: int = 0
    segments: int = 0

    def root(self) -> str:
        seg = f"-seg{self.segment:03d}" if self.segment else ""
        return f"jw{PROGRAM}{self.observation}001_01101_{self.number:05d}{seg}_nrca1"


def program_specs(dithers: int = 5) -> list[ExposureSpec]:
    """The NIRCam exposures of the program (see the module table)."""
    specs = [ExposureSpec("001", n + 1, "NRC_IMAGE", "F200W", dither=n) for n in range(dithers)]
    specs += [ExposureSpec("002", n + 1, "NRC_IMAGE", "F150W", dither=n) for n in range(dithers)]
    specs.append(ExposureSpec("003", 1, "NRC_IMAGE", "F150W", "background", bkgdtarg=True))
    specs += [ExposureSpec("004", n, "NRC_DARK", light="none") for n in (1, 2)]
    specs += [ExposureSpec("005", 1, "NRC_TSIMAGE", tsovisit=True, patttype="NONE",
                           segment=s, segments=2) for s in (1, 2)]
    specs.append(ExposureSpec("006", 1, "NRC_FLAT", light="flat", patttype="NONE"))
    specs.append(ExposureSpec("007", 1, "NRC_CORON", patttype="NONE"))
    specs += [ExposureSpec("008", n + 1, "NRC_IMAGE", dither=n, patttype="WFSC")
              for n in range(2)]
    return specs


def _meta_changes(spec: ExposureSpec) -> dict[str, object]:
    obs = spec.observation
    changes: dict[str, object] = {
        "observation.observation_number": obs,
        "observation.visit_id": f"{PROGRAM}{obs}001",
        "observation.obs_id": f"V{PROGRAM}{obs}001P0000000001101",
        "observation.bkgdtarg": spec.bkgdtarg,
        "exposure.type": spec.exp_type,
        "instrument.filter": spec.filter,
        "visit.tsovisit": spec.tsovisit,
        "dither.primary_type": spec.patttype,
    }
    if spec.segment:
        changes["exposure.segment_number"] = spec.segment
        changes["exposure.segment_total"] = spec.segments
    if spec.exp_type == "NRC_CORON":
        changes["instrument.coronagraph"] = "NONE"
    return changes


def generate_program(out_dir: Path, *, subarray: str = "SUB160", nints: int = 1,
                     ngroups: int = 4, readpatt: str = "RAPID", seed: int = 20261121,
                     context: str = "jwst_9001.pmap", dithers: int = 5,
                     cosmic_rays: bool = True) -> DemoObservation:
    """Write the program's raw files, truth catalog and CRDS cache under ``out_dir``.

    Layout as :func:`~webbflow.demo.generate.generate_demo` (``uncal/``, ``crds_cache/``,
    ``truth/sources.ecsv``, ``demo.json``). ``nints`` applies to every NIRCam exposure but the
    TSO segments (2 integrations each); ``dithers`` positions per imaging filter.
    """
    sub, patt = lookup_subarray(subarray), lookup_readpatt(readpatt)
    tim = timing(sub, patt, ngroups, nints)
    opts = SimOptions(cosmic_rays=cosmic_rays)
    out_dir = Path(out_dir)
    uncal_dir, truth_dir, cache = out_dir / "uncal", out_dir / "truth", out_dir / "crds_cache"
    for d in (uncal_dir, truth_dir, cache):
        d.mkdir(parents=True, exist_ok=True)

    det = make_detector(seed)
    dist = default_nircam_distortion()
    area, pixar_a2 = pixel_area_map(dist)
    pixar_sr = pixar_a2 / (180.0 / math.pi * 3600.0) ** 2
    sl = sub.slices
    xc, yc = sub.xstart - 1 + (sub.xsize - 1) / 2.0, sub.ystart - 1 + (sub.ysize - 1) / 2.0
    v2c, v3c = (float(v) for v in dist.pixel_to_v23(xc, yc))
    base = Pointing(v2c, v3c, TARGET[0], TARGET[1], ROLL_REF)
    rot = dist._rotation()
    half = max(sub.xsize, sub.ysize) * 0.0312 / 2.0 + 5.0
    catalog = make_catalog(np.random.default_rng([seed, 2]), TARGET[0], TARGET[1], half,
                           photmjsr=PHOTMJSR, pixar_sr=pixar_sr)
    catalog.write(truth_dir / "sources.ecsv", overwrite=True)
    light = ~det.refpix[sl] & ~det.dead[sl]

    files: list[Path] = []
    start = START
    rendered: dict[int, np.ndarray] = {}  # sources per dither position (filters share them)
    for index, spec in enumerate(program_specs(dithers), 1):
        n_int = 2 if spec.segment else nints
        tim_x = timing(sub, patt, ngroups, n_int)
        dx, dy = _dither(spec.dither)
        dv2, dv3 = rot @ np.array([dx, dy])
        ra, dec = (float(v) for v in v23_to_sky(v2c + dv2, v3c + dv3, base))
        pointing = Pointing(v2c, v3c, ra, dec, ROLL_REF)
        eid = ExposureId(spec.number, start)
        start = start + TimeDelta(tim_x.duration + 120.0, format="sec")
        photo = np.zeros((sub.ysize, sub.xsize))
        if spec.light in ("sky", "background"):
            sources = 0.0
            if spec.light == "sky":
                if spec.dither not in rendered:
                    rendered[spec.dither] = render_sources(
                        catalog, dist, pointing, (sub.xstart - 1, sub.ystart - 1),
                        (sub.ysize, sub.xsize))
                sources = FILTER_SCALE[spec.filter] * rendered[spec.dither]
            photo = det.flat[sl] * (sources + SKY_DNS * area[sl])
        elif spec.light == "flat":
            photo = det.flat[sl] * FLAT_DNS
        photo = np.where(light, photo, 0.0)
        rng = np.random.default_rng([seed, 5, index])
        data = np.empty((n_int, ngroups, sub.ysize, sub.xsize), dtype=np.uint16)
        for i in range(n_int):
            data[i] = simulate_integration(det, sub, patt, ngroups, tim_x, photo, i + 1, rng,
                                           _kernel_seed(seed, 6, index, i), opts).raw
        model = Level1bModel(data=data)
        meta = exposure_meta(eid, sub, patt, ngroups, n_int, tim_x, pointing, TARGET,
                             dithers, (dx, dy))
        meta.update(_meta_changes(spec))
        for key, value in meta.items():
            model.meta.set(key, value)
        model.group = group_table(eid, tim_x, patt, ngroups, n_int, (sub.ysize, sub.xsize))
        model.int_times = int_times_table(eid, tim_x, n_int)
        path = uncal_dir / f"{spec.root()}_uncal.fits"
        model.save(path)
        files.append(path)

    files.append(_guider_file(uncal_dir, start, seed))
    refs = write_references(det, dist, area, pixar_a2, sub, patt, ngroups, tim, cache, context)
    fgs_refs = _fgs_references(cache / "references" / "jwst" / "fgs")
    entries = _nircam_entries(refs, sub.name) + [
        RefEntry("FGS", rt, p, {"META.INSTRUMENT.DETECTOR": "GUIDER1"}) for rt, p in
        fgs_refs.items()]
    build_cache(cache, context, entries,
                {"NIRCAM": IMAGING_EXP_TYPES.split("|"), "FGS": ["FGS_FINEGUIDE"]})
    (out_dir / "demo.json").write_text(json.dumps({
        "program": "mixed",
        "options": {"subarray": sub.name, "nints": nints, "ngroups": ngroups,
                    "readpatt": patt.name, "seed": seed, "context": context,
                    "dithers": dithers, "cosmic_rays": cosmic_rays},
        "uncal_files": [str(p.relative_to(out_dir)) for p in files],
        "crds_path": str(cache.relative_to(out_dir)),
    }, indent=1) + "\n")
    return DemoObservation(uncal_files=files, crds_path=cache, context=context,
                           truth_dir=truth_dir,
                           reference_files={**refs, **{f"fgs_{k}": v for k, v in
                                                       fgs_refs.items()}})


def _nircam_entries(refs: dict[str, Path], subarray: str) -> list[RefEntry]:
    """The single-visit selections, imaging ones widened to the program's modes and filters."""
    det = {"META.INSTRUMENT.DETECTOR": "NRCA1"}
    subs = {"META.SUBARRAY.NAME": "FULL|SUB640|SUB320|SUB160"}
    img = {"META.EXPOSURE.TYPE": IMAGING_EXP_TYPES}
    filt = {"META.INSTRUMENT.FILTER": "|".join(FILTER_SCALE), "META.INSTRUMENT.PUPIL": "CLEAR"}
    match = {
        "ipc": det, "dark": {**det, "META.SUBARRAY.NAME": subarray},
        "flat": {**det, **img, **filt}, "area": {**det, **img, **filt},
        "photom": {**det, **img}, "distortion": {**det, **img}, "filteroffset": {**det, **img},
    }
    return [RefEntry("NIRCAM", rt, path, match.get(rt, {**det, **subs}))
            for rt, path in refs.items()]


def _fgs_meta(model, exp_type: str = "FGS_FINEGUIDE"):
    m = model.meta
    m.instrument.name, m.instrument.detector = "FGS", "GUIDER1"
    m.exposure.type = exp_type
    m.subarray.name, m.subarray.xstart, m.subarray.ystart = "8X8", 1001, 1001
    m.subarray.ysize, m.subarray.xsize = FGS_SHAPE
    return model


def _fgs_references(refdir: Path) -> dict[str, Path]:
    refdir.mkdir(parents=True, exist_ok=True)
    ones = np.ones(FGS_SHAPE, np.float32)
    models = {
        "mask": rm.MaskModel(dq=np.zeros(FGS_SHAPE, np.uint32)),
        "gain": rm.GainModel(data=2.0 * ones),
        "readnoise": rm.ReadnoiseModel(data=12.0 * ones),
        "flat": rm.FlatModel(data=ones, err=0 * ones, dq=np.zeros(FGS_SHAPE, np.uint32)),
    }
    files = {}
    for reftype, model in models.items():
        _fgs_meta(model)
        model.meta.reftype = reftype.upper()
        model.meta.author, model.meta.pedigree = "webbflow demo generator", "SIMULATION"
        model.meta.useafter = "2022-01-01T00:00:00"
        model.meta.description = f"Demo FGS {reftype} for the guider subarray"
        model.meta.exposure.p_exptype = "FGS_FINEGUIDE|FGS_TRACK|"
        files[reftype] = refdir / f"jwst_fgs_{reftype}_demo_guider1.fits"
        model.save(files[reftype])
    return files


def _guider_file(uncal_dir: Path, start: Time, seed: int) -> Path:
    """FGS_FINEGUIDE raw file: a Gaussian star on the 8x8 box, ramps with read noise."""
    rng = np.random.default_rng([seed, 7])
    yy, xx = np.mgrid[0 : FGS_SHAPE[0], 0 : FGS_SHAPE[1]]
    star = FGS_STAR * np.exp(-((xx - 3.6) ** 2 + (yy - 4.2) ** 2) / (2 * 1.1**2))
    times = FGS_TGROUP * (np.arange(FGS_GROUPS) + 1.0)
    data = 3000.0 + times[None, :, None, None] * star[None, None] \
        + rng.normal(0.0, 6.0, (FGS_INTS, FGS_GROUPS, *FGS_SHAPE))
    raw = _fgs_meta(GuiderRawModel(data.astype(np.float32)))
    m = raw.meta
    m.exposure.nints, m.exposure.ngroups, m.exposure.group_time = (FGS_INTS, FGS_GROUPS,
                                                                   FGS_TGROUP)
    m.observation.date, m.observation.time = start.isot[:10], start.isot[11:23]
    m.observation.program_number, m.observation.observation_number = PROGRAM, "009"
    m.observation.visit_number = "001"
    m.visit.tsovisit = False
    raw.flight_star_table = np.array([(b"A", 3.6, 4.2, FGS_STAR)],
                                     dtype=TABLE_DTYPES["flight_star_table"])
    raw.centroid_table = np.zeros(FGS_INTS, dtype=TABLE_DTYPES["centroid_table"])
    raw.centroid_table["guide_star_position_x"] = 3.6
    raw.centroid_table["guide_star_position_y"] = 4.2
    stamp = start.strftime("%Y%j%H%M%S")
    path = uncal_dir / f"jw{PROGRAM}009001_gs-fg_{stamp}_uncal.fits"
    raw.save(path)
    return path
