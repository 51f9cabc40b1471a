"""``generate_demo``: a dithered NIRCam F200W imaging visit from a known truth.

Layout written under ``out_dir``::

    uncal/<root>_uncal.fits        raw exposures (Level1bModel)
    crds_cache/                    local CRDS cache (mappings, references, server_config)
    truth/sources.ecsv             the sky truth (RA/Dec, DN/s and MJy, shapes)
    truth/wcs.json                 pointing per exposure and the distortion coefficients
    truth/<root>_truth_rate.fits   noiseless rate (DN/s) a perfect stage 1 returns
    truth/<root>_truth_saturation.fits  first saturated group per integration and pixel
    truth/cosmic_rays_<root>.ecsv  every cosmic-ray pixel hit
    demo.json                      the options and the file list

The truth rate is IPC (x) [flat x (sources + sky x relative pixel area)] in DN/s on the
subarray: the linear signal of the light-sensitive pixels as the detector sees it, without
dark current (what the rate equals after dark subtraction), zero on reference and dead pixels.
Random streams are derived from ``seed`` with numpy's SeedSequence (detector, sky, each
exposure), so the same seed gives byte-identical data arrays and a re-run rewrites the same
files.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time, TimeDelta

from ..datamodels import Level1bModel
from ..errors import ParameterError
from ..wcs import Pointing, default_nircam_distortion, pixel_area_map, v23_to_sky
from .detector import make_detector
from .headers import ExposureId, exposure_meta, group_table, int_times_table
from .ramps import SimOptions, apply_ipc, simulate_integration
from .reference_files import PHOTMJSR, write_references
from .sky import make_catalog, render_sources
from .tables import lookup_readpatt, lookup_subarray, timing

__all__ = ["DITHERS", "DemoObservation", "generate_demo"]

#: field centre (RA, Dec deg) at the aperture reference point of exposure 1; V3 PA there
TARGET = (53.16, -27.78)
ROLL_REF = 71.3
#: sky background, DN/s per nominal pixel
SKY_DNS = 0.3
#: dither offsets in the ideal frame (arcsec), a 4-point box with sub-pixel parts
DITHERS = ((0.0, 0.0), (2.104, 1.577), (-1.438, 2.921), (3.215, -1.196))
START = Time("2025-01-15T04:12:33.000", scale="utc")


@dataclass
class DemoObservation:
    """What :func:`generate_demo` wrote."""

    uncal_files: list[Path]
    crds_path: Path
    context: str
    truth_dir: Path
    reference_files: dict[str, Path] = field(default_factory=dict)


def _dither(n: int) -> tuple[float, float]:
    base = DITHERS[n % len(DITHERS)]
    cycle = n // len(DITHERS)
    return (base[0] + 0.37 * cycle, base[1] + 0.23 * cycle)


def _kernel_seed(seed: int, *keys: int) -> int:
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1, np.uint32)[0])


def generate_demo(out_dir: Path, *, n_exposures: int = 4, subarray: str = "SUB640",
                  nints: int = 2, ngroups: int = 8, readpatt: str = "MEDIUM8",
                  seed: int = 20261121, context: str = "jwst_9001.pmap",
                  cosmic_rays: bool = True, options: SimOptions | None = None,
                  ) -> DemoObservation:
    """Generate the demo observation (see the module docstring for the layout).

    Parameters
    ----------
    out_dir : Path
        Output directory (created).
    n_exposures, nints, ngroups : int
        Dither positions, integrations per exposure, groups per integration.
    subarray, readpatt : str
        A name of :data:`~webbflow.demo.tables.SUBARRAYS` / :data:`~...READPATTS`.
    seed : int
        Seed of every random stream.
    context : str
        Name of the pmap of the local CRDS cache (``jwst_<serial>.pmap``).
    cosmic_rays : bool
        Add cosmic rays and snowballs.
    options : SimOptions, optional
        Test variants (noiseless, linear, no dark); ``cosmic_rays`` still applies.

    Returns
    -------
    DemoObservation
    """
    if n_exposures < 1:
        raise ParameterError(f"n_exposures={n_exposures}: must be at least 1")
    sub = lookup_subarray(subarray)
    patt = lookup_readpatt(readpatt)
    tim = timing(sub, patt, ngroups, nints)
    opts = options or SimOptions()
    if not cosmic_rays:
        opts = SimOptions(noise=opts.noise, cosmic_rays=False, nonlinear=opts.nonlinear,
                          dark=opts.dark)
    out_dir = Path(out_dir)
    uncal_dir, truth_dir, cache = out_dir / "uncal", out_dir / "truth", out_dir / "crds_cache"
    for d in (uncal_dir, truth_dir, cache):
        d.mkdir(parents=True, exist_ok=True)

    det = make_detector(seed)
    dist = default_nircam_distortion()
    area, pixar_a2 = pixel_area_map(dist)
    pixar_sr = pixar_a2 / (180.0 / math.pi * 3600.0) ** 2
    sl = sub.slices
    xc = sub.xstart - 1 + (sub.xsize - 1) / 2.0
    yc = sub.ystart - 1 + (sub.ysize - 1) / 2.0
    v2c, v3c = (float(v) for v in dist.pixel_to_v23(xc, yc))
    base = Pointing(v2c, v3c, TARGET[0], TARGET[1], ROLL_REF)
    rot = dist._rotation()

    half = max(sub.xsize, sub.ysize) * 0.0312 / 2.0 + 5.0
    catalog = make_catalog(np.random.default_rng([seed, 2]), TARGET[0], TARGET[1], half,
                           photmjsr=PHOTMJSR, pixar_sr=pixar_sr)
    catalog.meta["sky_dns_per_nominal_pixel"] = SKY_DNS
    catalog.write(truth_dir / "sources.ecsv", overwrite=True)

    files: list[Path] = []
    wcs_truth: dict[str, object] = {"distortion": dist.to_dict(), "pixar_a2": pixar_a2,
                                    "pixar_sr": pixar_sr, "exposures": {}}
    start = START
    for n in range(1, n_exposures + 1):
        dx, dy = _dither(n - 1)
        dv2, dv3 = rot @ np.array([dx, dy])
        ra, dec = (float(v) for v in v23_to_sky(v2c + dv2, v3c + dv3, base))
        pointing = Pointing(v2c, v3c, ra, dec, ROLL_REF)
        eid = ExposureId(n, start)
        start = start + TimeDelta(tim.duration + 120.0, format="sec")

        sources = render_sources(catalog, dist, pointing, (sub.xstart - 1, sub.ystart - 1),
                                 (sub.ysize, sub.xsize))
        light = ~det.refpix[sl]
        photo = det.flat[sl] * (sources + SKY_DNS * area[sl])
        photo = np.where(light & ~det.dead[sl], photo, 0.0)
        truth_rate = apply_ipc(photo.astype(np.float32), light)

        rng = np.random.default_rng([seed, 3, n])
        data = np.empty((nints, ngroups, sub.ysize, sub.xsize), dtype=np.uint16)
        first_sat = np.empty((nints, sub.ysize, sub.xsize), dtype=np.int16)
        crs: list[tuple] = []
        for i in range(nints):
            res = simulate_integration(det, sub, patt, ngroups, tim, photo, i + 1, rng,
                                       _kernel_seed(seed, 4, n, i), opts)
            data[i] = res.raw
            first_sat[i] = res.first_saturated
            crs.extend(res.cosmic_rays)

        model = Level1bModel(data=data)
        for key, value in exposure_meta(eid, sub, patt, ngroups, nints, tim, pointing,
                                        TARGET, n_exposures, (dx, dy)).items():
            model.meta.set(key, value)
        model.group = group_table(eid, tim, patt, ngroups, nints, (sub.ysize, sub.xsize))
        model.int_times = int_times_table(eid, tim, nints)
        path = uncal_dir / f"{eid.root}_uncal.fits"
        model.save(path)
        files.append(path)

        _write_truth_image(truth_dir / f"{eid.root}_truth_rate.fits", truth_rate, "DN/s",
                           "IPC x flat x (sources + sky): noiseless rate without dark")
        _write_truth_image(truth_dir / f"{eid.root}_truth_saturation.fits", first_sat,
                           "group", "first saturated group (0-based) per integration, -1 never")
        crtab = Table(rows=crs, names=("integration", "group", "frame", "x", "y", "dn", "kind"),
                      dtype=(np.int32, np.int32, np.int32, np.int32, np.int32, np.float32,
                             "U8")) if crs else Table(
            names=("integration", "group", "frame", "x", "y", "dn", "kind"),
            dtype=(np.int32, np.int32, np.int32, np.int32, np.int32, np.float32, "U8"))
        crtab.meta["coordinates"] = "subarray pixels, 0-based; group 0-based; dn linear"
        crtab.write(truth_dir / f"cosmic_rays_{eid.root}.ecsv", overwrite=True)
        wcs_truth["exposures"][eid.root] = {**pointing.to_dict(), "dither_arcsec": [dx, dy]}

    (truth_dir / "wcs.json").write_text(json.dumps(wcs_truth, indent=1) + "\n")
    refs = write_references(det, dist, area, pixar_a2, sub, patt, ngroups, tim, cache,
                            context)
    obs = DemoObservation(uncal_files=files, crds_path=cache, context=context,
                          truth_dir=truth_dir, reference_files=refs)
    manifest = {
        "options": {"n_exposures": n_exposures, "subarray": sub.name, "nints": nints,
                    "ngroups": ngroups, "readpatt": patt.name, "seed": seed,
                    "context": context, "cosmic_rays": cosmic_rays,
                    "sim": {"noise": opts.noise, "cosmic_rays": opts.cosmic_rays,
                            "nonlinear": opts.nonlinear, "dark": opts.dark}},
        "uncal_files": [str(p.relative_to(out_dir)) for p in files],
        "crds_path": str(cache.relative_to(out_dir)),
        "reference_files": {k: str(v.relative_to(out_dir)) for k, v in refs.items()},
        "truth_dir": str(truth_dir.relative_to(out_dir)),
    }
    (out_dir / "demo.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return obs


def _write_truth_image(path: Path, data: np.ndarray, bunit: str, what: str) -> None:
    hdr = fits.Header()
    hdr["BUNIT"] = bunit
    hdr["CONTENT"] = what
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, header=hdr, name="SCI")])
    tmp = path.with_name(f".{path.name}.part")
    hdul.writeto(tmp, overwrite=True)
    tmp.replace(path)
