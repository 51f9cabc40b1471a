"""Parameter files: legacy .cfg and official-layout ASDF, reading, writing, round trips."""

from __future__ import annotations

import numpy as np
import pytest
import wf_test_steps as t
from wf_test_steps import make_rate

from webbflow.errors import InputError, ParameterError
from webbflow.stpipe.config_files import (
    cfg_text,
    read_asdf,
    read_cfg,
    read_cfg_text,
    read_parameter_file,
    write_asdf,
    write_cfg,
)

COLS = np.arange(5, dtype=np.float32)

SEED_STYLE = """\
name = "Detector1Pipeline"   # as in the documentation
class = "jwst.pipeline.Detector1Pipeline"
save_results = True

    [steps]
      [[dark_current]]
        config_file = my_dark_current.cfg
        output_file = 'dark_sub.fits'
      [[persistence]]
        skip = True
      [[jump]]
        rejection_threshold = 5.5
        flag_list = 1, 2, 'a,b'
"""


def test_cfg_syntax_sections_comments_lists(tmp_path):
    (tmp_path / "my_dark_current.cfg").write_text(
        'name = "dark_current"\nclass = "jwst.dark_current.DarkCurrentStep"\n'
        "override_dark = 'my_dark.fits'\noutput_file = 'ignored.fits'\n")
    path = tmp_path / "calwebb_detector1.cfg"
    path.write_text(SEED_STYLE)
    pf = read_cfg(path)
    assert pf.class_name == "jwst.pipeline.Detector1Pipeline"
    assert pf.name == "Detector1Pipeline"
    assert pf.parameters == {"save_results": "True"}
    assert pf.steps["dark_current"] == {"override_dark": "my_dark.fits",
                                        "output_file": "dark_sub.fits"}
    assert pf.steps["persistence"] == {"skip": "True"}
    assert pf.steps["jump"] == {"rejection_threshold": "5.5", "flag_list": ["1", "2", "a,b"]}


@pytest.mark.parametrize(("text", "message"), [
    ("value 3\n", "line 1: expected 'key = value'"),
    ("[steps\n", "line 1: malformed section header"),
    ("[[x]]\n", "nested too deeply"),
    ("a = 'open\n", "unterminated quoted value"),
])
def test_cfg_syntax_errors_are_one_line(text, message):
    with pytest.raises(ParameterError, match=message) as err:
        read_cfg_text(text, "bad.cfg")
    assert "\n" not in str(err.value) and str(err.value).startswith("bad.cfg, line")


def test_missing_parameter_file():
    with pytest.raises(InputError, match=r"nope\.cfg: no such parameter file"):
        read_parameter_file("nope.cfg")


def test_pipeline_cfg_with_skip_and_step_config_file(tmp_path, gain_file):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "my_add.cfg").write_text(
        'name = "add_constant"\nclass = "wf_test_steps.AddConstantStep"\nvalue = 10\n'
        "columns = 1, 2\n")
    cfg = tmp_path / "sub" / "pipe.cfg"
    cfg.write_text(f'class = "wf_test_steps.TwoStepPipeline"\n[steps]\n[[add_constant]]\n'
                   f"config_file = my_add.cfg\nmode = subtract\n[[scale]]\nskip = True\n"
                   f"override_gain = {gain_file}\n")
    out = t.TwoStepPipeline.call(make_rate(), config_file=str(cfg))
    np.testing.assert_array_equal(out.data[0], [1, -8, -7, 4, 5])
    assert out.meta.cal_step.gain_scale == "SKIPPED"


def test_cfg_round_trip(tmp_path):
    pipe = t.TwoStepPipeline(save_secondary=True,
                             steps={"add_constant": {"value": 2.5, "columns": [1, 3],
                                                     "mode": "subtract"},
                                    "scale": {"skip": True, "override_gain": "N/A"}})
    path = write_cfg(tmp_path / "two.cfg", pipe)
    text = path.read_text()
    assert 'class = "wf_test_steps.TwoStepPipeline"' in text
    assert "value = 2.5  # Constant added to SCI (DN/s)" in text
    again = t.TwoStepPipeline(**t.TwoStepPipeline.build_config(config_file=path))
    assert again.get_parameters() == pipe.get_parameters()
    assert again.scale.skip is True and again.add_constant.columns == [1, 3]
    assert again.add_constant.output_file is None and again.pre_hooks == []


def test_asdf_round_trip_official_layout(tmp_path):
    pipe = t.TwoStepPipeline(output_dir="products",
                             steps={"add_constant": {"value": -4.0, "columns": [0]},
                                    "scale": {"skip": True}})
    path = write_asdf(tmp_path / "two.asdf", pipe)
    import asdf

    with asdf.open(path) as af:
        assert af.tree["class"] == "wf_test_steps.TwoStepPipeline"
        assert af.tree["name"] == "TwoStepPipeline"
        assert af.tree["parameters"]["output_dir"] == "products"
        assert [s["name"] for s in af.tree["steps"]] == ["add_constant", "scale"]
        assert af.tree["steps"][0]["parameters"]["value"] == -4.0
        assert af.tree["meta"]["reftype"] == "<SPECIFY>"
    pf = read_asdf(path)
    assert pf.steps["scale"]["skip"] is True
    again = t.TwoStepPipeline(**t.TwoStepPipeline.build_config(config_file=path))
    assert again.get_parameters() == pipe.get_parameters()
    out = t.TwoStepPipeline.call(make_rate(), config_file=path)
    np.testing.assert_array_equal(out.data[0], [-3, 2, 3, 4, 5])


def test_class_cfg_text_lists_defaults():
    text = cfg_text(t.AddConstantStep)
    assert text.splitlines()[:2] == ['name = "add_constant"',
                                     'class = "wf_test_steps.AddConstantStep"']
    assert "value = 1.0  # Constant added to SCI (DN/s)" in text
    assert "columns = None" in text and "skip = False" in text
    assert read_cfg_text(text)["mode"] == "add"
