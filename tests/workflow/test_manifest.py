"""The EXP_TYPE table and the exposure manifest built from raw headers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from astropy.io import fits

from webbflow.associations import (
    MANIFEST_COLUMNS,
    build_manifest,
    exptype_table,
    pipelines_for,
    read_manifest,
    root_of,
    write_manifest,
)
from webbflow.errors import InputError

D1, DARK, GUIDER = "calwebb_detector1", "calwebb_dark", "calwebb_guider"
I2, S2 = "calwebb_image2", "calwebb_spec2"
I3, S3, C3, A3, T3 = (
    "calwebb_image3",
    "calwebb_spec3",
    "calwebb_coron3",
    "calwebb_ami3",
    "calwebb_tso3",
)

# (instrument, detector, EXP_TYPE, TSOVISIT or None for absent) -> expected stages
CASES = [
    ("NIRCAM", "nrca1", "NRC_IMAGE", None, (D1, I2, I3)),
    ("NIRCAM", "nrcb5", "NRC_DARK", None, (DARK, None, None)),
    ("NIRCAM", "nrca3", "NRC_FLAT", None, (D1, None, None)),
    ("NIRCAM", "nrca5", "NRC_TSIMAGE", True, (D1, I2, T3)),
    ("NIRCAM", "nrcalong", "NRC_CORON", None, (D1, I2, C3)),
    ("NIRCAM", "nrcb1", "NRC_TACQ", None, (D1, I2, None)),
    ("FGS", "guider1", "FGS_FINEGUIDE", None, (GUIDER, None, None)),
    ("FGS", "guider2", "FGS_ID-STACK", None, (GUIDER, None, None)),
    ("FGS", "guider1", "FGS_IMAGE", None, (D1, I2, I3)),
    ("NIRISS", "nis", "NIS_AMI", None, (D1, I2, A3)),
    ("NIRISS", "nis", "NIS_SOSS", True, (D1, S2, T3)),
    ("NIRISS", "nis", "NIS_SOSS", False, (D1, S2, S3)),
    ("MIRI", "mirimage", "MIR_4QPM", None, (D1, I2, C3)),
    ("MIRI", "mirimage", "MIR_IMAGE", True, (D1, I2, T3)),
    ("MIRI", "mirimage", "MIR_IMAGE", False, (D1, I2, I3)),
    ("MIRI", "mirimage", "MIR_LRS-SLITLESS", False, (D1, S2, None)),
    ("MIRI", "mirifulong", "MIR_DARKMRS", None, (DARK, None, None)),
    ("NIRSPEC", "nrs1", "NRS_BRIGHTOBJ", True, (D1, S2, T3)),
    ("NIRSPEC", "nrs2", "NRS_MSATA", None, (D1, I2, None)),
]


def _write_raw(
    folder: Path,
    index: int,
    instrument: str,
    detector: str,
    exp_type: str,
    tsovisit: bool | None,
    **extra: object,
) -> Path:
    path = folder / f"jw01234{index:03d}001_01101_00001_{detector}_uncal.fits"
    header = fits.Header()
    header["INSTRUME"] = instrument
    header["DETECTOR"] = detector.upper()
    header["EXP_TYPE"] = exp_type
    if tsovisit is not None:
        header["TSOVISIT"] = tsovisit
    header.update(
        READPATT="RAPID",
        SUBARRAY="FULL",
        FILTER="F200W",
        PUPIL="CLEAR",
        PROGRAM="01234",
        OBSERVTN=f"{index:03d}",
        VISIT="001",
        NINTS=2,
        NGROUPS=5,
    )
    header.update(extra)
    fits.PrimaryHDU(header=header).writeto(path)
    return path


def test_table_has_every_official_row() -> None:
    table = exptype_table()
    assert len(table) == 65
    assert set(table["tsovisit"]) == {"N/A", "True", "False"}
    assert not table.duplicated(["exp_type", "tsovisit"]).any()
    assert set(table["stage1"]) == {D1, DARK, GUIDER}
    assert set(table["stage3"]) == {"N/A", I3, S3, C3, A3, T3}


@pytest.mark.parametrize(("instrument", "detector", "exp_type", "tsovisit", "stages"), CASES)
def test_pipelines_for(instrument, detector, exp_type, tsovisit, stages) -> None:
    assert pipelines_for(exp_type, tsovisit) == stages


def test_pipelines_for_edge_cases() -> None:
    assert pipelines_for("MIR_IMAGE", None) == (D1, I2, I3)  # absent TSOVISIT = False
    assert pipelines_for("NRC_TSIMAGE", False) == (D1, I2, T3)  # exclusively TSO
    assert pipelines_for("nis_ami", False) == (D1, I2, A3)
    assert pipelines_for("NRC_NOTAMODE", False) == (None, None, None)


def test_build_manifest_assigns_pipelines_from_headers(tmp_path: Path) -> None:
    paths = [_write_raw(tmp_path, i, *case[:4]) for i, case in enumerate(CASES)]
    frame = build_manifest(reversed(paths))
    assert list(frame.columns) == list(MANIFEST_COLUMNS)
    assert list(frame["root"]) == sorted(root_of(p) for p in paths)
    by_root = frame.set_index("root")
    for path, case in zip(paths, CASES):
        row = by_root.loc[root_of(path)]
        assert (row["stage1"], row["stage2"], row["stage3"]) == case[4]
        assert row["instrument"] == case[0]
        assert row["exp_type"] == case[2]
        assert bool(row["tsovisit"]) is bool(case[3])
    first = by_root.loc[root_of(paths[0])]
    assert (first["program"], first["observation"], first["visit"]) == ("01234", "000", "001")
    assert (first["nints"], first["ngroups"], first["filter"]) == (2, 5, "F200W")


def test_manifest_round_trips_through_tsv(tmp_path: Path) -> None:
    paths = [_write_raw(tmp_path, i, *case[:4]) for i, case in enumerate(CASES[:6])]
    frame = build_manifest(paths)
    write_manifest(frame, tmp_path / "manifest.tsv")
    back = read_manifest(tmp_path / "manifest.tsv")
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert back.loc[1, "stage2"] is None and back.loc[1, "stage1"] == DARK
    assert back.loc[0, "program"] == "01234"


def test_segmented_and_plain_roots() -> None:
    assert root_of("d/jw01366001001_04101_00001-seg001_nrca1_uncal.fits") == (
        "jw01366001001_04101_00001-seg001_nrca1"
    )
    assert root_of("my_sim-2_uncal.fits") == "my_sim-2"
    for bad in ("a.b_uncal.fits", "x_rate.fits", "x__y_uncal.fits", "_x_uncal.fits"):
        with pytest.raises(InputError, match=r"_uncal\.fits|root"):
            root_of(bad)


def _one_line_error(paths: list[Path]) -> str:
    with pytest.raises(InputError) as info:
        build_manifest(paths)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_bad_inputs_give_one_line_errors_naming_the_file(tmp_path: Path) -> None:
    text = tmp_path / "jw01234001001_01101_00001_nrca1_uncal.fits"
    text.write_text("this is not FITS\n" * 100)
    assert _one_line_error([text]).startswith(f"{text}: not a readable FITS file")

    no_instrument = tmp_path / "noinst_uncal.fits"
    fits.PrimaryHDU(header=fits.Header({"EXP_TYPE": "NRC_IMAGE"})).writeto(no_instrument)
    assert _one_line_error([no_instrument]) == (
        f"{no_instrument}: no INSTRUME keyword in the primary header"
    )

    empty = tmp_path / "empty_uncal.fits"
    fits.PrimaryHDU().writeto(empty)
    assert _one_line_error([empty]) == (
        f"{empty}: no INSTRUME or EXP_TYPE keyword in the primary header"
    )

    missing = tmp_path / "gone_uncal.fits"
    assert _one_line_error([missing]) == f"{missing}: no such file"

    bad_ints = _write_raw(tmp_path, 7, "NIRCAM", "nrca1", "NRC_IMAGE", None, NINTS="many")
    assert _one_line_error([bad_ints]) == f"{bad_ints}: NINTS = 'many' is not int"

    a = _write_raw(tmp_path, 5, "NIRCAM", "nrca1", "NRC_IMAGE", None)
    twin = tmp_path / "sub"
    twin.mkdir()
    b = twin / a.name
    b.write_bytes(a.read_bytes())
    assert "another input has the same root" in _one_line_error([a, b])
