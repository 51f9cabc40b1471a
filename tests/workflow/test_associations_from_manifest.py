"""Associations built from the manifest: official product names, members, files, user asn."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from webbflow.associations import program, write_asn
from webbflow.associations.asn import asn_from_list, read_asn
from webbflow.associations.manifest import pipelines_for
from webbflow.errors import InputError


def _row(root, exp_type, filt="F200W", obs="001", tso=False, bkg=False, patt="NONE",
         sub="SUB160", pupil="CLEAR", instrument="NIRCAM", detector="NRCA1"):
    stages = pipelines_for(exp_type, tso, patt)
    return {"root": root, "path": f"{root}_uncal.fits", "instrument": instrument,
            "detector": detector, "exp_type": exp_type, "tsovisit": tso, "readpatt": "RAPID",
            "subarray": sub, "filter": filt, "pupil": pupil, "program": "01234",
            "observation": obs, "visit": "001", "patttype": patt, "bkgdtarg": bkg,
            "nints": 1, "ngroups": 4, "stage1": stages[0], "stage2": stages[1],
            "stage3": stages[2]}


def _root(obs, n, seg=""):
    return f"jw01234{obs}001_01101_{n:05d}{seg}_nrca1"


@pytest.fixture
def table():
    rows = [_row(_root("001", n), "NRC_IMAGE") for n in (1, 2, 3)]
    rows += [_row(_root("002", n), "NRC_IMAGE", "F150W", "002") for n in (1, 2)]
    rows.append(_row(_root("003", 1), "NRC_IMAGE", "F150W", "003", bkg=True))
    rows += [_row(_root("005", 1, f"-seg00{s}"), "NRC_TSIMAGE", obs="005", tso=True)
             for s in (1, 2)]
    rows.append(_row(_root("006", 1), "NRC_DARK", obs="006"))
    rows += [_row(_root("008", n), "NRC_IMAGE", obs="008", patt="WFSC") for n in (1, 2, 3)]
    rows.append(_row("jw01234009001_01101_00001_nis", "NIS_AMI", "F480M", "009",
                     pupil="NRM", sub="SUB80", instrument="NIRISS", detector="NIS"))
    return pd.DataFrame(rows)


def test_product_names_are_official():
    image = _row(_root("001", 1), "NRC_IMAGE")
    assert program.product_name(image, "image3") == "jw01234-o001_t001_nircam_clear-f200w"
    tso = _row(_root("005", 1), "NRC_TSIMAGE", obs="005", tso=True, sub="SUB64P")
    assert program.product_name(tso, "tso3") == "jw01234-o005_t001_nircam_clear-f200w-sub64p"
    ami = _row("x", "NIS_AMI", "F480M", "012", pupil="NRM", sub="SUB80", instrument="NIRISS")
    assert program.product_name(ami, "ami3") == "jw01234-o012_t001_niriss_f480m-nrm-sub80"
    miri = _row("x", "MIR_IMAGE", "F770W", pupil="N/A", instrument="MIRI", sub="FULL")
    assert program.product_name(miri, "image3") == "jw01234-o001_t001_miri_f770w"


def test_level3_associations_per_observation_filter_and_mode(table):
    plans = {p.file: p for p in program.build_associations(table)}
    image = plans["jw01234-o001_t001_nircam_clear-f200w_image3_asn.json"]
    assert image.pipeline == "calwebb_image3" and image.level == "Level3"
    assert [m[0] for m in image.members] == [_root("001", n) for n in (1, 2, 3)]
    assert {m[2] for m in image.members} == {"cal"}
    assert image.products() == [f"stage3/jw01234-o001_t001_nircam_clear-f200w_{s}"
                                for s in ("i2d.fits", "cat.ecsv", "segm.fits")]
    f150 = plans["jw01234-o002_t001_nircam_clear-f150w_image3_asn.json"]
    assert len(f150.members) == 2  # the background exposure is not a science member
    tso = plans["jw01234-o005_t001_nircam_clear-f200w-sub160_tso3_asn.json"]
    assert [m[1:] for m in tso.members] == [("science", "calints")] * 2
    assert plans["jw01234-o009_t001_niriss_f480m-nrm-sub80_ami3_asn.json"].pipeline == (
        "calwebb_ami3")
    wfs = sorted(f for f in plans if f.endswith("_wfs-image3_asn.json"))
    assert wfs == ["jw01234-o008_t001_nircam_clear-f200w-nrca1-01_wfs-image3_asn.json",
                   "jw01234-o008_t001_nircam_clear-f200w-nrca1-02_wfs-image3_asn.json"]
    assert len(plans[wfs[0]].members) == 2 and len(plans[wfs[1]].members) == 1
    assert not any(_root("006", 1) in str(p.members) for p in plans.values())  # dark


def test_level2_association_with_background_members(table, tmp_path):
    plans = [p for p in program.build_associations(table) if p.level == "Level2"]
    assert [p.product for p in plans] == [_root("002", 1), _root("002", 2)]
    assert plans[0].members == ((_root("002", 1), "science", "rate"),
                                (_root("003", 1), "background", "rate"))
    path = program.write_association(plans[0], tmp_path / "stage2" / plans[0].file)
    tree = json.loads(path.read_text())
    assert tree["asn_type"] == "image2" and tree["asn_rule"] == "DMSLevel2bBase"
    assert "target" not in tree
    assert tree["products"][0]["members"] == [
        {"expname": f"../stage1/{_root('002', 1)}_rate.fits", "exptype": "science"},
        {"expname": f"../stage1/{_root('003', 1)}_rate.fits", "exptype": "background"}]


def test_level3_file_reads_back_with_members_next_to_products(table, tmp_path):
    plan = next(p for p in program.build_associations(table) if p.asn_type == "image3")
    path = program.write_association(plan, tmp_path / "stage3" / plan.file)
    stage2 = tmp_path / "stage2"
    stage2.mkdir()
    for root, _, suffix in plan.members:
        (stage2 / f"{root}_{suffix}.fits").write_bytes(b"")
    asn = read_asn(path)  # members resolve relative to the association's folder
    assert asn.asn_type == "image3" and asn.asn_id == "o001"
    assert asn.products[0].name == plan.product
    assert asn.member_paths()[0] == tmp_path / "stage3" / ".." / "stage2" / (
        f"{plan.members[0][0]}_cal.fits")


def test_index_round_trip(table, tmp_path):
    plans = program.build_associations(table)
    program.write_index(plans, tmp_path / "associations.tsv")
    assert program.read_index(tmp_path / "associations.tsv") == plans


def test_user_association_replaces_level3(table, tmp_path):
    mine = asn_from_list([f"{_root('001', 1)}_cal.fits", f"{_root('001', 3)}_cal.fits"],
                         product_name="my_mosaic", asn_type="image3")
    path = write_asn(mine, tmp_path / "my_image3_asn.json")
    plans = program.build_associations(table, [path])
    level3 = [p for p in plans if p.level == "Level3"]
    assert len(level3) == 1
    assert level3[0].product == "my_mosaic" and level3[0].pipeline == "calwebb_image3"
    assert [m[0] for m in level3[0].members] == [_root("001", 1), _root("001", 3)]
    assert any(p.level == "Level2" for p in plans)  # Level 2 still built

    stray = write_asn(asn_from_list(["jw09999001001_01101_00001_nrca1_cal.fits"],
                                    product_name="x"), tmp_path / "stray_asn.json")
    with pytest.raises(InputError, match="no exposure jw09999001001_01101_00001_nrca1"):
        program.build_associations(table, [stray])
