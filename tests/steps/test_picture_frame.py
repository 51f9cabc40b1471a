"""picture_frame step: an injected NIRSpec full-frame thermal pattern is removed to the noise.

The synthetic exposure (:func:`make_ramp`) is a full 2048x2048 NIRSpec frame (the official
fit regions are fixed full-frame pixel ranges, so no smaller stand-in exists at step level):
bias + ``AMPS[g] * PATTERN`` + white read noise + a few bright sources, 1 integration of
3 groups. PATTERN, also the PICTUREFRAME reference, is a raised frame: the official fit scales
it by medians of the centre and frame regions, exact when the pattern is nearly uniform within
each region (a steep pattern inside a region, comparable to the noise, biases the medians).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from webbflow import datamodels as dm
from webbflow.errors import ParameterError
from webbflow.pipelines.detector1 import Detector1Pipeline
from webbflow.references import models as rm
from webbflow.steps.picture_frame import PictureFrameStep

N = 2048
NGROUPS = 3
TGROUP = 10.737
NOISE = 5.0  # DN per group read
AMPS = (2.0, 3.5, 6.0)  # DN per unit of PATTERN, in groups 0, 1, 2 (not linear in time)
SOURCES = [(1000, 700, 60.0), (30, 1200, 80.0), (1500, 2010, 40.0), (400, 400, 100.0)]
ROOT = "jw01234001001_01101_00001_nrs1"


def pattern() -> np.ndarray:
    """Frame pattern (DN/s-like units): 1 +- 0.05 in the official centre square, 3 +- 0.1 out.

    The ripples are small: where the pattern's spread within a region is below the noise,
    the median of a group's values tends to the region's pattern *mean* times the growth,
    while the official fit uses the reference's *median*."""
    y, x = np.mgrid[:N, :N]
    inside = (y >= 76) & (y < 1984) & (x >= 76) & (x < 1984)  # the official centre square
    frame = 3.0 + 0.1 * np.cos(2 * np.pi * (x + y) / 256.0)
    inner = 1.0 + 0.05 * np.cos(2 * np.pi * (x - y) / 300.0)
    return np.where(inside, inner, frame).astype(np.float32)


def source_rate() -> np.ndarray:
    """Bright Gaussian sources (DN/s), to be masked by the clip of the draft rate."""
    y, x = np.mgrid[:N, :N]
    rate = np.zeros((N, N))
    for yc, xc, peak in SOURCES:
        box = (np.abs(y - yc) < 20) & (np.abs(x - xc) < 20)
        rate[box] += peak * np.exp(-((y[box] - yc) ** 2 + (x[box] - xc) ** 2) / (2 * 2.0**2))
    return rate


def nirspec_meta(model, subarray="FULL"):
    m = model.meta
    m.instrument.name, m.instrument.detector = "NIRSPEC", "NRS1"
    m.instrument.filter, m.instrument.grating = "F290LP", "G395H"
    m.exposure.type, m.exposure.readpatt = "NRS_FIXEDSLIT", "NRSRAPID"
    m.subarray.name, m.subarray.xstart, m.subarray.ystart = subarray, 1, 1
    m.subarray.xsize, m.subarray.ysize = N, N
    m.subarray.fastaxis, m.subarray.slowaxis = 2, 1
    m.observation.date, m.observation.time = "2024-01-01", "00:00:00"
    return model


def make_ramp(seed: int = 11) -> tuple[dm.RampModel, np.ndarray]:
    """The synthetic ramp and its noise-free, pattern-free group differences (nints, ng-1)."""
    rng = np.random.default_rng(seed)
    t = TGROUP * (np.arange(NGROUPS) + 1)
    src = source_rate()
    pat = pattern()
    data = np.empty((1, NGROUPS, N, N), np.float32)
    for g in range(NGROUPS):
        data[0, g] = 12000.0 + src * t[g] + AMPS[g] * pat + rng.normal(0, NOISE, (N, N))
    ramp = nirspec_meta(dm.RampModel(data))
    ramp.pixeldq = np.zeros((N, N), np.uint32)
    ramp.groupdq = np.zeros(data.shape, np.uint8)
    ramp.meta.exposure.nints, ramp.meta.exposure.ngroups = 1, NGROUPS
    ramp.meta.exposure.nframes, ramp.meta.exposure.groupgap = 1, 0
    ramp.meta.exposure.frame_time, ramp.meta.exposure.group_time = TGROUP, TGROUP
    ramp.meta.filename = f"{ROOT}_ramp.fits"
    truth = (src[None] * (t[1:] - t[0])[:, None, None]).astype(np.float32)[None]
    return ramp, truth


def write_refs(tmp: Path) -> dict[str, str]:
    """Full-frame GAIN, READNOISE and PICTUREFRAME files; their paths by reftype."""
    out = {}
    for name, cls, data in (("gain", rm.GainModel, np.full((N, N), 1.5, np.float32)),
                            ("readnoise", rm.ReadnoiseModel, np.full((N, N), 5.0, np.float32)),
                            ("pictureframe", rm.PictureFrameModel, pattern())):
        ref = nirspec_meta(cls(data=data))
        ref.meta.author, ref.meta.pedigree, ref.meta.useafter = "t", "DUMMY", "2022-01-01"
        ref.meta.description = "test"
        out[name] = ref.save(tmp / f"test_{name}.fits")
    return out


def pipeline_step(refs: dict[str, str], tmp: Path, **params) -> PictureFrameStep:
    """The step inside a Detector1Pipeline whose ramp_fit overrides feed the draft rate."""
    pipe = Detector1Pipeline(
        steps={"ramp_fit": {"override_gain": refs["gain"],
                            "override_readnoise": refs["readnoise"]},
               "picture_frame": {"skip": False, "mask_science_regions": False,
                                 "override_pictureframe": refs["pictureframe"], **params}},
        output_dir=str(tmp))
    return pipe.steps["picture_frame"]


def background_residual(data: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(data diff to group 0) - truth over mask pixels: (nints, ngroups-1, npix)."""
    return ((data[:, 1:] - data[:, :1]) - truth)[..., mask]


@pytest.fixture(scope="module")
def corrected(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pf")
    refs = write_refs(tmp)
    ramp, truth = make_ramp()
    # n_sigma=5: the official 2-sigma clip of the draft rate would also drop the tail of the
    # frame (1.1 sigma above the centre in the rate here) and bias the frame median
    result = pipeline_step(refs, tmp, n_sigma=5.0, save_mask=True,
                           save_correction=True).run(ramp)
    return ramp, truth, result, tmp, refs


def test_pattern_removed_to_the_noise(corrected):
    ramp, truth, result, _, _ = corrected
    assert result.meta.cal_step.picture_frame == "COMPLETE"
    assert result.meta.ref_file.pictureframe.name.endswith("test_pictureframe.fits")
    quiet = source_rate() < 1e-3
    quiet[:4], quiet[-5:], quiet[:, :4], quiet[:, -5:] = False, False, False, False
    before = background_residual(ramp.data, truth, quiet)
    after = background_residual(result.data, truth, quiet)
    growth = np.array([AMPS[1] - AMPS[0], AMPS[2] - AMPS[0]])  # DN per pattern unit
    pat = pattern()[quiet]
    # before: the pattern's growth, 4.5 and 12 DN in the frame (noise: 7.1 DN per difference)
    assert np.abs(before[0].mean(axis=-1) - growth * pat.mean()).max() < 0.02
    centred = pat - pat.mean()
    slope_before = (before[0] * centred).sum(axis=-1) / (centred * centred).sum()
    np.testing.assert_allclose(slope_before, growth, atol=0.01)
    # after: pixel by pixel, the noise that was injected (the pattern's scale and level are
    # measured to a few 0.01 DN over millions of pixels)
    noise_only = before[0] - growth[:, None] * pat
    resid = after[0] - noise_only
    assert np.abs(resid).max() < 0.04, np.abs(resid).max()
    assert np.abs(after[0].mean(axis=-1)).max() < 0.02
    # group 0 untouched; pixel and group DQ untouched
    np.testing.assert_array_equal(result.data[:, 0], ramp.data[:, 0])
    np.testing.assert_array_equal(result.groupdq, ramp.groupdq)


def test_sources_masked_and_kept(corrected):
    _, _, result, tmp, _ = corrected
    mask = dm.open(tmp / f"{ROOT}_pctfrm_mask.fits").data.astype(bool)
    assert mask.shape == (N, N)
    for yc, xc, _ in SOURCES:
        assert not mask[yc, xc]
    assert 0.995 < mask.mean() < 0.9995  # sources, the 3-sigma low tail, the 5-sigma clip
    y, x = np.mgrid[:N, :N]
    for yc, xc, peak in SOURCES:
        ap = (y - yc) ** 2 + (x - xc) ** 2 <= 64
        flux = 2 * np.pi * 2.0**2 * peak * 2 * TGROUP * (1 - np.exp(-64 / 8))
        got = (result.data[0, 2] - result.data[0, 0])[ap].sum()
        assert abs(got - flux) < 4 * NOISE * np.sqrt(2 * ap.sum()), (yc, xc, got, flux)


def test_saved_correction_is_the_change(corrected):
    ramp, _, result, tmp, _ = corrected
    corr = dm.open(tmp / f"{ROOT}_pctfrm_correction.fits")
    assert corr.data.shape == ramp.data.shape
    np.testing.assert_array_equal(corr.data, result.data - ramp.data)
    assert np.all(corr.data[:, 0] == 0)
    # the change is minus the pattern times the injected growth (4 DN per unit in group 2)
    growth = AMPS[2] - AMPS[0]
    np.testing.assert_allclose(corr.data[0, 2], -growth * pattern(), atol=0.03)


#: corrections (DN, groups 1 and 2) the official jwst 3.0.0 step applied to make_ramp() with
#: mask_science_regions=False, n_sigma=5 (webbflow matched it bit for bit, every pixel)
OFFICIAL_CORRECTION = {(1000, 1000): (-1.583984375, -4.2099609375),
                       (30, 1000): (-4.6611328125, -12.392578125),
                       (2000, 60): (-4.65625, -12.37890625)}


def test_official_numbers(corrected):
    ramp, _, result, _, _ = corrected
    for (y, x), expected in OFFICIAL_CORRECTION.items():
        got = result.data[0, 1:, y, x] - ramp.data[0, 1:, y, x]
        # float32 data near 12000 DN: differences are multiples of 2**-10 DN
        np.testing.assert_allclose(got, expected, atol=2e-3, err_msg=str((y, x)))


def test_rate_input_and_user_mask(tmp_path, corrected):
    refs = corrected[4]
    rng = np.random.default_rng(4)
    rate = nirspec_meta(dm.ImageModel((0.3 + 0.8 * pattern()
                                       + rng.normal(0, 0.05, (N, N))).astype(np.float32)))
    mask = nirspec_meta(dm.ImageModel(np.ones((N, N), np.float32)))
    mask.data[900:1100, :] = 0  # a "slit" the user masked
    mask_path = mask.save(tmp_path / "user_mask.fits")
    rate.data[950:1050, :] += 50.0  # bright slit, excluded only by the user's mask (no clip)
    step = PictureFrameStep(skip=False, user_mask=mask_path,
                            override_pictureframe=refs["pictureframe"])
    result = step.run(rate)
    assert result.meta.cal_step.picture_frame == "COMPLETE"
    sky = mask.data.astype(bool)
    sky[:4], sky[-5:], sky[:, :4], sky[:, -5:] = False, False, False, False
    assert np.abs(np.median(result.data[sky])) < 0.005
    assert abs(result.data[sky].std() / 0.05 - 1) < 0.02
    assert abs(np.median(result.data[960:1040, 100:1900]) - 50.0) < 0.01


def test_skips_for_nircam_and_subarrays(tmp_path):
    model = dm.RampModel(np.zeros((1, 3, 8, 8), np.float32))
    nirspec_meta(model, subarray="SUBS200A1")
    out = PictureFrameStep(skip=False, mask_science_regions=False).run(model)
    assert out.meta.cal_step.picture_frame == "SKIPPED"
    model.meta.instrument.name, model.meta.subarray.name = "NIRCAM", "FULL"
    out = PictureFrameStep(skip=False, mask_science_regions=False).run(model)
    assert out.meta.cal_step.picture_frame == "SKIPPED"
    np.testing.assert_array_equal(out.data, model.data)


def test_skipped_by_default_and_science_regions_rejected(tmp_path):
    assert PictureFrameStep().skip is True
    assert PictureFrameStep().mask_science_regions is True
    model = nirspec_meta(dm.RampModel(np.zeros((1, 3, N, N), np.float32)))
    with pytest.raises(ParameterError, match="mask_science_regions=True needs the NIRSpec WCS"):
        PictureFrameStep(skip=False).run(model)
