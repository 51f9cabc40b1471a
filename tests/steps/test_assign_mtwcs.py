"""assign_mtwcs: the WCS follows the moving target; fixed targets are left alone."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "align"))
from align_sim import make_field

from webbflow.steps.assign_mtwcs import AssignMTWcsStep


def test_moving_target_frames_follow_the_target():
    field = make_field(n_exp=3, n_stars=10, size=64, shift_err=0.0, rot_err=0.0, seed=3)
    motion = [(53.16, -27.78), (53.1601, -27.7802), (53.1602, -27.7804)]
    for m, (ra, dec) in zip(field.models, motion, strict=True):
        m.meta.target.type = "MOVING"
        m.meta.wcsinfo.mt_ra = ra
        m.meta.wcsinfo.mt_dec = dec
    out = AssignMTWcsStep.call(field.models)
    avra, avdec = np.mean([p[0] for p in motion]), np.mean([p[1] for p in motion])
    for m, src, (ra, dec) in zip(out, field.models, motion, strict=True):
        assert m.meta.wcs.available_frames[-1] == "moving_target"
        a0, d0 = src.meta.wcs(10.0, 20.0)
        a1, d1 = m.meta.wcs(10.0, 20.0)
        assert abs((a1 - a0) - (avra - ra)) < 1e-12 and abs((d1 - d0) - (avdec - dec)) < 1e-12
        assert m.meta.wcsinfo.mt_avra == avra and m.meta.cal_step.assign_mtwcs == "COMPLETE"
        x, y = m.meta.wcs.invert(a1, d1)
        assert abs(x - 10.0) < 1e-4 and abs(y - 20.0) < 1e-4  # distortion inverse fit


def test_fixed_target_and_missing_positions_skip():
    field = make_field(n_exp=2, n_stars=5, size=64, seed=4)
    out = AssignMTWcsStep.call(field.models)
    assert [m.meta.cal_step.assign_mtwcs for m in out] == ["SKIPPED"] * 2
    assert out[0].meta.wcs.available_frames[-1] == "world"
    field.models[0].meta.target.type = "MOVING"
    field.models[0].meta.wcsinfo.mt_ra = 53.16
    field.models[0].meta.wcsinfo.mt_dec = -27.78
    out = AssignMTWcsStep.call(field.models)
    assert [m.meta.cal_step.assign_mtwcs for m in out] == ["SKIPPED"] * 2
