"""Our products open in the official datamodels with the same arrays and metadata, and back."""

from __future__ import annotations

import io

import numpy as np
import pytest

from webbflow import datamodels as dm

sdm = pytest.importorskip("stdatamodels.jwst.datamodels")


def _science(model):
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = "NRCA1"
    model.meta.exposure.type = "NRC_IMAGE"
    model.meta.exposure.ngroups = model.data.shape[1] if model.data.ndim == 4 else 1
    model.meta.subarray.name = "SUB640"
    model.meta.subarray.xstart = 1
    model.meta.observation.date = "2024-01-01"
    return model


@pytest.mark.parametrize(
    ("ours", "theirs", "shape"),
    [
        (dm.Level1bModel, "Level1bModel", (2, 3, 6, 7)),
        (dm.RampModel, "RampModel", (2, 3, 6, 7)),
        (dm.ImageModel, "ImageModel", (6, 7)),
        (dm.CubeModel, "CubeModel", (2, 6, 7)),
    ],
)
def test_our_files_open_in_official_datamodels(tmp_path, ours, theirs, shape):
    rng = np.random.default_rng(3)
    data = rng.integers(0, 60000, size=shape)
    model = _science(ours(data.astype(ours.arrays["data"].dtype)))
    if hasattr(model, "dq") and ours is not dm.Level1bModel and ours is not dm.RampModel:
        model.dq[0] = 7
    model.meta.cal_step.dq_init = "COMPLETE"
    model.meta.ref_file.mask.name = "crds://jwst_nircam_mask_0001.fits"
    path = model.save(tmp_path / "x.fits")
    with sdm.open(path) as off:
        assert type(off).__name__ == theirs
        np.testing.assert_array_equal(off.data, model.data)
        assert off.meta.instrument.name == "NIRCAM"
        assert off.meta.instrument.detector == "NRCA1"
        assert off.meta.exposure.type == "NRC_IMAGE"
        assert off.meta.subarray.name == "SUB640" and off.meta.subarray.xstart == 1
        assert off.meta.cal_step.dq_init == "COMPLETE"
        assert off.meta.ref_file.mask.name == "crds://jwst_nircam_mask_0001.fits"
        if ours in (dm.ImageModel, dm.CubeModel):
            np.testing.assert_array_equal(off.dq, model.dq)


@pytest.mark.parametrize(
    ("theirs", "ours", "shape"),
    [
        ("RampModel", dm.RampModel, (1, 4, 5, 6)),
        ("ImageModel", dm.ImageModel, (5, 6)),
        ("CubeModel", dm.CubeModel, (3, 5, 6)),
    ],
)
def test_official_files_open_in_ours(tmp_path, theirs, ours, shape):
    off = getattr(sdm, theirs)(shape)
    off.data[...] = np.arange(np.prod(shape), dtype="f4").reshape(shape)
    off.meta.instrument.name = "NIRCAM"
    off.meta.instrument.detector = "NRCB2"
    off.meta.exposure.type = "NRC_IMAGE"
    off.meta.exposure.nints = 3
    off.meta.wcsinfo.ra_ref = 53.1
    if theirs == "RampModel":
        off.groupdq[0, 1, 2, 3] = 4
    path = tmp_path / "official.fits"
    off.save(path)
    model = dm.open(path)
    assert isinstance(model, ours)
    np.testing.assert_array_equal(model.data, off.data)
    assert model.meta.instrument.detector == "NRCB2"
    assert model.meta.exposure.nints == 3
    assert model.meta.wcsinfo.ra_ref == pytest.approx(53.1)
    if theirs == "RampModel":
        assert model.groupdq[0, 1, 2, 3] == 4
    # and what we write back still opens there
    with sdm.open(model.save(tmp_path / "again.fits")) as again:
        np.testing.assert_array_equal(again.data, off.data)


def test_keyword_table_agrees_with_official_schemas():
    """Every (path, keyword) we map is mapped the same way by the official core schemas."""
    from stdatamodels.jwst.datamodels import ImageModel

    schema = ImageModel().schema
    official: dict[str, str] = {}

    def walk(node, path):
        if not isinstance(node, dict):
            return
        if "fits_keyword" in node:
            official[".".join(path)] = node["fits_keyword"]
        for name, sub in node.get("properties", {}).items():
            walk(sub, [*path, name])
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(key, []) or []:
                walk(sub, path)

    walk(schema, [])
    ours = {f"meta.{k.path}": k.keyword for k in dm.keyword_table()}
    common = set(ours) & set(official)
    assert len(common) > 300
    assert {p: ours[p] for p in common} == {p: official[p] for p in common}


def _tan_wcs():
    import astropy.units as u
    from astropy import coordinates as coord
    from astropy.modeling import models
    from gwcs import coordinate_frames as cf
    from gwcs import wcs as gw

    det = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    sky = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world")
    transform = ((models.Shift(-10) & models.Shift(-10))
                 | (models.Scale(1e-5) & models.Scale(1e-5)) | models.Pix2Sky_TAN()
                 | models.RotateNative2Celestial(53.1, -27.8, 180))
    return gw.WCS([(det, transform), (sky, None)])


def test_wcs_travels_in_the_asdf_extension_both_ways(tmp_path):
    wcs = _tan_wcs()
    model = _science(dm.ImageModel(np.zeros((20, 20), "f4")))
    model.meta.wcs = wcs
    path = model.save(tmp_path / "x_cal.fits")
    assert "META.WCS" not in model.crds_parameters()
    expected = wcs(5.0, 7.0)
    np.testing.assert_allclose(dm.open(path).meta.wcs(5.0, 7.0), expected, rtol=0, atol=1e-12)
    with sdm.open(path) as off:
        np.testing.assert_allclose(off.meta.wcs(5.0, 7.0), expected, rtol=0, atol=1e-12)
        off.save(tmp_path / "official_cal.fits")
    back = dm.open(tmp_path / "official_cal.fits")
    np.testing.assert_allclose(back.meta.wcs(5.0, 7.0), expected, rtol=0, atol=1e-12)


def test_every_product_carries_its_metadata_tree_in_the_asdf_extension(tmp_path):
    import asdf
    from astropy.io import fits

    model = _science(dm.RampModel(np.zeros((1, 2, 3, 3), "f4")))
    model.meta.exposure.nframes = np.int64(4)
    path = model.save(tmp_path / "x_ramp.fits")
    with fits.open(path) as hdul, asdf.open(io.BytesIO(hdul["ASDF"].data.tobytes())) as af:
        tree = af.tree["meta"]
    assert tree["instrument"]["detector"] == "NRCA1"
    assert tree["exposure"]["nframes"] == 4 and tree["model_type"] == "RampModel"
    with sdm.RampModel(path) as off:
        assert off.meta.exposure.nframes == 4
