"""Tests of kernels.simple (superbias, group_scale, first/lastframe, gain_scale, persistence
flagging, charge_migration)."""

import numpy as np
import pytest

from webbflow.kernels.simple import (
    charge_migration,
    flag_first_last_groups,
    flag_persistence,
    gain_scale,
    group_scale,
    subtract_superbias,
)

DNU, CHLO, PERS = 1, 128, 2**30


def test_superbias_nan_to_zero_and_dq():
    data = np.full((1, 2, 2, 2), 100.0, np.float32)
    bias = np.array([[10.0, np.nan], [0.5, 1.0]], np.float32)
    bdq = np.array([[0, 4], [0, 0]], np.uint32)
    zf = np.array([[[0.0, 50.0], [50.0, 50.0]]], np.float32)
    out, pdq, zout = subtract_superbias(data, np.zeros((2, 2), np.uint32), bias, bdq, zf)
    np.testing.assert_array_equal(out[0, 1], [[90.0, 100.0], [99.5, 99.0]])
    assert pdq[0, 1] == 4 and pdq.sum() == 4
    np.testing.assert_array_equal(zout[0], [[0.0, 50.0], [49.5, 49.0]])
    assert not np.isnan(bias[0, 0])  # input untouched


def test_group_scale():
    data = np.full((1, 2, 2, 2), 3.0, np.float32)
    assert group_scale(data, 4, 4) is None and group_scale(data, 4, None) is None
    np.testing.assert_array_equal(group_scale(data, 2, 4), np.full_like(data, 6.0))


def test_gain_scale():
    np.testing.assert_allclose(gain_scale(np.ones((3, 3), np.float32), 1.5), 1.5)


@pytest.mark.parametrize(
    "ngroups, first_expected, last_expected", [(3, False, True), (4, True, True), (2, False, False)]
)
def test_first_last_frame(ngroups, first_expected, last_expected):
    gdq = np.zeros((2, ngroups, 2, 2), np.uint8)
    f = flag_first_last_groups(gdq, do_not_use=DNU, first=True)
    assert bool(f[:, 0].all()) is first_expected and f[:, 1:].sum() == 0
    lst = flag_first_last_groups(gdq, do_not_use=DNU, last=True)
    assert bool(lst[:, -1].all()) is last_expected and lst[:, :-1].sum() == 0


def test_persistence_flagging():
    pers = np.zeros((3, 2, 2))
    pers[1, 0, 0] = 45.0
    pers[2, 1, 1] = 39.0
    pdq = flag_persistence(np.zeros((2, 2), np.uint32), pers, flag_pers_cutoff=40.0,
                           persistence_flag=PERS)  # fmt: skip
    assert pdq[0, 0] == PERS and pdq.sum() == PERS


def _numpy_charge_migration(data, gdq, thr):
    out = gdq.copy()
    ny, nx = gdq.shape[2:]
    for i, g, y, x in zip(*np.where((data > thr) & (gdq != DNU))):
        for dy, dx in [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]:
            if 0 <= y + dy < ny and 0 <= x + dx < nx:
                out[i, g:, y + dy, x + dx] |= CHLO | DNU
    return out


def test_charge_migration_matches_numpy_reference():
    rng = np.random.default_rng(0)
    data = rng.uniform(0, 30000, (2, 5, 9, 8)).astype(np.float32)
    gdq = np.where(rng.random(data.shape) < 0.2, DNU, 0).astype(np.uint8)
    gdq[rng.random(data.shape) < 0.05] |= 4
    got = charge_migration(data, gdq, signal_threshold=25000, do_not_use=DNU, chargeloss=CHLO)
    np.testing.assert_array_equal(got, _numpy_charge_migration(data, gdq, 25000))


def test_charge_migration_hand_case():
    """Centre pixel exceeds at group 2: it and its 4 neighbours flagged from group 2 on."""
    data = np.zeros((1, 4, 3, 3), np.float32)
    data[0, 2:, 1, 1] = 30000.0
    got = charge_migration(
        data, np.zeros(data.shape, np.uint8), signal_threshold=25000, do_not_use=DNU,
        chargeloss=CHLO,
    )  # fmt: skip
    flagged = got[0] == (CHLO | DNU)
    assert not flagged[:2].any()
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
    assert (flagged[2] == cross).all() and (flagged[3] == cross).all()
