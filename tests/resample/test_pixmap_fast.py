"""The automatic (coarse-grid) pixel map agrees with the exact WCS mapping."""

from __future__ import annotations

import numpy as np
from resample_synth import make_wcs

from webbflow.resample import pixmap as P


def test_auto_pixel_map_matches_exact_mapping():
    shape = (300, 420)
    wcs_in = make_wcs(shape, pa=10.0, distortion=0.02)
    wcs_out = make_wcs((500, 500), crval=(53.1603, -27.7902), pa=37.0, scale=0.025)
    auto = P.pixel_map(wcs_in, wcs_out, shape)
    exact = P._exact_map(wcs_in, wcs_out, shape)
    err = np.abs(auto - exact).max()
    print(f"auto pixel map max error {err:.2e} px")
    assert err < P.AUTO_TOLERANCE
    # the mapping is far from affine here (distortion 2 %, rotation, scale)
    assert np.ptp(exact[..., 0] - exact[0, 0, 0]) > 300


def test_pixel_map_masks_outside_the_bounding_box():
    shape = (100, 120)
    wcs = make_wcs(shape, pa=3.0)
    wcs.bounding_box = ((9.5, 119.5), (-0.5, 89.5))
    pm = P.pixel_map(wcs, make_wcs(shape), shape)
    assert np.isnan(pm[:, :10]).all() and np.isnan(pm[90:]).all()
    assert np.isfinite(pm[:90, 10:]).all()
