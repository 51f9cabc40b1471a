"""Raw ramps of one exposure: charge accumulation, IPC, bias, read-out noise, cosmic rays.

Per integration (float32 work arrays, one integration in memory at a time):

1. charge rate (e-/s) = (flat x (sources + sky)) x gain + dark current; zero on reference and
   dead pixels;
2. cosmic rays (5 hits/cm^2/s on 18 µm pixels; log-normal deposits, median 600 e-, 1 dex
   wide; 35 % spread over a 2-4 pixel track; ~2 "snowballs" per integration, a saturated
   core of radius 2-3.5 pixels and a halo) arriving before a random frame;
3. :func:`webbflow.kernels.demo_sim.accumulate_groups`: Poisson charge, full-well clipping,
   non-linearity, group averages (DN above bias);
4. IPC (3x3 kernel) on the light-sensitive pixels;
5. bias: superbias + a per-output reset offset and per-pixel kTC level per integration;
6. read-out: white read noise per frame, per-output offsets drifting frame to frame, odd/even
   column offsets, a 1/f row-correlated component common to all outputs (seen by the side
   reference columns), all averaged over the frames of each group;
7. rounding and clipping to uint16.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels.demo_sim import accumulate_groups
from .detector import AMP_EDGES, IPC_KERNEL, Detector
from .tables import ReadPattern, Subarray, Timing

__all__ = ["CR_RATE", "IntegrationResult", "SimOptions", "apply_ipc", "simulate_integration"]

#: cosmic-ray hits per cm^2 per second, and the pixel area (cm^2) of an 18 µm pixel
CR_RATE = 5.0
PIXEL_CM2 = (18e-4) ** 2


@dataclass(frozen=True)
class SimOptions:
    """Switches for test variants (all True: the realistic simulation)."""

    noise: bool = True
    cosmic_rays: bool = True
    nonlinear: bool = True
    dark: bool = True


@dataclass
class IntegrationResult:
    """One integration: raw uint16 [ngroups, ny, nx], cosmic-ray rows, first saturated group
    per pixel (int16 [ny, nx], -1 if never)."""

    raw: np.ndarray
    cosmic_rays: list[tuple]
    first_saturated: np.ndarray


def apply_ipc(cube: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Convolve the last two axes with :data:`IPC_KERNEL` (zero outside), keep ``light`` only.

    cube : float32 [..., ny, nx]; light : bool [ny, nx] (False on reference pixels).
    """
    src = np.where(light, cube, 0.0).astype(np.float32)
    out = np.zeros_like(src)
    ny, nx = src.shape[-2:]
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            w = IPC_KERNEL[1 + dy, 1 + dx]
            ys, yd = (slice(0, ny - dy), slice(dy, ny)) if dy >= 0 else (slice(-dy, ny),
                                                                         slice(0, ny + dy))
            xs, xd = (slice(0, nx - dx), slice(dx, nx)) if dx >= 0 else (slice(-dx, nx),
                                                                         slice(0, nx + dx))
            out[..., yd, xd] += w * src[..., ys, xs]
    return np.where(light, out, 0.0).astype(np.float32)


def _cosmic_rays(rng: np.random.Generator, light: np.ndarray, gain: np.ndarray,
                 full_well: np.ndarray, frames: int, tframe: float,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events: int64 [4, n] rows (y, x, frame, hit index), charge (e-) [n], kind per hit."""
    ny, nx = light.shape
    n_hits = rng.poisson(CR_RATE * light.sum() * PIXEL_CM2 * frames * tframe)
    ys, xs, fs, qs, kinds = [], [], [], [], []
    y0 = rng.integers(0, ny, n_hits)
    x0 = rng.integers(0, nx, n_hits)
    f0 = rng.integers(0, frames, n_hits)
    q0 = np.exp(rng.normal(np.log(600.0), np.log(10.0), n_hits))
    track = rng.uniform(0, 1, n_hits) < 0.35
    length = rng.integers(2, 5, n_hits)
    angle = rng.uniform(0, 2 * np.pi, n_hits)
    for i in range(n_hits):
        if not track[i]:
            ys.append([y0[i]])
            xs.append([x0[i]])
            qs.append([q0[i]])
        else:
            t = np.arange(length[i])
            ys.append(list(y0[i] + np.rint(t * np.sin(angle[i])).astype(int)))
            xs.append(list(x0[i] + np.rint(t * np.cos(angle[i])).astype(int)))
            w = rng.uniform(0.5, 1.5, length[i])
            qs.append(list(q0[i] * length[i] * w / w.sum()))
        fs.append([f0[i]] * len(ys[-1]))
        kinds.append("cr")
    for _ in range(rng.poisson(2.0 * light.sum() / 409600.0)):
        cy, cx = rng.integers(0, ny), rng.integers(0, nx)
        radius = rng.uniform(2.0, 3.5)
        gy, gx = np.mgrid[-5:6, -5:6]
        rr = np.hypot(gy, gx)
        sel = rr <= radius + 1.5
        core_q = 1.5 * float(np.median(full_well))
        q = np.where(rr[sel] <= radius, core_q, 0.2 * core_q)
        ys.append(list(cy + gy[sel]))
        xs.append(list(cx + gx[sel]))
        qs.append(list(q))
        fs.append([int(rng.integers(0, frames))] * int(sel.sum()))
        kinds.append("snowball")
    if not ys:
        return (np.zeros((4, 0), dtype=np.int64), np.zeros(0, np.float32),
                np.zeros(0, dtype=object))
    hit = np.repeat(np.arange(len(ys)), [len(v) for v in ys])
    y = np.concatenate([np.asarray(v, dtype=np.int64) for v in ys])
    x = np.concatenate([np.asarray(v, dtype=np.int64) for v in xs])
    f = np.concatenate([np.asarray(v, dtype=np.int64) for v in fs])
    q = np.concatenate([np.asarray(v, dtype=float) for v in qs]).astype(np.float32)
    keep = (y >= 0) & (y < ny) & (x >= 0) & (x < nx)
    keep[keep] &= light[y[keep], x[keep]]
    return (np.stack([y[keep], x[keep], f[keep], hit[keep]]), q[keep],
            np.asarray(kinds, dtype=object))


def _one_over_f(rng: np.random.Generator, n: int, rms: float) -> np.ndarray:
    """A 1/f (pink) noise series of ``n`` samples with the given rms."""
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    freq = np.arange(n // 2 + 1, dtype=float)
    freq[0] = 1.0
    spec /= np.sqrt(freq)
    spec[0] = 0.0
    series = np.fft.irfft(spec, n)
    return (series * rms / max(series.std(), 1e-12)).astype(np.float32)


def simulate_integration(det: Detector, sub: Subarray, patt: ReadPattern, ngroups: int,
                         tim: Timing, photo_dns: np.ndarray, integration: int,
                         rng: np.random.Generator, seed: int, options: SimOptions,
                         ) -> IntegrationResult:
    """Simulate integration ``integration`` (1-based) of an exposure.

    photo_dns : float [ny, nx], flat x (sources + sky) in DN/s on the subarray (pre-IPC).
    """
    sl = sub.slices
    ny, nx = sub.ysize, sub.xsize
    light = ~det.refpix[sl]
    gain = det.gain[sl]
    alive = light & ~det.dead[sl]
    rate_e = np.where(alive, photo_dns * gain, 0.0)
    if options.dark:
        rate_e = rate_e + np.where(alive, det.dark[sl], 0.0)
    frames = tim.frames_per_int
    period = patt.nframes + patt.groupgap
    cr_rows: list[tuple] = []
    if options.cosmic_rays:
        ev, charge, kinds = _cosmic_rays(rng, light, gain, det.full_well[sl], frames,
                                               tim.tframe)
        y, x, f, hit = ev
        charge = np.where(det.dead[sl][y, x], 0.0, charge).astype(np.float32)
        pix = y * nx + x
        order = np.lexsort((f, pix))
        pix, f, charge = pix[order], f[order], charge[order]
        y, x, hit = y[order], x[order], hit[order]
        cr_start = np.searchsorted(pix, np.arange(ny * nx + 1)).astype(np.int64)
        for k in range(len(pix)):
            grp = max(0, -(-(int(f[k]) - patt.nframes + 1) // period))
            cr_rows.append((integration, grp, int(f[k]), int(x[k]), int(y[k]),
                            float(charge[k] / gain[y[k], x[k]]), str(kinds[hit[k]])))
    else:
        cr_start = np.zeros(ny * nx + 1, dtype=np.int64)
        f = np.zeros(0, dtype=np.int64)
        charge = np.zeros(0, dtype=np.float32)
    beta = det.nl_beta[sl] if options.nonlinear else np.zeros((ny, nx), np.float32)
    signal = np.empty((ngroups, ny * nx), dtype=np.float32)
    accumulate_groups(np.ascontiguousarray(rate_e, dtype=np.float32).ravel(),
                      np.ascontiguousarray(gain).ravel(),
                      np.ascontiguousarray(det.full_well[sl]).ravel(),
                      np.ascontiguousarray(beta, dtype=np.float32).ravel(),
                      cr_start, np.ascontiguousarray(f, dtype=np.int64),
                      np.ascontiguousarray(charge, dtype=np.float32), ngroups,
                      patt.nframes, patt.groupgap, tim.tframe, seed, options.noise, signal)
    signal = apply_ipc(signal.reshape(ngroups, ny, nx), light)

    check = light & ~det.no_sat_check[sl]
    sat = (signal >= det.sat_signal[sl]) & check
    first = np.where(sat.any(axis=0), sat.argmax(axis=0), -1).astype(np.int16)

    raw = signal
    raw += det.superbias[sl]
    if options.noise:
        _add_readout_noise(raw, det, sub, patt, ngroups, rng)
    np.rint(raw, out=raw)
    np.clip(raw, 0, 65535, out=raw)
    return IntegrationResult(raw=raw.astype(np.uint16), cosmic_rays=cr_rows,
                             first_saturated=first)


def _add_readout_noise(raw: np.ndarray, det: Detector, sub: Subarray, patt: ReadPattern,
                       ngroups: int, rng: np.random.Generator) -> None:
    """Add reset/kTC levels and frame-averaged read-out noise to ``raw`` in place."""
    sl = sub.slices
    ny, nx = raw.shape[-2:]
    nf, period = patt.nframes, patt.nframes + patt.groupgap
    if sub.noutputs == 4:
        amp = np.searchsorted(np.array(AMP_EDGES[1:]), np.arange(sub.xstart - 1,
                              sub.xstart - 1 + nx), side="right")
    else:
        amp = np.zeros(nx, dtype=int)
    namp = sub.noutputs
    frames = (ngroups - 1) * period + nf
    reset = rng.normal(0.0, 40.0, namp)[amp]
    raw += reset[None, None, :]
    raw += rng.normal(0.0, 8.0, (ny, nx)).astype(np.float32)
    drift = np.cumsum(rng.normal(0.0, 0.8, (frames, namp)), axis=0)
    drift += rng.normal(0.0, 1.0, (frames, namp))
    odd = rng.normal(0.0, 3.0, namp)[None, :] + rng.normal(0.0, 0.5, (frames, namp))
    rows = _one_over_f(rng, frames * ny, 2.0).reshape(frames, ny)
    odd_cols = (np.arange(sub.xstart - 1, sub.xstart - 1 + nx) % 2 == 1)
    rn = det.read_noise[sl] / np.float32(np.sqrt(nf))
    for g in range(ngroups):
        fr = slice(g * period, g * period + nf)
        a = drift[fr].mean(axis=0)[amp] + np.where(odd_cols, odd[fr].mean(axis=0)[amp], 0.0)
        raw[g] += a[None, :].astype(np.float32)
        raw[g] += rows[fr].mean(axis=0)[:, None]
        raw[g] += rn * rng.standard_normal((ny, nx), dtype=np.float32)
