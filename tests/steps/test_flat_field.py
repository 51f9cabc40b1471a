"""FlatFieldStep on rate (ImageModel) and rateints (CubeModel) with an overridden FLAT."""

from __future__ import annotations

import numpy as np
import pytest

from webbflow import datamodels as dm
from webbflow.errors import InputError
from webbflow.references import models as rm
from webbflow.steps.flat_field import FlatFieldStep

DNU, NFF = dm.dqflags.PIXEL["DO_NOT_USE"], dm.dqflags.PIXEL["NO_FLAT_FIELD"]
NY, NX = 8, 10


def _meta(model, exp_type="NRC_IMAGE", instrument="NIRCAM"):
    m = model.meta
    m.instrument.name, m.instrument.detector = instrument, "NRCA1"
    m.exposure.type = exp_type
    m.subarray.name, m.subarray.xstart, m.subarray.ystart = "SUBTEST", 11, 21
    m.subarray.xsize, m.subarray.ysize = NX, NY
    return model


@pytest.fixture
def flat_path(tmp_path):
    """A 40x30 flat at (1, 1): 2.0, ERR 0.1; at science pixels (0, 0) NaN, (1, 1) zero,
    (2, 2) NO_FLAT_FIELD (science pixel (r, c) is flat pixel (r + 20, c + 10))."""
    data = np.full((40, 30), 2.0, np.float32)
    dq = np.zeros((40, 30), np.uint32)
    data[20, 10] = np.nan
    data[21, 11] = 0.0
    dq[22, 12] = NFF
    flat = _meta(rm.FlatModel(data=data, err=np.full((40, 30), 0.1, np.float32), dq=dq))
    sub = flat.meta.subarray
    sub.name, sub.xstart, sub.ystart, sub.xsize, sub.ysize = "FULL", 1, 1, 30, 40
    flat.meta.author, flat.meta.pedigree, flat.meta.useafter = "t", "DUMMY", "2022-01-01"
    return flat.save(tmp_path / "flat.fits")


def _rate(cls, shape):
    model = _meta(cls(np.full(shape, 10.0, np.float32)))
    model.var_poisson = np.full(shape, 4.0, np.float32)
    model.var_rnoise = np.full(shape, 1.0, np.float32)
    model.err = np.sqrt(model.var_poisson + model.var_rnoise)
    return model


@pytest.mark.parametrize("cls,shape", [(dm.ImageModel, (NY, NX)),
                                       (dm.CubeModel, (3, NY, NX))])
def test_rate_and_rateints_known_values(flat_path, cls, shape):
    model = _rate(cls, shape)
    out = FlatFieldStep.call(model, override_flat=flat_path)
    assert out.meta.cal_step.flat_field == "COMPLETE"
    assert out.meta.ref_file.flat.name == flat_path
    good = (..., slice(4, None), slice(None))
    np.testing.assert_allclose(out.data[good], 5.0)
    np.testing.assert_allclose(out.var_poisson[good], 1.0)
    np.testing.assert_allclose(out.var_rnoise[good], 0.25)
    np.testing.assert_allclose(out.var_flat[good], 25 * 0.01 / 4, rtol=1e-6)
    np.testing.assert_allclose(out.err[good], np.sqrt(1.25 + 0.0625), rtol=1e-6)
    for r, c in ((0, 0), (1, 1), (2, 2)):
        assert np.all(out.dq[..., r, c] == DNU | NFF)
        assert np.all(np.isnan(out.data[..., r, c]))
    assert np.all(out.dq[good] == 0)
    # the caller's model is untouched
    np.testing.assert_array_equal(model.data, 10.0)
    assert model.meta.cal_step.flat_field is None


def test_inverse_undoes_the_division(flat_path):
    model = _rate(dm.ImageModel, (NY, NX))
    divided = FlatFieldStep.call(model, override_flat=flat_path)
    back = FlatFieldStep.call(divided, override_flat=flat_path, inverse=True)
    np.testing.assert_allclose(back.data[4:], 10.0)
    np.testing.assert_array_equal(back.var_flat[4:], 0.0)
    np.testing.assert_allclose(back.var_poisson[4:], 4.0)


def test_user_supplied_flat_wins_and_is_recorded(flat_path):
    out = FlatFieldStep.call(_rate(dm.ImageModel, (NY, NX)), override_flat="N/A",
                             user_supplied_flat=flat_path)
    np.testing.assert_allclose(out.data[5, 5], 5.0)
    assert out.meta.ref_file.flat.name == "flat.fits"


def test_skips_on_na_and_nirspec_spectroscopy():
    out = FlatFieldStep.call(_rate(dm.ImageModel, (NY, NX)), override_flat="N/A")
    assert out.meta.cal_step.flat_field == "SKIPPED"
    np.testing.assert_array_equal(out.data, 10.0)
    spec = _meta(dm.ImageModel(np.ones((NY, NX), np.float32)), "NRS_FIXEDSLIT", "NIRSPEC")
    out = FlatFieldStep.call(spec, override_flat="N/A")
    assert out.meta.cal_step.flat_field == "SKIPPED"


def test_wrong_input_is_one_line_error():
    with pytest.raises(InputError, match="flat_field needs"):
        FlatFieldStep.call(_meta(dm.RampModel(np.zeros((1, 2, NY, NX), np.float32))))
