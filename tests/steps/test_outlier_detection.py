"""outlier_detection (imaging): cosmic rays injected into dithered cal images are found."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from webbflow.datamodels import ImageModel
from webbflow.datamodels import open as open_model
from webbflow.datamodels.dqflags import PIXEL
from webbflow.errors import InputError, ParameterError
from webbflow.resample.grid import tangent_wcs
from webbflow.steps.outlier_detection import OutlierDetectionStep, median_of_singles

CRVAL = (53.16, -27.79)
SCALE = 0.0311  # arcsec / pixel
SIGMA = 0.02  # MJy/sr, per-pixel noise of every exposure
SKY = 0.3  # MJy/sr


def sky_sources(n: int = 40, seed: int = 7, size: int = 160) -> np.ndarray:
    """(n, 4) RA, Dec offsets in pixels of the reference frame, total flux, Gaussian sigma."""
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(10, size - 10, n), rng.uniform(10, size - 10, n),
                            rng.uniform(5.0, 60.0, n), rng.uniform(1.2, 2.5, n)])


def make_exposure(index: int, shift: tuple[float, float], sources: np.ndarray,
                  shape: tuple[int, int] = (128, 128), seed: int = 0,
                  filt: str = "F200W") -> ImageModel:
    """A cal image (MJy/sr) whose pixel (x, y) sees the scene at (x + dx, y + dy)."""
    dx, dy = shift
    # scene pixel (u, v) <-> sky via the reference TAN frame centred at (80, 80)
    wcs = tangent_wcs(CRVAL, (80.0 - dx, 80.0 - dy), np.diag([-1.0, 1.0]), SCALE / 3600.0,
                      shape)
    y, x = np.indices(shape, dtype=np.float64)
    scene = np.full(shape, SKY)
    for sx, sy, flux, sig in sources:
        scene += flux / (2 * math.pi * sig**2) * np.exp(
            -((x + dx - sx) ** 2 + (y + dy - sy) ** 2) / (2 * sig**2))
    rng = np.random.default_rng(1000 + seed)
    data = (scene + rng.normal(0.0, SIGMA, shape)).astype(np.float32)
    model = ImageModel(data)
    model.dq = np.zeros(shape, np.uint32)
    var = np.float32(SIGMA**2)
    model.var_rnoise = np.full(shape, var * 0.6, np.float32)
    model.var_poisson = np.full(shape, var * 0.3, np.float32)
    model.var_flat = np.full(shape, var * 0.1, np.float32)
    model.err = np.full(shape, SIGMA, np.float32)
    m = model.meta
    m.wcs = wcs
    m.filename = f"jw00001001001_01101_{index + 1:05d}_nrca1_cal.fits"
    m.instrument.name, m.instrument.detector = "NIRCAM", "NRCA1"
    m.instrument.filter, m.instrument.pupil = filt, "CLEAR"
    m.exposure.type = "NRC_IMAGE"
    m.bunit_data = m.bunit_err = "MJy/sr"
    m.exposure.exposure_time = 100.0
    m.exposure.measurement_time = 90.0
    m.exposure.start_time = 60000.0 + index * 0.01
    m.exposure.end_time = m.exposure.start_time + 0.001
    o = m.observation
    o.program_number, o.observation_number, o.visit_number = "00001", "001", "001"
    o.visit_group, o.sequence_id, o.activity_id = "01", "1", "01"
    o.exposure_number = f"{index + 1:05d}"
    m.photometry.pixelarea_steradians = (SCALE / 206264.80624709636) ** 2
    return model


def inject_crs(model: ImageModel, n: int, seed: int) -> np.ndarray:
    """Add ``n`` single-pixel hits of 10-200 sigma away from the edges; return the mask."""
    rng = np.random.default_rng(seed)
    ny, nx = model.data.shape
    mask = np.zeros((ny, nx), bool)
    ys = rng.integers(3, ny - 3, n)
    xs = rng.integers(3, nx - 3, n)
    mask[ys, xs] = True
    amp = rng.uniform(10.0, 200.0, mask.sum()) * SIGMA
    model.data[mask] += amp.astype(np.float32)
    return mask


DITHERS = [(0.0, 0.0), (7.3, 3.6), (14.45, 9.2), (4.8, 17.7), (18.1, 12.35)]


@pytest.fixture(scope="module")
def dithered() -> tuple[list[ImageModel], list[np.ndarray]]:
    sources = sky_sources()
    models, masks = [], []
    for i, shift in enumerate(DITHERS):
        model = make_exposure(i, shift, sources, seed=i)
        masks.append(inject_crs(model, 60, seed=50 + i))
        models.append(model)
    return models, masks


def _score(results: list[ImageModel], masks: list[np.ndarray]) -> tuple[float, float]:
    found = total = false = clean = 0
    for model, cr in zip(results, masks):
        flagged = (model.dq & PIXEL["OUTLIER"]) != 0
        found += np.count_nonzero(flagged & cr)
        total += np.count_nonzero(cr)
        false += np.count_nonzero(flagged & ~cr)
        clean += np.count_nonzero(~cr)
    return found / total, false / clean


def test_cosmic_rays_found(dithered) -> None:
    models, masks = dithered
    results = OutlierDetectionStep.call(models)
    recall, false_rate = _score(results, masks)
    print(f"\noutlier_detection: {100 * recall:.1f} % of injected CRs flagged, "
          f"{100 * false_rate:.4f} % false flags")
    assert recall >= 0.90
    assert false_rate <= 0.001
    for model, original in zip(results, models):
        flagged = (model.dq & PIXEL["OUTLIER"]) != 0
        assert np.all((model.dq[flagged] & PIXEL["DO_NOT_USE"]) != 0)
        assert np.all(np.isnan(model.data[flagged]))
        assert model.meta.cal_step.outlier_detection == "COMPLETE"
        assert not np.any(original.dq & PIXEL["OUTLIER"])  # caller's models untouched


def test_on_disk_matches_in_memory(dithered, tmp_path: Path) -> None:
    models, _ = dithered
    paths = []
    for model in models:
        paths.append(model.save(tmp_path / model.meta.filename))
    in_mem = OutlierDetectionStep.call(models[:3])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    on_disk = OutlierDetectionStep.call(paths[:3], in_memory=False, output_dir=str(out_dir))
    assert [Path(p).name for p in on_disk] == [
        m.meta.filename.replace("_cal", "_crf") for m in models[:3]]
    for a, path in zip(in_mem, on_disk):
        b = open_model(path)
        np.testing.assert_array_equal(a.dq, b.dq)
    # the temporary singles are gone
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(Path(p).name for p in on_disk)


def test_save_results_names(dithered, tmp_path: Path) -> None:
    models, _ = dithered
    OutlierDetectionStep.call(models[:2], save_results=True, output_dir=str(tmp_path),
                              save_intermediate_results=True)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "jw00001001001_01101_00001_nrca1_crf.fits" in names
    assert "jw00001001001_01101_00002_nrca1_crf.fits" in names
    assert "jw00001001001_01101_00001_nrca1_outlier_i2d.fits" in names
    assert "jw00001001001_01101_00001_nrca1_blot.fits" in names
    assert any(n.endswith("_median.fits") for n in names)


def test_single_exposure_skips(dithered) -> None:
    models, _ = dithered
    (out,) = OutlierDetectionStep.call(models[:1])
    assert out.meta.cal_step.outlier_detection == "SKIPPED"
    np.testing.assert_array_equal(out.dq, models[0].dq)


def test_bad_parameters_and_inputs(dithered, tmp_path: Path) -> None:
    models, _ = dithered
    with pytest.raises(ParameterError, match="snr"):
        OutlierDetectionStep.call(models[:2], snr="5.0")
    with pytest.raises(InputError, match="no such file"):
        OutlierDetectionStep.call([str(tmp_path / "missing_cal.fits"), models[0]])


def test_median_chunking_matches_nanmedian() -> None:
    rng = np.random.default_rng(3)
    singles = []
    for _ in range(4):
        data = rng.normal(size=(37, 23)).astype(np.float32)
        data[rng.random((37, 23)) < 0.2] = np.nan
        wht = rng.uniform(0.5, 1.5, (37, 23)).astype(np.float32)
        singles.append(ImageModel(data, wht=wht))
    thresholds = [0.0, 0.0, 1.0, 0.0]
    small = median_of_singles(singles, thresholds, buffer_bytes=8 * 4 * 23 * 3)
    big = median_of_singles(singles, thresholds)
    stack = np.stack([np.where(s.wht >= t, s.data, np.nan)
                      for s, t in zip(singles, thresholds)])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanmedian(stack, axis=0)
    np.testing.assert_array_equal(small, big)
    np.testing.assert_allclose(small, expected, rtol=1e-6, equal_nan=True)
