"""Step and Pipeline: results, status keywords, references, skipping, naming of saved files."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import wf_test_steps as t
from astropy.io import fits
from wf_test_steps import make_rate

import webbflow
from webbflow import references
from webbflow.errors import ParameterError, ReferenceError_
from webbflow.stpipe import Step, naming

COLS = np.arange(5, dtype=np.float32)


def test_call_returns_result_and_leaves_input_alone():
    model = make_rate()
    before = model.data.copy()
    result = t.AddConstantStep.call(model, value=2.5)
    np.testing.assert_array_equal(result.data, before + 2.5)
    np.testing.assert_array_equal(model.data, before)
    assert model.meta.cal_step.dark_sub is None
    assert result.meta.cal_step.dark_sub == "COMPLETE"
    assert result.meta.calibration_software_version == f"webbflow-{webbflow.__version__}"
    # run() on an instance does the same
    step = t.AddConstantStep(value=-1.0, mode="subtract", columns=[0, 4])
    out = step.run(model)
    np.testing.assert_array_equal(out.data[0], [2, 2, 3, 4, 6])  # minus -1 on cols 0, 4
    np.testing.assert_array_equal(model.data, before)


def test_path_input_is_read_and_not_saved_by_default(rate_file, tmp_path):
    result = t.AddConstantStep.call(str(rate_file), value=1.0)
    np.testing.assert_array_equal(result.data[2], 2.0 + COLS)
    assert sorted(p.name for p in tmp_path.rglob("*.fits")) == ["jw01_nrca1_rate.fits"]


def test_skip_passes_through_and_records_skipped():
    model = make_rate()
    result = t.AddConstantStep.call(model, value=5.0, skip=True)
    np.testing.assert_array_equal(result.data, model.data)
    assert result.meta.cal_step.dark_sub == "SKIPPED"
    assert result is not model and model.meta.cal_step.dark_sub is None
    refused = t.AddConstantStep.call(model, refuse="yes")
    assert refused.meta.cal_step.dark_sub == "SKIPPED"
    np.testing.assert_array_equal(refused.data, model.data)


def test_attribute_access_and_validation():
    step = t.AddConstantStep(value="3")
    assert step.value == 3.0 and step.mode == "add" and step.save_results is False
    step.value = "4.5"
    assert step.params["value"] == 4.5
    with pytest.raises(ParameterError, match=r"add_constant\.value: expected a float"):
        step.value = "lots"
    with pytest.raises(ParameterError, match="did you mean 'value'"):
        t.AddConstantStep(valeu=1)
    with pytest.raises(ParameterError, match="hooks are not supported"):
        t.AddConstantStep.call(make_rate(), pre_hooks=["x.Step"])


def test_override_reference_and_keywords_written(gain_file, tmp_path, monkeypatch):
    monkeypatch.setattr(references, "context_in_use", lambda: "jwst_9001.pmap")
    monkeypatch.setattr(references, "crds_version", lambda: "14.0.3")
    result = t.ScaleStep.call(make_rate(), override_gain=str(gain_file), extra=0.5,
                              save_results=True, output_dir="out")
    np.testing.assert_array_equal(result.data[1], 1.0 + COLS)  # x 2.0 x 0.5
    saved = tmp_path / "out" / "jw01_nrca1_rate_scale.fits"
    hdr = fits.getheader(saved)
    assert hdr["S_GANSCL"] == "COMPLETE"
    assert hdr["R_GAIN"] == str(gain_file)
    assert hdr["CRDS_CTX"] == "jwst_9001.pmap"
    assert hdr["CRDS_VER"] == "14.0.3"
    assert hdr["CAL_VER"] == "webbflow-0.1.0"
    np.testing.assert_array_equal(fits.getdata(saved, "SCI")[0], 1.0 + COLS)


def test_crds_selected_reference_recorded_as_crds_url(gain_file, monkeypatch):
    calls = []

    def fake_get_reference(model, reftype):
        calls.append((model.meta.instrument.detector, reftype))
        return str(gain_file)

    monkeypatch.setattr(references, "get_reference", fake_get_reference)
    result = t.ScaleStep.call(make_rate())
    assert calls == [("NRCA1", "gain")]
    assert result.meta.ref_file.gain.name == "crds://gain_two.fits"
    np.testing.assert_array_equal(result.data[0], 2.0 * (1.0 + COLS))


def test_na_reference_skips_and_missing_override_is_one_line():
    result = t.ScaleStep.call(make_rate(), override_gain="N/A")
    assert result.meta.cal_step.gain_scale == "SKIPPED"
    assert result.meta.ref_file.gain.name == "N/A"
    with pytest.raises(ReferenceError_, match=r"^scale\.override_gain: nope\.fits: no such"):
        t.ScaleStep.call(make_rate(), override_gain="nope.fits")


def test_logging_messages(caplog):
    with caplog.at_level(logging.INFO, logger="webbflow"):
        t.AddConstantStep.call(make_rate())
    messages = [(r.name, r.getMessage()) for r in caplog.records]
    assert ("webbflow.add_constant",
            "Step add_constant running with args ('jw01_nrca1_rate.fits',).") in messages
    assert any(m.startswith("Step add_constant done (") and m.endswith(" s)")
               for _, m in messages)


# ---------------------------------------------------------------------- pipeline
def test_pipeline_runs_steps_with_nested_parameters(gain_file):
    model = make_rate()
    result = t.TwoStepPipeline.call(
        model, steps={"add_constant": {"value": 3.0},
                      "scale": {"override_gain": str(gain_file)}})
    np.testing.assert_array_equal(result.data[3], 2.0 * (4.0 + COLS))
    assert result.meta.cal_step.dark_sub == "COMPLETE"
    assert result.meta.cal_step.gain_scale == "COMPLETE"
    np.testing.assert_array_equal(model.data[3], 1.0 + COLS)
    pipe = t.TwoStepPipeline(steps={"scale": {"extra": "3"}})
    assert pipe.scale.extra == 3.0 and pipe.scale.parent is pipe
    assert pipe.add_constant.name == "add_constant"


def test_products_record_the_parameters_used(gain_file, tmp_path):
    """Each step's parameters (and the pipeline's) land in ``meta.webbflow.parameters``,
    in the ASDF tree of the saved product, where the official datamodels read them too."""
    result = t.TwoStepPipeline.call(
        make_rate(), steps={"add_constant": {"value": 3.0, "columns": [0, 4]},
                            "scale": {"override_gain": str(gain_file)}})
    rec = result.meta.webbflow.parameters
    assert rec.get("add_constant.value") == 3.0
    assert rec.get("add_constant.columns") == [0, 4]
    assert rec.get("scale.override_gain") == str(gain_file)
    assert rec.get("test_two_step.save_secondary") is False
    path = result.save(tmp_path / "x_cal.fits")
    stdm = pytest.importorskip("stdatamodels.jwst.datamodels")
    with stdm.open(path) as official:
        assert official.meta.instance["webbflow"]["parameters"]["add_constant"]["value"] == 3.0


def test_pipeline_unknown_step_is_one_line():
    with pytest.raises(ParameterError) as err:
        t.TwoStepPipeline.call(make_rate(), steps={"scael": {"extra": 2}})
    assert str(err.value) == ("unknown step 'scael' in pipeline 'test_two_step' "
                              "(did you mean 'scale'?)")
    with pytest.raises(ParameterError, match="unknown parameter 'extar' for step 'scale'"):
        t.TwoStepPipeline.call(make_rate(), steps={"scale": {"extar": 2}})


def test_pipeline_skip_step_in_pipeline():
    result = t.TwoStepPipeline.call(make_rate(), steps={"scale": {"skip": True},
                                                        "add_constant": {"value": 1}})
    np.testing.assert_array_equal(result.data[0], 2.0 + COLS)
    assert result.meta.cal_step.gain_scale == "SKIPPED"


# ---------------------------------------------------------------------- naming
def test_suffix_helpers():
    assert naming.remove_suffix("jw01_nrca1_uncal") == "jw01_nrca1"
    assert naming.remove_suffix("jw01_nrca1_uncal_dq_init") == "jw01_nrca1"
    assert naming.remove_suffix("rate") == "rate"
    assert naming.product_name("d/x_uncal.fits", "rate") == "x_rate.fits"
    assert naming.lone_step_name("x_uncal.fits", "dq_init") == "x_uncal_dq_init.fits"
    assert naming.product_name("x_uncal.fits", "rate", output_dir="o") == str(Path("o/x_rate.fits"))
    assert naming.output_file_name("out_rate.fits", suffix="rateints") == "out_rateints.fits"
    assert naming.output_file_name("out") == "out.fits"


def test_pipeline_and_intermediate_names(rate_file, gain_file, tmp_path):
    t.TwoStepPipeline.call(
        str(rate_file), save_results=True, output_dir="prod", save_secondary=True,
        steps={"add_constant": {"save_results": True, "output_dir": "inter"},
               "scale": {"override_gain": str(gain_file), "output_dir": "unused"}})
    names = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.fits"))
    assert names == ["gain_two.fits", "in/jw01_nrca1_rate.fits",
                     "inter/jw01_nrca1_add_constant.fits",
                     "prod/jw01_nrca1_cal.fits", "prod/jw01_nrca1_calints.fits"]
    final = fits.getdata(tmp_path / "prod/jw01_nrca1_cal.fits", "SCI")
    np.testing.assert_array_equal(final[0], 2.0 * (2.0 + COLS))
    inter = fits.getdata(tmp_path / "inter/jw01_nrca1_add_constant.fits", "SCI")
    np.testing.assert_array_equal(inter[0], 2.0 + COLS)


def test_step_output_file_and_suffix(rate_file, tmp_path):
    t.TwoStepPipeline.call(str(rate_file), output_file="final.fits",
                           steps={"add_constant": {"output_file": "dark_sub.fits"},
                                  "scale": {"override_gain": "N/A"}})
    assert (tmp_path / "final.fits").is_file()
    assert (tmp_path / "dark_sub.fits").is_file()
    t.AddConstantStep.call(str(rate_file), save_results=True, suffix="plus")
    assert (tmp_path / "jw01_nrca1_rate_plus.fits").is_file()
    hdr = fits.getheader(tmp_path / "final.fits")
    assert hdr["S_GANSCL"] == "SKIPPED" and hdr["R_GAIN"] == "N/A"


class _PairStep(Step):
    """Returns two models, like ramp_fit's (rate, rateints)."""

    class_alias = "pair"

    def process(self, model):
        other = model.copy()
        other.data += 1
        return model, other


def test_step_returning_several_models_saves_indexed_names(tmp_path):
    first, second = _PairStep.call(make_rate(), save_results=True)
    assert first.meta.cal_step.get("pair") == "COMPLETE" == second.meta.cal_step.get("pair")
    assert sorted(p.name for p in tmp_path.glob("*.fits")) == [
        "jw01_nrca1_rate_0_pair.fits", "jw01_nrca1_rate_1_pair.fits"]
    np.testing.assert_array_equal(
        fits.getdata(tmp_path / "jw01_nrca1_rate_1_pair.fits", "SCI")[0], 2.0 + COLS)
