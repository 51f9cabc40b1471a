"""References are read window first (only the science subarray's section of each pixel map):
same arrays, DQ and metadata as reading the whole file and cutting it; ``drop`` skips arrays."""

from __future__ import annotations

import numpy as np
import pytest

from webbflow.datamodels import ImageModel
from webbflow.references import models as M
from webbflow.references import read as R

NY, NX = 40, 48


def _encoded(shape=(NY, NX)) -> np.ndarray:
    rows, cols = np.indices(shape)
    return (1000 * rows + cols).astype(np.float32)


def _meta(model, reftype: str) -> None:
    m = model.meta
    m.reftype = reftype.upper()
    m.instrument.name, m.instrument.detector = "NIRCAM", "NRCA1"
    m.subarray.name = "FULL"
    m.useafter, m.pedigree, m.description, m.author = "2022-01-01T00:00:00", "DUMMY", "t", "t"


def _science(xstart=5, ystart=9, nx=8, ny=6) -> ImageModel:
    sci = ImageModel((ny, nx))
    m = sci.meta
    m.instrument.name, m.instrument.detector = "NIRCAM", "NRCA1"
    m.subarray.name = "SUBTEST"
    sub = m.subarray
    sub.xstart, sub.ystart, sub.xsize, sub.ysize = xstart, ystart, nx, ny
    return sci


@pytest.fixture
def refs(tmp_path):
    dark = M.DarkModel(np.stack([_encoded(), 2 * _encoded(), 3 * _encoded()]))
    dark.err = np.full((3, NY, NX), 7.0, np.float32)
    dark.dq = np.zeros((NY, NX), np.uint32)
    dark.dq[10, 6] = 4
    dark.dq_def = np.array([(0, 1, "DO_NOT_USE", ""), (2, 4, "HOT", "")],
                           dtype=[("BIT", "<i4"), ("VALUE", "<u4"), ("NAME", "S40"),
                                  ("DESCRIPTION", "S80")])
    _meta(dark, "dark")
    dark.save(tmp_path / "dark.fits")
    lin = M.LinearityModel(coeffs=np.stack([_encoded(), _encoded() + 0.5]))
    _meta(lin, "linearity")
    lin.save(tmp_path / "lin.fits")
    return tmp_path


def _plain(path, reftype, sci):
    """Whole file read, then cut (the path every reference took before)."""
    ref = M.open_reference(path, reftype)
    R._cut(ref, reftype, sci, path.name)
    R._standard_dq(ref)
    return ref


@pytest.mark.parametrize("window", [(5, 9, 8, 6), (1, 1, NX, NY), (41, 35, 8, 6)])
def test_windowed_read_equals_whole_read(refs, window):
    sci = _science(*window)
    for name, reftype in (("dark.fits", "dark"), ("lin.fits", "linearity")):
        path = refs / name
        fast = R.read_reference(path, reftype, sci)
        assert R._open_windowed(path, reftype, sci, ()) is not None  # the window path ran
        plain = _plain(path, reftype, sci)
        for attr in type(plain).arrays:
            a, b = getattr(plain, attr), getattr(fast, attr)
            assert (a is None) == (b is None), attr
            if a is not None:
                assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), attr
        assert fast.meta.to_flat_dict() == plain.meta.to_flat_dict()
    x0, y0 = window[0] - 1, window[1] - 1
    dark = R.read_reference(refs / "dark.fits", "dark", sci)
    np.testing.assert_array_equal(dark.data[2], 3 * _encoded()[y0:y0 + window[3],
                                                                x0:x0 + window[2]])


def test_drop_leaves_array_unread_and_dq_standard(refs):
    dark = R.read_reference(refs / "dark.fits", "dark", _science(), drop=("err",))
    assert dark._arrays.get("err") is None
    assert dark.data.shape == (3, 6, 8)
    assert dark.dq[10 - 8, 6 - 4] == 2**11  # HOT in the standard bits
    full = R.read_reference(refs / "dark.fits", "dark", _science())
    assert full.err.shape == (3, 6, 8) and float(full.err[0, 0, 0]) == 7.0


def test_window_outside_reference_is_one_line_error(refs):
    from webbflow.errors import ReferenceError_

    with pytest.raises(ReferenceError_, match="covers columns"):
        R.read_reference(refs / "dark.fits", "dark", _science(xstart=45, nx=8))


def _ramp_science(nframes: int, groupgap: int, ngroups: int = 4):
    from webbflow.datamodels import RampModel

    sci = RampModel((1, ngroups, 6, 8))
    sci.data[:] = 1000.0
    m = sci.meta
    m.instrument.name, m.instrument.detector = "NIRCAM", "NRCA1"
    m.subarray.name = "SUBTEST"
    m.subarray.xstart, m.subarray.ystart, m.subarray.xsize, m.subarray.ysize = 5, 9, 8, 6
    m.exposure.nframes, m.exposure.groupgap = nframes, groupgap
    return sci


@pytest.fixture
def frame_dark(tmp_path):
    """A frame-by-frame dark (NFRAMES 1, GROUPGAP 0) of 30 planes; plane f holds f + 1000."""
    planes = np.arange(30, dtype=np.float32)[:, None, None] + _encoded()[None] / 1000.0
    dark = M.DarkModel(planes.astype(np.float32))
    dark.err = np.ones_like(dark.data)
    dark.dq = np.zeros((NY, NX), np.uint32)
    _meta(dark, "dark")
    dark.meta.exposure.nframes, dark.meta.exposure.groupgap = 1, 0
    dark.save(tmp_path / "frames.fits")
    return tmp_path / "frames.fits"


def test_dark_reads_only_the_planes_the_read_pattern_averages(frame_dark):
    sci = _ramp_science(nframes=2, groupgap=3)  # groups use frames 0-1, 5-6, 10-11, 15-16
    dark = R.read_reference(frame_dark, "dark", sci, drop=("err",))
    assert list(dark.planes_read.indices) == [0, 1, 5, 6, 10, 11, 15, 16]
    assert dark.planes_read.count == 30
    whole = _plain(frame_dark, "dark", sci)
    np.testing.assert_array_equal(dark.data, whole.data[[0, 1, 5, 6, 10, 11, 15, 16]])
    # an image (no read pattern) or a pattern the dark cannot serve reads every plane
    assert R.read_reference(frame_dark, "dark", _science()).planes_read is None
    short = R.read_reference(frame_dark, "dark", _ramp_science(nframes=8, groupgap=12))
    assert short.planes_read is None and short.data.shape == (30, 6, 8)


@pytest.mark.parametrize(("nframes", "groupgap"), [(2, 3), (1, 0), (4, 4)])
def test_dark_step_on_the_used_planes_equals_the_whole_dark(frame_dark, nframes, groupgap,
                                                             monkeypatch):
    from webbflow.steps.dark_current import DarkCurrentStep

    def run():
        step = DarkCurrentStep(override_dark=str(frame_dark))
        return step.run(_ramp_science(nframes, groupgap))

    part = run()
    monkeypatch.setattr(M.DarkModel, "planes_needed", classmethod(lambda *a: None))
    whole = run()
    assert part.meta.cal_step.dark_sub == whole.meta.cal_step.dark_sub == "COMPLETE"
    np.testing.assert_array_equal(part.data, whole.data)  # bit for bit
    np.testing.assert_array_equal(part.pixeldq, whole.pixeldq)
    # group 0 averages frames 0..nframes-1: 1000 - mean(f) - pixel code / 1000 (1-based
    # SUBSTRT 5, 9: rows 8-13, columns 4-11)
    expected = 1000.0 - np.float32(np.mean(np.arange(nframes))) - _encoded()[8:14, 4:12] / 1000
    np.testing.assert_allclose(part.data[0, 0], expected, rtol=1e-6)
