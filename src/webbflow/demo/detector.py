"""The simulated NRCA1 detector: full-frame property maps drawn once from the seed.

Every map covers the full 2048x2048 detector in the science (DMS) frame, 0-based; exposures
use the subarray cut of the same maps, and the reference files are written from them, so the
references describe exactly the detector the ramps were made with. Numbers (chosen to look
like NIRCam SW; not flight values):

* 4-pixel reference border (no light, no dark, no cosmic rays, bias and read noise only);
* superbias 12000-20000 DN: per-output levels, column and row structure, pixel scatter;
* gain ~2.0 e-/DN: per-output values x 1.5 % pixel scatter;
* read noise per frame ~7.5 DN white (CDS ~10.6 DN; the READNOISE reference holds the CDS
  value), plus correlated components added per frame in :mod:`webbflow.demo.ramps`;
* flat response: 1.5 % pixel-to-pixel x +-2 % low-order surface, median 1;
* dark current 0.002 e-/s, 1500 warm pixels (0.05-1 e-/s), 300 hot pixels (1-50 e-/s);
* 150 dead pixels (zero response, flat 1 flagged DEAD);
* full well ~84000 e- (3 % scatter); classical non-linearity measured = t (1 - b t) with
  b = 0.05 / t_fullwell (5 % low at full well, t in DN);
* IPC: 0.5 % to each 4-neighbour, 0.02 % to each diagonal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["IPC_KERNEL", "Detector", "make_detector", "reference_pixel_mask"]

NX = NY = 2048
NREF = 4
#: amplifier (output) column boundaries of the full frame, science frame
AMP_EDGES = (0, 512, 1024, 1536, 2048)

_ALPHA, _DIAG = 0.005, 0.0002
IPC_KERNEL = np.array([[_DIAG, _ALPHA, _DIAG],
                       [_ALPHA, 1.0 - 4 * _ALPHA - 4 * _DIAG, _ALPHA],
                       [_DIAG, _ALPHA, _DIAG]], dtype=np.float32)


def reference_pixel_mask(shape: tuple[int, int] = (NY, NX)) -> np.ndarray:
    """Boolean full-frame map, True on the 4-pixel reference border."""
    ref = np.zeros(shape, dtype=bool)
    ref[:NREF] = ref[-NREF:] = True
    ref[:, :NREF] = ref[:, -NREF:] = True
    return ref


@dataclass
class Detector:
    """Full-frame property maps (float32 [2048, 2048] unless noted).

    superbias : DN; gain : e-/DN; read_noise : DN per frame (white); flat : response;
    dark : e-/s; full_well : e-; nl_beta : 1/DN (0 where linear); sat_signal : DN above bias
    at which the saturation reference flags; dead, hot, warm, no_sat_check, no_lin_corr,
    no_gain, refpix : bool.
    """

    superbias: np.ndarray
    gain: np.ndarray
    read_noise: np.ndarray
    flat: np.ndarray
    dark: np.ndarray
    full_well: np.ndarray
    nl_beta: np.ndarray
    sat_signal: np.ndarray
    dead: np.ndarray
    hot: np.ndarray
    warm: np.ndarray
    no_sat_check: np.ndarray
    no_lin_corr: np.ndarray
    no_gain: np.ndarray
    refpix: np.ndarray

    def measured(self, true_dn: np.ndarray, sl: tuple[slice, slice] | None = None,
                 ) -> np.ndarray:
        """Non-linear response: measured DN for linear DN ``true_dn`` (same shape)."""
        beta = self.nl_beta if sl is None else self.nl_beta[sl]
        return true_dn * (1.0 - beta * true_dn)


def _random_pixels(rng: np.random.Generator, n: int, taken: np.ndarray) -> np.ndarray:
    """``n`` distinct pixels not yet in ``taken`` (drawn with rejection); a bool map."""
    out = np.zeros_like(taken)
    cand = rng.integers(0, taken.size, 4 * n + 64)
    _, first = np.unique(cand, return_index=True)
    cand = cand[np.sort(first)]
    cand = cand[~taken.ravel()[cand]][:n]
    out.ravel()[cand] = True
    return out


def make_detector(seed: int) -> Detector:
    """Draw the detector maps for ``seed`` (independent of the exposures' random streams)."""
    rng = np.random.default_rng([seed, 1])
    yy, xx = np.mgrid[0:NY, 0:NX].astype(np.float32)
    u, v = (xx - 1023.5) / 1024.0, (yy - 1023.5) / 1024.0
    refpix = reference_pixel_mask()
    amp = np.searchsorted(np.array(AMP_EDGES[1:]), np.arange(NX), side="right")

    amp_bias = np.array([13800.0, 15200.0, 16400.0, 14600.0])[amp]
    column = rng.normal(0.0, 180.0, NX)
    row = 400.0 * v[:, 0] + rng.normal(0.0, 25.0, NY)
    superbias = (amp_bias[None, :] + column[None, :] + row[:, None]
                 + rng.normal(0.0, 250.0, (NY, NX)))
    superbias = np.clip(superbias, 12000.0, 20000.0).astype(np.float32)

    amp_gain = np.array([2.02, 1.97, 2.05, 1.99])[amp]
    gain = (amp_gain[None, :] * (1.0 + 0.015 * rng.standard_normal((NY, NX)))).astype(
        np.float32)
    read_noise = (7.2 + 0.6 * np.abs(rng.standard_normal((NY, NX)))).astype(np.float32)

    low = 1.0 + 0.02 * (0.6 * u - 0.4 * v + 0.8 * u * v - 0.7 * u**2 - 0.5 * v**2)
    flat = low * (1.0 + 0.015 * rng.standard_normal((NY, NX)))
    flat = (flat / np.median(flat[~refpix])).astype(np.float32)

    taken = refpix.copy()
    dead = _random_pixels(rng, 150, taken)
    taken |= dead
    hot = _random_pixels(rng, 300, taken)
    taken |= hot
    warm = _random_pixels(rng, 1500, taken)
    taken |= warm
    dark = np.full((NY, NX), 0.002, dtype=np.float32)
    dark *= (1.0 + 0.3 * rng.standard_normal((NY, NX))).clip(0.0).astype(np.float32)
    dark[hot] = np.exp(rng.uniform(np.log(1.0), np.log(50.0), hot.sum()))
    dark[warm] = np.exp(rng.uniform(np.log(0.05), np.log(1.0), warm.sum()))
    dark[refpix | dead] = 0.0

    full_well = (84000.0 * (1.0 + 0.03 * rng.standard_normal((NY, NX)))).astype(np.float32)
    t_fw = full_well / gain
    nl_beta = (0.05 / t_fw * (1.0 + 0.1 * rng.standard_normal((NY, NX)))).astype(np.float32)
    no_lin_corr = _random_pixels(rng, 20, taken)
    nl_beta[no_lin_corr] = 0.0
    no_sat_check = _random_pixels(rng, 20, taken | no_lin_corr)
    no_gain = _random_pixels(rng, 10, taken | no_lin_corr | no_sat_check)
    measured_fw = t_fw * (1.0 - nl_beta * t_fw)
    sat_signal = (0.97 * measured_fw).astype(np.float32)
    flat[dead] = 1.0
    return Detector(superbias=superbias, gain=gain, read_noise=read_noise, flat=flat,
                    dark=dark, full_well=full_well, nl_beta=nl_beta, sat_signal=sat_signal,
                    dead=dead, hot=hot, warm=warm, no_sat_check=no_sat_check,
                    no_lin_corr=no_lin_corr, no_gain=no_gain, refpix=refpix)
