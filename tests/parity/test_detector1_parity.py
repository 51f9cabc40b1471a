"""Acceptance of stage 1: webbflow's Detector1 gives the official pipeline's answers.

On a small demo exposure (NIRCam SUB320, 2 integrations x 8 MEDIUM8 groups, cosmic rays), with
the same reference files on both sides:

* the whole pipeline: rate and rateints agree on SCI (within 1 % of the official ERR), ERR
  (within 1 %) for >= 99.9 % of the pixels the official pipeline calls good, and DQ for >= 99.9 %
  of all pixels;
* each step alone, fed the official product of the step before (so a failure points at that
  step): SCI within 0.01 DN, PIXELDQ and GROUPDQ identical for >= 99.9 %; ramp_fit alone on the
  official calibrated ramp, with the rate rule;
* the oracle did real work at every step (a step that silently does nothing officially — e.g.
  refpix when reference pixels are DO_NOT_USE, PARITY.md — would make its comparison vacuous).

The measured fractions are in every assertion message (see ``compare.py``).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from astropy.io import fits
from compare import DO_NOT_USE, Agreement, ramp_agreement, rate_agreement
from parity_support import STEP_CHAIN, our_overrides

from webbflow import catalog

SATURATED, JUMP_DET = 2, 4  # official groupdq bits
REFERENCE_PIXEL = 2147483648  # official pixeldq bit

#: least fraction of samples each official correction must change by > 0.01 DN (linearity
#: moves only the brighter samples by that much)
_MIN_CHANGED = {"ipc": 0.5, "superbias": 0.5, "refpix": 0.5, "linearity": 0.002,
                "dark_current": 0.5}

#: the official jump test: webbflow's default ``noise_aware=True`` is a deliberate difference
#: (fewer false jumps, see webbflow.kernels.jump_noise); parity is checked without it
OFFICIAL_STEP_PARAMS: dict[str, dict[str, object]] = {"jump": {"noise_aware": False}}

_EXT = {"data": "SCI", "err": "ERR", "dq": "DQ", "pixeldq": "PIXELDQ", "groupdq": "GROUPDQ"}


def load(path: Path) -> SimpleNamespace:
    """The arrays of a product read with astropy alone (independent of our datamodels)."""
    arrays = {}
    with fits.open(path) as hdul:
        for attr, ext in _EXT.items():
            if ext in hdul and hdul[ext].data is not None:
                arrays[attr] = np.array(hdul[ext].data)
    return SimpleNamespace(**arrays)


def assert_agrees(agreement: Agreement) -> None:
    """Fail with every measured fraction when one check is below 99.9 %."""
    failing = agreement.failing()
    assert not failing, f"{', '.join(failing)} below 99.9 %\n{agreement.report()}"
    print(agreement.report())


def _previous_product(official, step: str, uncal: Path) -> Path:
    """The official product the step ``step`` received (the last saved step before it)."""
    before = STEP_CHAIN[:STEP_CHAIN.index(step)]
    for name in reversed(before):
        if name in official:
            return official[name]
    return uncal


def _official_product(official, step: str) -> Path:
    if step not in official:
        pytest.fail(f"the official pipeline saved no {step} product (skipped? see "
                    f"{official.log})", pytrace=False)
    return official[step]


@pytest.fixture(scope="session")
def our_detector1(crds_env, tmp_path_factory) -> dict[str, Path]:
    """Our Detector1 on the parity exposure with the same references and the official jump
    test (overrides the conftest fixture of the same name): ``{suffix: Path}``."""
    out = tmp_path_factory.mktemp("our_detector1_official_jump")
    pipeline = catalog.resolve("calwebb_detector1")
    steps = {name: {**our_overrides(cls, crds_env.reference_files),
                    **OFFICIAL_STEP_PARAMS.get(name, {})}
             for name, cls in pipeline.step_defs.items()}
    pipeline.call(str(crds_env.uncal), output_dir=str(out), save_results=True, steps=steps,
                  save_calibrated_ramp=True)
    root = crds_env.uncal.name.removesuffix("_uncal.fits")
    return {suffix: out / f"{root}_{suffix}.fits" for suffix in ("rate", "rateints", "ramp")}


# ----------------------------------------------------------------------------- whole pipeline
@pytest.mark.parametrize("product", ["rate", "rateints"])
def test_detector1_matches_official(product, our_detector1, official_detector1):
    ours, theirs = load(our_detector1[product]), load(official_detector1[product])
    assert_agrees(rate_agreement(f"calwebb_detector1 {product}", ours, theirs))


def test_detector1_calibrated_ramp_matches_official(our_detector1, official_detector1):
    ours, theirs = load(our_detector1["ramp"]), load(official_detector1["ramp"])
    assert_agrees(ramp_agreement("calwebb_detector1 ramp", ours, theirs))


# ----------------------------------------------------------------------------- single steps
@pytest.mark.parametrize("step", STEP_CHAIN)
def test_step_matches_official(step, crds_env, official_detector1):
    """Our step on the official input of that step gives the official output."""
    theirs_path = _official_product(official_detector1, step)
    source = _previous_product(official_detector1, step, crds_env.uncal)
    step_cls = catalog.resolve(step)
    ours = step_cls.call(str(source), **our_overrides(step_cls, crds_env.reference_files),
                         **OFFICIAL_STEP_PARAMS.get(step, {}))
    assert_agrees(ramp_agreement(f"{step} (input {source.name})", ours, load(theirs_path)))


@pytest.mark.parametrize("product", ["rate", "rateints"])
def test_ramp_fit_matches_official(product, crds_env, official_detector1):
    """Our ramp_fit on the official calibrated ramp gives the official rate/rateints."""
    step_cls = catalog.resolve("ramp_fit")
    rate, rateints = step_cls.call(str(official_detector1["ramp"]),
                                   **our_overrides(step_cls, crds_env.reference_files))
    ours = rate if product == "rate" else rateints
    assert_agrees(rate_agreement(f"ramp_fit {product}", ours, load(official_detector1[product])))


# ----------------------------------------------------------------------------- the oracle itself
@pytest.mark.parametrize("step", STEP_CHAIN)
def test_official_step_did_work(step, crds_env, official_detector1):
    """Each official step changed something, so its comparison above is not vacuous."""
    after = load(_official_product(official_detector1, step))
    if step == "dq_init":
        assert np.count_nonzero(after.pixeldq & DO_NOT_USE) > 0, "no bad pixel flagged"
        return
    before = load(_previous_product(official_detector1, step, crds_env.uncal))
    if step == "saturation":
        assert np.count_nonzero(after.groupdq & SATURATED) > 0, "no saturated group"
    elif step == "jump":
        assert np.count_nonzero(after.groupdq & JUMP_DET) > 0, "no jump flagged"
    else:
        changed = np.abs(after.data - before.data) > 0.01
        assert changed.mean() > _MIN_CHANGED[step], (
            f"official {step} changed only {100 * changed.mean():.3f} % of the samples")


def test_reference_pixels_usable(official_detector1):
    """Reference pixels are not DO_NOT_USE: officially refpix would silently do nothing."""
    pixeldq = load(official_detector1["dq_init"]).pixeldq
    ref = (pixeldq & REFERENCE_PIXEL) != 0
    assert ref.sum() > 0, "no REFERENCE_PIXEL in the mask"
    assert np.count_nonzero(pixeldq[ref] & DO_NOT_USE) == 0
