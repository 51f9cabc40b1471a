"""Parameter specs: parsing from text and Python values, ranges, options, error lines."""

from __future__ import annotations

import pytest

from webbflow.errors import ParameterError
from webbflow.stpipe.params import Param, format_value, parse_bool, validate_mapping


@pytest.mark.parametrize(("text", "expected"), [
    ("True", True), ("true", True), ("yes", True), ("1", True), ("t", True),
    ("False", False), ("no", False), ("0", False), (True, True), (0, False)])
def test_booleans(text, expected):
    assert Param("boolean", False).parse(text, "s.b") is expected


def test_bool_rejects_other_text():
    assert parse_bool("maybe") is None
    with pytest.raises(ParameterError, match=r"^s\.b: expected a boolean, got 'maybe'$"):
        Param("boolean", False).parse("maybe", "s.b")


def test_float_error_line_matches_official_form():
    with pytest.raises(ParameterError) as err:
        Param("float", 4.0).parse("abc", "jump.rejection_threshold")
    assert str(err.value) == "jump.rejection_threshold: expected a float, got 'abc'"


def test_numbers_and_ranges():
    p = Param("float", 4.0, min=0.0, max=10.0)
    assert p.parse("4.5", "j.r") == 4.5
    assert p.parse(3, "j.r") == 3.0
    with pytest.raises(ParameterError, match=r"below the minimum 0\.0"):
        p.parse("-1", "j.r")
    with pytest.raises(ParameterError, match=r"above the maximum 10\.0"):
        p.parse(11, "j.r")
    i = Param("integer", 1, min=1)
    assert i.parse("7", "s.n") == 7
    assert i.parse(7.0, "s.n") == 7
    for bad in ("7.5", 7.5, True, "x"):
        with pytest.raises(ParameterError, match="expected an integer"):
            i.parse(bad, "s.n")


def test_none_handling():
    assert Param("float", None).parse("None", "s.x") is None
    assert Param("path", None).parse(None, "s.p") is None
    with pytest.raises(ParameterError, match="expected a float, got None"):
        Param("float", 4.0).parse("None", "s.x")


def test_options_and_lists():
    o = Param("option", "add", options=("add", "subtract"))
    assert o.parse("SUBTRACT", "s.mode") == "subtract"
    with pytest.raises(ParameterError, match=r"s\.mode: 'mul' is not one of 'add', 'subtract'"):
        o.parse("mul", "s.mode")
    assert Param("int_list", None).parse("1, 2,3", "s.c") == [1, 2, 3]
    assert Param("float_list", None).parse("[0.5, 2]", "s.c") == [0.5, 2.0]
    assert Param("string_list", []).parse(("a", "b"), "s.c") == ["a", "b"]
    assert Param("int_list", None, min=0).parse([], "s.c") == []
    with pytest.raises(ParameterError, match="below the minimum"):
        Param("int_list", None, min=0).parse("1, -2", "s.c")
    with pytest.raises(ParameterError, match="expected an int_list, got '1, x'"):
        Param("int_list", None).parse("1, x", "s.c")


def test_unknown_parameter_suggests_close_name():
    spec = {"rejection_threshold": Param("float", 4.0)}
    with pytest.raises(ParameterError) as err:
        validate_mapping({"rejection_threshhold": 5}, spec, "jump")
    assert str(err.value) == ("unknown parameter 'rejection_threshhold' for step 'jump' "
                              "(did you mean 'rejection_threshold'?)")


def test_format_value():
    assert format_value(None) == "None"
    assert format_value(True) == "True"
    assert format_value([1, 2]) == "1, 2"
    assert format_value([]) == "[]"


def test_bad_spec_is_a_programming_error():
    with pytest.raises(ValueError):
        Param("complex", 1)
    with pytest.raises(ValueError):
        Param("option", "a")
