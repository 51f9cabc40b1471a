"""Our reference files open in the official stdatamodels, and theirs in ours."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from ref_helpers import ref_meta

from webbflow.references import models as M
from webbflow.references import open_reference

sdm = pytest.importorskip("stdatamodels.jwst.datamodels")

RNG = np.random.default_rng(3)
SHAPE = (6, 5)


def _img(shape=SHAPE):
    return RNG.random(shape).astype(np.float32)


def _dq(shape=SHAPE):
    return RNG.integers(0, 4, shape).astype(np.uint32)


# our class, arrays to set, official class name
FITS_CASES = [
    (M.MaskModel, {"dq": _dq()}, "MaskModel"),
    (M.SaturationModel, {"data": _img(), "dq": _dq()}, "SaturationModel"),
    (M.SuperBiasModel, {"data": _img(), "err": _img(), "dq": _dq()}, "SuperBiasModel"),
    (M.LinearityModel, {"coeffs": _img((4, *SHAPE)), "dq": _dq()}, "LinearityModel"),
    (M.DarkModel, {"data": _img((3, *SHAPE)), "err": _img((3, *SHAPE)), "dq": _dq()},
     "DarkModel"),
    (M.DarkMIRIModel, {"data": _img((2, 3, *SHAPE)), "err": _img((2, 3, *SHAPE)),
                       "dq": _dq((2, 3, *SHAPE))}, "DarkMIRIModel"),
    (M.GainModel, {"data": _img()}, "GainModel"),
    (M.ReadnoiseModel, {"data": _img()}, "ReadnoiseModel"),
    (M.IPCModel, {"data": _img((3, 3))}, "IPCModel"),
    (M.FlatModel, {"data": _img(), "err": _img(), "dq": _dq()}, "FlatModel"),
    (M.PixelAreaModel, {"data": _img()}, "PixelAreaModel"),
    (M.PersistenceSatModel, {"data": _img(), "dq": _dq()}, "PersistenceSatModel"),
    (M.TrapDensityModel, {"data": _img(), "dq": _dq()}, "TrapDensityModel"),
]
KEY_META = ("reftype", "instrument.name", "instrument.detector", "useafter", "pedigree",
            "description", "author")


def _get(meta, path):
    for part in path.split("."):
        meta = getattr(meta, part)
    return meta


@pytest.mark.parametrize(("cls", "arrays", "official"), FITS_CASES,
                         ids=[c[2] for c in FITS_CASES])
def test_ours_open_in_official(tmp_path, cls, arrays, official):
    ours = cls(**arrays)
    ref_meta(ours, cls.reftype)
    if "dq" in arrays:
        ours.dq_def = M.make_dq_def(["DO_NOT_USE", "SATURATED"])
    ours.save(tmp_path / "ref.fits")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        theirs = getattr(sdm, official)(str(tmp_path / "ref.fits"))
        theirs.validate()
    assert theirs.meta.model_type == official
    for attr, arr in arrays.items():
        np.testing.assert_array_equal(getattr(theirs, attr), arr)
    for path in KEY_META:
        assert _get(theirs.meta, path) == ours.meta.get(path), path
    if "dq" in arrays:
        assert list(theirs.dq_def["VALUE"]) == [1, 2]


@pytest.mark.parametrize(("cls", "arrays", "official"), FITS_CASES,
                         ids=[c[2] for c in FITS_CASES])
def test_official_open_in_ours(tmp_path, cls, arrays, official):
    theirs = getattr(sdm, official)()
    for attr, arr in arrays.items():
        setattr(theirs, attr, arr)
    ref_meta(theirs, cls.reftype)
    if cls not in (M.IPCModel, M.PixelAreaModel):  # no SUBARRAY keywords in their schema
        theirs.meta.subarray.xstart, theirs.meta.subarray.ystart = 1, 1
    theirs.save(str(tmp_path / "official.fits"))
    ours = open_reference(tmp_path / "official.fits")
    assert type(ours) is cls
    for attr, arr in arrays.items():
        np.testing.assert_array_equal(getattr(ours, attr), arr)
    for path in KEY_META:
        assert ours.meta.get(path) == _get(theirs.meta, path), path


def test_photom_and_area_keywords_both_ways(tmp_path):
    table = np.array([("F200W", "CLEAR", 0.25, 0.01), ("F150W", "CLEAR", 0.3, 0.02)],
                     dtype=M.NrcImgPhotomModel.row_dtype)
    ours = M.NrcImgPhotomModel(phot_table=table)
    ref_meta(ours, "photom")
    ours.meta.exposure.type = "NRC_IMAGE"
    ours.meta.photometry.pixelarea_steradians = 9.3e-14
    ours.meta.photometry.pixelarea_arcsecsq = 0.00396
    ours.save(tmp_path / "photom.fits")
    theirs = sdm.NrcImgPhotomModel(str(tmp_path / "photom.fits"))
    assert theirs.meta.photometry.pixelarea_steradians == pytest.approx(9.3e-14)
    assert [str(f) for f in theirs.phot_table["filter"]] == ["F200W", "F150W"]
    np.testing.assert_allclose(theirs.phot_table["photmjsr"], [0.25, 0.3])
    theirs.meta.photometry.pixelarea_arcsecsq = 0.005
    theirs.save(str(tmp_path / "photom2.fits"))
    back = open_reference(tmp_path / "photom2.fits")
    assert isinstance(back, M.NrcImgPhotomModel)
    assert back.meta.photometry.pixelarea_arcsecsq == pytest.approx(0.005)
    np.testing.assert_allclose(back.phot_table["uncertainty"], [0.01, 0.02])


def test_trappars_both_ways(tmp_path):
    table = np.array([(1.0, 2.0, 3.0, 4.0)], dtype=M.TrapParsModel.row_dtype)
    ours = M.TrapParsModel(trappars_table=table)
    ref_meta(ours, "trappars")
    ours.save(tmp_path / "tp.fits")
    theirs = sdm.TrapParsModel(str(tmp_path / "tp.fits"))
    assert float(theirs.trappars_table["decay_param"][0]) == 4.0
    theirs.save(str(tmp_path / "tp2.fits"))
    assert float(open_reference(tmp_path / "tp2.fits").trappars_table["capture1"][0]) == 2.0


def _transform():
    from astropy.modeling import models as am

    fwd = (am.Shift(-1023.5) & am.Shift(-1023.5) | am.Scale(0.031) & am.Scale(0.031)
           | am.Shift(120.0) & am.Shift(-500.0))
    fwd.inverse = (am.Shift(-120.0) & am.Shift(500.0)
                   | am.Scale(1 / 0.031) & am.Scale(1 / 0.031)
                   | am.Shift(1023.5) & am.Shift(1023.5))
    return fwd


def test_distortion_both_ways(tmp_path):
    ours = M.DistortionModel(model=_transform())
    ref_meta(ours, "distortion")
    ours.meta.instrument.module, ours.meta.instrument.channel = "A", "SHORT"
    ours.meta.instrument.p_pupil = "CLEAR|F162M|"
    ours.meta.exposure.type = "NRC_IMAGE"
    ours.save(tmp_path / "dist.asdf")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        theirs = sdm.DistortionModel(str(tmp_path / "dist.asdf"))
        theirs.validate()
    assert theirs.model(1023.5, 1023.5) == pytest.approx((120.0, -500.0))
    assert theirs.model.inverse(120.0, -500.0) == pytest.approx((1023.5, 1023.5))
    assert theirs.meta.instrument.p_pupil == "CLEAR|F162M|"
    theirs.save(str(tmp_path / "dist2.asdf"))
    back = open_reference(tmp_path / "dist2.asdf")
    assert isinstance(back, M.DistortionModel)
    assert back.model(0.0, 0.0) == pytest.approx(theirs.model(0.0, 0.0))
    assert back.meta.instrument.module == "A" and back.meta.reftype.upper() == "DISTORTION"


def test_filteroffset_both_ways(tmp_path):
    rows = [{"filter": "F200W", "pupil": "CLEAR", "column_offset": 0.5, "row_offset": -0.25}]
    ours = M.FilteroffsetModel(filters=rows)
    ref_meta(ours, "filteroffset")
    ours.meta.instrument.module, ours.meta.instrument.channel = "A", "SHORT"
    ours.save(tmp_path / "fo.asdf")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        theirs = sdm.FilteroffsetModel(str(tmp_path / "fo.asdf"))
        theirs.validate()
    assert theirs.filters[0].row_offset == -0.25
    theirs.save(str(tmp_path / "fo2.asdf"))
    back = open_reference(tmp_path / "fo2.asdf", "filteroffset")
    assert back.filters == rows
