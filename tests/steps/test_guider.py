"""GuiderPipeline (calwebb_guider) on hand-built FGS_TRACK and FGS_ID-IMAGE raw files."""

from __future__ import annotations

import numpy as np
import pytest

from webbflow import datamodels as dm
from webbflow.datamodels.guider import TABLE_DTYPES, GuiderCalModel, GuiderRawModel
from webbflow.errors import InputError
from webbflow.pipelines import GuiderPipeline
from webbflow.references import models as rm
from webbflow.steps.guider_cds import GUIDER_MODES, GuiderCdsStep

NY, NX = 8, 8
TGROUP = 0.05
GAIN, RN = 2.0, 10.0
DNU, NFF = dm.dqflags.PIXEL["DO_NOT_USE"], dm.dqflags.PIXEL["NO_FLAT_FIELD"]
ROOT = "jw01234001001_gs-track_2024001000000"


def _meta(model, exp_type="FGS_TRACK"):
    m = model.meta
    m.instrument.name, m.instrument.detector = "FGS", "GUIDER1"
    m.exposure.type = exp_type
    m.subarray.name, m.subarray.xstart, m.subarray.ystart = "8X8", 101, 201
    m.subarray.xsize, m.subarray.ysize = NX, NY
    return model


def _ref(model, path):
    _meta(model)
    model.meta.author, model.meta.pedigree, model.meta.useafter = "t", "DUMMY", "2022-01-01"
    return model.save(path)


@pytest.fixture
def overrides(tmp_path):
    zeros = np.zeros((NY, NX), np.float32)
    mask = np.zeros((NY, NX), np.uint32)
    mask[3, 3] = dm.dqflags.PIXEL["HOT"]
    flat = zeros + 2.0
    flat[5, 5] = np.nan
    return {
        "dq_init": {"override_mask": _ref(rm.MaskModel(dq=mask), tmp_path / "mask.fits")},
        "guider_cds": {
            "override_gain": _ref(rm.GainModel(data=zeros + GAIN), tmp_path / "gain.fits"),
            "override_readnoise": _ref(rm.ReadnoiseModel(data=zeros + RN), tmp_path / "rn.fits")},
        "flat_field": {"override_flat": _ref(rm.FlatModel(data=flat, err=zeros, dq=mask * 0),
                                             tmp_path / "flat.fits")},
    }


def _raw(tmp_path, exp_type, data):
    raw = _meta(GuiderRawModel(data.astype(np.float32)), exp_type)
    exp = raw.meta.exposure
    exp.nints, exp.ngroups, exp.group_time = data.shape[0], data.shape[1], TGROUP
    raw.flight_star_table = np.array([(b"A", 10.5, 20.5, 1.0e4)],
                                     dtype=TABLE_DTYPES["flight_star_table"])
    raw.centroid_table = np.zeros(2, dtype=TABLE_DTYPES["centroid_table"])
    raw.centroid_table["guide_star_position_x"] = [1.5, 1.6]
    raw.extra_fits["FGS CENTROID PACKET"] = [("GUIDESTA", "TRACK", "guide star state")]
    return raw.save(tmp_path / f"{ROOT}_{exp_type.lower()}_uncal.fits")


def test_mode_table_covers_every_guider_exp_type():
    assert set(GUIDER_MODES.values()) == {"id", "cds", "fineguide"}
    assert GUIDER_MODES["FGS_TRACK"] == "cds" and GUIDER_MODES["FGS_ID-STACK"] == "id"


def test_track_count_rates_flat_fielded_and_readable_officially(tmp_path, overrides):
    nints = 3
    rate = np.arange(NY * NX, dtype=np.float32).reshape(NY, NX) * 100 + 1000  # DN/s
    data = np.empty((nints, 2, NY, NX), np.float32)
    for i in range(nints):
        data[i, 0] = 5000 + i
        data[i, 1] = 5000 + i + rate * TGROUP * (i + 1)
    uncal = _raw(tmp_path, "FGS_TRACK", data)
    out_dir = tmp_path / "out"
    cal = GuiderPipeline.call(uncal, steps=overrides, output_dir=str(out_dir),
                              save_results=True)
    assert isinstance(cal, GuiderCalModel) and cal.shape == (nints, NY, NX)
    for i in range(nints):  # (g1 - g0) / TGROUP, divided by the flat (2)
        np.testing.assert_allclose(cal.data[i, 1, 1], rate[1, 1] * (i + 1) / 2, rtol=1e-5)
    diff = rate * TGROUP
    # guider ERR is not divided by the flat (official): sqrt(ERR^2 + VAR_FLAT), FLAT ERR 0
    err = np.sqrt(2 * (RN / TGROUP) ** 2 + diff / (GAIN * TGROUP))
    np.testing.assert_allclose(cal.err[0, 2, 2], err[2, 2], rtol=1e-5)
    assert cal.dq[3, 3] == dm.dqflags.PIXEL["HOT"]
    assert cal.dq[5, 5] == DNU | NFF
    np.testing.assert_allclose(cal.data[0, 5, 5], rate[5, 5])  # flat 1 there
    for step in ("dq_init", "guider_cds", "flat_field"):
        assert cal.meta.cal_step.get(step) == "COMPLETE"
    assert cal.meta.bunit_data == "DN/s"

    path = out_dir / f"{ROOT}_fgs_track_cal.fits"
    assert sorted(p.name for p in out_dir.iterdir()) == [path.name]
    sd = pytest.importorskip("stdatamodels.jwst.datamodels")
    with sd.GuiderCalModel(path) as official:
        np.testing.assert_array_equal(official.data, cal.data)
        assert official.dq.shape == (NY, NX)
        assert official.meta.exposure.type == "FGS_TRACK"
        assert official.flight_star_table["reference_star_id"][0] == "A"
        assert official.meta.guide_star_state == "TRACK"
        np.testing.assert_array_equal(official.centroid_table["guide_star_position_x"],
                                      [1.5, 1.6])
        assert official.meta.cal_step.guider_cds == "COMPLETE"


def test_id_image_takes_the_minimum_of_two_integrations(tmp_path, overrides):
    data = np.zeros((2, 2, NY, NX), np.float32)
    data[0, 1] = 50.0
    data[1, 1] = 40.0
    data[1, 1, 0, 0] = 90.0
    cal = GuiderPipeline.call(_raw(tmp_path, "FGS_ID-IMAGE", data), steps=overrides)
    assert cal.shape == (1, NY, NX)
    np.testing.assert_allclose(cal.data[0, 0, 0], 50.0 / TGROUP / 2)
    np.testing.assert_allclose(cal.data[0, 1, 1], 40.0 / TGROUP / 2)


def test_cds_skips_on_na_and_rejects_non_guider_data(tmp_path, overrides):
    data = np.zeros((1, 2, NY, NX), np.float32)
    raw = GuiderRawModel(_raw(tmp_path, "FGS_TRACK", data))
    out = GuiderCdsStep.call(raw, override_gain="N/A")
    assert isinstance(out, GuiderRawModel)
    assert out.meta.cal_step.guider_cds == "SKIPPED"
    image = _meta(dm.ImageModel(np.zeros((NY, NX), np.float32)), "NRC_IMAGE")
    with pytest.raises(InputError, match="raw FGS guider data"):
        GuiderCdsStep.call(image)
