"""A tiny local CRDS cache with two contexts, built with ``build_cache``."""

from __future__ import annotations

import numpy as np
import pytest
from ref_helpers import DET, SUB, make_gain, make_mask, ref_meta

from webbflow.references import RefEntry, build_cache, crds_select
from webbflow.references import models as M


@pytest.fixture
def crds_cache(tmp_path, monkeypatch):
    """Cache with contexts jwst_9001.pmap and jwst_9002.pmap (gain differs); returns its root.

    jwst_9001: mask NRCA1 FULL|SUB640 (useafter 2022-01-01 -> a1_old, 2023-01-01 -> a1_new),
    mask NRCB1 any subarray, dark NRCA1 FULL|SUB640, gain (no selection keys) -> gain_v1,
    pars-jumpstep -> a parameter file. jwst_9002: the same with gain -> gain_v2.
    """
    src = tmp_path / "src"
    src.mkdir()
    dark = M.DarkModel(np.zeros((3, 8, 8), dtype=np.float32))
    ref_meta(dark, "dark")
    dark.save(src / "test_dark_a1.fits")
    pars = src / "test_pars-jumpstep.asdf"
    import asdf

    asdf.AsdfFile({"class": "jwst.jump.jump_step.JumpStep", "name": "jump",
                   "parameters": {"rejection_threshold": 5.0}}).write_to(pars)
    common = [
        RefEntry("NIRCAM", "mask", make_mask(src / "test_mask_a1_old.fits", "NRCA1", 1),
                 {DET: "NRCA1", SUB: "FULL|SUB640"}),
        RefEntry("NIRCAM", "mask", make_mask(src / "test_mask_a1_new.fits", "NRCA1", 2),
                 {DET: "NRCA1", SUB: "FULL|SUB640"}, useafter="2023-01-01 00:00:00"),
        RefEntry("NIRCAM", "mask", make_mask(src / "test_mask_b1.fits", "NRCB1", 3),
                 {DET: "NRCB1"}),
        RefEntry("NIRCAM", "dark", src / "test_dark_a1.fits", {DET: "NRCA1", SUB: "FULL|SUB640"}),
        RefEntry("NIRCAM", "pars-jumpstep", pars, {DET: "NRCA1|NRCB1"}),
    ]
    cache = tmp_path / "crds_cache"
    build_cache(cache, "jwst_9001.pmap",
                [*common, RefEntry("NIRCAM", "gain",
                                   make_gain(src / "test_gain_v1.fits", 1.0), {})],
                {"NIRCAM": ["NRC_IMAGE"]})
    build_cache(cache, "jwst_9002.pmap",
                [*common, RefEntry("NIRCAM", "gain",
                                   make_gain(src / "test_gain_v2.fits", 2.0), {})],
                {"NIRCAM": ["NRC_IMAGE"]})
    for var in ("CRDS_CONTEXT", "CRDS_SERVER_URL", "CRDS_IGNORE_MAPPING_CHECKSUM",
                "STPIPE_DISABLE_CRDS_STEPPARS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CRDS_PATH", str(cache))
    saved = dict(crds_select._CONFIG)
    crds_select.configure(crds_path=str(cache))
    yield cache
    crds_select._CONFIG.update(saved)
    crds_select._forget()
