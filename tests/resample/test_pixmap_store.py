"""PixmapStore: maps kept in memory or spilled to files, found again only for the same
input WCS object, input shape, grid and interpolation settings; the resampled mosaic is the
same with a store as without."""

from __future__ import annotations

import os

import numpy as np
from resample_synth import gaussians, make_image, make_wcs

from webbflow.kernels.drizzle import pixmap_extent
from webbflow.resample import DrizzleOptions, resample_inputs
from webbflow.resample.grid import build_grid
from webbflow.resample.pixmap import footprint, pixel_map
from webbflow.resample.pixmap_store import PixmapStore

SHAPE = (60, 70)


def _maps():
    w_in = make_wcs(SHAPE, pa=3.0)
    grid = build_grid([footprint(w_in, SHAPE)], w_in, SHAPE)
    return w_in, grid, pixel_map(w_in, grid.wcs, SHAPE)


def test_store_in_memory_and_spilled_to_files(tmp_path) -> None:
    w_in, grid, pm = _maps()
    args = (w_in, SHAPE, grid.wcs, grid.shape, 1.0, 1)
    for budget in (10**9, 0):  # held in memory / written to a file
        store = PixmapStore(in_memory=False, directory=str(tmp_path), memory_budget=budget)
        assert store.get(*args) is None
        store.put(*args, pm)
        got = store.get(*args)
        np.testing.assert_array_equal(got, pm)
        spilled = [p for p in tmp_path.iterdir() if p.name.startswith("webbflow_pixmaps_")]
        assert len(spilled) == (0 if budget else 1)
        # another WCS object with the same numbers, another grid or order: misses
        assert store.get(make_wcs(SHAPE, pa=3.0), *args[1:]) is None
        assert store.get(w_in, SHAPE, make_wcs((80, 90)), (80, 90), 1.0, 1) is None
        assert store.get(w_in, SHAPE, grid.wcs, grid.shape, 1.0, 3) is None
        store.close()
        assert store.get(*args) is None
        assert not [p for p in tmp_path.iterdir() if p.name.startswith("webbflow_pixmaps_")]


def test_resample_with_store_reuses_maps_and_gives_the_same_mosaic(tmp_path) -> None:
    w_in = make_wcs(SHAPE, pa=2.0)
    img = make_image(gaussians(SHAPE, [(30.0, 25.0, 50.0)]), w_in)
    plain = resample_inputs([img], DrizzleOptions())
    store = PixmapStore(in_memory=False, directory=str(tmp_path), memory_budget=0)
    first = resample_inputs([img], DrizzleOptions(), pixmap_store=store)
    files = os.listdir(next(tmp_path.iterdir()))
    second = resample_inputs([img], DrizzleOptions(), pixmap_store=store)
    assert os.listdir(next(tmp_path.iterdir())) == files and len(files) == 1  # reused
    for out in (first, second):
        for name in ("data", "wht", "err", "var_rnoise"):
            np.testing.assert_array_equal(getattr(out, name), getattr(plain, name))
    store.close()


def test_pixmap_extent_ignores_nan() -> None:
    pm = np.full((3, 4, 2), np.nan)
    ext = np.empty(4)
    assert not pixmap_extent(pm, ext)
    pm[1, 2] = (5.5, -2.0)
    pm[2, 0] = (-1.25, 7.0)
    assert pixmap_extent(pm, ext)
    np.testing.assert_array_equal(ext, [-1.25, 5.5, -2.0, 7.0])
