"""Trap persistence kernel: decay and capture follow the official trap-model equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from webbflow.kernels.persistence import decay_traps, trap_persistence

SAT, JUMP = 2, 4
TGROUP, TFRAME = 10.0, 10.0


def _pars(a0=0.0, c1=-0.01, a2=0.0, decay=-0.002, n=1):
    return {"capture0": np.full(n, a0), "capture1": np.full(n, c1), "capture2": np.full(n, a2),
            "decay_param": np.full(n, decay)}


def _run(data, traps, pars, *, gdq=None, density=1.0, persat=1.0e7, cutoff=40.0,
         nresets=(1,), origin=(0, 0), save=True):
    ny, nx = data.shape[-2:]
    return trap_persistence(
        data, np.zeros(data.shape, np.uint8) if gdq is None else gdq, traps, origin,
        np.full((ny, nx), density), np.full((ny, nx), persat), np.ones((ny, nx), bool), pars,
        frame_time=TFRAME, group_time=TGROUP, nresets=np.array(nresets), saturated=SAT,
        jump_det=JUMP, flag_cutoff=cutoff, save_persistence=save)


def test_decay_traps_is_exponential():
    traps = np.full((2, 1, 1), 100.0)
    out = decay_traps(traps, np.array([-0.01, 0.0]), 50.0)
    np.testing.assert_allclose(out[:, 0, 0], [100 * math.exp(-0.5), 100.0])
    assert traps[0, 0, 0] == 100.0


def test_persistence_in_each_group_is_the_cumulative_decay():
    """No capture (a0 = a2 = 0): group g loses T0 (1 - exp(-(g+1) TGROUP / tau))."""
    ngroups, t0, rate = 5, 1000.0, 0.002
    data = np.zeros((1, ngroups, 2, 2), np.float32)
    traps = np.full((1, 2, 2), t0)
    out = _run(data, traps, _pars(decay=-rate), cutoff=None)
    g = np.arange(1, ngroups + 1)
    expected = t0 * (1 - np.exp(-g * TGROUP * rate))
    np.testing.assert_allclose(out.persistence[0, :, 0, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(out.data[0, :, 1, 1], -expected, rtol=1e-6)
    np.testing.assert_allclose(out.traps[0], t0 * math.exp(-ngroups * TGROUP * rate),
                               rtol=1e-12)
    assert not out.flagged.any()


def test_reset_between_integrations_decays_without_persistence():
    ngroups, t0, rate = 3, 1000.0, 0.002
    data = np.zeros((2, ngroups, 1, 1), np.float32)
    out = _run(data, np.full((1, 1, 1), t0), _pars(decay=-rate), nresets=(1, 2), cutoff=None)
    start2 = t0 * math.exp(-(ngroups * TGROUP + 2 * TFRAME) * rate)
    np.testing.assert_allclose(out.persistence[1, 0, 0, 0],
                               start2 * (1 - math.exp(-TGROUP * rate)), rtol=1e-6)
    np.testing.assert_allclose(
        out.traps[0, 0, 0], t0 * math.exp(-(2 * ngroups * TGROUP + 2 * TFRAME) * rate),
        rtol=1e-12)


def test_flag_threshold():
    data = np.zeros((1, 4, 1, 3), np.float32)
    rate = 0.002
    last = 1 - math.exp(-4 * TGROUP * rate)  # fraction released by the last group
    traps = np.array([[[39.0 / last, 40.0 / last * 1.0001, 1000.0]]])
    out = _run(data, traps, _pars(decay=-rate), cutoff=40.0, save=False)
    np.testing.assert_array_equal(out.flagged, [[False, True, True]])
    assert out.persistence is None


def test_ramp_capture_matches_the_official_formula():
    """A linear ramp, no saturation, no traps filled before: only capture."""
    ngroups, dn_per_group, persat, dens = 6, 100.0, 50000.0, 1.5
    a0, c1, a2 = 0.3, -0.02, 0.05
    ramp = dn_per_group * np.arange(1, ngroups + 1, dtype=np.float32)
    data = np.broadcast_to(ramp[None, :, None, None], (1, ngroups, 1, 1)).copy()
    out = _run(data, np.zeros((1, 1, 1)), _pars(a0, c1, a2, decay=0.0), density=dens,
               persat=persat)
    s = dn_per_group / (persat * TGROUP)
    dt = ngroups * TGROUP + TFRAME
    tau = 1 / abs(c1)
    expected = 2 * dens * s**2 * (dt**2 * (a0 + a2) / 2 + a0 * (dt * tau + tau**2)
                                  * math.exp(-dt / tau) - a0 * tau**2)
    np.testing.assert_allclose(out.traps[0, 0, 0], expected, rtol=1e-9)
    np.testing.assert_array_equal(out.data, data)  # nothing filled: no persistence


def test_saturated_ramp_fills_instantaneous_and_exponential_traps():
    ngroups, dens, a0, c1, a2 = 4, 2.0, 0.3, -0.02, 0.05
    data = np.full((1, ngroups, 1, 1), 60000.0, np.float32)
    out = _run(data, np.zeros((1, 1, 1)), _pars(a0, c1, a2, decay=0.0), density=dens,
               persat=50000.0)
    sattime = ngroups * TGROUP
    expected = dens * a2 + dens * a0 * (1 - math.exp(-abs(c1) * sattime))
    np.testing.assert_allclose(out.traps[0, 0, 0], expected, rtol=1e-12)


def test_cosmic_ray_capture():
    ngroups, dens, a0, c1, a2 = 5, 1.0, 0.3, -0.02, 0.05
    ramp = np.array([10, 20, 530, 540, 550], np.float32)  # 500 DN jump in group 2
    data = ramp[None, :, None, None].copy()
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 2] = JUMP
    out = _run(data, np.zeros((1, 1, 1)), _pars(a0, c1, a2, decay=0.0), gdq=gdq,
               density=dens, persat=1.0e7)
    s_group = 10.0  # the jump-affected difference is dropped
    s = s_group / (1.0e7 * TGROUP)
    dt = ngroups * TGROUP + TFRAME
    tau = 1 / abs(c1)
    ramp_part = 2 * dens * s**2 * (dt**2 * (a0 + a2) / 2 + a0 * (dt * tau + tau**2)
                                   * math.exp(-dt / tau) - a0 * tau**2)
    cr = 2 * dens * (510 - s_group) * (a0 * (1 - math.exp(c1 * (ngroups - 2 - 0.5) * TGROUP))
                                       + a2)
    np.testing.assert_allclose(out.traps[0, 0, 0], ramp_part + cr, rtol=1e-9)


def test_subarray_window_and_outside_pixels_only_decay():
    rate, t0 = 0.002, 500.0
    data = np.zeros((1, 3, 2, 2), np.float32)
    traps = np.full((1, 4, 5), t0)
    traps[0, 1:3, 2:4] = 2 * t0
    out = _run(data, traps, _pars(a0=0.0, a2=0.0, decay=-rate), origin=(1, 2), cutoff=None)
    np.testing.assert_allclose(out.persistence[0, -1], 2 * t0 * (1 - math.exp(-30 * rate)),
                               rtol=1e-6)
    np.testing.assert_allclose(out.traps[0, 0, 0], t0 * math.exp(-30 * rate), rtol=1e-12)
    with pytest.raises(ValueError, match="science window"):
        _run(data, traps, _pars(), origin=(3, 0))
