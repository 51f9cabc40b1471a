"""The demo's APCORR/ABVEGAOFFSET references describe the demo's own stellar PSF."""

from __future__ import annotations

import numpy as np
import pytest

from webbflow.demo import stage3_references as s3
from webbflow.demo.sky import _moffat


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.7])
def test_aperture_radius_encloses_its_fraction_of_a_rendered_star(fraction):
    r = s3.ee_radius(fraction)
    step = 0.02
    g = np.arange(-60, 60, step) + step / 2
    x, y = np.meshgrid(g, g)
    image = _moffat(x, y, 1.0) * step * step
    inside = image[x * x + y * y <= r * r].sum()
    assert inside == pytest.approx(fraction, abs=2e-3)
    annulus = image[(x * x + y * y >= s3.SKY_IN**2) & (x * x + y * y <= s3.SKY_OUT**2)]
    background = annulus.sum() / annulus.size * (np.pi * r * r / (step * step))
    assert (inside - background) * s3.aperture_correction(r) == pytest.approx(1.0, abs=3e-3)


def test_tables_cover_every_demo_filter():
    table = s3.apcorr_model().apcorr_table
    assert {f.decode() for f in table["filter"]} == set(s3.AB_MINUS_VEGA)
    assert np.all(np.diff(table["radius"][table["filter"] == b"F200W"]) > 0)
    offsets = s3.abvegaoffset_model().abvega_offset
    assert dict(zip(offsets["filter"], offsets["abvega_offset"]))["F200W"] == 1.70
