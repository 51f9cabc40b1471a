"""clean_flicker_noise step: injected row noise removed, sources kept, unsupported modes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from webbflow import datamodels as dm
from webbflow.errors import ParameterError
from webbflow.pipelines.detector1 import Detector1Pipeline
from webbflow.references import models as rm
from webbflow.steps.clean_flicker_noise import CleanFlickerNoiseStep

NINTS, NGROUPS, NY, NX = 2, 5, 64, 256
TGROUP = 10.0
SKY = 2.0  # DN/s
STARS = [(20, 30, 800.0), (50, 190, 3000.0), (10, 140, 400.0), (40, 70, 20000.0)]  # y, x, DN/s


def _meta(model, exp_type="NRC_IMAGE"):
    m = model.meta
    m.instrument.name, m.instrument.detector = "NIRCAM", "NRCA1"
    m.instrument.filter, m.instrument.pupil = "F200W", "CLEAR"
    m.exposure.type, m.exposure.readpatt = exp_type, "TESTPATT"
    m.subarray.name, m.subarray.xstart, m.subarray.ystart = "SUBTEST", 1, 1
    m.subarray.xsize, m.subarray.ysize = NX, NY
    m.subarray.fastaxis, m.subarray.slowaxis = -1, 2
    m.observation.date, m.observation.time = "2024-01-01", "00:00:00"
    return model


def _truth_rate() -> np.ndarray:
    y, x = np.mgrid[:NY, :NX]
    rate = np.full((NY, NX), SKY)
    for yc, xc, peak in STARS:
        rate += peak * np.exp(-((y - yc) ** 2 + (x - xc) ** 2) / (2 * 1.5**2))
    return rate


def _ramp(seed=3, exp_type="NRC_IMAGE"):
    """Ramp = bias + rate t + white read noise (6 DN) + per-row offsets per group (6 DN).

    (Row noise well above the white noise would be clipped away whole rows at a time by
    the official n_sigma clip of each difference, which webbflow reproduces.)
    """
    rng = np.random.default_rng(seed)
    t = TGROUP * (np.arange(NGROUPS) + 1)
    clean = 1000.0 + _truth_rate()[None, None] * t[None, :, None, None]
    clean = np.broadcast_to(clean, (NINTS, NGROUPS, NY, NX))
    rows = rng.normal(0, 6.0, (NINTS, NGROUPS, NY, 1))
    white = rng.normal(0, 6.0, (NINTS, NGROUPS, NY, NX))
    ramp = _meta(dm.RampModel((clean + rows + white).astype(np.float32)))
    ramp.meta.exposure.nints, ramp.meta.exposure.ngroups = NINTS, NGROUPS
    ramp.meta.exposure.nframes, ramp.meta.exposure.groupgap = 1, 0
    ramp.meta.exposure.frame_time, ramp.meta.exposure.group_time = TGROUP, TGROUP
    ramp.meta.filename = "jw01234001001_01101_00001_nrca1_ramp.fits"
    return ramp, clean.astype(np.float32), rows


def _refs(tmp: Path) -> dict[str, str]:
    out = {}
    for name, cls, value in (("gain", rm.GainModel, 2.0), ("readnoise", rm.ReadnoiseModel, 7.0)):
        ref = _meta(cls(data=np.full((NY, NX), value, np.float32)))
        ref.meta.author, ref.meta.pedigree, ref.meta.useafter = "t", "DUMMY", "2022-01-01"
        ref.meta.description = "test"
        out[f"override_{name}"] = ref.save(tmp / f"{name}.fits")
    return out


def _step(tmp: Path, **params) -> CleanFlickerNoiseStep:
    """The step inside a Detector1Pipeline whose ramp_fit overrides feed the draft rate."""
    pipe = Detector1Pipeline(steps={"ramp_fit": _refs(tmp),
                                    "clean_flicker_noise": {"skip": False, **params}},
                             output_dir=str(tmp))
    return pipe.steps["clean_flicker_noise"]


def _source_mask():
    return _truth_rate() > SKY + 1.0


def _row_residuals(data, clean):
    """Per (int, diff, row) median over sky pixels of (data diff - noise-free diff)."""
    diff = np.diff(data, axis=1) - np.diff(clean, axis=1)
    sky = ~_source_mask()
    return np.stack([np.nanmedian(np.where(sky, d, np.nan), axis=-1)
                     for d in diff.reshape(-1, NY, NX)])


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cfn")
    ramp, clean, _ = _ramp()
    result = _step(tmp, save_mask=True, save_noise=True).run(ramp)
    return ramp, clean, result, tmp


def test_row_noise_drops_5x_and_fluxes_kept(cleaned):
    ramp, clean, result, _ = cleaned
    assert result.meta.cal_step.clean_flicker_noise == "COMPLETE"
    before = _row_residuals(ramp.data, clean).std()
    after = _row_residuals(result.data, clean).std()
    assert before > 7.0  # two groups' 6 DN offsets
    assert before / after >= 5.0, (before, after)
    # sources: aperture sums of the last-minus-first group, against the noise-free ramp
    y, x = np.mgrid[:NY, :NX]
    for yc, xc, _ in STARS:
        ap = (y - yc) ** 2 + (x - xc) ** 2 <= 16
        truth = (clean[:, -1] - clean[:, 0])[:, ap].sum(axis=-1)
        got = (result.data[:, -1] - result.data[:, 0])[:, ap].sum(axis=-1)
        sky = SKY * TGROUP * (NGROUPS - 1) * ap.sum()
        assert np.all(np.abs(got - truth) / (truth - sky) < 1e-3), (yc, xc, got, truth)


def test_bright_sources_masked_and_unbiasing(cleaned):
    ramp, clean, result, tmp = cleaned
    mask = dm.open(tmp / "jw01234001001_01101_00001_nrca1_mask.fits").data.astype(bool)
    for yc, xc, _ in STARS:
        assert not mask[yc, xc]
    assert mask.mean() > 0.8
    # rows crossing the brightest star are corrected as well as the others
    res = _row_residuals(result.data, clean)
    star_rows = res[:, 36:45]
    assert np.abs(star_rows.mean()) < 3 * res.std() / np.sqrt(star_rows.size) + 0.5
    assert star_rows.std() < 1.5 * res.std()
    noise = dm.open(tmp / "jw01234001001_01101_00001_nrca1_flicker_noise.fits").data
    np.testing.assert_allclose(noise, result.data - ramp.data, atol=1e-3)
    assert np.all(noise[:, 0] == 0)


def test_rate_input_subarray_channels_and_user_mask(tmp_path):
    _, _, rows = _ramp(seed=5)
    # a rate image with row stripes: the step cleans rate-type inputs too
    white = np.random.default_rng(9).normal(0, 0.3, (NY, NX))
    rate = _meta(dm.ImageModel((_truth_rate() + white + rows[0, 1] / TGROUP).astype("f4")))
    sky = ~_source_mask()
    before = np.nanmedian(np.where(sky, rate.data - _truth_rate(), np.nan), axis=1).std()
    for by_channel in (False, True):
        out = _step(tmp_path, fit_by_channel=by_channel).run(rate)
        resid = np.nanmedian(np.where(sky, out.data - _truth_rate(), np.nan), axis=1)
        assert resid.std() < before / 5, (by_channel, resid.std(), before)
    # a user mask replaces the draft rate: an all-False mask leaves the data unchanged
    mask_path = _meta(dm.ImageModel(np.zeros((NY, NX), "f4"))).save(tmp_path / "m.fits")
    out = _step(tmp_path, user_mask=str(mask_path)).run(rate)
    np.testing.assert_array_equal(out.data, rate.data)


def test_skip_default_and_unsupported_modes(tmp_path):
    ramp, _, _ = _ramp()
    assert CleanFlickerNoiseStep().run(ramp).meta.cal_step.clean_flicker_noise == "SKIPPED"
    for exp_type, params in (("MIR_LRS-FIXEDSLIT", {}), ("NRC_IMAGE", {"fit_method": "fft"})):
        model = ramp.copy()
        model.meta.exposure.type = exp_type
        out = _step(tmp_path, **params).run(model)
        assert out.meta.cal_step.clean_flicker_noise == "FAILED"
        np.testing.assert_array_equal(out.data, ramp.data)
    for params in ({"background_method": "model"}, {"autoparam": True},
                   {"fit_histogram": True}):
        with pytest.raises(ParameterError, match="not available"):
            _step(tmp_path, **params).run(ramp)
    nrs = ramp.copy()
    nrs.meta.exposure.type = "NRS_FIXEDSLIT"
    with pytest.raises(ParameterError, match="fft"):
        _step(tmp_path, fit_method="fft").run(nrs)
