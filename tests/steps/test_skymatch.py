"""skymatch on overlapping simulated exposures with known sky levels."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "align"))
from align_sim import make_field

from webbflow.steps.skymatch import SkyMatchStep, bad_pixel_bits

SKIES = np.array([1.0, 1.3, 0.8, 1.15])  # MJy/sr


@pytest.fixture(scope="module")
def field():
    return make_field(n_exp=4, n_stars=250, sky_levels=list(SKIES), shift_err=0.0,
                      rot_err=0.0, dither=5.0, seed=5)


@pytest.mark.parametrize("method,expected", [
    ("global", np.full(4, SKIES.min())),
    ("match", SKIES - SKIES.min()),
    ("global+match", SKIES),
    ("local", SKIES),
])
def test_sky_levels_recovered(field, method, expected):
    out = SkyMatchStep.call(field.models, skymethod=method)
    levels = np.array([m.meta.background.level for m in out])
    rel = np.abs(levels - expected) / SKIES
    print(f"{method}: levels {np.round(levels, 5)}, max error {rel.max():.2e} of the sky")
    assert rel.max() < 1e-3
    assert all(m.meta.background.method == method for m in out)
    assert all(m.meta.cal_step.skymatch == "COMPLETE" for m in out)
    assert not any(m.meta.background.subtracted for m in out)
    np.testing.assert_array_equal(out[1].data, field.models[1].data)


def test_match_up_and_subtract(field):
    out = SkyMatchStep.call(field.models, skymethod="match", match_down=False, subtract=True)
    levels = np.array([m.meta.background.level for m in out])
    assert np.all(np.abs(levels - (SKIES - SKIES.max())) < 1e-3)
    assert out[0].meta.background.subtracted is True
    diff = field.models[0].data - out[0].data
    assert np.allclose(diff, levels[0], atol=1e-5)
    # running again on subtracted data adds the old level back first: same answer
    again = SkyMatchStep.call(out, skymethod="match", match_down=False, subtract=True)
    assert np.allclose([m.meta.background.level for m in again], levels, atol=1e-4)
    assert np.allclose(again[0].data, out[0].data, atol=1e-4)


def test_user_skylist_and_dqbits(field, tmp_path):
    sky = tmp_path / "sky.txt"
    sky.write_text("".join(f"{m.meta.filename} {v}\n" for m, v in zip(field.models, SKIES,
                                                                       strict=True)))
    out = SkyMatchStep.call(field.models, skymethod="user", skylist=str(sky), subtract=True)
    assert [m.meta.background.level for m in out] == list(SKIES)
    assert bad_pixel_bits("~DO_NOT_USE+NON_SCIENCE") == 1 | 512
    assert bad_pixel_bits("None") is None
    assert bad_pixel_bits("0") == 0xFFFFFFFF


def test_streamed_file_inputs_give_the_in_memory_levels(field, tmp_path, monkeypatch):
    """in_memory=False with paths: same levels, written to <root>_skymatch.fits, and never
    more than one exposure open at a time."""
    import weakref

    import webbflow.align.exposure as ex

    paths = [str(m.save(tmp_path / f"jw0000100100{k}_01101_00001_nrca1_cal.fits"))
             for k, m in enumerate(field.models)]
    live = {"now": 0, "most": 0}

    def counted(real):
        def wrapper(*args):
            model = real(*args)
            live["now"] += 1
            live["most"] = max(live["most"], live["now"])
            weakref.finalize(model, lambda: live.__setitem__("now", live["now"] - 1))
            return model
        return wrapper

    # every model holding an exposure's pixels comes from one of these two readers
    monkeypatch.setattr(ex, "open_model", counted(ex.open_model))
    monkeypatch.setattr(ex.Exposure, "_read_arrays", counted(ex.Exposure._read_arrays))
    out = SkyMatchStep.call(paths, skymethod="global+match", in_memory=False,
                            output_dir=str(tmp_path / "out"))
    assert all(isinstance(p, str) and p.endswith("_skymatch.fits") for p in out)
    assert live["most"] == 1
    ref = SkyMatchStep.call(field.models, skymethod="global+match")
    from webbflow.datamodels import open as open_model

    got = [open_model(p).meta.background.level for p in out]
    np.testing.assert_allclose(got, [m.meta.background.level for m in ref], rtol=1e-9)
    np.testing.assert_allclose(got, SKIES, rtol=1e-3)
