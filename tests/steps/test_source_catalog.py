"""source_catalog on a simulated mosaic of known stars and galaxies."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from webbflow.catalogs import SegmentationMapModel
from webbflow.datamodels import ImageModel
from webbflow.datamodels import open as open_model
from webbflow.errors import ParameterError
from webbflow.references.models import ABVegaOffsetModel, NrcImgApcorrModel
from webbflow.resample.grid import tangent_wcs
from webbflow.steps.source_catalog import SourceCatalogStep

SCALE = 0.0311
PIXAR_SR = (SCALE / 206264.80624709636) ** 2
TO_JY = 1e6 * PIXAR_SR
PSF_SIGMA = 1.3  # pixels
NOISE = 0.01  # MJy/sr per pixel
SKY = 0.2
EE = (0.3, 0.5, 0.7)
ABVEGA = 1.83


def write_references(tmp_path: Path) -> tuple[str, str]:
    """APCORR rows of the Gaussian PSF (EE radii of the pixel-sampled PSF, whose variance is
    sigma^2 + 1/12 once spread over the pixel; apcorr = 1 / EE) and ABVEGAOFFSET."""
    rows = []
    sigma_eff = math.sqrt(PSF_SIGMA**2 + 1.0 / 12.0)
    for ee in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        r = sigma_eff * math.sqrt(-2.0 * math.log(1.0 - ee))
        rows.append((b"F200W", b"CLEAR", ee, r, 1.0 / ee, 12.0, 20.0))
        rows.append((b"F150W", b"CLEAR", ee, 9.0, 9.0, 12.0, 20.0))
    ap = NrcImgApcorrModel()
    ap.apcorr_table = np.array(rows, dtype=NrcImgApcorrModel.row_dtype)
    ap.meta.instrument.name = "NIRCAM"
    apcorr = ap.save(tmp_path / "apcorr.fits")
    ab = ABVegaOffsetModel(abvega_offset=Table(
        {"filter": ["F150W", "F200W"], "pupil": ["CLEAR", "CLEAR"],
         "abvega_offset": [1.2, ABVEGA]}))
    ab.meta.instrument.name = "NIRCAM"
    return apcorr, ab.save(tmp_path / "abvega.asdf")


def make_mosaic(seed: int = 11, shape=(320, 320)):
    """Stars (Gaussian PSF) and elliptical galaxies on a flat sky with Gaussian noise.

    Returns (model, stars (n, 3) x, y, flux Jy, galaxies (m, 3)).
    """
    rng = np.random.default_rng(seed)
    ny, nx = shape
    y, x = np.indices(shape, dtype=np.float64)
    img = np.full(shape, SKY)
    # stars on a jittered grid (no blends), aperture S/N 10 ... 1000 (log-uniform)
    stars = []
    for gy in range(30, ny - 20, 40):
        for gx in range(30, nx - 20, 40):
            sx, sy = gx + rng.uniform(-5, 5), gy + rng.uniform(-5, 5)
            snr = 10 ** rng.uniform(1.0, 3.0)
            flux = snr * NOISE * math.sqrt(4 * math.pi * PSF_SIGMA**2)  # MJy/sr * pix
            img += flux / (2 * math.pi * PSF_SIGMA**2) * np.exp(
                -((x - sx) ** 2 + (y - sy) ** 2) / (2 * PSF_SIGMA**2))
            stars.append((sx, sy, flux * TO_JY))
    galaxies = []
    for sx, sy in ((50.0, 50.0), (290.0, 170.0), (170.0, 290.0)):
        sx += 20.0
        flux = 40.0
        a, b, th = 4.0, 2.5, 0.6
        ct, st = math.cos(th), math.sin(th)
        u = (x - sx) * ct + (y - sy) * st
        v = -(x - sx) * st + (y - sy) * ct
        img += flux / (2 * math.pi * a * b) * np.exp(-0.5 * ((u / a) ** 2 + (v / b) ** 2))
        galaxies.append((sx, sy, flux * TO_JY))
    img += rng.normal(0.0, NOISE, shape)
    model = ImageModel(img.astype(np.float32))
    model.err = np.full(shape, NOISE, np.float32)
    model.wht = np.ones(shape, np.float32)
    m = model.meta
    m.filename = "jw00001-o001_t001_nircam_clear-f200w_i2d.fits"
    m.wcs = tangent_wcs((53.16, -27.79), (160.0, 160.0), np.diag([-1.0, 1.0]),
                        SCALE / 3600.0, shape)
    m.instrument.name, m.instrument.detector = "NIRCAM", "NRCA1"
    m.instrument.filter, m.instrument.pupil = "F200W", "CLEAR"
    m.exposure.type = "NRC_IMAGE"
    m.bunit_data = m.bunit_err = "MJy/sr"
    m.photometry.pixelarea_steradians = PIXAR_SR
    m.resample.pixel_scale_ratio = 1.0
    return model, np.array(stars), np.array(galaxies)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("srccat")
    apcorr, abvega = write_references(tmp)
    model, stars, galaxies = make_mosaic()
    cat = SourceCatalogStep.call(model, override_apcorr=apcorr, override_abvegaoffset=abvega,
                                 save_results=True, output_dir=str(tmp), bkg_boxsize=64,
                                 snr_threshold=3.0, npixels=5,
                                 # thresholds for Gaussian PSFs (official: tuned to the
                                 # real PSFs): stars CI ~1.67/1.41, extended limit ~1.94/1.74
                                 ci1_star_threshold=1.85, ci2_star_threshold=1.55)
    return tmp, model, stars, galaxies, cat


def _match(cat, truth, radius=1.5):
    x = np.asarray(cat["xcentroid"])
    y = np.asarray(cat["ycentroid"])
    idx = []
    for tx, ty, _ in truth:
        d = np.hypot(x - tx, y - ty)
        k = int(np.argmin(d))
        idx.append(k if d[k] < radius else -1)
    return np.array(idx)


def test_recovery_flux_and_positions(run) -> None:
    _, _, stars, galaxies, cat = run
    idx = _match(cat, stars)
    found = idx >= 0
    recall = found.mean()
    x = np.asarray(cat["xcentroid"])[idx[found]]
    y = np.asarray(cat["ycentroid"])[idx[found]]
    pos_err = np.hypot(x - stars[found, 0], y - stars[found, 1])
    flux = np.asarray(cat["aper_total_flux"].value)[idx[found]]
    ferr = np.abs(flux / stars[found, 2] - 1.0)
    print(f"\nsource_catalog: {100 * recall:.1f} % of {len(stars)} stars (>= 10 sigma) found, "
          f"median |flux error| {100 * np.median(ferr):.2f} %, median position error "
          f"{np.median(pos_err):.4f} px, {len(cat)} catalog rows")
    assert recall >= 0.95
    assert np.median(ferr) <= 0.02
    assert np.median(pos_err) <= 0.05
    gidx = _match(cat, galaxies, radius=2.0)
    assert np.all(gidx >= 0)
    assert np.all(np.asarray(cat["is_extended"])[gidx])
    assert np.mean(np.asarray(cat["is_extended"])[idx[found]]) < 0.1
    # AB / Vega magnitudes
    f = np.asarray(cat["aper_total_flux"].value)
    ab = np.asarray(cat["aper_total_abmag"])
    ok = f > 0
    np.testing.assert_allclose(ab[ok], -2.5 * np.log10(f[ok]) + 8.9, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(cat["aper_total_vegamag"])[ok], ab[ok] - ABVEGA)


def test_columns_units_and_products(run) -> None:
    tmp, model, _, _, cat = run
    expected_start = ["label", "xcentroid", "ycentroid", "sky_centroid", "aper_bkg_flux",
                      "aper_bkg_flux_err", "aper30_flux", "aper30_flux_err", "aper50_flux",
                      "aper50_flux_err", "aper70_flux", "aper70_flux_err", "aper_total_flux",
                      "aper_total_flux_err", "aper30_abmag", "aper30_abmag_err"]
    assert cat.colnames[:len(expected_start)] == expected_start
    for name in ("CI_50_30", "CI_70_50", "CI_70_30", "is_extended", "sharpness",
                 "roundness", "nn_label", "nn_dist", "isophotal_flux", "isophotal_abmag",
                 "isophotal_vegamag_err", "isophotal_area", "semimajor_sigma",
                 "semiminor_sigma", "ellipticity", "orientation", "sky_orientation",
                 "sky_bbox_ll", "sky_bbox_ur"):
        assert name in cat.colnames
    assert str(cat["aper50_flux"].unit) == "Jy"
    assert str(cat["isophotal_area"].unit) == "pix2"
    assert str(cat["orientation"].unit) == "deg"
    root = "jw00001-o001_t001_nircam_clear-f200w"
    ecsv = tmp / f"{root}_cat.ecsv"
    back = Table.read(ecsv, format="ascii.ecsv")
    assert back.colnames == cat.colnames and len(back) == len(cat)
    assert back.meta["abvega_offset"] == pytest.approx(ABVEGA)
    segm = open_model(tmp / f"{root}_segm.fits")
    assert isinstance(segm, SegmentationMapModel)
    assert segm.data.dtype == np.uint32 and segm.data.max() == len(cat)
    assert model.meta.cal_step.source_catalog is None  # the caller's model is untouched


def test_deblends_close_pair(tmp_path: Path) -> None:
    apcorr, abvega = write_references(tmp_path)
    model, _, _ = make_mosaic(shape=(64, 64))
    y, x = np.indices((64, 64), dtype=np.float64)
    data = np.full((64, 64), SKY) + np.random.default_rng(1).normal(0, NOISE, (64, 64))
    for sx in (28.0, 36.0):
        data += 30.0 / (2 * math.pi * 1.8**2) * np.exp(
            -((x - sx) ** 2 + (y - 32.0) ** 2) / (2 * 1.8**2))
    model.data = data.astype(np.float32)
    model.err = np.full((64, 64), NOISE, np.float32)
    model.wht = np.ones((64, 64), np.float32)
    kw = {"override_apcorr": apcorr, "override_abvegaoffset": abvega, "npixels": 5}
    blended = SourceCatalogStep.call(model, deblend=False, **kw)
    split = SourceCatalogStep.call(model, **kw)
    assert len(blended) == 1
    assert len(split) == 2
    np.testing.assert_allclose(sorted(split["xcentroid"]), [28.0, 36.0], atol=0.3)


def test_errors(run, tmp_path: Path) -> None:
    _, model, _, _, _ = run
    with pytest.raises(ParameterError, match="starfinder"):
        SourceCatalogStep.call(model, starfinder="dao", override_apcorr="N/A",
                               override_abvegaoffset="N/A")
    with pytest.raises(ParameterError, match="aperture_ee"):
        SourceCatalogStep.call(model, aperture_ee1=60, override_apcorr="N/A",
                               override_abvegaoffset="N/A")


def test_blank_mosaic_gives_an_empty_catalog_not_a_crash(tmp_path):
    """Nothing to find: the products still exist, with every column and no rows."""
    import webbflow.datamodels as dm
    from webbflow.steps.source_catalog import SourceCatalogStep

    rng = np.random.default_rng(3)
    model = dm.ImageModel(rng.normal(0.0, 1.0, (96, 96)).astype("f4"))
    model.err = np.ones((96, 96), "f4")
    model.meta.instrument.name, model.meta.instrument.detector = "NIRCAM", "NRCA1"
    model.meta.instrument.filter, model.meta.instrument.pupil = "F200W", "CLEAR"
    model.meta.exposure.type = "NRC_IMAGE"
    model.meta.bunit_data = "MJy/sr"
    model.meta.photometry.pixelarea_steradians = 2.3e-14
    model.meta.filename = "blank_i2d.fits"
    catalog = SourceCatalogStep.call(model, override_apcorr="N/A", override_abvegaoffset="N/A",
                                     output_dir=str(tmp_path), save_results=True)
    assert len(catalog) == 0 and "xcentroid" in catalog.colnames
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blank_cat.ecsv", "blank_segm.fits"]
