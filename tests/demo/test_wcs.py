"""Imaging WCS math: V2V3 <-> sky rotation, distortion polynomial and its inverse."""

from __future__ import annotations

import numpy as np

from webbflow.wcs import (
    Pointing,
    default_nircam_distortion,
    distortion_model,
    pixel_area_map,
    pixel_to_sky,
    sky_to_pixel,
    sky_to_v23,
    v23_to_sky,
)

DIST = default_nircam_distortion()
POINT = Pointing(DIST.v2_ref, DIST.v3_ref, 53.16, -27.78, 71.3)


def test_reference_point_lands_on_ra_dec_ref_and_roll_is_v3_position_angle():
    ra, dec = v23_to_sky(DIST.v2_ref, DIST.v3_ref, POINT)
    assert abs(ra - 53.16) < 1e-12 and abs(dec + 27.78) < 1e-12
    ra3, dec3 = v23_to_sky(DIST.v2_ref, DIST.v3_ref + 10.0, POINT)
    pa = np.degrees(np.arctan2((ra3 - 53.16) * np.cos(np.radians(dec)), dec3 - dec))
    assert abs(pa - 71.3) < 1e-3


def test_sky_to_v23_inverts_v23_to_sky():
    v2 = DIST.v2_ref + np.array([-40.0, 0.0, 35.0])
    v3 = DIST.v3_ref + np.array([30.0, -10.0, 0.0])
    back = sky_to_v23(*v23_to_sky(v2, v3, POINT), POINT)
    np.testing.assert_allclose(back, (v2, v3), atol=1e-9)


def test_sky_pixel_sky_round_trip_below_1e6_arcsec():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-50, 2100, 500), rng.uniform(-50, 2100, 500)
    ra, dec = pixel_to_sky(x, y, DIST, POINT)
    xx, yy = sky_to_pixel(ra, dec, DIST, POINT)
    ra2, dec2 = pixel_to_sky(xx, yy, DIST, POINT)
    sep = np.hypot((ra2 - ra) * np.cos(np.radians(dec)), dec2 - dec) * 3600.0
    assert sep.max() < 1e-6
    assert np.abs(xx - x).max() < 1e-6 and np.abs(yy - y).max() < 1e-6


def test_distortion_is_a_few_pixels_at_the_corners_and_model_matches_numpy():
    x = np.array([0.0, 2047.0, 0.0, 2047.0, 1023.5])
    y = np.array([0.0, 0.0, 2047.0, 2047.0, 1023.5])
    model = distortion_model(DIST)
    v2, v3 = model(x, y)
    np.testing.assert_allclose((v2, v3), DIST.pixel_to_v23(x, y), atol=1e-9)
    xi, _ = DIST.v23_to_ideal(v2, v3)
    shift = np.abs(xi / 0.0311 - (x - 1023.5))
    assert shift[-1] < 1e-9 and 0.5 < shift[:4].max() < 6.0
    xb, yb = model.inverse(v2, v3)
    assert np.abs(xb - x).max() < 1e-3 and np.abs(yb - y).max() < 1e-3


def test_pixel_area_map_is_relative_to_the_reference_pixel():
    area, pixar_a2 = pixel_area_map(DIST, (2048, 2048))
    assert abs(pixar_a2 - 0.0311 * 0.03132) < 1e-5
    assert abs(area[1023, 1023] - 1.0) < 1e-4
    assert 0.98 < area.min() < 1.0 < area.max() < 1.03
