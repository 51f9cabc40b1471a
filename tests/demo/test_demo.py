"""The demo observation: layout, headers, determinism, truth consistency, interop, CRDS."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from webbflow.datamodels import Level1bModel
from webbflow.demo import generate_demo
from webbflow.demo.cli import main
from webbflow.demo.detector import make_detector
from webbflow.demo.ramps import SimOptions, simulate_integration
from webbflow.demo.tables import READPATTS, SUBARRAYS, timing
from webbflow.references.models import open_reference
from webbflow.wcs import Pointing, default_nircam_distortion, sky_to_pixel

ROOT1 = "jw01234001001_01101_00001_nrca1"


def _sci(path):
    with fits.open(path) as hdul:
        return hdul["SCI"].data.copy()


def test_layout_and_manifest(demo):
    out = demo.truth_dir.parent
    assert [p.name for p in demo.uncal_files] == [f"{ROOT1}_uncal.fits",
                                                   ROOT1.replace("00001", "00002") +
                                                   "_uncal.fits"]
    assert (demo.crds_path / "mappings" / "jwst" / "jwst_9001.pmap").is_file()
    assert (demo.truth_dir / "sources.ecsv").is_file()
    assert (demo.truth_dir / f"cosmic_rays_{ROOT1}.ecsv").is_file()
    manifest = json.loads((out / "demo.json").read_text())
    assert manifest["options"]["subarray"] == "SUB160"
    assert len(manifest["uncal_files"]) == 2
    assert set(demo.reference_files) >= {"mask", "saturation", "superbias", "linearity",
                                          "dark", "gain", "readnoise", "ipc", "flat",
                                          "photom", "area", "distortion", "filteroffset"}


def test_headers_and_timing(demo):
    m = Level1bModel(demo.uncal_files[0])
    e = m.meta.exposure
    assert m.data.dtype == np.uint16 and m.data.shape == (1, 5, 160, 160)
    assert (m.meta.instrument.name, m.meta.instrument.detector, m.meta.instrument.filter,
            m.meta.instrument.pupil, e.type) == ("NIRCAM", "NRCA1", "F200W", "CLEAR",
                                                  "NRC_IMAGE")
    assert (m.meta.subarray.name, m.meta.subarray.xstart, m.meta.subarray.xsize) == (
        "SUB160", 1, 160)
    assert (m.meta.subarray.fastaxis, m.meta.subarray.slowaxis) == (-1, 2)
    assert (e.nframes, e.groupgap, e.readpatt, e.noutputs) == (8, 2, "MEDIUM8", 1)
    assert e.frame_time == pytest.approx(0.27864)
    assert e.group_time == pytest.approx((e.nframes + e.groupgap) * e.frame_time, abs=1e-5)
    nfr = e.ngroups * e.nframes + (e.ngroups - 1) * e.groupgap
    assert e.integration_time == pytest.approx(nfr * e.frame_time, abs=1e-4)
    assert e.exposure_time == pytest.approx(e.nints * e.integration_time, abs=1e-4)
    assert (e.end_time - e.start_time) * 86400 == pytest.approx(e.duration, abs=1e-3)
    assert m.meta.visit.tsovisit is False
    w = m.meta.wcsinfo
    for value in (w.ra_ref, w.dec_ref, w.roll_ref, w.v2_ref, w.v3_ref, w.v3yangle,
                  m.meta.pointing.ra_v1, m.meta.pointing.pa_v3,
                  m.meta.velocity_aberration.scale_factor):
        assert value is not None
    assert len(m.group) == 5 and len(m.int_times) == 1
    with fits.open(demo.uncal_files[0]) as hdul:
        assert "RA_REF" in hdul["SCI"].header and "PATT_NUM" in hdul[0].header
        assert hdul[0].header["DATE-OBS"] == "2025-01-15"


def test_dithers_move_the_pointing(demo):
    a, b = (Level1bModel(p).meta.wcsinfo for p in demo.uncal_files)
    sep = np.hypot((a.ra_ref - b.ra_ref) * np.cos(np.radians(a.dec_ref)),
                   a.dec_ref - b.dec_ref) * 3600
    assert sep == pytest.approx(np.hypot(2.104, 1.577), rel=1e-3)


def test_same_seed_identical_other_seed_different(demo, small, tmp_path):
    again = generate_demo(tmp_path / "a", seed=7, **{**small, "n_exposures": 1})
    assert np.array_equal(_sci(again.uncal_files[0]), _sci(demo.uncal_files[0]))
    other = generate_demo(tmp_path / "b", seed=8, **{**small, "n_exposures": 1})
    assert not np.array_equal(_sci(other.uncal_files[0]), _sci(demo.uncal_files[0]))


def test_noiseless_linear_ramps_reproduce_the_truth_rate(clean_demo):
    raw = _sci(clean_demo.uncal_files[0]).astype(np.float64)[0]
    truth = _sci(clean_demo.truth_dir / f"{ROOT1}_truth_rate.fits")
    sat = _sci(clean_demo.truth_dir / f"{ROOT1}_truth_saturation.fits")[0]
    bias = open_reference(clean_demo.reference_files["superbias"]).data[:160, :160]
    m = Level1bModel(clean_demo.uncal_files[0])
    tgroup, tframe = m.meta.exposure.group_time, m.meta.exposure.frame_time
    ok = sat < 0
    assert ok.mean() > 0.95 and truth.max() > 1.0
    slope = np.diff(raw, axis=0) / tgroup
    # uint16 rounding of each group: at most 1 DN per difference
    assert np.abs(slope - truth)[:, ok].max() <= 1.0 / tgroup + 1e-6
    mean_slope = (raw[-1] - raw[0]) / (4 * tgroup)
    assert np.abs(mean_slope - truth)[ok].max() <= 1.0 / (4 * tgroup) + 1e-6
    first = raw[0] - bias
    assert np.abs(first - truth * 4.5 * tframe)[ok].max() <= 0.5 + 1e-3


def test_saturation_where_the_truth_says():
    """A rate ramp across the subarray saturates pixels in every group; the truth's first
    saturated group agrees with the raw data against the saturation reference threshold."""
    det = make_detector(7)
    sub, patt = SUBARRAYS["SUB160"], READPATTS["MEDIUM8"]
    tim = timing(sub, patt, 5, 1)
    photo = np.tile(np.geomspace(10.0, 2e5, 160), (160, 1))
    res = simulate_integration(det, sub, patt, 5, tim, photo, 1, np.random.default_rng(1),
                               1, SimOptions(noise=False, cosmic_rays=False))
    raw = res.raw.astype(np.float64)
    sat = res.first_saturated
    thr = (det.superbias + det.sat_signal)[sub.slices]
    thr = np.where(det.no_sat_check[sub.slices], np.nan, thr)
    assert {0, 1, 2, 3, 4, -1} <= set(np.unique(sat).tolist())
    for g in range(5):
        hit = sat == g
        assert (raw[g][hit] >= thr[hit] - 0.5).all()
        if g:
            assert (raw[g - 1][hit] < thr[hit] + 0.5).all()
    never = (sat < 0) & np.isfinite(thr)
    assert (raw[-1][never] < thr[never] + 0.5).all()
    # hard saturation: the brightest pixels stop at the full well
    top = raw[:, 80, -1]
    assert top[-1] - top[-2] < 1.0


def test_stars_land_on_psf_peaks(clean_demo):
    truth = _sci(clean_demo.truth_dir / f"{ROOT1}_truth_rate.fits")
    src = Table.read(clean_demo.truth_dir / "sources.ecsv")
    w = json.loads((clean_demo.truth_dir / "wcs.json").read_text())["exposures"][ROOT1]
    p = Pointing(**{k: w[k] for k in ("v2_ref", "v3_ref", "ra_ref", "dec_ref", "roll_ref",
                                      "va_scale")})
    stars = src[(src["type"] == "star") & (src["flux_dns"] > 2)]
    x, y = sky_to_pixel(stars["ra"], stars["dec"], default_nircam_distortion(), p)
    inside = (x > 8) & (x < 151) & (y > 8) & (y < 151)
    assert inside.sum() >= 3
    good = 0
    for xi, yi in zip(x[inside], y[inside]):
        cx, cy = round(xi), round(yi)
        box = truth[cy - 3:cy + 4, cx - 3:cx + 4]
        py, px = np.unravel_index(np.argmax(box), box.shape)
        good += abs(px - 3) <= 0 and abs(py - 3) <= 0
    assert good >= 0.8 * inside.sum()


def test_cosmic_rays_recorded_and_visible(demo):
    crs = Table.read(demo.truth_dir / f"cosmic_rays_{ROOT1}.ecsv")
    assert len(crs) > 0
    raw = _sci(demo.uncal_files[0])[0].astype(np.float64)
    big = crs[(crs["dn"] > 1000) & (crs["group"] >= 1) & (crs["kind"] == "cr")]
    if len(big):
        jumps = [raw[g, y, x] - raw[g - 1, y, x] for g, y, x in
                 zip(big["group"], big["y"], big["x"])]
        assert np.median(jumps) > 300


def test_references_open_in_stdatamodels(demo):
    dm = pytest.importorskip("stdatamodels.jwst.datamodels")
    classes = {"mask": dm.MaskModel, "saturation": dm.SaturationModel,
               "superbias": dm.SuperBiasModel, "linearity": dm.LinearityModel,
               "dark": dm.DarkModel, "gain": dm.GainModel, "readnoise": dm.ReadnoiseModel,
               "ipc": dm.IPCModel, "flat": dm.FlatModel, "photom": dm.NrcImgPhotomModel,
               "area": dm.PixelAreaModel, "distortion": dm.DistortionModel,
               "filteroffset": dm.FilteroffsetModel}
    for reftype, cls in classes.items():
        with cls(str(demo.reference_files[reftype])) as model:
            model.validate()
            assert model.meta.instrument.detector == "NRCA1", reftype
    with dm.DistortionModel(str(demo.reference_files["distortion"])) as d:
        v2, v3 = d.model(1023.5, 1023.5)
        assert abs(v2 - 120.6714) < 1e-9 and abs(v3 + 527.3877) < 1e-9
        assert abs(d.model.inverse(v2, v3)[0] - 1023.5) < 1e-3
    with dm.Level1bModel(str(demo.uncal_files[0])) as raw:
        assert raw.data.shape == (1, 5, 160, 160)
        assert raw.meta.exposure.readpatt == "MEDIUM8"


def test_crds_cache_serves_every_reftype(demo):
    pytest.importorskip("crds")
    header = Level1bModel(demo.uncal_files[0]).crds_parameters()
    reftypes = sorted(demo.reference_files)
    code = (
        "import json, sys, crds\n"
        "h, r = json.loads(sys.argv[1]), json.loads(sys.argv[2])\n"
        "out = crds.getreferences(h, reftypes=r, context='jwst_9001.pmap',"
        " observatory='jwst')\n"
        "print(json.dumps(out))\n")
    env = {"CRDS_PATH": str(demo.crds_path), "CRDS_MODE": "local", "PATH": "/usr/bin:/bin",
           "HOME": str(demo.crds_path)}
    res = subprocess.run([sys.executable, "-c", code, json.dumps(header),
                          json.dumps(reftypes)], capture_output=True, text=True, env=env,
                         timeout=120, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    for reftype in reftypes:
        assert got[reftype].endswith(demo.reference_files[reftype].name), reftype


def test_cli_rejects_bad_options_in_one_line(tmp_path, capsys):
    assert main([str(tmp_path / "x"), "--ngroups", "50"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "MEDIUM8 allows 1 to 10" in err
