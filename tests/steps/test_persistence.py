"""PersistenceStep: skip on N/A, trap-model correction with references and traps-filled files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from webbflow import datamodels as dm
from webbflow.errors import InputError
from webbflow.references import models as rm
from webbflow.steps.persistence import PersistenceStep, TrapsFilledModel

NY, NX, NG = 4, 5, 4
TGROUP = TFRAME = 10.0
RATE = 0.002  # 1/s, decay
PERS = dm.dqflags.PIXEL["PERSISTENCE"]


def _meta(model, instrument="NIRCAM"):
    m = model.meta
    m.instrument.name, m.instrument.detector = instrument, "NRCA1"
    m.exposure.type = "NRC_IMAGE"
    m.subarray.name, m.subarray.xstart, m.subarray.ystart = "SUBTEST", 3, 2
    m.subarray.xsize, m.subarray.ysize = NX, NY
    return model


def _ramp(instrument="NIRCAM"):
    ramp = _meta(dm.RampModel(np.zeros((1, NG, NY, NX), np.float32)), instrument)
    exp = ramp.meta.exposure
    exp.ngroups, exp.nints, exp.group_time, exp.frame_time = NG, 1, TGROUP, TFRAME
    exp.nresets_at_start, exp.nresets_between_ints = 1, 1
    exp.start_time, exp.end_time = 60000.0, 60000.0 + NG * TGROUP / 86400
    ramp.meta.filename = "jw01234001001_01101_00002_nrca1_ramp.fits"
    return ramp


def _ref(model, path):
    m = model.meta
    m.instrument.name, m.instrument.detector = "NIRCAM", "NRCA1"
    m.subarray.name, m.subarray.xstart, m.subarray.ystart = "FULL", 1, 1
    m.subarray.xsize, m.subarray.ysize = 8, 6
    m.author, m.pedigree, m.useafter = "t", "DUMMY", "2022-01-01"
    return model.save(path)


@pytest.fixture
def refs(tmp_path):
    full = np.ones((6, 8), np.float32)
    table = np.zeros(1, dtype=rm.TrapParsModel.row_dtype)
    table["capture1"], table["decay_param"] = -0.01, -RATE  # a0 = a2 = 0: no capture
    tp = rm.TrapParsModel()
    tp.trappars_table = table
    tp.meta.instrument.name, tp.meta.instrument.detector = "NIRCAM", "NRCA1"
    tp.meta.author, tp.meta.pedigree, tp.meta.useafter = "t", "DUMMY", "2022-01-01"
    return {
        "override_trapdensity": _ref(rm.TrapDensityModel(data=full, dq=full.astype("u4") * 0),
                                     tmp_path / "td.fits"),
        "override_persat": _ref(rm.PersistenceSatModel(data=full * 5e4,
                                                       dq=full.astype("u4") * 0),
                                tmp_path / "ps.fits"),
        "override_trappars": tp.save(tmp_path / "tp.fits"),
    }


def test_skips_when_any_reference_is_na(refs):
    out = PersistenceStep.call(_ramp(), **{**refs, "override_persat": "N/A"})
    assert out.meta.cal_step.persistence == "SKIPPED"
    np.testing.assert_array_equal(out.data, 0.0)


def test_skips_for_nirspec(refs):
    out = PersistenceStep.call(_ramp("NIRSPEC"), **refs)
    assert out.meta.cal_step.persistence == "SKIPPED"


def test_previous_traps_decay_into_the_ramp_and_flag(refs, tmp_path):
    prev = TrapsFilledModel(np.zeros((1, 6, 8), np.float32))
    prev.data[0, 1:5, 2:7] = 600.0  # the science window
    prev.data[0, 2, 3] = 6000.0  # science pixel (1, 1)
    gap = 100.0  # s between the previous exposure's end and this one's start
    prev.meta.exposure.end_time = 60000.0 - gap / 86400
    prev_path = prev.save(tmp_path / "prev_trapsfilled.fits")
    out_dir = tmp_path / "out"
    out = PersistenceStep.call(_ramp(), input_trapsfilled=prev_path, output_dir=str(out_dir),
                               save_persistence=True, **refs)
    assert out.meta.cal_step.persistence == "COMPLETE"
    start = 600.0 * math.exp(-RATE * gap)
    expected = -start * (1 - np.exp(-RATE * TGROUP * np.arange(1, NG + 1)))
    np.testing.assert_allclose(out.data[0, :, 0, 0], expected, rtol=1e-5)
    np.testing.assert_allclose(out.data[0, :, 1, 1], 10 * expected, rtol=1e-5)
    # 600 traps release < 40 DN in 4 groups; 6000 release > 40 DN
    assert out.pixeldq[1, 1] & PERS and not out.pixeldq[0, 0] & PERS
    root = "jw01234001001_01101_00002_nrca1"
    state = TrapsFilledModel(out_dir / f"{root}_trapsfilled.fits")
    assert state.shape == (1, 6, 8) and state.meta.subarray.xsize == 8
    np.testing.assert_allclose(state.data[0, 1, 2], start * math.exp(-RATE * NG * TGROUP),
                               rtol=1e-6)
    assert state.data[0, 0, 0] == 0.0
    pers = dm.open(out_dir / f"{root}_output_pers.fits")
    np.testing.assert_allclose(pers.data[0, :, 0, 0], -expected, rtol=1e-5)


def test_trapsfilled_of_wrong_shape_is_one_line_error(refs, tmp_path):
    bad = TrapsFilledModel(np.zeros((2, 6, 8), np.float32))
    bad.meta.exposure.end_time = 59999.0
    path = bad.save(tmp_path / "bad_trapsfilled.fits")
    with pytest.raises(InputError, match="traps-filled array"):
        PersistenceStep.call(_ramp(), input_trapsfilled=path, save_trapsfilled=False, **refs)
