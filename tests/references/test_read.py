"""read_reference: identity checks, subarray cut-outs, standard DQ bits."""

from __future__ import annotations

import numpy as np
import pytest
from ref_helpers import ref_meta, science

from webbflow.datamodels import dqflags
from webbflow.errors import ReferenceError_
from webbflow.references import models as M
from webbflow.references import read_reference

NY, NX = 40, 48  # the "full frame" of these tests


def encoded(shape=(NY, NX)) -> np.ndarray:
    """value = 1000 * row + column (0-based, full frame)."""
    rows, cols = np.indices(shape)
    return (1000 * rows + cols).astype(np.float32)


def sub_science(xstart=5, ystart=9, nx=8, ny=6, name="SUBTEST", detector="NRCA1"):
    sci = science(detector=detector, subarray=name, shape=(ny, nx))
    sub = sci.meta.subarray
    sub.xstart, sub.ystart, sub.xsize, sub.ysize = xstart, ystart, nx, ny
    return sci


def write_flat(path, data=None, xstart=None, ystart=None, detector="NRCA1"):
    flat = M.FlatModel(encoded() if data is None else data)
    ref_meta(flat, "flat", detector)
    if xstart is not None:
        flat.meta.subarray.xstart, flat.meta.subarray.ystart = xstart, ystart
        flat.meta.subarray.xsize, flat.meta.subarray.ysize = flat.data.shape[1], flat.data.shape[0]
    flat.save(path)
    return path


def test_full_frame_cut_to_science_subarray(tmp_path):
    path = write_flat(tmp_path / "flat.fits")
    ref = read_reference(str(path), "flat", sub_science(xstart=5, ystart=9, nx=8, ny=6))
    assert ref.data.shape == (6, 8)
    assert ref.err.shape == (6, 8) and ref.dq.shape == (6, 8)
    # first science pixel is detector column 5, row 9 (1-based) -> 0-based (8, 4)
    assert ref.data[0, 0] == 1000 * 8 + 4
    np.testing.assert_array_equal(ref.data, encoded()[8:14, 4:12])
    assert (ref.meta.subarray.xstart, ref.meta.subarray.ystart) == (5, 9)
    assert (ref.meta.subarray.xsize, ref.meta.subarray.ysize) == (8, 6)
    assert ref.meta.subarray.name == "SUBTEST"


def test_reference_at_science_subarray_used_as_is(tmp_path):
    data = encoded()[8:14, 4:12].copy()
    path = write_flat(tmp_path / "flat_sub.fits", data, xstart=5, ystart=9)
    ref = read_reference(str(path), "flat", sub_science(xstart=5, ystart=9, nx=8, ny=6))
    np.testing.assert_array_equal(ref.data, data)


def test_subarray_reference_containing_science_is_cut(tmp_path):
    data = encoded()[4:24, 2:30].copy()  # starts at column 3, row 5
    path = write_flat(tmp_path / "flat_big.fits", data, xstart=3, ystart=5)
    ref = read_reference(str(path), "flat", sub_science(xstart=5, ystart=9, nx=8, ny=6))
    np.testing.assert_array_equal(ref.data, encoded()[8:14, 4:12])


def test_reference_not_covering_science_is_one_line(tmp_path):
    data = encoded()[8:14, 4:12].copy()
    path = write_flat(tmp_path / "flat_sub.fits", data, xstart=5, ystart=9)
    with pytest.raises(ReferenceError_) as info:
        read_reference(str(path), "flat", sub_science(xstart=7, ystart=9, nx=8, ny=6))
    msg = str(info.value)
    assert "\n" not in msg and "flat_sub.fits" in msg
    assert "columns 5-12" in msg and "columns 7-14" in msg


def test_arrays_disagreeing_with_subsize_is_one_line(tmp_path):
    flat = M.FlatModel(encoded())
    ref_meta(flat, "flat")
    flat.meta.subarray.xsize, flat.meta.subarray.ysize = 2048, 2048
    flat.save(tmp_path / "bad.fits")
    with pytest.raises(ReferenceError_, match=r"40x48 .* SUBSIZE1/2 say 2048x2048"):
        read_reference(str(tmp_path / "bad.fits"), "flat", sub_science())


def test_wrong_instrument_is_one_line(tmp_path):
    path = write_flat(tmp_path / "flat.fits")
    miri = sub_science(detector="MIRIMAGE")
    miri.meta.instrument.name = "MIRI"
    with pytest.raises(ReferenceError_) as info:
        read_reference(str(path), "flat", miri)
    assert str(info.value) == ("flat.fits: flat reference is for NIRCAM, the science data "
                               "is MIRI")


def test_wrong_detector_is_one_line(tmp_path):
    path = write_flat(tmp_path / "flat.fits", detector="NRCB1")
    with pytest.raises(ReferenceError_, match="for detector NRCB1, the science data is NRCA1"):
        read_reference(str(path), "flat", sub_science())


def test_detector_pattern_is_honoured(tmp_path):
    gain = M.GainModel(encoded())
    ref_meta(gain, "gain")
    gain.meta.instrument.detector = "ANY"
    gain.meta.instrument.p_detector = "NRCA1|NRCA2|"
    gain.save(tmp_path / "gain.fits")
    assert read_reference(str(tmp_path / "gain.fits"), "gain", sub_science()).shape == (6, 8)
    with pytest.raises(ReferenceError_, match="detectors NRCA1"):
        read_reference(str(tmp_path / "gain.fits"), "gain", sub_science(detector="NRCB1"))


def test_unreadable_file_is_reference_error(tmp_path):
    (tmp_path / "junk.fits").write_text("junk")
    with pytest.raises(ReferenceError_, match=r"junk\.fits"):
        read_reference(str(tmp_path / "junk.fits"), "flat", sub_science())


def test_dq_translated_through_dq_def(tmp_path):
    mask = M.MaskModel((NY, NX))
    ref_meta(mask, "mask")
    # the file's own bits: 1 = DO_NOT_USE, 2 = DEAD, 4 = HOT
    mask.dq_def = np.array([(0, 1, "DO_NOT_USE", ""), (1, 2, "DEAD", ""), (2, 4, "HOT", "")],
                           dtype=M.DQ_DEF_DTYPE)
    mask.dq[8, 4] = 2 | 1
    mask.dq[9, 5] = 4
    mask.save(tmp_path / "mask.fits")
    ref = read_reference(str(tmp_path / "mask.fits"), "mask", sub_science())
    pix = dqflags.PIXEL
    assert ref.dq[0, 0] == pix["DEAD"] | pix["DO_NOT_USE"]
    assert ref.dq[1, 1] == pix["HOT"]
    assert ref.dq.sum() == ref.dq[0, 0] + ref.dq[1, 1]


def test_linearity_and_dark_cut_on_last_two_axes(tmp_path):
    lin = M.LinearityModel(coeffs=np.stack([encoded(), encoded() + 0.5]))
    ref_meta(lin, "linearity")
    lin.save(tmp_path / "lin.fits")
    ref = read_reference(str(tmp_path / "lin.fits"), "linearity", sub_science())
    assert ref.coeffs.shape == (2, 6, 8) and ref.dq.shape == (6, 8)
    np.testing.assert_array_equal(ref.coeffs[1], encoded()[8:14, 4:12] + 0.5)
    dark = M.DarkModel(np.stack([encoded(), 2 * encoded(), 3 * encoded()]))
    ref_meta(dark, "dark")
    dark.save(tmp_path / "dark.fits")
    ref = read_reference(str(tmp_path / "dark.fits"), "dark", sub_science())
    assert ref.data.shape == (3, 6, 8)
    np.testing.assert_array_equal(ref.data[2], 3 * encoded()[8:14, 4:12])


def test_ipc_kernel_and_area_map(tmp_path):
    kernel = np.full((3, 3), 0.01, dtype=np.float32)
    kernel[1, 1] = 0.92
    ipc = M.IPCModel(kernel)
    ref_meta(ipc, "ipc")
    ipc.save(tmp_path / "ipc.fits")
    ref = read_reference(str(tmp_path / "ipc.fits"), "ipc", sub_science())
    np.testing.assert_array_equal(ref.data, kernel)  # a kernel is not cut
    area = M.PixelAreaModel(encoded())
    ref_meta(area, "area")
    area.save(tmp_path / "area.fits")
    ref = read_reference(str(tmp_path / "area.fits"), "area", sub_science())
    np.testing.assert_array_equal(ref.data, encoded()[8:14, 4:12])


def test_nans_are_passed_through(tmp_path):
    data = encoded()
    data[8, 4] = np.nan
    path = write_flat(tmp_path / "flat.fits", data)
    ref = read_reference(str(path), "flat", sub_science())
    assert np.isnan(ref.data[0, 0]) and np.isfinite(ref.data[0, 1])
