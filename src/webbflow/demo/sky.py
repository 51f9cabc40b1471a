"""The demo sky: a catalogue of stars and galaxies in RA/Dec and its rendering on a detector.

Stars are point sources with a Moffat PSF (beta = 2, FWHM 2.1 SW pixels: encircled energy
0.77 within 3 pixels, 0.97 within 10, close to the F200W PSF core), integrated over pixels by
5x5 sub-sampling near the centre. Galaxies are Sersic profiles (n 0.5-4, effective radius
0.08-0.5", axis ratio 0.3-1, random position angle) truncated at 8 effective radii, sampled
in sky coordinates through the local WCS (3x3 sub-samples, 7x7 in the core), scaled by the
pixel solid angle and convolved with the pixel-integrated PSF (25x25 pixels, normalised).
Fluxes are total DN/s of a detector with unit flat response.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from astropy.table import Table

from ..wcs import DistortionSolution, Pointing, sky_to_pixel

__all__ = ["PSF_BETA", "PSF_FWHM_PIX", "SkyModel", "make_catalog", "psf_kernel",
           "render_sources"]

PSF_FWHM_PIX = 2.1
PSF_BETA = 2.0
_ALPHA = PSF_FWHM_PIX / (2.0 * math.sqrt(2.0 ** (1.0 / PSF_BETA) - 1.0))
_TRUNC = 8.0


@dataclass(frozen=True)
class SkyModel:
    """Sources and the uniform background (DN/s per nominal pixel)."""

    sources: Table
    sky_dns: float


def make_catalog(rng: np.random.Generator, ra0: float, dec0: float, half_width: float,
                 n_stars: int = 150, n_galaxies: int = 100, flux_range: tuple = (0.3, 3e4),
                 photmjsr: float = 1.0, pixar_sr: float = 2.3e-14) -> Table:
    """Random stars and galaxies in a square of ``2*half_width`` arcsec around (ra0, dec0).

    Star fluxes follow dN/dlogF ~ F^-0.3 between ``flux_range`` DN/s (SNR ~3 in one
    exposure up to saturation in the first group); galaxies are log-uniform in 1-2000 DN/s.
    """
    n = n_stars + n_galaxies
    xi = rng.uniform(-half_width, half_width, n)
    eta = rng.uniform(-half_width, half_width, n)
    ra = ra0 + xi / (3600.0 * math.cos(math.radians(dec0)))
    dec = dec0 + eta / 3600.0
    lo, hi = np.log(flux_range[0]), np.log(flux_range[1])
    k = -0.3
    u = rng.uniform(0.0, 1.0, n_stars)
    a, b = np.exp(k * lo), np.exp(k * hi)
    star_flux = (a + u * (b - a)) ** (1.0 / k)
    gal_flux = np.exp(rng.uniform(np.log(1.0), np.log(2000.0), n_galaxies))
    flux = np.concatenate([star_flux, gal_flux])
    kind = np.array(["star"] * n_stars + ["galaxy"] * n_galaxies)
    sersic = np.concatenate([np.zeros(n_stars), rng.uniform(0.5, 4.0, n_galaxies)])
    reff = np.concatenate([np.zeros(n_stars),
                           np.exp(rng.uniform(np.log(0.08), np.log(0.5), n_galaxies))])
    q = np.concatenate([np.ones(n_stars), rng.uniform(0.3, 1.0, n_galaxies)])
    pa = np.concatenate([np.zeros(n_stars), rng.uniform(0.0, 180.0, n_galaxies)])
    flux_mjy = flux * photmjsr * pixar_sr
    tab = Table()
    tab["id"] = np.arange(1, n + 1, dtype=np.int32)
    tab["type"] = kind
    tab["ra"] = ra
    tab["ra"].unit = "deg"
    tab["dec"] = dec
    tab["dec"].unit = "deg"
    tab["flux_dns"] = flux
    tab["flux_dns"].unit = "DN/s"
    tab["flux_mjy"] = flux_mjy
    tab["flux_mjy"].unit = "MJy"
    tab["abmag"] = -2.5 * np.log10(flux_mjy * 1e6 / 3631.0)
    tab["sersic_n"] = sersic
    tab["r_eff"] = reff
    tab["r_eff"].unit = "arcsec"
    tab["axis_ratio"] = q
    tab["pa"] = pa
    tab["pa"].unit = "deg"
    tab.meta["psf"] = f"Moffat beta={PSF_BETA} FWHM={PSF_FWHM_PIX} pixel"
    tab.meta["galaxies"] = f"Sersic truncated at {_TRUNC} r_eff, PA east of north"
    return tab


def _moffat(dx: np.ndarray, dy: np.ndarray, flux: float) -> np.ndarray:
    r2 = (dx * dx + dy * dy) / (_ALPHA * _ALPHA)
    return flux * (PSF_BETA - 1.0) / (math.pi * _ALPHA * _ALPHA) * (1.0 + r2) ** (-PSF_BETA)


def _subsampled(fn, x0: np.ndarray, y0: np.ndarray, ns: int) -> np.ndarray:
    """Mean of ``fn(dx, dy)`` over ns x ns points inside each pixel centred at (x0, y0)."""
    off = (np.arange(ns) + 0.5) / ns - 0.5
    acc = np.zeros(np.broadcast(x0, y0).shape)
    for oy in off:
        for ox in off:
            acc += fn(x0 + ox, y0 + oy)
    return acc / (ns * ns)


def psf_kernel(half: int = 12) -> np.ndarray:
    """Pixel-integrated PSF centred on a pixel, (2*half+1)^2, normalised to sum 1."""
    y, x = np.mgrid[-half:half + 1, -half:half + 1].astype(float)
    k = _subsampled(lambda a, b: _moffat(a, b, 1.0), x, y, 5)
    return k / k.sum()


def _sersic_bn(n: float) -> float:
    return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n * n)


def _sersic_ie(n: float, reff: float, q: float, flux: float) -> float:
    """Surface brightness at r_eff (DN/s/arcsec^2) of the truncated profile of total ``flux``."""
    bn = _sersic_bn(n)
    r = np.linspace(0.0, _TRUNC * reff, 20001)
    prof = np.exp(-bn * ((r / reff) ** (1.0 / n) - 1.0)) * 2.0 * math.pi * r * q
    return flux / float(np.sum(0.5 * (prof[1:] + prof[:-1]) * np.diff(r)))


def _add(image: np.ndarray, stamp: np.ndarray, y0: int, x0: int) -> None:
    ny, nx = image.shape
    sy, sx = stamp.shape
    ya, xa = max(y0, 0), max(x0, 0)
    yb, xb = min(y0 + sy, ny), min(x0 + sx, nx)
    if ya < yb and xa < xb:
        image[ya:yb, xa:xb] += stamp[ya - y0:yb - y0, xa - x0:xb - x0]


def _convolve(stamp: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    h = kernel.shape[0] // 2
    shape = (stamp.shape[0] + 2 * h, stamp.shape[1] + 2 * h)
    f = np.fft.rfft2(stamp, shape) * np.fft.rfft2(kernel, shape)
    return np.fft.irfft2(f, shape)


def render_sources(sources: Table, distortion: DistortionSolution, pointing: Pointing,
                   origin: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """Noiseless source image (DN/s per pixel, float64 [ny, nx]) of one exposure.

    ``origin`` is the full-frame 0-based (x0, y0) of the image's pixel (0, 0).
    """
    ny, nx = shape
    image = np.zeros(shape)
    ra = np.asarray(sources["ra"], dtype=float)
    dec = np.asarray(sources["dec"], dtype=float)
    xc, yc = sky_to_pixel(ra, dec, distortion, pointing)
    xc, yc = xc - origin[0], yc - origin[1]
    # local WCS: pixels per arcsec along +xi (east) and +eta (north)
    cosd = np.cos(np.radians(dec))
    xe, ye = sky_to_pixel(ra + 1.0 / 3600.0 / cosd, dec, distortion, pointing)
    xn, yn = sky_to_pixel(ra, dec + 1.0 / 3600.0, distortion, pointing)
    kernel = psf_kernel()
    kh = kernel.shape[0] // 2
    for i in range(len(sources)):
        flux = float(sources["flux_dns"][i])
        if sources["type"][i] == "star":
            r = int(np.clip((flux * _ALPHA**2 / (math.pi * 1e-3)) ** 0.25, 8, 200))
        else:
            reff_pix = float(sources["r_eff"][i]) / 0.031
            r = int(np.clip(_TRUNC * reff_pix, 6, 150)) + kh
        cx, cy = round(xc[i]), round(yc[i])
        if cx + r < 0 or cy + r < 0 or cx - r >= nx or cy - r >= ny:
            continue
        gy, gx = np.mgrid[cy - r:cy + r + 1, cx - r:cx + r + 1].astype(float)
        dx, dy = gx - xc[i], gy - yc[i]
        if sources["type"][i] == "star":
            stamp = _moffat(dx, dy, flux)
            core = (np.abs(gx - cx) <= 5) & (np.abs(gy - cy) <= 5)
            stamp[core] = _subsampled(lambda a, b, f=flux: _moffat(a, b, f),
                                      dx[core], dy[core], 5)
            _add(image, stamp, cy - r, cx - r)
            continue
        jac = np.array([[xe[i] - origin[0] - xc[i], xn[i] - origin[0] - xc[i]],
                        [ye[i] - origin[1] - yc[i], yn[i] - origin[1] - yc[i]]])
        jinv = np.linalg.inv(jac)  # arcsec per pixel
        area = abs(np.linalg.det(jinv))
        n, reff = float(sources["sersic_n"][i]), float(sources["r_eff"][i])
        q, pa = float(sources["axis_ratio"][i]), math.radians(float(sources["pa"][i]))
        ie = _sersic_ie(n, reff, q, flux)
        bn = _sersic_bn(n)

        def sb(ddx, ddy, jinv=jinv, pa=pa, q=q, n=n, reff=reff, ie=ie, bn=bn):
            xi = jinv[0, 0] * ddx + jinv[0, 1] * ddy
            eta = jinv[1, 0] * ddx + jinv[1, 1] * ddy
            a = xi * math.sin(pa) + eta * math.cos(pa)
            b = -xi * math.cos(pa) + eta * math.sin(pa)
            rr = np.sqrt(a * a + (b / q) ** 2)
            out = ie * np.exp(-bn * ((rr / reff) ** (1.0 / n) - 1.0))
            return np.where(rr <= _TRUNC * reff, out, 0.0)

        stamp = _subsampled(sb, dx, dy, 3)
        core = (np.abs(gx - cx) <= 2) & (np.abs(gy - cy) <= 2)
        stamp[core] = _subsampled(sb, dx[core], dy[core], 7)
        stamp = _convolve(stamp * area, kernel)
        _add(image, stamp, cy - r - kh, cx - r - kh)
    return image
