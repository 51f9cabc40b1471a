"""asn.json: official structure, round trip, asn_from_list, one-line errors."""

from __future__ import annotations

import json

import pytest

from webbflow.associations import Association, asn_from_list, read_asn, write_asn
from webbflow.associations.asn import Member, Product
from webbflow.errors import InputError, ParameterError


def _touch(path):
    path.write_bytes(b"")
    return path


def test_level3_structure_and_round_trip(tmp_path):
    """Keys and order as the official asn_from_list; members relative to the asn file."""
    for name in ("a_cal.fits", "b_cal.fits"):
        _touch(tmp_path / name)
    asn = asn_from_list(["a_cal.fits", "b_cal.fits"], product_name="mosaic")
    path = write_asn(asn, tmp_path / "l3_asn.json")
    tree = json.loads(path.read_text())
    assert list(tree) == ["asn_type", "asn_rule", "version_id", "code_version",
                          "degraded_status", "program", "constraints", "asn_id", "target",
                          "asn_pool", "products"]
    assert tree["asn_rule"] == "DMS_Level3_Base" and tree["asn_id"] == "a3001"
    assert tree["products"] == [{"name": "mosaic", "members": [
        {"expname": "a_cal.fits", "exptype": "science"},
        {"expname": "b_cal.fits", "exptype": "science"}]}]
    back = read_asn(path)
    assert isinstance(back, Association)
    assert back.to_dict() == asn.to_dict()
    assert back.member_paths() == [tmp_path / "a_cal.fits", tmp_path / "b_cal.fits"]


def test_level2_one_product_per_exposure(tmp_path):
    asn = asn_from_list(["x/jw1_nrca1_rate.fits", ("jw2_nrca1_rate.fits", "BACKGROUND")],
                        rule="Level2")
    d = asn.to_dict()
    assert d["asn_rule"] == "DMSLevel2bBase" and "target" not in d
    assert [p["name"] for p in d["products"]] == ["jw1_nrca1", "jw2_nrca1"]
    assert d["products"][1]["members"] == [{"expname": "jw2_nrca1_rate.fits",
                                            "exptype": "background"}]


def test_background_members_resolved(tmp_path):
    _touch(tmp_path / "s_rate.fits")
    _touch(tmp_path / "b_rate.fits")
    asn = Association([Product("s", [Member("s_rate.fits"),
                                     Member("b_rate.fits", "background")])],
                      asn_rule="DMSLevel2bBase", target=None)
    back = read_asn(write_asn(asn, tmp_path / "l2_asn.json"))
    assert back.member_paths("background") == [tmp_path / "b_rate.fits"]
    assert back.products[0].by_type("science")[0].expname == "s_rate.fits"


@pytest.mark.parametrize("text, problem", [
    ("{not json", "bad JSON at line 1"),
    ('{"products": []}', "empty association"),
    ('{"products": [{"name": "p", "members": []}]}', "product p has no members"),
    ('{"asn_id": "x"}', "no 'products' key"),
    ('{"products": [{"name": "p", "members": [{"exptype": "science"}]}]}', "no 'expname'"),
])
def test_one_line_errors_name_the_file(tmp_path, text, problem):
    path = tmp_path / "bad_asn.json"
    path.write_text(text)
    with pytest.raises(InputError, match=problem) as err:
        read_asn(path)
    assert "bad_asn.json" in str(err.value) and "\n" not in str(err.value)


def test_missing_member_and_bad_arguments(tmp_path):
    path = write_asn(asn_from_list(["gone_cal.fits"], product_name="p"), tmp_path / "a.json")
    with pytest.raises(InputError, match=r"a\.json.*gone_cal\.fits \(science\).*no such file"):
        read_asn(path)
    assert read_asn(path, check_members=False).products[0].name == "p"
    with pytest.raises(ParameterError, match="product_name"):
        asn_from_list(["a.fits"])
    with pytest.raises(ParameterError, match="empty"):
        asn_from_list([], product_name="p")
    with pytest.raises(ParameterError, match="rule"):
        asn_from_list(["a.fits"], product_name="p", rule="Level4")
