"""The demo's APCORR/ABVEGAOFFSET references describe the demo's stellar PSF as drizzled."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import ncx2

from webbflow.demo import stage3_references as s3


def _gaussian(sigma: float):
    return lambda r2: np.exp(-0.5 * r2 / sigma**2) / (2.0 * math.pi * sigma**2)


@pytest.mark.parametrize("r", [0.5, 1.0, 2.0, 4.5])
def test_gaussian_encircled_energy_is_analytic(r):
    ee = s3.EncircledEnergy(_gaussian(1.5), r_max=6.0)
    assert ee(r) == pytest.approx(1.0 - math.exp(-0.5 * r * r / 1.5**2), abs=3e-4)


@pytest.mark.parametrize("r", [0.5, 1.2, 3.0])
def test_gaussian_through_one_pixel_box(r):
    """A Gaussian convolved with a unit box: the EE is the mean over the box's offsets u of
    the offset Gaussian's EE (non-central chi-square with 2 dof, non-centrality |u|²/σ²)."""
    sigma = 0.8
    u = (np.arange(41) + 0.5) / 41 - 0.5
    ux, uy = np.meshgrid(u, u)
    want = float(np.mean(ncx2.cdf(r * r / sigma**2, 2, (ux**2 + uy**2) / sigma**2)))
    ee = s3.EncircledEnergy(_gaussian(sigma), boxes=(1.0,), r_max=4.0)
    assert ee(r) == pytest.approx(want, abs=3e-4)
    assert ee(r) < 1.0 - math.exp(-0.5 * r * r / sigma**2)  # the box spreads the light


def test_unbroadened_moffat_matches_the_analytic_curve():
    ee = s3.EncircledEnergy(s3.moffat_surface_density)
    for r in (0.7, 2.5, 12.0, 20.0):
        assert ee(r) == pytest.approx(s3.moffat_encircled_energy(r), abs=3e-4)


def test_mosaic_psf_against_monte_carlo_photons():
    """Photons drawn from the Moffat (inverse CDF) plus one uniform offset per box: the
    fraction inside each tabulated radius is the tabulated EE (2e6 photons: sigma 3e-4)."""
    rng = np.random.default_rng(5)
    n = 2_000_000
    r = s3._ALPHA * np.sqrt((1.0 - rng.uniform(size=n)) ** (1.0 / (1.0 - s3.PSF_BETA)) - 1.0)
    phi = rng.uniform(0.0, 2.0 * math.pi, n)
    x, y = r * np.cos(phi), r * np.sin(phi)
    for width in s3.MOSAIC_BOXES:
        x += width * rng.uniform(-0.5, 0.5, n)
        y += width * rng.uniform(-0.5, 0.5, n)
    d2 = x * x + y * y
    for fraction in (0.3, 0.5, 0.7):
        rad = s3.ee_radius(fraction)
        assert s3.encircled_energy(rad) == pytest.approx(fraction, abs=1e-6)
        assert np.mean(d2 <= rad * rad) == pytest.approx(fraction, abs=1.5e-3)
    # the drizzled PSF is broader than the continuous one: EE70 radius 2.68 px, not 2.49
    assert s3.ee_radius(0.7) == pytest.approx(2.676, abs=2e-3)
    assert s3.moffat_encircled_energy(s3.ee_radius(0.7)) > 0.72


def test_aperture_correction_recovers_the_total_with_annulus_light():
    r = s3.ee_radius(0.7)
    inside = s3.encircled_energy(r)
    per_pixel = (s3.encircled_energy(s3.SKY_OUT) - s3.encircled_energy(s3.SKY_IN)) / (
        math.pi * (s3.SKY_OUT**2 - s3.SKY_IN**2))
    assert (inside - math.pi * r * r * per_pixel) * s3.aperture_correction(r) == \
        pytest.approx(1.0, rel=1e-12)
    assert s3.aperture_correction(r) == pytest.approx(1.0 / 0.7, rel=2e-3)


def test_tables_cover_every_demo_filter():
    table = s3.apcorr_model().apcorr_table
    assert {f.decode() for f in table["filter"]} == set(s3.AB_MINUS_VEGA)
    f200 = table[table["filter"] == b"F200W"]
    assert np.all(np.diff(f200["radius"]) > 0)
    assert np.all(np.diff(f200["apcorr"]) < 0)
    assert set(f200["skyin"]) == {s3.SKY_IN} and set(f200["skyout"]) == {s3.SKY_OUT}
    offsets = s3.abvegaoffset_model().abvega_offset
    assert dict(zip(offsets["filter"], offsets["abvega_offset"]))["F200W"] == 1.70
