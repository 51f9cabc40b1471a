"""AssignWcsStep on the demo (WCS against the truth, SIP accuracy, S_REGION) and error paths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from webbflow import datamodels as dm
from webbflow.errors import InputError
from webbflow.steps.assign_wcs import AssignWcsStep
from webbflow.wcs import Pointing, sky_to_pixel
from webbflow.wcs.distortion import DistortionSolution


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Two SUB160 exposures of the demo and their references."""
    from webbflow.demo import generate_demo

    out = tmp_path_factory.mktemp("wcs_demo")
    obs = generate_demo(out, n_exposures=2, subarray="SUB160", nints=1, ngroups=5)
    return obs


def _rate_like(uncal: Path) -> dm.ImageModel:
    """An ImageModel with the uncal's metadata (the WCS needs nothing else)."""
    raw = dm.open(uncal)
    model = dm.ImageModel(data=np.zeros(raw.data.shape[-2:], np.float32))
    for key, value in raw.meta.items():
        if key == "model_type":
            continue
        model.meta.set(key, value)
    model.meta.filename = uncal.name.replace("_uncal", "_rate")
    return model


def _overrides(obs, **extra) -> dict[str, str]:
    refs = obs.reference_files
    out = {f"override_{r}": "N/A" for r in AssignWcsStep.reference_file_types}
    out["override_distortion"] = str(refs["distortion"])
    out["override_filteroffset"] = str(refs["filteroffset"])
    out.update(extra)
    return out


def _truth(obs):
    truth = json.loads((obs.truth_dir / "wcs.json").read_text())
    sol = DistortionSolution(**truth["distortion"])
    cat = Table.read(obs.truth_dir / "sources.ecsv")
    return truth, sol, np.asarray(cat["ra"], float), np.asarray(cat["dec"], float)


def test_star_positions_match_demo_truth(demo):
    """Every truth source on the array lands within 0.001 px of where the demo drew it
    (measured: ~3e-6 px, the fitted inverse of the distortion polynomial), and the forward
    transform of those pixels gives back the catalogue RA/Dec within 1e-6 arcsec."""
    truth, sol, ra, dec = _truth(demo)
    for uncal in demo.uncal_files:
        root = uncal.name.removesuffix("_uncal.fits")
        p = truth["exposures"][root]
        pointing = Pointing(p["v2_ref"], p["v3_ref"], p["ra_ref"], p["dec_ref"],
                            p["roll_ref"], p["va_scale"])
        xt, yt = sky_to_pixel(ra, dec, sol, pointing)  # SUB160 starts at (1, 1)
        on = (xt > -0.5) & (xt < 159.5) & (yt > -0.5) & (yt < 159.5)
        assert on.sum() >= 10
        result = AssignWcsStep.call(_rate_like(uncal), **_overrides(demo))
        assert result.meta.cal_step.assign_wcs == "COMPLETE"
        wcs = result.meta.wcs
        assert wcs.available_frames == ["detector", "v2v3", "v2v3vacorr", "world"]
        x, y = wcs.invert(ra[on], dec[on])
        assert np.max(np.hypot(x - xt[on], y - yt[on])) < 1e-3
        r2, d2 = wcs(xt[on], yt[on])
        assert np.max(np.abs(r2 - ra[on])) * 3600 < 1e-6
        assert np.max(np.abs(d2 - dec[on])) * 3600 < 1e-6


def test_sip_approximation_within_0p01_pixel(demo):
    """The FITS TAN-SIP header reproduces the gwcs to <= 0.01 px over the whole array, both
    ways, and S_REGION is the four bounding-box corners."""
    result = AssignWcsStep.call(_rate_like(demo.uncal_files[0]), **_overrides(demo))
    info = result.meta.wcsinfo
    assert info.ctype1 == "RA---TAN-SIP" and info.ctype2 == "DEC--TAN-SIP"
    assert info.a_order >= 1 and info.ap_order >= 1
    hdr = fits.Header({k.upper(): v for k, v in info.items()
                       if re.fullmatch(r"(crpix|crval|ctype|cunit|cd)\d(_\d)?|(a|b|ap|bp)_.*",
                                       k)})
    fw = WCS(hdr)
    yy, xx = np.mgrid[-0.5:159.6:4.0, -0.5:159.6:4.0]
    ra, dec = result.meta.wcs(xx, yy)
    fx, fy = fw.all_world2pix(ra, dec, 0)
    assert np.max(np.hypot(fx - xx, fy - yy)) <= 0.01
    ra_s, dec_s = fw.all_pix2world(xx, yy, 0)
    gx, gy = result.meta.wcs.invert(ra_s, dec_s, with_bounding_box=False)
    assert np.max(np.hypot(gx - xx, gy - yy)) <= 0.01
    corners = np.array(info.s_region.split()[2:], float).reshape(4, 2)
    ra_c, dec_c = result.meta.wcs([-0.5, 159.5, 159.5, -0.5], [-0.5, -0.5, 159.5, 159.5])
    assert info.s_region.startswith("POLYGON ICRS  ")
    np.testing.assert_allclose(np.sort(corners[:, 0]), np.sort(ra_c), atol=2e-9)
    np.testing.assert_allclose(np.sort(corners[:, 1]), np.sort(dec_c), atol=2e-9)


def test_filter_offset_and_sip_off(demo):
    """F150W's FILTEROFFSET row (0.12, -0.08) px moves a sky position by minus that offset;
    sip_approx=False leaves no SIP keywords."""
    base = _rate_like(demo.uncal_files[0])
    ref = AssignWcsStep.call(base, **_overrides(demo), sip_approx=False)
    f150 = base.copy()
    f150.meta.instrument.filter = "F150W"
    moved = AssignWcsStep.call(f150, **_overrides(demo), sip_approx=False)
    ra, dec = ref.meta.wcs(80.0, 60.0)
    x, y = moved.meta.wcs.invert(ra, dec)
    assert x == pytest.approx(80.0 - 0.12, abs=1e-4)
    assert y == pytest.approx(60.0 + 0.08, abs=1e-4)
    assert ref.meta.wcsinfo.a_order is None and ref.meta.wcsinfo.ctype1 is None
    assert base.meta.get("wcs") is None  # the caller's model is untouched


def test_velocity_aberration_scales_about_reference_point(demo):
    """VA_SCALE = 1 + 1e-4 moves a point 10 arcsec from the reference by 1e-3 arcsec."""
    model = _rate_like(demo.uncal_files[0])
    plain = AssignWcsStep.call(model, **_overrides(demo), sip_approx=False).meta.wcs
    model.meta.velocity_aberration.scale_factor = 1.0 + 1e-4
    va = AssignWcsStep.call(model, **_overrides(demo), sip_approx=False).meta.wcs
    v2r, v3r = model.meta.wcsinfo.v2_ref, model.meta.wcsinfo.v3_ref
    to_pix = plain.get_transform("v2v3", "detector")
    x, y = to_pix(v2r + 10.0, v3r)
    v2, v3 = va.get_transform("detector", "v2v3vacorr")(x, y)
    assert v2 - v2r == pytest.approx(10.0 * (1 + 1e-4), abs=1e-6)
    assert v3 == pytest.approx(v3r, abs=1e-6)


def test_missing_pointing_keyword_is_one_line_error(demo):
    model = _rate_like(demo.uncal_files[0])
    del model.meta.wcsinfo.roll_ref
    with pytest.raises(InputError, match=r"ROLL_REF") as err:
        AssignWcsStep.call(model, **_overrides(demo))
    assert "\n" not in str(err.value)


def test_spectroscopic_exposure_is_skipped(demo):
    model = _rate_like(demo.uncal_files[0])
    model.meta.exposure.type = "NRC_WFSS"
    result = AssignWcsStep.call(model, **_overrides(demo))
    assert result.meta.cal_step.assign_wcs == "SKIPPED"
    assert result.meta.get("wcs") is None
