"""Report pieces: PNG writer, asinh quick-looks, DQ tables, catalog marks, run times; and a
tiny run whose `snakemake --report` holds them."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from webbflow import workflow
from webbflow.datamodels import dqflags
from webbflow.report import (
    benchmark_table,
    catalog_overlay,
    dq_counts,
    dq_table_html,
    quicklook_png,
    stretch_asinh,
    write_png,
)


def _decode(path: Path) -> np.ndarray:
    """Read back our PNGs (filter 0 rows only): uint8 [ny, nx(, 3)]."""
    blob = path.read_bytes()
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(blob):
        (length,) = struct.unpack(">I", blob[pos:pos + 4])
        kind, data = blob[pos + 4:pos + 8], blob[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", blob[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    nx, ny, depth, colour = header[:4]
    channels = 3 if colour == 2 else 1
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(ny, 1 + nx * channels)
    assert depth == 8 and (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(ny, nx, channels).squeeze()


def test_png_round_trip(tmp_path):
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    np.testing.assert_array_equal(_decode(write_png(grey, tmp_path / "g.png")), grey)
    rgb = np.stack([grey, 255 - grey, grey // 2], axis=2)
    np.testing.assert_array_equal(_decode(write_png(rgb, tmp_path / "c.png")), rgb)


def test_asinh_stretch_values():
    data = np.linspace(0.0, 1.0, 1001).reshape(1, -1)
    data[0, 0] = np.nan
    out = stretch_asinh(data, softening=0.1, percentiles=(0.0, 100.0))
    assert out[0, 0] == 0 and out[0, -1] == 255
    x = (data[0, 100] - 0.001) / 0.999  # lo/hi: the finite extremes (pixel 0 is NaN)
    assert out[0, 100] == round(255 * np.arcsinh(x / 0.1) / np.arcsinh(10.0))
    assert (np.diff(out[0, 1:].astype(int)) >= 0).all()


def _image_file(path: Path, data: np.ndarray, dq: np.ndarray) -> Path:
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, name="SCI"),
                  fits.ImageHDU(dq, name="DQ")]).writeto(path)
    return path


def test_quicklook_bins_and_flips(tmp_path):
    data = np.zeros((40, 60), np.float32)
    data[:4, :] = 100.0  # bottom rows bright: top of the PNG after the flip
    path = _image_file(tmp_path / "x_rate.fits", data, np.zeros((40, 60), np.uint32))
    image = _decode(quicklook_png(path, tmp_path / "x_rate.png", max_size=20))
    assert image.shape == (13, 20)  # binned by 3
    assert image[-1].min() == 255 and image[0].max() == 0


def test_dq_counts_and_table(tmp_path):
    dq = np.zeros((10, 10), np.uint32)
    dq[0, :3] = dqflags.PIXEL["DO_NOT_USE"] | dqflags.PIXEL["SATURATED"]
    dq[5, 5] = dqflags.PIXEL["JUMP_DET"]
    counts = {name: n for name, _, n in dq_counts(dq)}
    assert counts["DO_NOT_USE"] == 3 and counts["SATURATED"] == 3
    assert counts["JUMP_DET"] == 1 and counts["DEAD"] == 0
    cube = np.stack([dq, np.roll(dq, 1, axis=1)])  # union over integrations
    assert {n: c for n, _, c in dq_counts(cube)}["SATURATED"] == 4
    path = _image_file(tmp_path / "x_rate.fits", np.zeros((10, 10), np.float32), dq)
    text = dq_table_html(path, tmp_path / "dq.html").read_text()
    assert "<td>SATURATED</td><td>2</td><td>3</td><td>3.000</td>" in text


def test_catalog_marks_drawn_at_sources(tmp_path):
    path = _image_file(tmp_path / "p_i2d.fits", np.ones((50, 50), np.float32),
                       np.zeros((50, 50), np.uint32))
    Table({"xcentroid": [20.0], "ycentroid": [10.0]}).write(tmp_path / "p_cat.ecsv")
    png, n = catalog_overlay(path, tmp_path / "p_cat.ecsv", tmp_path / "p.png", radius=5.0)
    image = _decode(png)
    assert n == 1 and image.shape == (50, 50, 3)
    marked = np.argwhere((image == (255, 64, 32)).all(axis=2))
    assert len(marked) > 10
    rows, cols = marked[:, 0], marked[:, 1]
    np.testing.assert_allclose(np.hypot(cols - 20.0, (49 - rows) - 10.0), 5.0, atol=0.8)


def test_benchmark_table(tmp_path):
    for rule, job, s, rss in (("detector1", "a", 2.0, 300.5), ("detector1", "b", 3.0, 400.0),
                              ("image2", "a", 1.5, 200.0)):
        (tmp_path / rule).mkdir(exist_ok=True)
        (tmp_path / rule / f"{job}.tsv").write_text(
            "s\th:m:s\tmax_rss\tmax_vms\n" f"{s}\t0:00:02\t{rss}\t900\n")
    totals = benchmark_table(tmp_path, tmp_path / "runtime.html").set_index("rule")
    assert totals.loc["detector1", "jobs"] == 2
    assert totals.loc["detector1", "total_s"] == 5.0
    assert totals.loc["detector1", "max_rss_mb"] == 400.0
    assert "<td>image2</td><td>1</td><td>1.50</td>" in (tmp_path / "runtime.html").read_text()


TINY = "inputs={demo: {n_exposures: 2, subarray: SUB160, nints: 1, ngroups: 5}}"


@pytest.mark.slow
def test_report_builds_with_quicklooks_dq_and_runtimes(snakemake, workflow_dir: Path) -> None:
    if not workflow.implemented("calwebb_detector1"):
        pytest.skip("calwebb_detector1 is not importable yet")
    config = ["--config", TINY, "report={enabled: true}"]
    run = snakemake(workflow_dir, "--cores", "2", *config, timeout=1500)
    assert run.returncode == 0, run.stderr[-3000:]
    results = workflow_dir / "results" / "report"
    root = "jw01234001001_01101_00001_nrca1"
    assert _decode(results / "stage1" / f"{root}_rate.png").shape == (160, 160)
    assert "<td>DO_NOT_USE</td>" in (results / "dq" / f"{root}_dq.html").read_text()
    assert "<td>detector1</td><td>2</td>" in (results / "runtime.html").read_text()
    if workflow.implemented("calwebb_image2"):
        assert (results / "stage2" / f"{root}_cal.png").is_file()
        assert (results / "stage2" / f"{root}_i2d.png").is_file()
    if workflow.implemented("calwebb_image3"):
        assert (results / "catalogs" / "jw01234-o001_t001_nircam_clear-f200w_cat.png").is_file()

    made = snakemake(workflow_dir, "--cores", "1", *config, "--report", "report.html")
    assert made.returncode == 0, made.stderr[-3000:]
    html = (workflow_dir / "report.html").read_text(errors="replace")
    for piece in ("Quick-look images", "DQ summary", "Run time and memory",
                  f"{root}_rate.png", f"{root}_dq.html", "runtime.html"):
        assert piece in html, piece
