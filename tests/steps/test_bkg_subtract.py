"""BackgroundStep and the sigma-clipped combination kernel on hand-built images."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.stats import sigma_clip

from webbflow import datamodels as dm
from webbflow.errors import InputError
from webbflow.kernels.background import clipped_mean, clipped_mean_stack
from webbflow.steps.bkg_subtract import BackgroundStep

NY, NX = 5, 7


def _meta(model):
    m = model.meta
    m.instrument.name, m.instrument.detector = "NIRCAM", "NRCA1"
    m.exposure.type = "NRC_IMAGE"
    m.subarray.name, m.subarray.xstart, m.subarray.ystart = "SUBTEST", 1, 1
    m.subarray.xsize, m.subarray.ysize = NX, NY
    return model


def _image(value, err=0.1, dq=0):
    model = dm.ImageModel(data=np.full((NY, NX), value, np.float32),
                          err=np.full((NY, NX), err, np.float32))
    model.dq = np.full((NY, NX), dq, np.uint32)
    return _meta(model)


@pytest.mark.filterwarnings("ignore:Input data contains invalid values")
def test_kernel_matches_astropy_sigma_clip():
    """Random stacks with outliers and NaNs: the clipped mean equals astropy's
    sigma_clip(..., axis=0).mean(axis=0) for maxiters None and 1."""
    rng = np.random.default_rng(5)
    stack = rng.normal(10.0, 1.0, (9, 6, 6))
    stack[rng.random(stack.shape) < 0.1] += 30.0
    stack[0, 0, 0] = np.nan
    for maxiters in (None, 1):
        ours = clipped_mean_stack(stack, None, 3.0, maxiters)[0]
        ref = sigma_clip(stack, sigma=3.0, maxiters=maxiters, axis=0).mean(axis=0).data
        np.testing.assert_allclose(ours, ref, rtol=1e-12)
    assert clipped_mean([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 50.0], 2.0, None) == 1.0
    assert np.isnan(clipped_mean([np.nan, np.nan], 3.0, None))


def test_subtracts_clipped_mean_of_backgrounds(tmp_path):
    """Backgrounds 1.0, 1.2, 0.8 and an outlier 9.0 at one pixel in a 4th: the combined
    background is 1.0 everywhere (the outlier clipped at sigma=1.5), ERR sqrt(sum err^2)/N,
    DQ the OR of the backgrounds'; science ERR unchanged."""
    paths = []
    for i, v in enumerate((1.0, 1.2, 0.8, 1.0)):
        img = _image(v, dq=4 if i == 1 else 0)
        if i == 3:
            img.data[2, 3] = 9.0
        paths.append(img.save(tmp_path / f"bkg{i}_rate.fits"))
    sci = _image(5.0, err=0.3)
    out = BackgroundStep.call(sci, bkg_list=paths, sigma=1.5, save_combined_background=True,
                              output_dir=str(tmp_path))
    assert out.meta.cal_step.bkg_subtract == "COMPLETE"
    np.testing.assert_allclose(out.data, 4.0, atol=1e-6)
    np.testing.assert_array_equal(out.dq, 4)
    np.testing.assert_array_equal(out.err, np.float32(0.3))
    combined = list(tmp_path.glob("*combinedbackground.fits"))
    assert len(combined) == 1
    bkg = dm.open(combined[0])
    assert bkg.err[0, 0] == pytest.approx(np.sqrt(4 * 0.01) / 4, rel=1e-6)
    assert bkg.err[2, 3] == pytest.approx(np.sqrt(3 * 0.01) / 3, rel=1e-6)


def test_rateints_background_and_cube_science(tmp_path):
    """A 3-integration background (2, 2, 8 at a pixel) is first clip-averaged per file."""
    data = np.full((3, NY, NX), 2.0, np.float32)
    data[2, 1, 1] = 8.0
    cube = _meta(dm.CubeModel(data=data, err=np.full(data.shape, 0.1, np.float32)))
    path = cube.save(tmp_path / "bkg_rateints.fits")
    sci = _meta(dm.CubeModel(data=np.full((2, NY, NX), 3.0, np.float32)))
    out = BackgroundStep.call(sci, bkg_list=[path], sigma=1.0)
    np.testing.assert_allclose(out.data, 1.0, atol=1e-6)


def test_skip_without_backgrounds_and_missing_file(tmp_path):
    sci = _image(5.0)
    out = BackgroundStep.call(sci)
    assert out.meta.cal_step.bkg_subtract == "SKIPPED"
    np.testing.assert_array_equal(out.data, 5.0)
    with pytest.raises(InputError, match=r"nothere\.fits.*no such file"):
        BackgroundStep.call(sci, bkg_list=[str(tmp_path / "nothere.fits")])
