"""The mixed demo program: >= 20 raw exposures of mixed EXP_TYPEs routed to their pipelines,
with the summary listing what stops where and why."""

from __future__ import annotations

import pytest

from webbflow.associations import build_manifest, program
from webbflow.datamodels import open as open_model
from webbflow.datamodels.guider import GuiderRawModel
from webbflow.demo.program import generate_program

D1, I2 = "calwebb_detector1", "calwebb_image2"
EXPECTED = {  # EXP_TYPE -> (count, stages)
    "NRC_IMAGE": (13, None),
    "NRC_DARK": (2, ("calwebb_dark", None, None)),
    "NRC_TSIMAGE": (2, (D1, I2, "calwebb_tso3")),
    "NRC_FLAT": (1, (D1, None, None)),
    "NRC_CORON": (1, (D1, I2, "calwebb_coron3")),
    "FGS_FINEGUIDE": (1, ("calwebb_guider", None, None)),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("program")
    return out, generate_program(out, cosmic_rays=False)


@pytest.mark.slow
def test_program_routes_every_exposure(demo):
    out, obs = demo
    assert len(obs.uncal_files) >= 20
    table = build_manifest(obs.uncal_files)
    counts = table["exp_type"].value_counts().to_dict()
    assert counts == {k: n for k, (n, _) in EXPECTED.items()}
    for row in table.itertuples():
        stages = (row.stage1, row.stage2, row.stage3)
        expected = EXPECTED[row.exp_type][1]
        if expected is None:  # imaging: image3, or wfs-image3 for the WFS&C pair
            third = "calwebb_wfs-image3" if row.patttype == "WFSC" else "calwebb_image3"
            expected = (D1, I2, third)
        assert stages == expected, row.root
    assert table["bkgdtarg"].sum() == 1 and table["tsovisit"].sum() == 2
    assert set(table["filter"]) >= {"F200W", "F150W"}
    guider = next(p for p in obs.uncal_files if "_gs-fg_" in p.name)
    raw = open_model(guider)
    assert isinstance(raw, GuiderRawModel) and raw.data.shape == (3, 8, 8, 8)
    assert (out / "crds_cache" / "mappings" / "jwst" / "jwst_fgs_9001.imap").is_file()
    rmap = (out / "crds_cache" / "mappings" / "jwst" / "jwst_nircam_flat_9001.rmap").read_text()
    assert "NRC_CORON" in rmap and "F150W" in rmap


@pytest.mark.slow
def test_program_summary_lists_stops(demo):
    _, obs = demo
    table = build_manifest(obs.uncal_files)
    plans = program.build_associations(table)
    assert sorted(p.asn_type for p in plans if p.level == "Level3") == [
        "coron3", "image3", "image3", "tso3", "wfs-image3"]
    assert sum(p.level == "Level2" for p in plans) == 5  # F150W science with its background
    implemented = {D1, "calwebb_dark", "calwebb_guider", I2, "calwebb_image3"}
    lines = program.summary_lines(table, plans, implemented.__contains__)
    assert len(lines) == len(table)
    verdicts = {line.split("\t")[1]: line.split("\t")[2] for line in lines}
    assert verdicts["NRC_TSIMAGE"] == (
        "stopped after stage 2: calwebb_tso3 is not available in this webbflow")
    assert verdicts["NRC_CORON"] == (
        "stopped after stage 2: calwebb_coron3 is not available in this webbflow")
    assert verdicts["FGS_FINEGUIDE"].startswith("done (FGS_FINEGUIDE has no stage 2")
    wfs = [ln for ln in lines if "wfs-image3" in ln]
    assert len(wfs) == 2 and all("not yet in the workflow" in ln for ln in wfs)
