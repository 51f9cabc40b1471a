"""Product models: round trips, metadata mapping, DQ table, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from webbflow import datamodels as dm
from webbflow.datamodels import dqflags, fitsio
from webbflow.errors import InputError


def _science(model: dm.DataModel) -> dm.DataModel:
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = "NRCA1"
    model.meta.exposure.type = "NRC_IMAGE"
    return model


def test_ramp_round_trip_keeps_arrays_dtypes_and_keywords(tmp_path):
    rng = np.random.default_rng(1)
    ramp = _science(dm.RampModel(rng.normal(size=(2, 5, 8, 9)).astype("f4")))
    ramp.groupdq[1, 3, 2, 2] = dqflags.GROUP["JUMP_DET"]
    ramp.pixeldq[0, :] = dqflags.PIXEL["REFERENCE_PIXEL"]
    ramp.meta.exposure.ngroups = 5
    ramp.meta.exposure.frame_time = 10.73677
    ramp.meta.subarray.name = "SUB640"
    ramp.meta.ref_file.dark.name = "crds://jwst_nircam_dark_0001.fits"
    ramp.meta.cal_step.jump = "COMPLETE"
    ramp.meta.wcsinfo.v2_ref = 120.6
    path = ramp.save(tmp_path / "x_ramp.fits")

    back = dm.open(path)
    assert isinstance(back, dm.RampModel)
    np.testing.assert_array_equal(back.data, ramp.data)
    assert back.groupdq.dtype == np.uint8 and back.groupdq[1, 3, 2, 2] == 4
    assert back.pixeldq.dtype == np.uint32 and back.pixeldq[0, 0] == 2**31
    assert back.meta.exposure.ngroups == 5
    assert back.meta.exposure.frame_time == pytest.approx(10.73677)
    assert back.meta.ref_file.dark.name == "crds://jwst_nircam_dark_0001.fits"
    assert back.meta.cal_step.jump == "COMPLETE"
    with fits.open(path) as hdul:
        assert hdul[0].header["R_DARK"] == "crds://jwst_nircam_dark_0001.fits"
        assert hdul[0].header["S_JUMP"] == "COMPLETE"
        assert hdul[0].header["DATAMODL"] == "RampModel"
        assert hdul["SCI"].header["V2_REF"] == pytest.approx(120.6)  # SCI-header keyword
        assert [h.name for h in hdul] == ["PRIMARY", "SCI", "PIXELDQ", "GROUPDQ", "ERR", "ASDF"]


def test_uncal_is_uint16_with_tables(tmp_path):
    raw = _science(dm.Level1bModel((1, 3, 4, 4)))
    raw.data[...] = 65535
    group = np.zeros(3, dtype=[("integration_number", "i2"), ("group_number", "i2"),
                               ("group_end_time", "S26")])
    group["group_number"] = [1, 2, 3]
    raw.group = group
    back = dm.open(raw.save(tmp_path / "x_uncal.fits"))
    assert isinstance(back, dm.Level1bModel)
    assert back.data.dtype == np.uint16 and back.data.max() == 65535
    assert list(back.group["group_number"]) == [1, 2, 3]


def test_rate_model_writes_all_variance_extensions(tmp_path):
    rate = _science(dm.ImageModel(np.ones((4, 5), "f4")))
    rate.var_poisson[...] = 2.0
    path = rate.save(tmp_path / "x_rate.fits")
    with fits.open(path) as hdul:
        names = [h.name for h in hdul]
    assert names[:7] == ["PRIMARY", "SCI", "DQ", "ERR", "VAR_POISSON", "VAR_RNOISE", "VAR_FLAT"]
    back = dm.open(path)
    assert back.var_poisson[0, 0] == 2.0 and back.var_flat[0, 0] == 0.0
    cube = dm.open(_science(dm.CubeModel(np.ones((2, 4, 5), "f4"))).save(tmp_path / "c.fits"))
    assert isinstance(cube, dm.CubeModel) and cube.dq.shape == (2, 4, 5)


def test_unknown_cards_survive_a_round_trip(tmp_path):
    path = tmp_path / "x_rate.fits"
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.zeros((2, 2), "f4"), name="SCI")])
    hdul[0].header.update(INSTRUME="NIRCAM", EXP_TYPE="NRC_IMAGE", MYKEY=("kept", "a note"))
    hdul.writeto(path)
    model = dm.open(path)
    model.save(tmp_path / "y_rate.fits")
    assert fits.getheader(tmp_path / "y_rate.fits")["MYKEY"] == "kept"


def test_meta_unset_known_keyword_reads_none_and_copy_is_deep():
    model = _science(dm.ImageModel((2, 2)))
    assert model.meta.exposure.nints is None
    clone = model.copy()
    clone.meta.instrument.name = "MIRI"
    clone.data[0, 0] = 5
    assert model.meta.instrument.name == "NIRCAM" and model.data[0, 0] == 0
    params = model.crds_parameters()
    assert params["META.INSTRUMENT.DETECTOR"] == "NRCA1"


def test_save_is_atomic_and_leaves_no_partial_file(tmp_path, monkeypatch):
    model = _science(dm.ImageModel((2, 2)))

    def boom(hdus, fileobj):  # half a header written, then the disk fills
        fileobj.write(b"SIMPLE  =" + b" " * 1000)
        raise OSError("disk full")

    monkeypatch.setattr(fitsio, "_write_ours", boom)
    with pytest.raises(OSError):
        model.save(tmp_path / "x_cal.fits")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not fits", "not a readable FITS file"),
        ("noSCI", "no SCI extension"),
        ("noINSTRUME", "no INSTRUME keyword"),
        ("5d", "SCI has 5 dimensions"),
        ("ramp3d", "SCI has 3 dimensions, RampModel needs 4"),
    ],
)
def test_bad_input_gives_one_line_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad_uncal.fits"
    if isinstance(content, bytes):
        path.write_bytes(content * 200)
    else:
        prim = fits.PrimaryHDU()
        prim.header.update(INSTRUME="NIRCAM", EXP_TYPE="NRC_IMAGE")
        hdus = [prim]
        if content == "noINSTRUME":
            del prim.header["INSTRUME"]
            prim.header["DATAMODL"] = "ImageModel"
            hdus.append(fits.ImageHDU(np.zeros((2, 2), "f4"), name="SCI"))
        elif content == "5d":
            hdus.append(fits.ImageHDU(np.zeros((1, 1, 1, 2, 2), "f4"), name="SCI"))
        elif content == "ramp3d":
            prim.header["DATAMODL"] = "RampModel"
            hdus.append(fits.ImageHDU(np.zeros((1, 2, 2), "f4"), name="SCI"))
        fits.HDUList(hdus).writeto(path)
    with pytest.raises(InputError) as err:
        dm.open(path)
    text = str(err.value)
    assert "\n" not in text and str(path) in text and message in text


def test_missing_file_error():
    with pytest.raises(InputError, match=r"nope_uncal\.fits: no such file"):
        dm.open("nope_uncal.fits")


def test_dq_flag_helpers():
    assert dqflags.interpret_bit_flags("DO_NOT_USE+JUMP_DET") == 5
    assert dqflags.dqflags_to_mnemonics(2**31 + 2) == {"REFERENCE_PIXEL", "SATURATED"}
    dq_def = np.array([(0, 1, "BAD"), (1, 2, "UNDERSAMP"), (2, 4, "DEAD")],
                      dtype=[("BIT", "i4"), ("VALUE", "u4"), ("NAME", "S20")])
    raw = np.array([1, 2, 4, 6], dtype="u4")
    np.testing.assert_array_equal(dqflags.dq_from_def_table(raw, dq_def),
                                  [0, 128, 1024, 128 + 1024])


def test_truncated_file_is_a_one_line_input_error(tmp_path):
    raw = _science(dm.Level1bModel(np.zeros((1, 3, 64, 64), "u2")))
    whole = Path(raw.save(tmp_path / "whole_uncal.fits")).read_bytes()
    cut = tmp_path / "cut_uncal.fits"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match=r"cut_uncal\.fits: unreadable data, the file may "
                                         r"be truncated"):
        dm.open(cut)


def test_a_killed_write_leaves_only_a_fixed_part_file_that_the_next_save_replaces(tmp_path):
    stale = tmp_path / ".x_rate.fits.part"
    stale.write_bytes(b"half a file")
    path = _science(dm.ImageModel((2, 2))).save(tmp_path / "x_rate.fits")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x_rate.fits"]
    assert dm.open(path).data.shape == (2, 2)


def test_dq_def_standard_bits_keep_only_defined_bits_and_leave_input():
    """Standard bits (the usual reference): defined bits kept, undefined dropped, one pass."""
    from webbflow.datamodels.dqflags import PIXEL, dq_from_def_table

    table = np.array([(0, PIXEL["DO_NOT_USE"], "DO_NOT_USE"), (1, PIXEL["DEAD"], "DEAD")],
                     dtype=[("BIT", "i4"), ("VALUE", "u4"), ("NAME", "S20")])
    dq = np.array([[1, PIXEL["DEAD"] | 1, 2, PIXEL["DEAD"] | 4]], dtype=np.uint32)
    out = dq_from_def_table(dq, table)
    assert out.tolist() == [[1, PIXEL["DEAD"] | 1, 0, PIXEL["DEAD"]]]
    assert dq.tolist() == [[1, PIXEL["DEAD"] | 1, 2, PIXEL["DEAD"] | 4]]


def test_dq_def_overwrite_writes_the_result_into_the_input():
    """``overwrite``: a reader's own DQ array becomes the result (no copy); same values; an
    input it may not write (read-only, another dtype) is copied as without it."""
    from webbflow.datamodels.dqflags import PIXEL, dq_from_def_table

    table = np.array([(0, PIXEL["DO_NOT_USE"], "DO_NOT_USE"), (1, PIXEL["DEAD"], "DEAD")],
                     dtype=[("BIT", "i4"), ("VALUE", "u4"), ("NAME", "S20")])
    dq = np.array([[1, PIXEL["DEAD"] | 1, 2, PIXEL["DEAD"] | 4]], dtype=np.uint32)
    out = dq_from_def_table(dq, table, overwrite=True)
    assert out is dq and out.tolist() == [[1, PIXEL["DEAD"] | 1, 0, PIXEL["DEAD"]]]
    frozen = np.array([[2, 3]], dtype=np.uint32)
    frozen.flags.writeable = False
    assert dq_from_def_table(frozen, table, overwrite=True).tolist() == [[0, 1]]
    wide = np.array([[2, 3]], dtype=np.int64)
    assert dq_from_def_table(wide, table, overwrite=True).tolist() == [[0, 1]]
    assert wide.tolist() == [[2, 3]]
