"""The exact bound that lets the noise-aware jump test skip most pixels never hides a flag."""

from __future__ import annotations

import numpy as np

from webbflow.kernels.jump_noise import STRICT_FACTOR, _bound_skips, _pair_test, _ratios

THR = 4.0
JUMP = 4


def _stats(e):
    """Sum, four largest, three smallest and largest consecutive pair of ``e`` (one run)."""
    s = np.sort(e)
    return (float(e.sum()), e.size, *s[::-1][:4], *s[:3], float(np.max(e[:-1] + e[1:])))


def test_bound_skips_only_pixels_without_flags():
    """3000 single-integration pixels (9 differences, read noise 20 e, 0-400 e per group) with
    a step of 0-8 sigma (up or down) in one or two consecutive differences: wherever the bound
    says skip, the exact test (single ratios at 4 sigma, 1.25x below the centre, pairs at 5
    sigma) finds nothing; and the bound skips most clean pixels and no single upward step
    >= 7 sigma."""
    rng = np.random.default_rng(7)
    nd, var_rn = 9, 400.0
    skipped = flagged_skipped = clean_skipped = big_skipped = 0
    ratio = np.empty(nd)
    for n in range(3000):
        flux = rng.uniform(0.0, 400.0)
        sigma = np.sqrt(flux + var_rn)
        e = rng.normal(flux, sigma, nd)
        kind = n % 3  # 0 clean, 1 one difference, 2 split over two
        step = rng.uniform(-8.0, 8.0) * sigma if kind else 0.0
        k = rng.integers(0, nd - 1)
        if kind == 1:
            e[k] += step
        elif kind == 2:
            e[k:k + 2] += step / 2.0
        alive = np.ones(nd, dtype=np.bool_)
        skip = _bound_skips(*_stats(e), var_rn, THR, STRICT_FACTOR)
        if not skip:
            continue
        skipped += 1
        clean_skipped += kind == 0
        big_skipped += kind == 1 and step >= 7.0 * sigma
        rmax = _ratios(e, alive, 1, nd, var_rn, STRICT_FACTOR, THR, ratio)
        gdq = np.zeros((1, nd + 1, 1, 1), dtype=np.uint8)
        new = _pair_test(e, alive, 1, nd, var_rn, STRICT_FACTOR * THR, gdq, 0, 0, JUMP)
        flagged_skipped += (rmax > THR) or new > 0
    assert flagged_skipped == 0
    assert clean_skipped >= 0.8 * 1000
    assert big_skipped == 0
    assert skipped < 3000
