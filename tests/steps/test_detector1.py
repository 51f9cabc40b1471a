"""Detector1Pipeline end to end on hand-built ramps with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from tiny_exposure import NGROUPS, NINTS, make_tiny

from webbflow import datamodels as dm
from webbflow.pipelines.detector1 import STEP_ORDER, Detector1Pipeline


def test_step_order_table_covers_every_instrument():
    from webbflow.instruments import FAMILY

    assert set(STEP_ORDER) == set(FAMILY)
    assert "persistence" not in STEP_ORDER["NIRSPEC"]
    assert STEP_ORDER["MIRI"].index("refpix") > STEP_ORDER["MIRI"].index("dark_current")


def test_noiseless_linear_ramp_returns_its_slope(tiny, tmp_path):
    rate = Detector1Pipeline.call(tiny.uncal, steps=tiny.overrides)
    assert isinstance(rate, dm.ImageModel)
    np.testing.assert_allclose(rate.data, tiny.truth_rate, rtol=1e-5, atol=1e-4)
    assert not np.any(rate.dq & dm.dqflags.PIXEL["DO_NOT_USE"])
    assert rate.meta.cal_step.dq_init == "COMPLETE"
    assert rate.meta.cal_step.ramp_fit == "COMPLETE"
    assert rate.meta.cal_step.charge_migration == "SKIPPED"
    assert rate.meta.cal_step.gain_scale == "SKIPPED"  # no GAINFACT in the gain reference
    assert rate.meta.ref_file.dark.name == tiny.overrides["dark_current"]["override_dark"]
    assert rate.meta.bunit_data == "DN/s"


def test_products_are_named_and_saved_as_officially(tiny, tmp_path):
    out = tmp_path / "out"
    Detector1Pipeline.call(tiny.uncal, steps=tiny.overrides, output_dir=str(out),
                           save_results=True, save_calibrated_ramp=True)
    root = "jw01234001001_01101_00001_nrca1"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{root}_{s}.fits" for s in ("rate", "rateints", "ramp"))
    with fits.open(out / f"{root}_rateints.fits") as hdul:
        assert hdul["SCI"].data.shape == (NINTS, 32, 32)
        assert hdul[0].header["S_JUMP"] == "COMPLETE"
    ramp = dm.open(out / f"{root}_ramp.fits")
    assert isinstance(ramp, dm.RampModel) and ramp.shape == (NINTS, NGROUPS, 32, 32)


def test_cosmic_ray_is_flagged_and_does_not_bias_the_rate(tmp_path):
    tiny = make_tiny(tmp_path, rate=np.full((32, 32), 20.0))
    raw = dm.open(tiny.uncal)
    raw.data[0, 3:, 10, 12] += 500  # a 500 DN hit before group 3 of integration 0
    raw.save(tiny.uncal)
    ramp_path = tmp_path / "ramp"
    rate = Detector1Pipeline.call(tiny.uncal, steps=tiny.overrides, output_dir=str(ramp_path),
                                  save_calibrated_ramp=True, save_results=True)
    ramp = dm.open(next(ramp_path.glob("*_ramp.fits")))
    assert ramp.groupdq[0, 3, 10, 12] & dm.dqflags.GROUP["JUMP_DET"]
    assert ramp.groupdq[0, 3, 11, 12] & dm.dqflags.GROUP["JUMP_DET"]  # a neighbour
    assert rate.data[10, 12] == pytest.approx(20.0, rel=1e-3)
    assert rate.dq[10, 12] & dm.dqflags.PIXEL["JUMP_DET"]


def test_input_model_is_not_modified(tiny):
    raw = dm.open(tiny.uncal)
    before = raw.data.copy()
    Detector1Pipeline.call(raw, steps=tiny.overrides)
    np.testing.assert_array_equal(raw.data, before)
    assert raw.meta.cal_step.dq_init is None


def test_dark_pipeline_stops_before_dark_subtraction(tiny, tmp_path):
    from webbflow.pipelines.dark import STEP_ORDER as DARK_ORDER
    from webbflow.pipelines.dark import DarkPipeline

    assert DARK_ORDER["NIRCAM"][-1] == "linearity"
    assert DARK_ORDER["MIRI"][-1] == "rscd" and "refpix" not in DARK_ORDER["MIRI"]
    steps = {k: v for k, v in tiny.overrides.items() if k in DarkPipeline.step_defs}
    out = tmp_path / "dark"
    result = DarkPipeline.call(tiny.uncal, steps=steps, output_dir=str(out), save_results=True)
    assert isinstance(result, dm.RampModel)
    assert [p.name for p in out.iterdir()] == ["jw01234001001_01101_00001_nrca1_dark.fits"]
    # superbias removed, nothing else: group g holds rate·TGROUP·(g+1)
    from tiny_exposure import TGROUP

    expected = tiny.truth_rate * TGROUP * NGROUPS
    np.testing.assert_allclose(result.data[1, -1], expected, rtol=1e-6)
    assert result.meta.cal_step.dark_sub is None
