"""datamodels.meta_only.open_meta: the metadata of ``open`` without reading the pixels."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "align"))
from align_sim import make_field

from webbflow import datamodels as dm
from webbflow.datamodels.meta_only import open_meta
from webbflow.errors import InputError


@pytest.fixture(scope="module")
def cal_path(tmp_path_factory):
    field = make_field(n_exp=1, n_stars=20, sky_levels=[1.0], shift_err=0.0, rot_err=0.0,
                       dither=0.0, seed=3)
    model = field.models[0]
    model.meta.background.level = 0.25
    model.extra_fits.setdefault("PRIMARY", []).append(("MYKEY", 7, "an unknown card"))
    return model.save(Path(tmp_path_factory.mktemp("meta")) / "x_cal.fits")


def test_same_metadata_as_open_without_arrays(cal_path):
    full = dm.open(cal_path)
    stub, shapes = open_meta(cal_path)
    assert type(stub) is dm.ImageModel
    assert shapes["data"] == full.data.shape and shapes["dq"] == full.dq.shape
    assert not stub.has("data") and not stub.has("dq")
    flat_full = {k: v for k, v in full.meta.items() if k != "wcs"}
    flat_stub = {k: v for k, v in stub.meta.items() if k != "wcs"}
    assert flat_stub == flat_full
    assert stub.meta.background.level == 0.25 and stub.meta.filename == "x_cal.fits"
    assert stub.extra_fits == full.extra_fits
    assert ("MYKEY", 7, "an unknown card") in stub.extra_fits["PRIMARY"]
    # the WCS object itself is read (same transform)
    x, y = np.array([0.0, 100.5, 200.0]), np.array([3.0, 50.0, 190.0])
    np.testing.assert_array_equal(np.array(stub.meta.wcs(x, y)), np.array(full.meta.wcs(x, y)))


def test_errors_are_one_line_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        open_meta(tmp_path / "missing_cal.fits")
    bad = tmp_path / "cube_cal.fits"
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.zeros((2, 3, 4), "f4"),
                                                          name="SCI")])
    hdul[0].header["DATAMODL"] = "ImageModel"
    for key in dm.ImageModel.required_keywords:
        hdul[0].header[key] = "NIRCAM"
    hdul.writeto(bad)
    with pytest.raises(InputError, match="SCI has 3 dimensions"):
        open_meta(bad)
