"""MIRI-only Detector1 steps (emicorr, rscd, reset) and jump's shower flagging, on a hand-built
MIRI MASK1065-like cut with reference overrides; each skips for NIRCam."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from webbflow import datamodels as dm
from webbflow.references import models as rm
from webbflow.steps.emicorr import EmiCorrStep
from webbflow.steps.jump import JumpStep
from webbflow.steps.reset import ResetStep
from webbflow.steps.rscd import RscdStep

NY, NX, NINTS, NGROUPS = 32, 32, 3, 10
P = 256.0  # 390.625 Hz in 10-us clocks


def _meta(model, instrument="MIRI"):
    m = model.meta
    if instrument == "MIRI":
        m.instrument.name, m.instrument.detector = "MIRI", "MIRIMAGE"
        m.exposure.type, m.exposure.readpatt = "MIR_4QPM", "FAST"
        m.subarray.name = "MASK1065"
    else:
        m.instrument.name, m.instrument.detector = "NIRCAM", "NRCA1"
        m.exposure.type, m.exposure.readpatt = "NRC_IMAGE", "RAPID"
        m.subarray.name = "SUB32"
    m.subarray.xstart, m.subarray.ystart, m.subarray.xsize, m.subarray.ysize = 1, 1, NX, NY
    m.observation.date, m.observation.time = "2024-01-01", "00:00:00"
    return model


def _ramp(instrument="MIRI", emi=0.0):
    rng = np.random.default_rng(1)
    g = np.arange(NGROUPS)[None, :, None, None]
    data = (1000.0 + 3.0 * g + rng.normal(0, 0.5, (NINTS, NGROUPS, NY, NX))).astype(np.float32)
    if emi:
        t0 = np.arange(NY)[:, None] * 82 + np.arange(NX // 4)[None, :]
        frametime = NY * 82 + (1024 - NY) * 7.0
        for i in range(NINTS):
            for k in range(NGROUPS):
                wave = emi * np.sin(2 * np.pi * ((t0 + (i * NGROUPS + k) * frametime) / P + 0.3))
                data[i, k] += np.repeat(wave, 4, axis=1).astype(np.float32)
    ramp = _meta(dm.RampModel(data=data), instrument)
    exp = ramp.meta.exposure
    exp.nints, exp.ngroups, exp.nframes, exp.groupgap = NINTS, NGROUPS, 1, 0
    exp.frame_time = exp.group_time = 2.775
    exp.nsamples = 1
    return ramp


def _ref(model, path: Path) -> str:
    _meta(model)
    model.meta.author, model.meta.pedigree, model.meta.useafter = "test", "DUMMY", "2022-01-01"
    model.meta.description = "test reference"
    return model.save(path)


@pytest.fixture
def refs(tmp_path: Path) -> dict[str, str]:
    rscd = rm.RSCDModel()
    rscd.rscd_group_skip_table = np.array(
        [(b"MASK1065", b"FAST", 2, 4), (b"FULL", b"SLOW", 1, 1)], dtype=rm.RSCDModel.row_dtype)
    reset = np.zeros((2, 3, NY, NX), np.float32)
    reset[0, 0], reset[0, 1], reset[1, 0] = 10.0, 5.0, 7.0
    rdq = np.zeros((NY, NX), np.uint32)
    rdq[3, 4] = 1
    wave = np.sin(2 * np.pi * (np.arange(128) + 0.5) / 128)
    emi = rm.EmiModel(
        frequencies={"Hz390": {"frequency": 390.625, "phase_amplitudes": wave}},
        subarray_cases={"MASK1065": {"rowclocks": 82, "frameclocks": 23968,
                                     "freqs": {"FAST": ["Hz390"],
                                               "SLOW": {"MIRIMAGE": ["Hz390"]}}}})
    emi.meta.instrument.name = "MIRI"
    emi.meta.author, emi.meta.pedigree, emi.meta.useafter = "test", "DUMMY", "2022-01-01"
    gain = rm.GainModel(data=np.full((NY, NX), 1.0, np.float32))
    rn = rm.ReadnoiseModel(data=np.full((NY, NX), 10.0, np.float32))
    return {
        "rscd": _ref(rscd, tmp_path / "rscd.fits"),
        "reset": _ref(rm.ResetModel(data=reset, err=np.zeros_like(reset), dq=rdq),
                      tmp_path / "reset.fits"),
        "emicorr": emi.save(tmp_path / "emi.asdf"),
        "gain": _ref(gain, tmp_path / "gain.fits"),
        "readnoise": _ref(rn, tmp_path / "rn.fits"),
    }


def test_rscd_flags_configured_groups(refs):
    out = RscdStep(override_rscd=refs["rscd"]).run(_ramp())
    dnu = (out.groupdq & 1) != 0
    assert dnu[0, :2].all() and not dnu[0, 2:].any()
    assert dnu[1:, :4].all() and not dnu[1:, 4:].any()
    assert out.meta.cal_step.rscd == "COMPLETE"
    assert out.meta.rscd.ngroups_skip_int1 == 2 and out.meta.rscd.ngroups_skip_int2p == 4
    assert out.meta.ref_file.rscd.name.endswith("rscd.fits")


def test_rscd_skips_unlisted_readpatt(refs):
    ramp = _ramp()
    ramp.meta.exposure.readpatt = "SLOW"
    out = RscdStep(override_rscd=refs["rscd"]).run(ramp)
    assert out.meta.cal_step.rscd == "SKIPPED" and not (out.groupdq & 1).any()


def test_reset_subtracts_reference_and_propagates_dq(refs):
    ramp = _ramp()
    out = ResetStep(override_reset=refs["reset"]).run(ramp)
    diff = ramp.data - out.data
    assert np.allclose(diff[0, 0], 10) and np.allclose(diff[0, 1], 5)
    assert np.allclose(diff[1, 0], 7) and np.allclose(diff[2, 0], 7)   # last ref integration
    assert np.allclose(diff[:, 3:], 0)
    assert out.pixeldq[3, 4] & 1 and out.meta.cal_step.reset == "COMPLETE"


def test_reset_never_reads_the_references_err(refs, monkeypatch):
    # the ERR array is as big as SCI (4-D) and unused: 42 MB less to read on a MIRI frame
    from webbflow.references import read

    held = []

    def spy(*args, **kwargs):
        ref = real(*args, **kwargs)
        held.append(ref)
        return ref

    real = read.read_reference
    monkeypatch.setattr(read, "read_reference", spy)
    out = ResetStep(override_reset=refs["reset"]).run(_ramp())
    assert out.meta.cal_step.reset == "COMPLETE"
    assert len(held) == 1 and held[0]._arrays.get("err") is None
    assert held[0]._arrays["data"].shape == (2, 3, NY, NX)


def test_emicorr_joint_removes_sinusoid(refs):
    ramp = _ramp(emi=5.0)
    out = EmiCorrStep(skip=False, override_emicorr=refs["emicorr"]).run(ramp)
    g = np.arange(NGROUPS)[None, :, None, None]
    assert (ramp.data - 1000 - 3.0 * g).std() > 3.5
    assert (out.data - 1000 - 3.0 * g).std() == pytest.approx(0.5, abs=0.03)
    assert out.meta.cal_step.emicorr == "COMPLETE"


def test_emicorr_is_skipped_by_default_and_for_unknown_subarray(refs):
    assert EmiCorrStep().run(_ramp()).meta.cal_step.emicorr == "SKIPPED"
    ramp = _ramp(emi=5.0)
    ramp.meta.subarray.name = "SUB64"
    out = EmiCorrStep(skip=False, override_emicorr=refs["emicorr"]).run(ramp)
    assert out.meta.cal_step.emicorr == "SKIPPED" and np.array_equal(out.data, ramp.data)


@pytest.mark.parametrize("step", [RscdStep, ResetStep, EmiCorrStep])
def test_miri_steps_skip_for_nircam(step, refs):
    ramp = _ramp("NIRCAM")
    overrides = {f"override_{t}": refs[t] for t in step.reference_file_types}
    out = step(skip=False, **overrides).run(ramp)
    assert out.meta.get(f"cal_step.{step.status_key()}") == "SKIPPED"
    assert np.array_equal(out.data, ramp.data) and np.array_equal(out.groupdq, ramp.groupdq)


def test_jump_find_showers_flags_a_halo(refs):
    ramp = _ramp()
    rng = np.random.default_rng(5)
    g = np.arange(NGROUPS)[None, :, None, None]
    ramp.data = (5.0 * g + rng.normal(0, 10 / np.sqrt(2), ramp.shape)).astype(np.float32)
    yy, xx = np.mgrid[:NY, :NX]
    ramp.data[0, 5:] += np.where(np.hypot(yy - 16, xx - 16) < 8, 12.0, 0.0).astype(np.float32)
    kw = {"override_gain": refs["gain"], "override_readnoise": refs["readnoise"]}
    plain = JumpStep(**kw).run(ramp)
    showers = JumpStep(find_showers=True, extend_min_area=40, **kw).run(ramp)
    extra = ((showers.groupdq & 4) != 0) & ((plain.groupdq & 4) == 0)
    assert extra[0, 5, 16, 16] and extra[0, 5].sum() > 40
    assert not extra[1:].any()


def test_firstframe_skipped_by_default_as_officially_and_flags_group0_when_asked():
    from webbflow.steps.firstframe import FirstFrameStep

    assert FirstFrameStep().run(_ramp()).meta.cal_step.firstframe == "SKIPPED"
    out = FirstFrameStep(skip=False).run(_ramp())
    dnu = (out.groupdq & 1) != 0
    assert dnu[:, 0].all() and not dnu[:, 1:].any()
    assert out.meta.cal_step.firstframe == "COMPLETE"
