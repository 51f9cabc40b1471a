"""Image data read straight from the file equals astropy's reading, dtype and values."""

from __future__ import annotations

import gzip
import io
import shutil

import numpy as np
import pytest
from astropy.io import fits

from webbflow.datamodels import ImageModel, fits_arrays
from webbflow.datamodels.fits_arrays import TruncatedError, read_plain_image
from webbflow.errors import InputError

RNG = np.random.default_rng(7)

#: name -> array written with astropy (unsigned ints use the BZERO convention)
ARRAYS = {
    "F32": RNG.normal(size=(3, 5, 7)).astype(np.float32),
    "F64": RNG.normal(size=(5, 7)),
    "U8": RNG.integers(0, 256, size=(5, 7)).astype(np.uint8),
    "I16": RNG.integers(-2**15, 2**15, size=(4, 5, 7)).astype(np.int16),
    "U16": RNG.integers(0, 2**16, size=(2, 4, 5, 7)).astype(np.uint16),
    "I32": RNG.integers(-2**31, 2**31, size=(5, 7)).astype(np.int32),
    "U32": RNG.integers(0, 2**32, size=(5, 7), dtype=np.uint64).astype(np.uint32),
    "I64": RNG.integers(-2**62, 2**62, size=(5, 7)).astype(np.int64),
}
ARRAYS["F32"][0, 1, 2] = np.nan
ARRAYS["U16"].flat[:3] = (0, 2**15, 2**16 - 1)  # the convention's edges
ARRAYS["U32"].flat[:3] = (0, 2**31, 2**32 - 1)


@pytest.fixture(scope="module")
def fits_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("fa") / "arrays.fits"
    hdus = [fits.PrimaryHDU(np.arange(6, dtype=np.int16).reshape(2, 3))]
    hdus += [fits.ImageHDU(a, name=name) for name, a in ARRAYS.items()]
    scaled = fits.ImageHDU(np.arange(35, dtype=np.int16).reshape(5, 7), name="SCALED")
    scaled.header["BSCALE"] = 2.0
    hdus.append(scaled)
    fits.HDUList(hdus).writeto(path)
    return path


def _source(path, kind):
    """The file itself (memory-mapped read) or its bytes in memory (read-and-swap fallback)."""
    return open(path, "rb") if kind == "file" else io.BytesIO(path.read_bytes())


@pytest.mark.parametrize("kind", ["file", "memory"])
@pytest.mark.parametrize("name", [0, *ARRAYS])
def test_whole_image_equals_astropy(fits_file, name, kind):
    with fits.open(fits_file) as ref_hdul:
        expected = ref_hdul[name].data.copy()
    with fits.open(fits_file, memmap=False) as hdul, _source(fits_file, kind) as raw:
        got = read_plain_image(hdul[name], raw)
    assert got is not None
    assert got.dtype == expected.dtype.newbyteorder("=")
    assert got.dtype.isnative
    assert np.array_equal(got, expected, equal_nan=got.dtype.kind == "f")


@pytest.mark.parametrize("kind", ["file", "memory"])
@pytest.mark.parametrize("name", ["F32", "U16", "I64"])
def test_window_equals_astropy_slice(fits_file, name, kind):
    with fits.open(fits_file) as ref_hdul:
        expected = ref_hdul[name].data[..., 1:4, 2:6].copy()
    with fits.open(fits_file, memmap=False) as hdul, _source(fits_file, kind) as raw:
        got = read_plain_image(hdul[name], raw, rows=(1, 4), cols=(2, 6))
    assert got.shape == expected.shape
    assert np.array_equal(got, expected, equal_nan=True)


@pytest.mark.parametrize("window", [None, ((1, 4), (2, 6))])
@pytest.mark.parametrize("name", ["F32", "U16"])
def test_mapped_read_in_plane_chunks_equals_astropy(fits_file, name, window, monkeypatch):
    # one plane per chunk: every plane is converted, then its pages released, in turn
    monkeypatch.setattr(fits_arrays, "_CHUNK_BYTES", 1)
    rows, cols = window or (None, None)
    with fits.open(fits_file) as ref_hdul:
        expected = ref_hdul[name].data.copy()
    if window:
        expected = expected[..., 1:4, 2:6]
    with fits.open(fits_file, memmap=False) as hdul, open(fits_file, "rb") as raw:
        got = read_plain_image(hdul[name], raw, rows=rows, cols=cols)
    assert got.shape == expected.shape and got.dtype.isnative
    assert np.array_equal(got, expected, equal_nan=True)


@pytest.mark.parametrize("kind", ["file", "memory"])
@pytest.mark.parametrize(("name", "planes"), [("F32", [0, 2]), ("U16", [1, 3]),
                                              ("U16", [0]), ("I16", [3, 1])])
@pytest.mark.parametrize("window", [None, ((1, 4), (2, 6))])
def test_selected_planes_equal_astropy_take(fits_file, name, planes, window, kind,
                                            monkeypatch):
    monkeypatch.setattr(fits_arrays, "_CHUNK_BYTES", 1)  # a release after every plane
    rows, cols = window or (None, None)
    with fits.open(fits_file) as ref_hdul:
        expected = np.take(ref_hdul[name].data, planes, axis=-3)
    if window:
        expected = expected[..., 1:4, 2:6]
    with fits.open(fits_file, memmap=False) as hdul, _source(fits_file, kind) as raw:
        got = read_plain_image(hdul[name], raw, rows=rows, cols=cols, planes=planes)
    assert got.shape == expected.shape and got.dtype.isnative
    assert np.array_equal(got, expected, equal_nan=True)


def test_plane_selection_rejects_bad_indices(fits_file):
    with fits.open(fits_file, memmap=False) as hdul, open(fits_file, "rb") as raw:
        for bad in ([3], [-1], []):  # F32 has 3 planes
            with pytest.raises(ValueError, match="planes"):
                read_plain_image(hdul["F32"], raw, planes=bad)
        with pytest.raises(ValueError, match="3 or more axes"):
            read_plain_image(hdul["F64"], raw, planes=[0])


def test_gzipped_file_is_left_to_astropy(fits_file, tmp_path):
    zipped = tmp_path / "arrays.fits.gz"
    with open(fits_file, "rb") as src, gzip.open(zipped, "wb") as dst:
        shutil.copyfileobj(src, dst)
    with fits.open(zipped, memmap=False) as hdul, open(zipped, "rb") as raw:
        assert read_plain_image(hdul["F32"], raw) is None  # offsets are in the unzipped bytes
        assert np.array_equal(fits_arrays.image_data(hdul["F32"], raw), ARRAYS["F32"],
                              equal_nan=True)


def test_scaled_or_already_loaded_images_are_left_to_astropy(fits_file):
    with fits.open(fits_file, memmap=False) as hdul, open(fits_file, "rb") as raw:
        assert read_plain_image(hdul["SCALED"], raw) is None  # BSCALE 2
        hdul["F32"].data  # noqa: B018  (loaded by astropy now)
        assert read_plain_image(hdul["F32"], raw) is None


def test_truncated_file_is_a_one_line_input_error(tmp_path):
    model = ImageModel(data=np.ones((64, 64), np.float32))
    model.meta.instrument.name = "NIRCAM"
    path = tmp_path / "cut.fits"
    model.save(path)
    with fits.open(path, memmap=False) as hdul, open(path, "rb") as raw:
        offset = hdul["SCI"].fileinfo()["datLoc"]
    path.write_bytes(path.read_bytes()[:offset + 1000])
    with fits.open(path, memmap=False) as hdul, open(path, "rb") as raw, \
            pytest.raises(TruncatedError, match="ends"):
        read_plain_image(hdul["SCI"], raw)
    with pytest.raises(InputError) as err:
        ImageModel(path)
    assert str(path) in str(err.value) and "truncated" in str(err.value)
    assert "\n" not in str(err.value)
