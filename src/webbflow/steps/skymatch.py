"""skymatch: sky levels of the exposures of an association, matched on their overlaps.

As the official step (jwst 3.0 ``SkyMatchStep``; parameters and defaults the same):

* ``local``: each image's own sky (the ``skystat`` of its good pixels);
* ``global``: the smallest of the local skies, for every image;
* ``match``: relative sky offsets that best equalise the images on their pairwise overlaps,
  the lowest (``match_down``) or highest image of each connected set at 0;
* ``global+match``: ``match``, then the smallest remaining local sky added to every image;
* ``user``: levels read from ``skylist`` (``image level`` lines).

``in_memory=False`` with file inputs keeps one exposure in memory at a time and returns the
paths of ``<root>_skymatch.fits`` copies carrying the levels (in ``output_dir``, or the
``work_dir`` a pipeline sets); with models, every image is in memory.

Results go to ``meta.background.level`` (data units, MJy/sr), ``.subtracted`` (``subtract``:
the level is also removed from SCI) and ``.method``; S_SKYMAT is COMPLETE. An image whose sky
was subtracted before has it added back first.

How it differs from the official implementation (same statistics, different bookkeeping):
the official step intersects the sky polygons of every pair of images, which costs N^2
polygon operations each touching both images. Here every image's footprint is rasterised
once on a common coarse tangent-plane grid (cells of ``4`` pixels, a cell counting as covered
only when wholly inside the footprint), and every image is then read once: its pixels are
mapped to grid cells (the WCS evaluated every 16 pixels and interpolated), and its sky is
measured on its overlap with each other image by looking up that image's coverage. Memory
holds one image plus N coverage rasters of one bit per cell; time is one WCS evaluation and
one numba pass per image collecting its usable pixels in overlap cells with a bit per
neighbour, then all its pairwise statistics together in a few passes, without sorting (the
same clipping and histogram rules; sums in pixel order, so equal to rounding). The pairwise
differences are then solved as a weighted least-squares problem on the overlap graph
(weights: overlap pixel counts).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..align.exposure import Exposure, as_exposures, results_like
from ..datamodels import DataModel
from ..datamodels.dqflags import interpret_bit_flags
from ..errors import ParameterError, input_error
from ..kernels import match as kmatch
from ..kernels import sky_overlap as kov
from ..stpipe import naming
from ..stpipe.params import Param
from ..stpipe.step import Step

__all__ = ["SkyMatchStep", "bad_pixel_bits"]

#: coarse grid cell, in image pixels; WCS sampling step, pixels
CELL_PIXELS = 4
WCS_STEP = 16
#: points per footprint edge
EDGE_POINTS = 16


def bad_pixel_bits(dqbits: str | None) -> int | None:
    """The DQ bits that make a pixel bad, from a ``dqbits`` string (None: DQ not used).

    ``"~DO_NOT_USE+NON_SCIENCE"``: those bits are bad; ``"DO_NOT_USE+..."`` or an integer:
    those bits are *good* (ignored), every other bit is bad; ``"None"`` or empty: no DQ test.
    """
    if dqbits is None:
        return None
    text = str(dqbits).strip()
    if text.lower() in ("", "none"):
        return None
    invert = text.startswith("~")
    text = text.lstrip("~").strip()
    try:
        value = int(text)
    except ValueError:
        try:
            value = interpret_bit_flags(text)
        except KeyError as exc:
            raise ParameterError(f"skymatch.dqbits: {exc.args[0]}") from None
    return value if invert else (0xFFFFFFFF & ~value)


class SkyMatchStep(Step):
    """Compute (and optionally subtract) sky levels, matched across overlapping images."""

    class_alias = "skymatch"
    spec = {
        "skymethod": Param("option", "match", "sky computation method",
                           options=("local", "global", "match", "global+match", "user")),
        "match_down": Param("boolean", True, "adjust sky to lowest measured value?"),
        "subtract": Param("boolean", False, "subtract computed sky from image data?"),
        "skylist": Param("path", None, "Filename pointing to list of (imagename skyval) "
                         "pairs"),
        "stepsize": Param("integer", None, "Max vertex separation (accepted; footprints use "
                          f"{EDGE_POINTS} points per edge)"),
        "skystat": Param("option", "mode", "sky statistics",
                         options=("median", "midpt", "mean", "mode")),
        "dqbits": Param("string", "~DO_NOT_USE+NON_SCIENCE", '"good" DQ bits'),
        "lower": Param("float", None, 'Lower limit of "good" pixel values'),
        "upper": Param("float", None, 'Upper limit of "good" pixel values'),
        "nclip": Param("integer", 5, "number of sky clipping iterations", min=0),
        "lsigma": Param("float", 4.0, "Lower clipping limit, in sigma", min=0.0),
        "usigma": Param("float", 4.0, "Upper clipping limit, in sigma", min=0.0),
        "binwidth": Param("float", 0.1, "Bin width for 'mode' and 'midpt' skystat, in sigma",
                          min=0.0),
        "in_memory": Param("boolean", True, "False with file inputs: one exposure in memory "
                           "at a time, results written as <root>_skymatch.fits"),
    }

    #: where streamed results go (set by a pipeline); None: the step's output_dir
    work_dir: str | None = None

    def process(self, model: Any) -> list[Any]:
        items = list(model) if isinstance(model, list | tuple) else [model]
        streamed = (not self.in_memory and bool(items)
                    and all(isinstance(i, str | os.PathLike) for i in items))
        exposures = as_exposures(items, in_memory=not streamed)
        self._bad_bits = bad_pixel_bits(self.dqbits)
        levels = self._levels(exposures, lambda i: exposures[i].open(("dq",)))
        for e, level in zip(exposures, levels, strict=True):
            self._apply(e, level)
        if streamed:
            return self._write(exposures)
        return results_like(model, exposures)

    def _write(self, exposures: list[Exposure]) -> list[str]:
        """``in_memory=False`` with paths: each exposure written (one in memory at a time)
        as ``<root>_skymatch.fits``; returns the paths."""
        out_dir = self.work_dir or self._output_dir()
        if out_dir:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
        written = []
        for e in exposures:
            e.meta.cal_step.skymatch = "COMPLETE"
            written.append(e.save(naming.product_name(e.name, "skymatch", ".fits", out_dir)))
        return written

    def _levels(self, heads: list[Any], load: Callable[[int], DataModel]) -> list[float]:
        method = self.skymethod
        if method == "user":
            return self._user_levels(heads)
        for m in heads:
            if m.meta.wcs is None and method != "local":
                raise input_error(m.meta.filename or "<model>",
                                  f"{self.name} with skymethod={method!r} needs a WCS "
                                  "(meta.wcs); run assign_wcs first")
        return self._compute(heads, load, method)

    def _apply(self, e: Exposure, level: float) -> None:
        """Record (and with ``subtract`` remove) ``level``; a previously subtracted level is
        added back first."""
        old = self._restore(e)
        level = float(level) if np.isfinite(level) else 0.0
        if old:
            e.subtract(-old)
        if self.subtract:
            e.subtract(level)
        e.meta.background.level = level
        e.meta.background.subtracted = bool(self.subtract)
        e.meta.background.method = self.skymethod
        self.log.info("Sky of %s: %.8g (%s)", e.name, level,
                      "subtracted" if self.subtract else "not subtracted")

    # ------------------------------------------------------------------ helpers
    def _restore(self, m: Exposure) -> float:
        """The previously subtracted level (0 if none); the data are not touched yet."""
        if m.meta.background.subtracted and m.meta.background.level is not None:
            return float(m.meta.background.level)
        return 0.0

    def _good(self, m: DataModel) -> np.ndarray:
        good = np.isfinite(m.data)
        if self._bad_bits is not None and getattr(m, "dq", None) is not None:
            good &= (m.dq & np.uint32(self._bad_bits)) == 0
        return good

    def _stat(self, values: np.ndarray) -> tuple[float, int]:
        lower = np.nan if self.lower is None else float(self.lower)
        upper = np.nan if self.upper is None else float(self.upper)
        v, n = kmatch.sky_stat(np.ascontiguousarray(values, dtype=np.float64),
                               kmatch.SKY_STATS[self.skystat], lower, upper, int(self.nclip),
                               float(self.lsigma), float(self.usigma), float(self.binwidth))
        return float(v), int(n)

    def _pair_skies(self, grid: _Grid, i: int, m: DataModel
                    ) -> dict[int, tuple[float, int]]:
        """``{j: (sky, npix)}``: the statistic of image ``i``'s usable pixels on its overlap
        with each neighbour ``j``: the pixels' overlap bits once per 64 neighbours, then the
        statistics of four overlaps per set of passes over the image
        (:mod:`webbflow.kernels.sky_overlap`)."""
        nbrs = grid.neighbours(i)
        out: dict[int, tuple[float, int]] = {}
        if not nbrs:
            return out
        coarse_x, coarse_y = grid.coarse_cells(m)
        data = np.ascontiguousarray(m.data, dtype=np.float32)
        dq = getattr(m, "dq", None)
        use_dq = self._bad_bits is not None and dq is not None
        dq = (np.ascontiguousarray(dq, dtype=np.uint32) if use_dq
              else np.zeros((1, 1), dtype=np.uint32))
        offset = 0.0
        if m.meta.background.subtracted and m.meta.background.level is not None:
            offset = float(m.meta.background.level)
        lower = np.nan if self.lower is None else float(self.lower)
        upper = np.nan if self.upper is None else float(self.upper)
        stat = kmatch.SKY_STATS[self.skystat]
        clip = (int(self.nclip), float(self.lsigma), float(self.usigma), float(self.binwidth))
        for start in range(0, len(nbrs), 64):
            chunk = nbrs[start:start + 64]
            cell_slots = np.zeros(grid.cover[0].shape, dtype=np.uint64)
            for slot, j in enumerate(chunk):
                cell_slots[grid.cover[j]] |= np.uint64(1) << np.uint64(slot)
            few = len(chunk) <= kov.MAX_SLOTS
            bits = np.empty(data.shape, dtype=np.uint8 if few else np.uint64)
            kov.overlap_bits(data, dq, int(self._bad_bits or 0), use_dq, offset, lower, upper,
                             coarse_x, coarse_y, WCS_STEP, cell_slots, bits)
            for first in range(0, len(chunk), kov.MAX_SLOTS):
                part = bits if few else kov.slot_nibble(bits, first)
                nslot = min(kov.MAX_SLOTS, len(chunk) - first)
                sky, npix = kov.pixel_sky_stats(data, part, offset, nslot, stat, *clip)
                for slot in range(nslot):
                    if npix[slot] > 0:
                        out[chunk[first + slot]] = (float(sky[slot]), int(npix[slot]))
        return out

    def _values(self, m: DataModel) -> np.ndarray:
        data = np.asarray(m.data, dtype=np.float64)
        if m.meta.background.subtracted and m.meta.background.level is not None:
            data = data + float(m.meta.background.level)
        return data

    def _user_levels(self, models: list[DataModel]) -> list[float]:
        if not self.skylist:
            raise ParameterError(f"{self.name}.skylist: skymethod='user' needs a skylist file")
        path = Path(self.skylist)
        if not path.is_file():
            raise input_error(str(path), f"{self.name}.skylist: no such file")
        table: dict[str, float] = {}
        for line in path.read_text().splitlines():
            parts = line.split("#", 1)[0].split()
            if len(parts) >= 2:
                try:
                    table[Path(parts[0]).name] = float(parts[1])
                except ValueError:
                    raise input_error(str(path), f"bad sky value in line {line!r}") from None
        out = []
        for m in models:
            name = Path(str(m.meta.filename)).name
            if name not in table:
                raise input_error(str(path), f"no sky value for {name}")
            out.append(table[name])
        return out

    def _compute(self, heads: list[Any], load: Callable[[int], DataModel], method: str
                 ) -> list[float]:
        """Levels of the images ``load(i)`` (``heads[i]``: their WCS and shape)."""
        n = len(heads)
        need_local = method in ("local", "global", "global+match")
        need_pairs = method in ("match", "global+match") and n > 1
        grid = _Grid(heads) if need_pairs else None
        local = np.full(n, np.nan)
        pair_sky: dict[tuple[int, int], tuple[float, int]] = {}
        for i in range(n):  # one image at a time
            m = load(i)
            if need_local:
                local[i], _ = self._stat(self._values(m)[self._good(m)])
            if grid is not None:
                for j, sky in self._pair_skies(grid, i, m).items():
                    pair_sky[(i, j)] = sky
            del m
        if method == "local":
            return list(local)
        if method == "global":
            g = float(np.nanmin(local)) if np.any(np.isfinite(local)) else 0.0
            self.log.info("Global sky: %.8g", g)
            return [g] * n
        deltas = self._match(n, pair_sky)
        if method == "match":
            return list(deltas)
        rest = local - deltas
        g = float(np.nanmin(rest)) if np.any(np.isfinite(rest)) else 0.0
        self.log.info("Global sky added to the matched levels: %.8g", g)
        return list(deltas + g)

    def _match(self, n: int, pair_sky: dict[tuple[int, int], tuple[float, int]]
               ) -> np.ndarray:
        pi, pj, diff, weight = [], [], [], []
        for (i, j), (si, ni) in pair_sky.items():
            if i >= j or (j, i) not in pair_sky:
                continue
            sj, nj = pair_sky[(j, i)]
            if not (np.isfinite(si) and np.isfinite(sj)) or min(ni, nj) == 0:
                continue
            pi.append(i)
            pj.append(j)
            diff.append(si - sj)
            weight.append(float(min(ni, nj)))
        if not pi:
            self.log.warning("No overlapping images: sky differences cannot be matched; "
                             "levels set to 0")
            return np.zeros(n)
        a = np.asarray(pi, dtype=np.int64)
        b = np.asarray(pj, dtype=np.int64)
        s = kmatch.solve_sky_offsets(n, a, b, np.asarray(diff), np.asarray(weight))
        comp = kmatch.component_labels(n, a, b)
        for c in np.unique(comp):
            members = comp == c
            s[members] -= s[members].min() if self.match_down else s[members].max()
        return s


class _Grid:
    """Footprints of all images rasterised on one coarse tangent-plane grid."""

    def __init__(self, models: list[DataModel]) -> None:
        from astropy.modeling import models as am

        polys = []
        for m in models:
            polys.append(_footprint_sky(m))
        ra = np.concatenate([p[0] for p in polys])
        dec = np.concatenate([p[1] for p in polys])
        ra0 = float(np.degrees(np.arctan2(np.mean(np.sin(np.radians(ra))),
                                          np.mean(np.cos(np.radians(ra))))) % 360.0)
        dec0 = float(np.mean(dec))
        self.proj = am.RotateCelestial2Native(ra0, dec0, 180.0) | am.Sky2Pix_TAN()
        m0 = models[0]
        from ..align.wcs_correction import pixel_scale

        self.cell = CELL_PIXELS * pixel_scale(m0.meta.wcs, m0.shape) / 3600.0  # deg
        pxy = [self._plane(*p) for p in polys]
        allx = np.concatenate([p[0] for p in pxy])
        ally = np.concatenate([p[1] for p in pxy])
        self.x0 = float(allx.min()) - 1.0
        self.y0 = float(ally.min()) - 1.0
        self.nx = int(np.ceil(allx.max() - self.x0)) + 2
        self.ny = int(np.ceil(ally.max() - self.y0)) + 2
        self.cover = []
        self.bbox = []
        for px, py in pxy:
            gx = np.ascontiguousarray(px - self.x0)
            gy = np.ascontiguousarray(py - self.y0)
            self.cover.append(kmatch.polygon_cover(gx, gy, self.ny, self.nx))
            self.bbox.append((gx.min(), gx.max(), gy.min(), gy.max()))

    def _plane(self, ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.proj(ra, dec)
        return np.asarray(x) / self.cell, np.asarray(y) / self.cell

    def neighbours(self, i: int) -> list[int]:
        a = self.bbox[i]
        out = []
        for j, b in enumerate(self.bbox):
            if j != i and a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]:
                out.append(j)
        return out

    def coarse_cells(self, m: DataModel) -> tuple[np.ndarray, np.ndarray]:
        """Grid-cell coordinates (x, y; float64 [my, mx], cell units from the grid origin)
        of ``m``'s pixels every ``WCS_STEP`` pixels (last row/column included)."""
        ny, nx = m.shape
        xs = np.unique(np.r_[np.arange(0, nx, WCS_STEP), nx - 1]).astype(float)
        ys = np.unique(np.r_[np.arange(0, ny, WCS_STEP), ny - 1]).astype(float)
        gx, gy = np.meshgrid(xs, ys)
        ra, dec = m.meta.wcs(gx, gy, with_bounding_box=False)
        px, py = self._plane(np.asarray(ra), np.asarray(dec))
        return (np.ascontiguousarray(px - self.x0, dtype=np.float64),
                np.ascontiguousarray(py - self.y0, dtype=np.float64))


def _footprint_sky(m: DataModel) -> tuple[np.ndarray, np.ndarray]:
    """(RA, Dec) deg of points along the edges of the image (pixel edges), in order."""
    ny, nx = m.shape
    t = np.linspace(0.0, 1.0, EDGE_POINTS, endpoint=False)
    x0, x1, y0, y1 = -0.5, nx - 0.5, -0.5, ny - 0.5
    xs = np.concatenate([x0 + t * (x1 - x0), np.full_like(t, x1), x1 - t * (x1 - x0),
                         np.full_like(t, x0)])
    ys = np.concatenate([np.full_like(t, y0), y0 + t * (y1 - y0), np.full_like(t, y1),
                         y1 - t * (y1 - y0)])
    ra, dec = m.meta.wcs(xs, ys, with_bounding_box=False)
    return np.asarray(ra, dtype=float), np.asarray(dec, dtype=float)
