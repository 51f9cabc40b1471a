"""MIRI showers: a faint halo invisible per pixel is found and flagged with its expansion."""

import numpy as np

from webbflow.kernels.showers import find_showers, ring_kernel

FLAGS = {"do_not_use": 1, "saturated": 2, "jump_det": 4, "reference_pixel": 1 << 31}


def _ramps(halo_dn=12.0):
    rng = np.random.default_rng(5)
    data = np.zeros((1, 12, 64, 64), np.float32)
    for g in range(12):
        data[0, g] = 5.0 * g + rng.normal(0, 10 / np.sqrt(2), (64, 64))
    yy, xx = np.mgrid[:64, :64]
    data[0, 6:] += np.where(np.hypot(yy - 30, xx - 34) < 9, halo_dn, 0.0)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 6, 29:32, 33:36] = 4
    return data, gdq


def test_ring_kernel_matches_official_shape():
    k = ring_kernel(1.0, 2.6)
    assert k.shape == (9, 9) and k[4, 4] == 0 and np.count_nonzero(k) == 36
    assert k.sum() == 1.0 or abs(k.sum() - 1.0) < 1e-12


def test_halo_flagged_in_shower_group_and_masked_groups():
    data, gdq = _ramps()
    out, n = find_showers(data, gdq, np.zeros((64, 64), np.uint32), np.full((64, 64), 10.0),
                          nframes=1, flags=FLAGS, groups_masked=2)
    assert n == 1
    flagged = (out & 4).sum(axis=(2, 3)) // 4
    # measured identically with the official stcal find_faint_extended on these inputs
    assert list(flagged[0]) == [0] * 6 + [151] * 3 + [0] * 3
    assert out[0, 6, 30, 34] & 4 and out[0, 8, 30 + 5, 34] & 4
    assert not out[0, 6, 5, 5] & 4
    assert np.array_equal(gdq[0, 6, 29:32, 33:36], np.full((3, 3), 4))   # input untouched


def test_no_shower_without_halo():
    data, gdq = _ramps(halo_dn=0.0)
    out, n = find_showers(data, gdq, np.zeros((64, 64), np.uint32), np.full((64, 64), 10.0),
                          nframes=1, flags=FLAGS)
    assert n == 0 and np.array_equal(out, gdq)
