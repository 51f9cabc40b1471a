"""picture_frame kernels against a plain NumPy version of the official algorithm.

A 96x96 stand-in geometry (frame strips [2, 12) and [84, 94), centre [13, 83)) keeps the
cases small: the kernels take the regions as arguments, only the step fixes them to the
NIRSpec full frame.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from webbflow.kernels import picture_frame as pk

NY = NX = 96
LOWER, UPPER, CENTER = (2, 12), (84, 94), (13, 83)


def numpy_reference(data, ref, center, edge, is_ramp):
    """The official arithmetic in numpy (float32 throughout, as jwst 3.0 evaluates it)."""
    data = data.copy()
    ref_c = np.nanmedian(ref[center])
    ref_e = np.nanmedian(ref[edge])
    if is_ramp:
        zero = data[:, :1].copy()
        image = data[:, 1:]
        image -= zero
    else:
        zero = np.float32(0.0)
        image = data
    med_c = np.nanmedian(image[..., center], axis=-1)
    med_e = np.nanmedian(image[..., edge], axis=-1)
    scale = (med_c - med_e) / (ref_c - ref_e)
    corr = scale[..., None, None] * (ref - ref_e)[..., :, :] + med_e[..., None, None]
    image += zero - corr
    return data, med_c, med_e


def run_kernels(data, ref, center, edge, is_ramp):
    out = data.copy()
    med_c, med_e = pk.frame_levels(out, center, edge, is_ramp)
    ref_c, ref_e = pk.frame_levels(ref[None, None], center, edge, False)
    scale, offset = pk.scale_offset(med_c, med_e, ref_c[0, 0], ref_e[0, 0])
    pk.apply_correction(out, ref, ref_e[0, 0], scale, offset, is_ramp)
    return out, med_c, med_e


def case(seed=0, nints=2, ngroups=4):
    rng = np.random.default_rng(seed)
    ref = (1.0 + rng.random((NY, NX))).astype(np.float32)
    amps = rng.uniform(0, 20, (nints, ngroups))
    data = (1000 + amps[:, :, None, None] * ref
            + rng.normal(0, 3, (nints, ngroups, NY, NX))).astype(np.float32)
    background = rng.random((NY, NX)) > 0.2
    center, edge = pk.region_masks(background, LOWER, UPPER, CENTER)
    return data, ref, center, edge


def test_region_masks_by_hand():
    """Centre: rows/cols 13..82; frame: strips 2..11 and 84..93, reference pixels out."""
    center, edge = pk.region_masks(np.ones((NY, NX), bool), LOWER, UPPER, CENTER)
    assert center.sum() == 70 * 70
    assert center[13, 13] and center[82, 82] and not center[12, 40] and not center[83, 40]
    # frame = square [2, 94) minus square [12, 84): 92^2 - 72^2
    assert edge.sum() == 92**2 - 72**2
    assert edge[2, 50] and edge[11, 50] and edge[84, 50] and edge[93, 50] and edge[50, 2]
    assert not edge[1, 50] and not edge[94, 50] and not edge[12, 50] and not edge[50, 83]
    assert not (center & edge).any()
    hole = np.ones((NY, NX), bool)
    hole[5, 5] = hole[40, 40] = False
    c2, e2 = pk.region_masks(hole, LOWER, UPPER, CENTER)
    assert c2.sum() == center.sum() - 1 and e2.sum() == edge.sum() - 1


@pytest.mark.parametrize("is_ramp", [True, False])
def test_matches_numpy_bit_for_bit(is_ramp):
    data, ref, center, edge = case(seed=1 if is_ramp else 2)
    data[0, 2, 20, 20] = np.nan  # NaNs are ignored by the medians and stay NaN
    want, want_c, want_e = numpy_reference(data, ref, center, edge, is_ramp)
    got, got_c, got_e = run_kernels(data, ref, center, edge, is_ramp)
    np.testing.assert_array_equal(got_c, want_c)
    np.testing.assert_array_equal(got_e, want_e)
    np.testing.assert_array_equal(got, want)  # NaN positions included
    assert np.isnan(got[0, 2, 20, 20])
    if is_ramp:
        np.testing.assert_array_equal(got[:, 0], data[:, 0])


def test_even_and_odd_medians_and_empty():
    """Median of an even count: float32 mean of the middle pair; no finite value: NaN."""
    img = np.full((1, 1, NY, NX), np.nan, np.float32)
    only = np.zeros((NY, NX), bool)
    only[20, 20:24] = True
    img[0, 0, 20, 20:24] = [4.0, 1.0, 3.0, 2.0]
    med, none = pk.frame_levels(img, only, ~only, False)
    assert med[0, 0] == np.float32(2.5)
    assert np.isnan(none[0, 0])
    img[0, 0, 20, 23] = np.nan  # three finite values left
    med, _ = pk.frame_levels(img, only, ~only, False)
    assert med[0, 0] == np.float32(3.0)


def test_pattern_removed_exactly_without_noise():
    """Noise-free data = amp_g * ref + 7: every corrected difference is ~0."""
    rng = np.random.default_rng(5)
    ref = (1 + rng.random((NY, NX))).astype(np.float32)
    amps = np.array([[1.0, 4.0, 9.0]])
    data = (7.0 + amps[:, :, None, None] * ref).astype(np.float32)
    center, edge = pk.region_masks(np.ones((NY, NX), bool), LOWER, UPPER, CENTER)
    out, _, _ = run_kernels(data, ref, center, edge, True)
    np.testing.assert_allclose(out[:, 1:] - out[:, :1], 0.0, atol=2e-4)  # float32 near 30


def test_thread_count_invariant():
    data, ref, center, edge = case(seed=3, nints=3, ngroups=5)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one, c1, e1 = run_kernels(data, ref, center, edge, True)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many, cm, em = run_kernels(data, ref, center, edge, True)
    finally:
        numba.set_num_threads(before)
    assert one.tobytes() == many.tobytes()
    assert c1.tobytes() == cm.tobytes() and e1.tobytes() == em.tobytes()


def test_wrappers_check_shapes():
    data, ref, center, edge = case()
    with pytest.raises(ValueError, match="float32"):
        pk.frame_levels(data.astype(np.float64), center, edge, True)
    with pytest.raises(ValueError, match="region masks"):
        pk.frame_levels(data, center[:-1], edge, True)
    scale = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="reference shape"):
        pk.apply_correction(data, ref[:-1], np.float32(1), scale, scale, True)
    with pytest.raises(ValueError, match="shaped"):
        pk.apply_correction(data, ref, np.float32(1), scale, scale, False)
