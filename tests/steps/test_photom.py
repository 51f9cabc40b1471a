"""PhotomStep on hand-built NIRCam images: values, variances, units, area, errors."""

from __future__ import annotations

import numpy as np
import pytest

from webbflow import datamodels as dm
from webbflow.errors import ReferenceError_
from webbflow.references import models as rm
from webbflow.steps.photom import MJSR_TO_UJA2, PhotomStep

NY, NX = 6, 8


def _meta(model, filt="F200W", pupil="CLEAR"):
    m = model.meta
    m.instrument.name, m.instrument.detector = "NIRCAM", "NRCA1"
    m.instrument.filter, m.instrument.pupil = filt, pupil
    m.exposure.type = "NRC_IMAGE"
    m.subarray.name, m.subarray.xstart, m.subarray.ystart = "SUBTEST", 3, 5
    m.subarray.xsize, m.subarray.ysize = NX, NY
    return model


def _image(cube=False):
    shape = (2, NY, NX) if cube else (NY, NX)
    cls = dm.CubeModel if cube else dm.ImageModel
    data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1.0
    model = cls(data=data, err=np.full(shape, 2.0, np.float32))
    model.var_poisson = np.full(shape, 3.0, np.float32)
    model.var_rnoise = np.full(shape, 1.0, np.float32)
    model.var_flat = np.full(shape, 0.5, np.float32)
    model.meta.bunit_data = "DN/s"
    return _meta(model)


@pytest.fixture
def refs(tmp_path):
    """PHOTOM (F200W/CLEAR 2.5, F150W/CLEAR 1.3; PIXAR_SR 1e-14) and a 20x16 AREA map
    (value = 1 + row/100 + col/1000 at full-frame 0-based (row, col); PIXAR_SR 2e-14)."""
    phot = _meta(rm.NrcImgPhotomModel())
    phot.phot_table = np.array([(b"F150W", b"CLEAR", 1.3, 0.01),
                                (b"F200W", b"CLEAR", 2.5, 0.02)],
                               dtype=rm.NrcImgPhotomModel.row_dtype)
    phot.meta.photometry.pixelarea_steradians = 1e-14
    phot.meta.photometry.pixelarea_arcsecsq = 4e-4
    rows, cols = np.mgrid[0:20, 0:16]
    area = _meta(rm.PixelAreaModel(data=(1 + rows / 100 + cols / 1000).astype(np.float32)))
    area.meta.subarray.name, area.meta.subarray.xstart, area.meta.subarray.ystart = "FULL", 1, 1
    area.meta.subarray.xsize, area.meta.subarray.ysize = 16, 20
    area.meta.photometry.pixelarea_steradians = 2e-14
    area.meta.photometry.pixelarea_arcsecsq = 8e-4
    for m in (phot, area):
        m.meta.author, m.meta.pedigree, m.meta.useafter = "t", "DUMMY", "2022-01-01"
    return {"override_photom": phot.save(tmp_path / "photom.fits"),
            "override_area": area.save(tmp_path / "area.fits")}


@pytest.mark.parametrize("cube", [False, True])
def test_conversion_values_units_and_area(refs, cube):
    """SCI/ERR x 2.5, VAR_* x 6.25, BUNIT MJy/sr, PHOTUJA2 = 2.5 x 23.5044..., AREA cut at
    (row 4, col 2) of the full-frame map, PIXAR_* from the AREA file (they win)."""
    model = _image(cube)
    out = PhotomStep.call(model, **refs)
    assert out.meta.cal_step.photom == "COMPLETE"
    np.testing.assert_array_equal(out.data, model.data * np.float32(2.5))
    np.testing.assert_array_equal(out.err, np.float32(5.0))
    np.testing.assert_array_equal(out.var_poisson, np.float32(18.75))
    np.testing.assert_array_equal(out.var_rnoise, np.float32(6.25))
    np.testing.assert_array_equal(out.var_flat, np.float32(3.125))
    assert out.meta.bunit_data == "MJy/sr" and out.meta.bunit_err == "MJy/sr"
    assert out.meta.photometry.conversion_megajanskys == 2.5
    assert out.meta.photometry.conversion_microjanskys == pytest.approx(2.5 * 23.5044305391,
                                                                        rel=1e-7)
    assert MJSR_TO_UJA2 == pytest.approx(23.50443053909789, rel=1e-12)
    assert out.area.shape == (NY, NX)
    assert out.area[0, 0] == pytest.approx(1 + 4 / 100 + 2 / 1000, rel=1e-6)
    assert out.area[-1, -1] == pytest.approx(1 + 9 / 100 + 9 / 1000, rel=1e-6)
    assert out.meta.photometry.pixelarea_steradians == 2e-14
    assert out.meta.photometry.pixelarea_arcsecsq == 8e-4
    np.testing.assert_array_equal(model.err, np.float32(2.0))  # input untouched


def test_inverse_and_photom_pixar_without_area(refs):
    """inverse divides; with AREA N/A the PHOTOM file's PIXAR_SR/PIXAR_A2 are used."""
    model = _image()
    model.meta.instrument.filter = "F150W"
    out = PhotomStep.call(model, override_photom=refs["override_photom"],
                          override_area="N/A", inverse=True)
    np.testing.assert_allclose(out.data, model.data / np.float32(1.3), rtol=1e-7)
    assert out.meta.bunit_data == "DN/s"
    assert out.meta.photometry.pixelarea_steradians == 1e-14
    assert out.area is None


def test_missing_filter_row_names_filter_pupil_and_file(refs):
    model = _image()
    model.meta.instrument.filter = "F444W"
    with pytest.raises(ReferenceError_, match=r"photom\.fits.*FILTER=F444W, PUPIL=CLEAR"):
        PhotomStep.call(model, **refs)


def test_skips_spectroscopy_and_na(refs):
    model = _image()
    assert PhotomStep.call(model, override_photom="N/A",
                           override_area="N/A").meta.cal_step.photom == "SKIPPED"
    model.meta.exposure.type = "NRC_WFSS"
    assert PhotomStep.call(model, **refs).meta.cal_step.photom == "SKIPPED"
