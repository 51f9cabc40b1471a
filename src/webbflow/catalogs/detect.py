"""Detection on a mosaic: background and RMS meshes, Gaussian smoothing, segmentation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import segmentation as S


@dataclass
class Detection:
    """What detection produces (arrays (ny, nx)).

    data : background-subtracted image; conv : it smoothed with the detection kernel;
    background, rms : the meshes interpolated; labels : int32 segmentation (0 = none);
    nlabels : labels used (1..nlabels; some may be empty after deblending).
    """

    data: np.ndarray
    conv: np.ndarray
    background: np.ndarray
    rms: np.ndarray
    labels: np.ndarray
    nlabels: int


def detect_sources(data: np.ndarray, mask: np.ndarray, *, snr_threshold: float,
                   kernel_fwhm: float, bkg_boxsize: int, npixels: int,
                   connectivity: int = 8, deblend: bool = True, nlevels: int = 32,
                   contrast: float = 0.001, mode: str = "exponential") -> Detection:
    """Find sources in ``data`` (any flux unit) ignoring ``mask`` (True = unusable)."""
    ny, nx = data.shape
    box = int(min(bkg_boxsize, max(ny, nx)))
    if box >= ny or box >= nx:
        box = max(ny, nx)  # one mesh: the whole unmasked image, as the official fallback
    my = -(-ny // box)
    mx = -(-nx // box)
    bmesh = np.empty((my, mx))
    rmesh = np.empty((my, mx))
    mask = mask | ~np.isfinite(data)
    S.background_mesh(data, mask, box, 3.0, 10, bmesh, rmesh)
    bkg = np.empty((ny, nx))
    rms = np.empty((ny, nx))
    S.interpolate_mesh(bmesh, box, bkg)
    S.interpolate_mesh(rmesh, box, rms)
    sub = data - bkg
    sub[mask] = np.nan
    if kernel_fwhm > 0:
        conv = np.empty((ny, nx))
        S.convolve_masked(sub, mask, S.gaussian_kernel(kernel_fwhm), conv)
    else:
        conv = sub.copy()
    select = (conv > snr_threshold * rms) & ~mask
    labels = np.zeros((ny, nx), dtype=np.int32)
    n = S.label_components(select, int(connectivity), int(npixels), labels)
    if deblend and n > 0:
        out = np.empty_like(labels)
        n = S.deblend_segments(np.nan_to_num(conv), labels, n, int(npixels), int(nlevels),
                               float(contrast), int(connectivity), mode == "exponential",
                               out)
        labels = out
    return Detection(sub, conv, bkg, rms, labels, n)
