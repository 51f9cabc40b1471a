"""resample driver and grid: flux, positions, brightness, weights, context, memory, guards."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
from resample_synth import CRVAL, SCALE, gaussians, make_image, make_wcs

from webbflow.datamodels import open as open_model
from webbflow.errors import ParameterError
from webbflow.resample import DrizzleOptions, GridOptions, resample_inputs
from webbflow.resample.driver import bad_bits
from webbflow.resample.grid import build_grid, native_pixel_scale
from webbflow.resample.pixmap import footprint

SHAPE = (110, 120)
SOURCES = [(60.3, 50.7, 800.0), (30.0, 80.0, 300.0), (95.5, 20.2, 150.0)]


def pixel_areas(wcs, shape):
    """Sky area (deg^2, flat approximation) of each pixel from its corners."""
    y, x = np.indices(shape, dtype=float)
    r0, d0 = wcs(x - 0.5, y - 0.5, with_bounding_box=False)
    r1, d1 = wcs(x + 0.5, y - 0.5, with_bounding_box=False)
    r2, d2 = wcs(x - 0.5, y + 0.5, with_bounding_box=False)
    c = np.cos(np.radians(d0))
    return np.abs((r1 - r0) * c * (d2 - d0) - (d1 - d0) * (r2 - r0) * c)


def core(mask):
    """``mask`` without its edge pixels (partly covered output pixels)."""
    inner = np.zeros_like(mask)
    inner[1:-1, 1:-1] = (mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1]
                         & mask[1:-1, :-2] & mask[1:-1, 2:])
    return inner


@pytest.fixture(scope="module")
def distorted():
    wcs = make_wcs(SHAPE, pa=8.0, distortion=0.02)
    return make_image(gaussians(SHAPE, SOURCES), wcs)


@pytest.mark.parametrize("pixfrac", [1.0, 0.8])
def test_flux_conserved_on_rotated_shifted_grid(distorted, pixfrac):
    out = resample_inputs([distorted], DrizzleOptions(pixfrac=pixfrac),
                          GridOptions(rotation=37.0, crval=(CRVAL[0] + 2e-5, CRVAL[1] - 1e-5)))
    flux_in = float((distorted.data * pixel_areas(distorted.meta.wcs, SHAPE)).sum())
    flux_out = float(np.nansum(out.data * pixel_areas(out.meta.wcs, out.data.shape)))
    assert abs(flux_out / flux_in - 1) < 1e-3, flux_out / flux_in - 1


def test_point_source_lands_at_its_sky_position(distorted):
    out = resample_inputs([distorted], DrizzleOptions(), GridOptions(rotation=37.0))
    x0, y0, _ = SOURCES[0]
    ra, dec = distorted.meta.wcs(x0, y0)
    xt, yt = out.meta.wcs.invert(ra, dec)
    d = np.nan_to_num(out.data)
    yy, xx = np.indices(d.shape)
    sel = (np.abs(xx - xt) < 10) & (np.abs(yy - yt) < 10)
    xc, yc = (d * xx)[sel].sum() / d[sel].sum(), (d * yy)[sel].sum() / d[sel].sum()
    assert np.hypot(xc - xt, yc - yt) < 0.01


def test_constant_brightness_stays_constant():
    wcs = make_wcs(SHAPE, pa=-20.0, distortion=0.02)
    model = make_image(np.full(SHAPE, 2.5), wcs)
    out = resample_inputs([model], DrizzleOptions(pixfrac=0.8),
                          GridOptions(rotation=0.0, pixel_scale_ratio=0.7))
    good = out.wht > 0
    assert good.sum() > SHAPE[0] * SHAPE[1]
    np.testing.assert_allclose(out.data[good], 2.5, rtol=1e-5)
    assert np.all(np.isnan(out.data[~good]))


def test_two_overlapping_inputs_weights_and_context():
    """Two exposures 40 px apart in x with read-noise variances 0.01 and 0.04."""
    w1 = make_wcs(SHAPE, pa=0.0)
    w2 = make_wcs(SHAPE, pa=0.0, crpix=((SHAPE[1] - 1) / 2 - 40.0, (SHAPE[0] - 1) / 2))
    m1 = make_image(np.full(SHAPE, 1.0), w1, rnoise=0.01, exposure=1)
    m2 = make_image(np.full(SHAPE, 3.0), w2, rnoise=0.04, exposure=2)
    out = resample_inputs([m1, m2], DrizzleOptions(), GridOptions())
    assert out.data.shape[1] in (SHAPE[1] + 40, SHAPE[1] + 41)
    con = out.con[0]
    both, only1, only2 = core(con == 3), core(con == 1), core(con == 2)
    assert both.sum() > 70 * 100 and only1.sum() > 30 * 100 and only2.sum() > 30 * 100
    np.testing.assert_allclose(out.wht[only1], 100.0, rtol=1e-5)
    np.testing.assert_allclose(out.wht[only2], 25.0, rtol=1e-5)
    np.testing.assert_allclose(out.wht[both], 125.0, rtol=1e-5)
    np.testing.assert_allclose(out.data[both], (1.0 * 100 + 3.0 * 25) / 125, rtol=1e-5)
    # variances: (w1^2 v1 + w2^2 v2) / (w1 + w2)^2 for each component
    expect_rn = (100**2 * 0.01 + 25**2 * 0.04) / 125**2
    np.testing.assert_allclose(out.var_rnoise[both], expect_rn, rtol=1e-5)
    np.testing.assert_allclose(out.err[both], np.sqrt(expect_rn * 1.6), rtol=1e-5)
    assert out.meta.resample.pointings == 2
    assert out.meta.exposure.exposure_time == pytest.approx(200.0)


def test_do_not_use_pixels_are_excluded():
    wcs = make_wcs(SHAPE)
    model = make_image(np.full(SHAPE, 1.0), wcs)
    model.data[40:43, 50:53] = 1e6
    model.dq[40:43, 50:53] = 1  # DO_NOT_USE
    model.data[10, 10] = np.nan  # NaN data: excluded too
    out = resample_inputs([model], DrizzleOptions(), GridOptions())
    assert np.nanmax(out.data) == pytest.approx(1.0, rel=1e-5)
    assert out.wht[41, 51] == 0 and out.con[0, 41, 51] == 0


def test_good_bits_syntax():
    assert bad_bits("~DO_NOT_USE+NON_SCIENCE") == 1 | 512
    assert bad_bits(None) == 0
    assert bad_bits("4") == 0xFFFFFFFF & ~4
    with pytest.raises(ParameterError, match="good_bits"):
        bad_bits("~NOT_A_FLAG")


def test_exptime_weights():
    wcs = make_wcs(SHAPE)
    model = make_image(np.full(SHAPE, 1.0), wcs, exptime=50.0)
    out = resample_inputs([model], DrizzleOptions(weight_type="exptime"), GridOptions())
    np.testing.assert_allclose(out.wht[out.wht > 0].max(), 45.0, rtol=1e-5)  # TMEASURE


def test_default_grid_follows_input_orientation_and_scale():
    wcs = make_wcs(SHAPE, pa=25.0)
    fp = footprint(wcs, SHAPE)
    grid = build_grid([fp], wcs, SHAPE)
    assert grid.shape == SHAPE
    assert grid.pixel_scale == pytest.approx(SCALE, rel=1e-6)
    assert native_pixel_scale(grid.wcs, *CRVAL) * 3600 == pytest.approx(SCALE, rel=1e-6)
    north = build_grid([fp], wcs, SHAPE, rotation=0.0)
    r0, d0 = north.wcs(50.0, 50.0)
    r1, d1 = north.wcs(50.0, 51.0)
    r2, _ = north.wcs(51.0, 50.0)
    assert abs(r1 - r0) < 1e-10 and d1 > d0 and r2 < r0  # north up, east left
    half = build_grid([fp], wcs, SHAPE, pixel_scale_ratio=2.0)
    assert half.shape == (SHAPE[0] // 2, SHAPE[1] // 2)
    fixed = build_grid([fp], wcs, SHAPE, output_shape=(300, 200), crpix=(150.0, 100.0),
                       crval=CRVAL)
    assert fixed.shape == (200, 300)
    np.testing.assert_allclose(fixed.wcs.invert(*CRVAL), (150.0, 100.0), atol=1e-8)


def test_absurd_grid_is_a_one_line_error():
    far = make_wcs(SHAPE, crval=(CRVAL[0] + 4.0, CRVAL[1] + 3.0))
    m1, m2 = make_image(np.ones(SHAPE), make_wcs(SHAPE)), make_image(np.ones(SHAPE), far)
    with pytest.raises(ParameterError) as exc:
        resample_inputs([m1, m2], DrizzleOptions(), GridOptions())
    assert "max_output_pixels" in str(exc.value) and "\n" not in str(exc.value)


def test_inputs_are_opened_one_at_a_time(tmp_path):
    """Paths are opened lazily and released: never two inputs alive at once."""
    paths = []
    for k in range(4):
        wcs = make_wcs(SHAPE, crpix=(59.5 - 10 * k, 54.5))
        model = make_image(np.full(SHAPE, 1.0 + k), wcs, exposure=k + 1,
                           filename=f"jw00001001001_01101_0000{k + 1}_nrca1_cal.fits")
        model.meta.wcsinfo.s_region = "POLYGON ICRS " + " ".join(
            f"{v:.10f}" for v in footprint(wcs, SHAPE).ravel())
        paths.append(model.save(tmp_path / model.meta.filename))
    alive: set[int] = set()
    stats = {"opens": 0, "max_alive": 0}

    def opener(path):
        model = open_model(path)
        stats["opens"] += 1
        alive.add(id(model))
        stats["max_alive"] = max(stats["max_alive"], len(alive))
        weakref.finalize(model, alive.discard, id(model))
        return model

    out = resample_inputs(paths, DrizzleOptions(), GridOptions(), opener=opener)
    assert stats["max_alive"] == 1
    assert stats["opens"] == len(paths) + 1  # the first input once more, for its WCS
    assert out.meta.resample.pointings == 4 and out.con.shape[0] == 1


def test_single_gives_one_output_per_exposure_on_a_common_grid():
    w1 = make_wcs(SHAPE)
    w2 = make_wcs(SHAPE, crpix=(40.0, 60.0))
    models = [make_image(np.full(SHAPE, 1.0), w1, exposure=1),
              make_image(np.full(SHAPE, 2.0), w2, exposure=2,
                         filename="jw00001001001_01101_00002_nrca1_cal.fits")]
    opts = DrizzleOptions(enable_var=False, report_var=False, compute_err="driz_err")
    outs = resample_inputs(models, opts, GridOptions(), single=True)
    assert len(outs) == 2 and outs[0].data.shape == outs[1].data.shape
    assert outs[1].meta.filename == "jw00001001001_01101_00002_nrca1_outlier_i2d.fits"
    np.testing.assert_allclose(np.nanmax(outs[1].data), 2.0, rtol=1e-6)
    expect_err = np.sqrt(0.01 + 0.005 + 0.001)
    np.testing.assert_allclose(np.nanmax(outs[0].err), expect_err, rtol=1e-5)
