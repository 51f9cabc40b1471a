"""Parameter precedence: defaults < CRDS pars-* reference < parameter file < keywords."""

from __future__ import annotations

import numpy as np
import pytest
import wf_test_steps as t
import yaml
from wf_test_steps import make_rate

from webbflow import references

COLS = np.arange(5, dtype=np.float32)


def _pars_file(path, cls_path, params, steps=None):
    """A pars-* reference in the official ASDF layout (YAML written directly: no asdf
    extension loading, and it exercises the tag-tolerant reader)."""
    tree = {"class": cls_path, "name": cls_path.rsplit(".", 1)[1],
            "meta": {"reftype": "pars-" + cls_path.rsplit(".", 1)[1].lower(),
                     "instrument": {"name": "NIRCAM"}},
            "parameters": params}
    if steps:
        tree["steps"] = steps
    body = yaml.safe_dump(tree, sort_keys=False)
    path.write_text("#ASDF 1.0.0\n#ASDF_STANDARD 1.5.0\n%YAML 1.1\n%TAG ! tag:stsci.edu:asdf/\n"
                    "--- !core/asdf-1.1.0\nasdf_library: !core/software-1.0.0 {name: asdf, "
                    "version: 3.0.0}\n" + body + "...\n")
    return str(path)


@pytest.fixture
def fake_crds(monkeypatch, tmp_path):
    """CRDS pars-* references: pars-addconstantstep and pars-twosteppipeline."""
    files = {
        "AddConstantStep": _pars_file(
            tmp_path / "jwst_nircam_pars-addconstantstep_0001.asdf",
            "wf_test_steps.AddConstantStep",
            {"value": 2.0, "columns": [0], "official_only_param": 7}),
        "TwoStepPipeline": _pars_file(
            tmp_path / "jwst_nircam_pars-twosteppipeline_0001.asdf",
            "wf_test_steps.TwoStepPipeline", {"save_secondary": False},
            [{"class": "wf_test_steps.AddConstantStep", "name": "add_constant",
              "parameters": {"value": 9.0, "mode": "subtract"}},
             {"class": "wf_test_steps.ScaleStep", "name": "scale",
              "parameters": {"override_gain": "N/A"}}]),
    }
    asked = []

    def lookup(model, class_name):
        asked.append(class_name)
        return files.get(class_name)

    monkeypatch.setattr(references, "get_parameter_reference", lookup)
    return asked


def test_full_chain_for_a_step(fake_crds, tmp_path):
    model = make_rate()
    # defaults only (lookups disabled): +1 everywhere
    cfg = tmp_path / "add.cfg"
    cfg.write_text('name = "add_constant"\nclass = "wf_test_steps.AddConstantStep"\n'
                   "value = 3.0   # beats CRDS\n")
    # CRDS only: value 2 on column 0
    out = t.AddConstantStep.call(model)
    np.testing.assert_array_equal(out.data[0], [3, 2, 3, 4, 5])
    assert fake_crds == ["AddConstantStep"]
    # CRDS < config file: value 3, columns still from CRDS
    out = t.AddConstantStep.call(model, config_file=cfg)
    np.testing.assert_array_equal(out.data[0], [4, 2, 3, 4, 5])
    # config file < keywords
    out = t.AddConstantStep.call(model, config_file=cfg, value=4.0, columns="0, 1")
    np.testing.assert_array_equal(out.data[0], [5, 6, 3, 4, 5])


@pytest.mark.parametrize(("value", "disabled"), [("true", True), ("Y", True), ("1", False)])
def test_env_disables_crds_pars_as_officially(fake_crds, monkeypatch, value, disabled):
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", value)
    out = t.AddConstantStep.call(make_rate())
    expected = [2, 3, 4, 5, 6] if disabled else [3, 2, 3, 4, 5]
    np.testing.assert_array_equal(out.data[0], expected)
    assert fake_crds == ([] if disabled else ["AddConstantStep"])


def test_pipeline_chain_step_pars_win_over_pipeline_pars(fake_crds, tmp_path):
    model = make_rate()
    out = t.TwoStepPipeline.call(model)
    # step's own pars (value 2 on column 0) overrides pipeline pars (value 9, subtract)
    # for the keys it sets; mode=subtract from the pipeline pars remains.
    np.testing.assert_array_equal(out.data[0], [-1, 2, 3, 4, 5])
    assert out.meta.cal_step.gain_scale == "SKIPPED"
    assert fake_crds == ["TwoStepPipeline", "AddConstantStep", "ScaleStep"]
    cfg = tmp_path / "pipe.cfg"
    cfg.write_text('class = "wf_test_steps.TwoStepPipeline"\n[steps]\n  [[add_constant]]\n'
                   "    mode = add\n")
    out = t.TwoStepPipeline.call(model, config_file=cfg)
    np.testing.assert_array_equal(out.data[0], [3, 2, 3, 4, 5])
    out = t.TwoStepPipeline.call(model, config_file=cfg,
                                 steps={"add_constant": {"columns": None, "value": 0.5}})
    np.testing.assert_array_equal(out.data[0], 1.5 + COLS)
