"""ResampleStep: single image, list of paths, association, keywords, errors, single mode."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "resample"))
from resample_synth import make_image, make_wcs

from webbflow.errors import ParameterError
from webbflow.steps.resample import ResampleStep

SHAPE = (60, 70)


@pytest.fixture
def cal_files(tmp_path):
    paths = []
    for k in range(2):
        wcs = make_wcs(SHAPE, crpix=(34.5 - 15 * k, 29.5))
        model = make_image(np.full(SHAPE, 1.0 + k), wcs, exposure=k + 1,
                           filename=f"jw00001001001_01101_0000{k + 1}_nrca1_cal.fits")
        paths.append(model.save(tmp_path / model.meta.filename))
    return paths


def test_one_image_gives_an_i2d(cal_files, tmp_path):
    result = ResampleStep.call(cal_files[0], save_results=True, output_dir=str(tmp_path))
    assert result.meta.cal_step.resample == "COMPLETE"
    saved = tmp_path / "jw00001001001_01101_00001_nrca1_cal_i2d.fits"
    with fits.open(saved) as hdul:
        names = {h.name for h in hdul}
        assert {"SCI", "ERR", "WHT", "CON", "VAR_RNOISE", "VAR_POISSON", "VAR_FLAT",
                "ASDF"} <= names
        prim = hdul[0].header
        assert prim["S_RESAMP"] == "COMPLETE" and prim["NDRIZ"] == 1
        assert prim["PIXFRAC"] == 1.0 and prim["RESWHT"] == "ivm" and prim["PXSCLRT"] == 1.0
        assert hdul["SCI"].data.shape == SHAPE


def test_list_and_association_mosaic(cal_files, tmp_path):
    result = ResampleStep.call(cal_files, pixfrac=0.8)
    assert result.data.shape[1] > SHAPE[1] + 10
    assert result.meta.resample.pointings == 2 and result.meta.resample.pixfrac == 0.8
    asn = {"products": [{"name": "mosaic", "members": [
        {"expname": Path(p).name, "exptype": "science"} for p in cal_files]}]}
    asn_path = tmp_path / "asn.json"
    asn_path.write_text(json.dumps(asn))
    from_asn = ResampleStep.call(str(asn_path), save_results=True, output_dir=str(tmp_path))
    np.testing.assert_array_equal(from_asn.wht, ResampleStep.call(cal_files).wht)
    assert (tmp_path / "mosaic_i2d.fits").exists()


def test_single_mode_outputs_per_exposure(cal_files):
    outs = ResampleStep.call(cal_files, single=True)
    assert len(outs) == 2 and outs[0].data.shape == outs[1].data.shape
    assert all(o.meta.cal_step.resample == "COMPLETE" for o in outs)


def test_bad_parameters_are_one_line_errors(cal_files):
    with pytest.raises(ParameterError, match="pixfrac"):
        ResampleStep.call(cal_files[0], pixfrac=1.5)
    with pytest.raises(ParameterError, match="crpix"):
        ResampleStep.call(cal_files[0], crpix=[1.0, 2.0, 3.0])


def test_custom_output_wcs_file(cal_files, tmp_path):
    import asdf

    from webbflow.resample.grid import _pc_matrix, tangent_wcs

    wcs = tangent_wcs((53.16, -27.79), (49.5, 39.5), _pc_matrix(-1, 0.0), 0.0311 / 3600,
                      (80, 100))
    asdf.AsdfFile({"wcs": wcs, "pixel_scale": 0.0311}).write_to(tmp_path / "wcs.asdf")
    result = ResampleStep.call(cal_files, output_wcs=str(tmp_path / "wcs.asdf"))
    assert result.data.shape == (80, 100)
    assert result.meta.resample.pixel_scale_ratio == pytest.approx(1.0, rel=1e-9)
