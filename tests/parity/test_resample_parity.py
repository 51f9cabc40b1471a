"""Acceptance of ``resample``: webbflow's drizzle gives the official ResampleStep's answers.

Two overlapping, rotated, distorted NIRCam-like cal images (with a DO_NOT_USE pixel, noise,
different read-noise weights) are written with our datamodels; the official ResampleStep
(jwst 3.0.0 in the oracle venv) and ours resample them onto the same fixed output WCS
(``output_wcs`` ASDF file; the grid contains both inputs whole, so the official border
scanning does not come into play). Required: SCI within 1e-4 relative where WHT > 0, WHT
within 1e-5 relative (float32 accumulation), CON identical, ERR/VAR_* within 1e-4, and the
resample keywords equal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "resample"))
from resample_synth import SCALE, gaussians, make_image, make_wcs

from webbflow.resample.grid import _pc_matrix, tangent_wcs
from webbflow.resample.pixmap import footprint
from webbflow.steps.resample import ResampleStep

SHAPE = (120, 140)

_DRIVER = """
import sys
from jwst.resample import ResampleStep
out, wcs, pixfrac, *files = sys.argv[1:]
ResampleStep.call(files, output_wcs=wcs, pixfrac=float(pixfrac)).save(out)
"""


def _inputs(tmp: Path) -> tuple[list[str], str]:
    rng = np.random.default_rng(3)
    files = []
    for k, (dra, ddec, pa) in enumerate([(0.0, 0.0, 10.0), (4e-4, -3e-4, 12.0)]):
        wcs = make_wcs(SHAPE, crval=(53.16 + dra, -27.79 + ddec), pa=pa, distortion=0.01)
        data = gaussians(SHAPE, [(60.2, 50.7, 300.0), (100, 90, 100)])
        data = data + rng.normal(0.2, 0.02, SHAPE)
        model = make_image(data, wcs, exposure=k + 1, rnoise=0.01 * (k + 1),
                           filename=f"jw00001001001_01101_0000{k + 1}_nrca1_cal.fits")
        model.var_rnoise = model.var_rnoise * rng.uniform(0.8, 1.2, SHAPE).astype(np.float32)
        model.dq[10, 20] = 1
        model.data[10, 20] = 1e6
        model.meta.wcsinfo.s_region = "POLYGON ICRS " + " ".join(
            f"{v:.10f}" for v in footprint(wcs, SHAPE).ravel())
        files.append(model.save(tmp / model.meta.filename))
    import asdf

    out_wcs = tangent_wcs((53.1602, -27.7901), (120.0, 110.0), _pc_matrix(-1, 0.0),
                          SCALE / 3600, (220, 240))
    wcs_path = str(tmp / "output_wcs.asdf")
    asdf.AsdfFile({"wcs": out_wcs, "pixel_scale": SCALE}).write_to(wcs_path)
    return files, wcs_path


def _official(venv: Path, tmp: Path, files: list[str], wcs_path: str, pixfrac: float) -> Path:
    out = tmp / f"official_{pixfrac}_i2d.fits"
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith("CRDS")}
    env.update({"CRDS_MODE": "local", "CRDS_PATH": str(tmp / "crds"),
                "STPIPE_DISABLE_CRDS_STEPPARS": "true"})
    run = subprocess.run([str(venv / "bin" / "python"), "-c", _DRIVER, str(out), wcs_path,
                          str(pixfrac), *files], capture_output=True, text=True, env=env,
                         cwd=tmp, timeout=600)
    if run.returncode != 0:
        pytest.fail(f"official ResampleStep failed:\n{run.stderr[-3000:]}", pytrace=False)
    return out


@pytest.mark.parametrize("pixfrac", [1.0, 0.7])
def test_resample_matches_official(oracle_env, tmp_path, pixfrac):
    files, wcs_path = _inputs(tmp_path)
    theirs_path = _official(oracle_env, tmp_path, files, wcs_path, pixfrac)
    ours_path = tmp_path / f"ours_{pixfrac}_i2d.fits"
    ResampleStep.call(files, output_wcs=wcs_path, pixfrac=pixfrac).save(ours_path)
    with fits.open(ours_path) as ours, fits.open(theirs_path) as theirs:
        wht_t = theirs["WHT"].data
        good = wht_t > 0
        assert good.sum() > SHAPE[0] * SHAPE[1]  # the union of both footprints
        report = []
        for ext, tol in (("SCI", 1e-4), ("WHT", 1e-5), ("ERR", 1e-4), ("VAR_RNOISE", 1e-4),
                         ("VAR_POISSON", 1e-4), ("VAR_FLAT", 1e-4)):
            a = ours[ext].data.astype(float)[good]
            b = theirs[ext].data.astype(float)[good]
            rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-12)
            report.append(f"{ext} max rel {rel.max():.2e}")
            assert rel.max() < tol, f"{ext}: max relative difference {rel.max():.3g}"
        assert np.array_equal(np.isnan(ours["SCI"].data), np.isnan(theirs["SCI"].data))
        assert np.array_equal(ours["CON"].data, theirs["CON"].data)
        for key in ("NDRIZ", "PIXFRAC", "RESWHT", "EFFEXPTM", "TMEASURE", "EXPSTART",
                    "EXPEND", "DURATION"):
            assert ours[0].header[key] == pytest.approx(theirs[0].header[key]), key
        print(f"pixfrac={pixfrac}: " + ", ".join(report))
