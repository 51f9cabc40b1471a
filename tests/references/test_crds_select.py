"""Reference selection through crds against a local cache (no server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ref_helpers import science

from webbflow.errors import ReferenceError_
from webbflow.references import (
    configure,
    context_in_use,
    crds_version,
    get_parameter_reference,
    get_reference,
)


def _name(path: str) -> str:
    return Path(path).name


def test_picks_file_by_detector(crds_cache):
    assert _name(get_reference(science("NRCA1"), "mask")) == "test_mask_a1_new.fits"
    assert _name(get_reference(science("NRCB1", "SUB320"), "mask")) == "test_mask_b1.fits"


def test_returned_path_is_in_the_cache(crds_cache):
    path = Path(get_reference(science(), "mask"))
    assert path.parent == crds_cache / "references" / "jwst" / "nircam"
    assert path.is_file()


def test_picks_file_by_useafter_date(crds_cache):
    assert _name(get_reference(science(date="2022-06-01"), "mask")) == "test_mask_a1_old.fits"
    assert _name(get_reference(science(date="2023-01-02"), "mask")) == "test_mask_a1_new.fits"


def test_picks_file_by_subarray(crds_cache):
    assert _name(get_reference(science(subarray="SUB640"), "dark")) == "test_dark_a1.fits"


def test_unknown_subarray_is_one_line_naming_reftype_keywords_context(crds_cache):
    configure(context="jwst_9001.pmap", crds_path=str(crds_cache))
    with pytest.raises(ReferenceError_) as info:
        get_reference(science(subarray="SUB320"), "dark")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg == ("no dark reference for NIRCAM NRCA1 SUBARRAY=SUB320 in context "
                   "jwst_9001.pmap: no rule matches SUBARRAY='SUB320'")


def test_date_before_every_useafter_is_explained(crds_cache):
    with pytest.raises(ReferenceError_, match="no file has USEAFTER before 2021-01-01"):
        get_reference(science(date="2021-01-01"), "mask")


def test_not_applicable_reftype_gives_na(crds_cache):
    assert get_reference(science(), "flat") == "N/A"
    assert get_reference(science(), "pars-rampfitstep") == "N/A"


def test_unknown_reftype_is_one_line(crds_cache):
    with pytest.raises(ReferenceError_, match="context has no rules for reftype 'nosuch'"):
        get_reference(science(), "nosuch")


def test_unknown_instrument_is_one_line(crds_cache):
    with pytest.raises(ReferenceError_, match="no rules for instrument 'MIRI'"):
        get_reference(science(instrument="MIRI", detector="MIRIMAGE"), "mask")


def test_missing_reference_file_is_one_line(crds_cache):
    (crds_cache / "references" / "jwst" / "nircam" / "test_mask_b1.fits").unlink()
    with pytest.raises(ReferenceError_, match="missing from the CRDS cache") as info:
        get_reference(science("NRCB1"), "mask")
    assert "no mask reference for NIRCAM NRCB1" in str(info.value)


def test_environment_context_beats_configured(crds_cache, monkeypatch):
    configure(context="jwst_9001.pmap", crds_path=str(crds_cache))
    assert context_in_use() == "jwst_9001.pmap"
    assert _name(get_reference(science(), "gain")) == "test_gain_v1.fits"
    monkeypatch.setenv("CRDS_CONTEXT", "jwst_9002.pmap")
    assert context_in_use() == "jwst_9002.pmap"
    assert _name(get_reference(science(), "gain")) == "test_gain_v2.fits"


def test_operational_context_of_cache_when_nothing_pinned(crds_cache):
    configure(crds_path=str(crds_cache))
    assert context_in_use() == "jwst_9002.pmap"  # the context built last


def test_no_context_anywhere_is_one_line(tmp_path, crds_cache):
    configure(crds_path=str(tmp_path / "empty"))
    with pytest.raises(ReferenceError_, match="no CRDS context"):
        context_in_use()


def test_answers_are_cached(crds_cache, monkeypatch):
    first = get_reference(science(), "mask")
    import crds

    def boom(*args, **kwargs):
        raise AssertionError("crds asked again")

    monkeypatch.setattr(crds, "getreferences", boom)
    assert get_reference(science(), "mask") == first


def test_parameter_reference(crds_cache, monkeypatch):
    path = get_parameter_reference(science(), "JumpStep")
    assert _name(path) == "test_pars-jumpstep.asdf"
    assert get_parameter_reference(science(), "jwst.ramp_fitting.RampFitStep") is None
    assert get_parameter_reference(science(), "NoSuchStep") is None
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "true")
    assert get_parameter_reference(science(), "JumpStep") is None


def test_crds_version_is_the_library_version():
    import crds

    assert crds_version() == crds.__version__


def test_one_selection_per_reftype_whatever_the_steps_record(crds_cache, monkeypatch):
    """Status and R_* keywords change between steps; the answer is reused (one crds call)."""
    from webbflow.references import crds_select

    calls = []
    real = crds_select._select
    monkeypatch.setattr(crds_select, "_select",
                        lambda *a: calls.append(a[1]) or real(*a))
    model = science()
    first = get_reference(model, "mask")
    model.meta.cal_step.dq_init = "COMPLETE"
    model.meta.ref_file.mask.name = "crds://x.fits"
    assert get_reference(model, "mask") == first
    assert calls == ["mask"]
    model.meta.subarray.name = "SUB640"  # a selection keyword: asked again
    get_reference(model, "mask")
    assert calls == ["mask", "mask"]


def test_crds_version_without_importing_crds_when_uncached():
    import importlib.metadata

    assert crds_version() == importlib.metadata.version("crds")
