"""Image3 parity: the official calwebb_image3 and ours on the same cal files and references.

Inputs: the stage-3 truth fixture's cal files (4 dithered SUB640 exposures with injected
pointing errors and cosmic rays, ``tests/truth/test_image3_truth.py``); APCORR and
ABVEGAOFFSET from the demo cache as overrides; default parameters on both sides.

* i2d SCI: the two output grids differ by a row or so (grid sizing), so our mosaic is compared
  with the official one at the same sky positions (our pixel centres through our WCS into the
  official's, bilinear): where both have weight and both sides' data are finite and away
  (> 3 px) from the edges of their coverage: median |ours - official| / ERR_official <= 0.3
  and its 99th percentile <= 1.5 (measured 0.20 and 1.07). Not the 0.01 ERR of stage 1:
  the tweakreg fits differ (ours 0.013 px relative; a coarse shift search on the official's
  resampled singles finds them up to ~0.4 px apart: different star finders and matched
  lists), and the bilinear comparison resamples the mosaic a second time (pixel-scale sharp
  PSF cores). The share of each cause was not separated.
* Outlier flags: >= 97 % of either side's flags in common (measured: ours 1310, official
  1319, 1303 in common).
* Catalog: source counts within 10 %; fluxes (aper_total_flux) of sources matched within
  0.5 px: median ratio within 1 %, 90 % of bright ones (aper70 S/N >= 50) within 3 %
  (measured: 99 vs 98 sources, 94 matched, 97 % of 72 bright within 3 %).
* Total fluxes against the demo truth (stars with SNR >= 10): both sides' median
  aper_total_flux within 2 % of the truth.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table
from oracle import run_official

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "truth"))
import test_image3_truth as truth

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pair(oracle_env, tmp_path_factory) -> dict:
    """Our and the official Image3 products on the same inputs."""
    from webbflow.pipelines.image3 import Image3Pipeline

    out = tmp_path_factory.mktemp("image3_parity")
    run = truth.build_stage3_inputs(out)
    obs = run["obs"]
    refs = {"apcorr": str(obs.reference_files["apcorr"]),
            "abvegaoffset": str(obs.reference_files["abvegaoffset"])}
    official = run_official("image3", run["asn"], out / "official", {"source_catalog": refs},
                            obs.crds_path, obs.context, venv_dir=oracle_env)
    with pytest.MonkeyPatch.context() as mp:
        truth.crds_environment(mp, obs)
        Image3Pipeline.call(str(run["asn"]), output_dir=str(out / "ours"), save_results=True,
                            in_memory=False)
    print(f"\nofficial Image3 call {official.call_wall_s:.1f} s")
    return {"ours": out / "ours", "official": out / "official", "run": run}


def _i2d(directory: Path):
    from webbflow import datamodels as dm

    return dm.open(directory / f"{truth.PRODUCT}_i2d.fits")


def test_i2d_sci_agrees(pair):
    from scipy.ndimage import binary_erosion, map_coordinates

    ours, theirs = _i2d(pair["ours"]), _i2d(pair["official"])
    ny, nx = ours.data.shape
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    ra, dec = ours.meta.wcs(xx, yy, with_bounding_box=False)
    tx, ty = theirs.meta.wcs.invert(ra, dec, with_bounding_box=False)
    covered = binary_erosion((theirs.wht > 0) & np.isfinite(theirs.data), iterations=3)
    def at(img):
        return map_coordinates(np.nan_to_num(img.astype(float)), [ty, tx], order=1,
                               cval=np.nan)
    other = at(theirs.data)
    other_err = at(theirs.err)
    inside = at(covered.astype(float)) > 0.999
    mine = binary_erosion((ours.wht > 0) & np.isfinite(ours.data), iterations=3)
    both = inside & mine & np.isfinite(other) & (other_err > 0)
    diff = np.abs(ours.data - other)[both] / other_err[both]
    frac = float(np.mean(diff <= 0.5))
    med, p99 = float(np.median(diff)), float(np.percentile(diff, 99))
    print(f"\ni2d SCI: {100 * frac:.2f} % of {both.sum()} pixels within 0.5 ERR; median "
          f"|diff|/ERR {med:.3f}; 99th percentile {p99:.2f}")
    assert both.sum() > 0.6 * ny * nx
    assert med <= 0.3
    assert p99 <= 1.5


def test_outlier_flags_agree(pair):
    from webbflow import datamodels as dm
    from webbflow.datamodels.dqflags import PIXEL

    common = mine_n = theirs_n = 0
    for root in pair["run"]["cr_masks"]:
        a = (dm.open(pair["ours"] / f"{root}_crf.fits").dq & PIXEL["OUTLIER"]) != 0
        found = list(pair["official"].glob(f"{root}*_crf.fits"))
        b = (dm.open(found[0]).dq & PIXEL["OUTLIER"]) != 0
        common += int(np.count_nonzero(a & b))
        mine_n += int(a.sum())
        theirs_n += int(b.sum())
    print(f"\noutlier flags: ours {mine_n}, official {theirs_n}, in common {common}")
    assert common >= 0.97 * max(mine_n, theirs_n)


def test_catalogs_agree(pair):
    ours = Table.read(pair["ours"] / f"{truth.PRODUCT}_cat.ecsv")
    theirs = Table.read(pair["official"] / f"{truth.PRODUCT}_cat.ecsv")
    ra1, de1 = np.asarray(ours["sky_centroid"].ra.deg), np.asarray(ours["sky_centroid"].dec.deg)
    ra2 = np.asarray(theirs["sky_centroid"].ra.deg)
    de2 = np.asarray(theirs["sky_centroid"].dec.deg)
    cosd = np.cos(np.radians(np.mean(de1)))
    pairs = []
    for i in range(len(ours)):
        r = np.hypot((ra2 - ra1[i]) * cosd, de2 - de1[i]) * 3600.0 / truth.PIXEL_ARCSEC
        k = int(np.argmin(r))
        if r[k] < 0.5:
            pairs.append((i, k))
    i, k = np.array(pairs).T
    f1 = np.asarray(ours["aper_total_flux"], float)[i]
    f2 = np.asarray(theirs["aper_total_flux"], float)[k]
    ratio = f1 / f2  # NaN where either side has no aperture flux (edge sources)
    snr = np.asarray(theirs["aper70_flux"], float)[k] / np.asarray(theirs["aper70_flux_err"],
                                                                     float)[k]
    bright = snr >= 50
    close = float(np.mean(np.abs(ratio[bright] - 1.0) <= 0.03))  # NaN counts as a miss
    print(f"\ncatalogs: ours {len(ours)} sources, official {len(theirs)}, matched "
          f"{len(pairs)}; aper_total ratio median {np.nanmedian(ratio):.4f}; bright "
          f"({bright.sum()}) within 3 %: {100 * close:.1f} %")
    assert abs(len(ours) - len(theirs)) <= 0.1 * len(theirs)
    assert len(pairs) >= 0.8 * len(theirs)
    assert abs(np.nanmedian(ratio) - 1.0) <= 0.01
    assert close >= 0.9


def test_total_fluxes_against_truth(pair):
    """aper_total_flux of truth stars with SNR >= 10 on both sides (the demo APCORR describes
    the drizzled PSF): both medians within 2 % of the truth, within 1 % of each other."""
    medians = {}
    for side in ("ours", "official"):
        m = truth._catalog_match({"obs": pair["run"]["obs"], "i3": pair[side]})
        j = m["match"]
        ok = (j >= 0) & m["star"] & (np.nan_to_num(m["snr"]) >= 10)
        ratio = np.asarray(m["cat"]["aper_total_flux"], float)[j[ok]] / m["flux_jy"][ok]
        medians[side] = float(np.nanmedian(ratio))
        print(f"\n{side}: aper_total_flux / truth median {medians[side]:.4f} "
              f"({ok.sum()} stars)")
    assert abs(medians["ours"] - 1.0) <= 0.02
    assert abs(medians["official"] - 1.0) <= 0.02
    assert abs(medians["ours"] - medians["official"]) <= 0.01
