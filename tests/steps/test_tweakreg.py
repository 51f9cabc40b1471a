"""tweakreg on simulated dithered exposures with injected pointing errors."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "align"))
from align_sim import absolute_rms_pixels, make_field, relative_rms_pixels

from webbflow.errors import ParameterError
from webbflow.steps.tweakreg import TweakRegStep


@pytest.fixture(scope="module")
def field():
    # 4 exposures, ~100 stars each, shifts up to 1", roll errors up to 0.05 deg
    return make_field(n_exp=4, n_stars=250, shift_err=1.0, rot_err=0.05, seed=11)


@pytest.fixture(scope="module")
def aligned(field):
    return TweakRegStep.call(field.models)


def test_relative_alignment_residual_below_acceptance(field, aligned):
    before = relative_rms_pixels(field, [m.meta.wcs for m in field.models])
    after = relative_rms_pixels(field, [m.meta.wcs for m in aligned])
    print(f"relative misalignment: before {before:.3f} px RMS, after {after:.5f} px RMS")
    assert before > 5.0
    assert after <= 0.02
    assert [m.meta.cal_step.tweakreg for m in aligned] == ["COMPLETE"] * 4
    assert aligned[1].meta.wcs.available_frames == ["detector", "v2v3", "v2v3vacorr",
                                                    "v2v3corr", "world"]
    # the reference exposure keeps its WCS; the inputs are not modified
    assert field.models[1].meta.wcs.available_frames[-2] == "v2v3vacorr"
    assert aligned[1].meta.wcsinfo.s_region.startswith("POLYGON ICRS")
    assert aligned[1].meta.wcsinfo.ctype1 == "RA---TAN-SIP"


def test_corrected_wcs_inverts_and_saves(aligned, tmp_path):
    wcs = aligned[2].meta.wcs
    ra, dec = wcs(100.0, 200.0)
    x, y = wcs.invert(ra, dec)
    assert abs(x - 100.0) < 1e-3 and abs(y - 200.0) < 1e-3
    path = tmp_path / "a_cal.fits"
    aligned[2].save(path)
    from webbflow.datamodels import open as open_model

    back = open_model(path)
    assert np.allclose(back.meta.wcs(100.0, 200.0), (ra, dec), rtol=0, atol=1e-12)


def test_absolute_alignment_to_catalog_file(field, tmp_path):
    ref = tmp_path / "refcat.ecsv"
    Table({"RA": field.star_ra, "DEC": field.star_dec}).write(ref, format="ascii.ecsv")
    out = TweakRegStep.call(field.models, abs_refcat=str(ref), save_catalogs=True,
                            output_dir=str(tmp_path))
    before = absolute_rms_pixels(field, [m.meta.wcs for m in field.models])
    after = absolute_rms_pixels(field, [m.meta.wcs for m in out])
    print(f"absolute misalignment: before {before:.3f} px RMS, after {after:.5f} px RMS")
    assert before > 5.0 and after <= 0.05
    assert out[0].meta.wcs.name == f"FIT-LVL3-{ref}"
    cat = tmp_path / "jw01234001001_01101_00001_nrca1_cal_cat.ecsv"
    assert out[0].meta.tweakreg_catalog == cat.name
    table = Table.read(cat)
    assert {"x", "y", "ra", "dec", "flux"} <= set(table.colnames) and len(table) > 80


def test_too_few_sources_skips_with_official_message(field, caplog):
    blank = [m.copy() for m in field.models[:2]]
    for m in blank:
        m.data[:] = 0.3
    with caplog.at_level(logging.WARNING, logger="webbflow"):
        out = TweakRegStep.call(blank)
    assert [m.meta.cal_step.tweakreg for m in out] == ["SKIPPED", "SKIPPED"]
    assert "Too few input images (or groups of images) with non-empty catalogs." in caplog.text
    assert out[0].meta.wcs.available_frames[-2] == "v2v3vacorr"


def test_single_exposure_and_gaia_names(field):
    out = TweakRegStep.call([field.models[0]])
    assert out[0].meta.cal_step.tweakreg == "SKIPPED"
    with pytest.raises(ParameterError, match="no network"):
        TweakRegStep.call(field.models[:2], abs_refcat="GAIADR3")
