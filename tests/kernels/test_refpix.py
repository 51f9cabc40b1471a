"""Tests of kernels.refpix on small frames (full_size=64: 4 amplifiers of 16 columns)."""

import numba
import numpy as np
from scipy import stats

from webbflow.kernels.refpix import correct_refpix_miri, correct_refpix_nir, sigma_clipped_mean

DNU, REF = 1, 2**31
N = 64
KW = dict(do_not_use=DNU, reference_pixel=REF, full_size=N)


def _offsets_cube(rng, nints=1, ngroups=3):
    """Signal in the science pixels plus a per-(group, amp, parity) offset everywhere."""
    sig = rng.uniform(100, 1000, (nints, ngroups, N, N)).astype(np.float32)
    sig[..., :4, :] = 0
    sig[..., -4:, :] = 0
    sig[..., :, :4] = 0
    sig[..., :, -4:] = 0
    off = rng.uniform(-50, 50, (nints, ngroups, 4, 2)).astype(np.float32)
    cols = np.arange(N)
    amp, par = cols // 16, cols % 2
    data = sig + off[:, :, amp, par][:, :, None, :]
    return data.astype(np.float32), sig, off


def _numpy_fullframe(data, dq, odd_even=True, side=True, length=11, gain=1.0):
    """Plain NumPy/scipy version of the 4-amplifier algorithm (detector frame)."""
    out = data.astype(np.float32).copy()
    good = (dq & DNU) == 0

    def cmean(v):
        if v.size == 0:
            return np.nan
        c, _, _ = stats.sigmaclip(v.astype(np.float64), 3, 3)
        return c.mean()

    def avg(a, b):
        return b if np.isnan(a) else a if np.isnan(b) else 0.5 * (a + b)

    for i, g in np.ndindex(out.shape[:2]):
        p = out[i, g]
        for a in range(4):
            sl = slice(16 * a, 16 * a + 16)
            pars = [(0, 2), (1, 2)] if odd_even else [(0, 1)]
            vals = []
            for s0, st in pars:
                cs = np.arange(16 * a + s0, 16 * a + 16, st)
                bot = p[:4][:, cs][good[:4][:, cs]]
                top = p[-4:][:, cs][good[-4:][:, cs]]
                vals.append((cs, avg(cmean(bot), cmean(top))))
            if any(np.isnan(v) for _, v in vals):
                continue
            for cs, v in vals:
                p[:, cs] -= np.float32(v)
            del sl
        if side:
            half = length // 2
            idx = np.abs(np.arange(-half, N + half))
            idx = np.where(idx > N - 1, 2 * (N - 1) - idx, idx)
            meds = []
            for c0 in (0, N - 4):
                m = np.full(N, np.nan)
                for r in range(N):
                    rows = idx[r : r + length]
                    w = p[rows, c0 : c0 + 4][good[rows, c0 : c0 + 4]]
                    if w.size:
                        m[r] = np.median(w.astype(np.float64))
                meds.append(m)
            s = np.array([avg(x, y) for x, y in zip(*meds)])
            s = np.nan_to_num(s)
            out[i, g] = (p.astype(np.float64) - gain * s[:, None]).astype(np.float32)
    return out


def test_removes_amp_parity_offsets_exactly():
    rng = np.random.default_rng(0)
    data, sig, _ = _offsets_cube(rng)
    res = correct_refpix_nir(data, np.zeros((N, N), np.uint32), use_side_ref_pixels=False, **KW)
    assert res.status == "COMPLETE"
    np.testing.assert_allclose(res.data, sig, atol=2e-4)


def test_removes_row_drift_within_smoothing():
    """A linear drift along rows is removed exactly away from the ends (symmetric window)."""
    rng = np.random.default_rng(1)
    data, sig, _ = _offsets_cube(rng)
    drift = (0.3 * np.arange(N, dtype=np.float32))[:, None]
    res = correct_refpix_nir(data + drift, np.zeros((N, N), np.uint32), **KW)
    inner = res.data[:, :, 6:-6, 4:-4] - sig[:, :, 6:-6, 4:-4]
    np.testing.assert_allclose(inner, 0, atol=1e-3)


def test_matches_numpy_reference_with_noise_and_bad_pixels():
    rng = np.random.default_rng(2)
    data, _, _ = _offsets_cube(rng, nints=2, ngroups=2)
    data += rng.normal(0, 3, data.shape).astype(np.float32)
    data[0, 0, 1, 5] = 5000.0  # outlier clipped away
    dq = np.zeros((N, N), np.uint32)
    dq[rng.random((N, N)) < 0.05] = DNU
    dq[:4, 16:32] = DNU  # amplifier B has only top reference pixels
    for oe, side in [(True, True), (False, True), (True, False)]:
        res = correct_refpix_nir(data, dq, odd_even_columns=oe, use_side_ref_pixels=side, **KW)
        exp = _numpy_fullframe(data, dq, odd_even=oe, side=side)
        np.testing.assert_allclose(res.data, exp, atol=2e-3)


def test_orientation_ops_round_trip():
    """Offsets defined in detector columns; DMS data flipped in x ('x' orientation)."""
    rng = np.random.default_rng(3)
    det, sig, _ = _offsets_cube(rng)
    dms = det[..., ::-1].copy()
    res = correct_refpix_nir(
        dms, np.zeros((N, N), np.uint32), dms_to_detector="x", use_side_ref_pixels=False, **KW
    )
    np.testing.assert_allclose(res.data, sig[..., ::-1], atol=2e-4)
    res_t = correct_refpix_nir(
        np.swapaxes(det, -1, -2).copy(), np.zeros((N, N), np.uint32), dms_to_detector="t",
        use_side_ref_pixels=False, **KW,
    )  # fmt: skip
    np.testing.assert_allclose(res_t.data, np.swapaxes(sig, -1, -2), atol=2e-4)


def test_single_output_subarray_uses_flagged_refpix_by_parity():
    ny, nx = 10, 12
    data = np.zeros((1, 2, ny, nx), np.float32)
    # subarray at detector x=20 (even): even columns get +7, odd +3
    data[..., :, 0::2] += 7
    data[..., :, 1::2] += 3
    data[..., 4:, :] += 100  # science rows
    dq = np.zeros((ny, nx), np.uint32)
    dq[:4] = REF
    res = correct_refpix_nir(data, dq, xstart=21, ystart=1, noutputs=1, **KW)
    exp = np.zeros_like(data)
    exp[..., 4:, :] = 100
    np.testing.assert_allclose(res.data, exp, atol=1e-5)


def test_subarray_without_reference_pixels_skips():
    data = np.ones((1, 2, 8, 8), np.float32)
    res = correct_refpix_nir(data, np.zeros((8, 8), np.uint32), xstart=20, ystart=20,
                             noutputs=1, **KW)  # fmt: skip
    assert res.status == "SKIPPED" and "no reference" in res.message
    np.testing.assert_array_equal(res.data, data)
    out = correct_refpix_nir(data, np.zeros((8, 8), np.uint32), xstart=60, ystart=1, **KW)
    assert out.status == "SKIPPED"


def test_four_output_subarray_without_refpix_is_unchanged():
    data = np.full((1, 2, 8, 8), 5.0, np.float32)
    res = correct_refpix_nir(data, np.zeros((8, 8), np.uint32), xstart=20, ystart=20, **KW)
    np.testing.assert_array_equal(res.data, data)


def test_miri_offsets_per_amp_and_row_parity():
    rng = np.random.default_rng(4)
    ny, nx = 16, 40
    ng = 3
    sig = rng.uniform(0, 100, (1, ng, ny, nx)).astype(np.float32)
    sig[..., :, :4] = 0
    sig[..., :, -4:] = 0
    off = rng.uniform(-20, 20, (ng, 4, 2)).astype(np.float32)
    off[0] = 0
    amp = np.arange(nx) % 4
    par = np.arange(ny) % 2
    g0 = rng.uniform(1000, 2000, (ny, nx)).astype(np.float32)
    data = np.empty((1, ng, ny, nx), np.float32)
    for g in range(ng):
        data[0, g] = sig[0, g] + g0 + off[g][amp[None, :], par[:, None]]
    sig_exp = sig + g0
    sig_exp[0, 0] = data[0, 0]
    res = correct_refpix_miri(data, np.zeros((ny, nx), np.uint32), do_not_use=DNU)
    np.testing.assert_allclose(res.data, sig_exp, atol=2e-3)
    skip = correct_refpix_miri(data, np.zeros((ny, nx), np.uint32), do_not_use=DNU,
                               is_subarray=True)  # fmt: skip
    assert skip.status == "SKIPPED"


def test_sigma_clipped_mean_matches_scipy():
    rng = np.random.default_rng(5)
    v = np.concatenate([rng.normal(0, 1, 200), [30.0, -25.0]])
    c, _, _ = stats.sigmaclip(v, 3, 3)
    assert abs(sigma_clipped_mean(v) - c.mean()) < 1e-12


def test_thread_invariance_and_input_untouched():
    rng = np.random.default_rng(6)
    data, _, _ = _offsets_cube(rng, nints=2, ngroups=3)
    data += rng.normal(0, 3, data.shape).astype(np.float32)
    before = data.copy()
    dq = np.zeros((N, N), np.uint32)
    n = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = correct_refpix_nir(data, dq, **KW).data
        numba.set_num_threads(n)
        b = correct_refpix_nir(data, dq, **KW).data
    finally:
        numba.set_num_threads(n)
    assert a.tobytes() == b.tobytes()
    np.testing.assert_array_equal(data, before)
