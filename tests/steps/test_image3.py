"""Image3Pipeline on simulated dithered cal images: products and one-line input errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_outlier_detection import DITHERS, inject_crs, make_exposure, sky_sources
from test_source_catalog import write_references

from webbflow.datamodels import open as open_model
from webbflow.datamodels.dqflags import PIXEL
from webbflow.errors import InputError
from webbflow.pipelines.image3 import Image3Pipeline


def _write_asn(tmp: Path, names: list[str], product: str = "jw00001-o001_t001_nircam_"
               "clear-f200w") -> Path:
    asn = {"asn_type": "image3", "products": [{"name": product, "members": [
        {"expname": n, "exptype": "science"} for n in names]}]}
    path = tmp / "image3_asn.json"
    path.write_text(json.dumps(asn))
    return path


@pytest.fixture(scope="module")
def cal_files(tmp_path_factory) -> tuple[Path, list[str]]:
    tmp = tmp_path_factory.mktemp("image3")
    sources = sky_sources()
    names = []
    for i, shift in enumerate(DITHERS[:4]):
        model = make_exposure(i, shift, sources, seed=i)
        inject_crs(model, 30, seed=90 + i)
        model.save(tmp / model.meta.filename)
        names.append(model.meta.filename)
    return tmp, names


def test_image3_products(cal_files) -> None:
    tmp, names = cal_files
    asn = _write_asn(tmp, names)
    out = tmp / "out"
    apcorr, abvega = write_references(tmp)
    mosaic = Image3Pipeline.call(str(asn), save_results=True, output_dir=str(out),
                                 in_memory=False, steps={
                                     "tweakreg": {"skip": True},
                                     "source_catalog": {"override_apcorr": apcorr,
                                                        "override_abvegaoffset": abvega,
                                                        "bkg_boxsize": 64, "npixels": 5}})
    root = "jw00001-o001_t001_nircam_clear-f200w"
    produced = sorted(p.name for p in out.iterdir())
    for name in (f"{root}_i2d.fits", f"{root}_cat.ecsv", f"{root}_segm.fits",
                 *[n.replace("_cal", "_crf") for n in names]):
        assert name in produced
    assert not any(p.startswith("webbflow_outlier_") for p in produced)
    assert mosaic.data.shape[0] > 128 and np.isfinite(mosaic.data).mean() > 0.5
    crf = open_model(out / names[0].replace("_cal", "_crf"))
    assert np.count_nonzero(crf.dq & PIXEL["OUTLIER"]) >= 25
    i2d = open_model(out / f"{root}_i2d.fits")
    assert i2d.data.shape == mosaic.data.shape
    assert crf.meta.cal_step.outlier_detection == "COMPLETE"
    from astropy.table import Table

    cat = Table.read(out / f"{root}_cat.ecsv")
    assert len(cat) >= 30


def test_one_line_errors(cal_files, tmp_path: Path) -> None:
    tmp, names = cal_files
    empty = _write_asn(tmp_path, [])
    with pytest.raises(InputError, match="no science members"):
        Image3Pipeline.call(str(empty))
    missing = _write_asn(tmp_path, [str(tmp / names[0]), str(tmp / "nope_cal.fits")])
    with pytest.raises(InputError, match="member not found"):
        Image3Pipeline.call(str(missing))
    other = make_exposure(7, (1.0, 1.0), sky_sources(), filt="F150W")
    with pytest.raises(InputError, match="different filters"):
        Image3Pipeline.call([str(tmp / names[0]), other])
    nowcs = make_exposure(8, (1.0, 1.0), sky_sources())
    nowcs.meta.wcs = None
    with pytest.raises(InputError, match="no WCS"):
        Image3Pipeline.call([str(tmp / names[0]), nowcs])


def test_resample_of_records_equals_resample_of_their_files(cal_files) -> None:
    """Image3 hands resample its exposure records (WCS objects in memory, arrays read from
    the file): the mosaic must be the one resample makes from the same files by path."""
    from webbflow.align.exposure import Exposure
    from webbflow.steps.resample import ResampleStep

    tmp, names = cal_files
    paths = [str(tmp / n) for n in names]
    records = [Exposure.from_item(p, in_memory=False) for p in paths]
    records[1].subtract(0.25)  # a pending sky subtraction is applied when arrays are read
    by_path = ResampleStep.call([*paths[:1], records[1].open(), *paths[2:]])
    by_record = ResampleStep.call(records)
    assert by_record.data.shape == by_path.data.shape and by_path.data.shape[0] > 128
    np.testing.assert_array_equal(by_record.data, by_path.data)
    np.testing.assert_array_equal(by_record.wht, by_path.wht)
    np.testing.assert_array_equal(by_record.con, by_path.con)
    assert by_record.meta.wcsinfo.s_region == by_path.meta.wcsinfo.s_region
    assert np.isfinite(by_record.data).mean() > 0.5


def test_exposure_open_reads_only_the_arrays_asked_for(cal_files) -> None:
    """tweakreg and skymatch read SCI + DQ of a file-backed exposure, nothing else."""
    from webbflow.align.exposure import Exposure

    tmp, names = cal_files
    full = open_model(tmp / names[0])
    record = Exposure.from_item(str(tmp / names[0]), in_memory=False)
    record.subtract(0.5)
    part = record.open(("dq",))
    np.testing.assert_array_equal(part.data, full.data - np.float32(0.5))
    np.testing.assert_array_equal(part.dq, full.dq)
    # arrays not read are absent (a model's default, zeros, if asked for)
    assert not np.any(part.var_rnoise) and np.count_nonzero(full.var_rnoise) > 1000
    assert not np.any(part.err) and np.count_nonzero(full.err) > 1000
    assert part.meta.wcs is record.meta.wcs
    whole = record.open()
    np.testing.assert_array_equal(whole.var_rnoise, full.var_rnoise)
