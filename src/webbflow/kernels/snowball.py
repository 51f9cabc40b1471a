"""Large cosmic-ray events ("snowballs") for the near-IR detectors: the ``expand_large_events``
option of the JWST ``jump`` step.

A snowball is a large group of new JUMP_DET pixels in one group whose centre holds a newly
saturated core (in that group or the next). The official step traces OpenCV contours and fits
minimum-area rectangles; here components are found with a small union-find labelling kernel
(8-connected, like OpenCV's external contours) and each component's enclosing ellipse is the
rectangle spanned by its pixel centres along its principal (second-moment) axes, which equals
``minAreaRect`` for the near-elliptical blobs in question. The area compared with
``min_jump_area``/``min_sat_area`` is the area of the polygon through the boundary pixel
centres (Pick's theorem: pixels - boundary/2 - 1, zero for collinear pixels), which is what
OpenCV's ``contourArea`` measures for hole-free blobs.

Per group ``g`` >= 1 of each integration (in order):

1. cores: components of pixels SATURATED in ``g`` but not ``g - 1`` (and, for the test below,
   in ``g + 1`` but not ``g``) with area > ``min_sat_area``;
2. snowballs: jump components with area > ``min_jump_area`` that lie within ``edge_size`` of
   an edge, or contain a core centre (distance < the rectangle's long side); every jump
   component when ``sat_required_snowball`` is False;
3. cores whose short side exceeds ``min_sat_radius_extend`` are grown by ``sat_expand`` (full
   axes) and SATURATED is added inside them in ``g`` and all later groups; the ungrown core
   is remembered for the next integration;
4. each snowball ellipse is grown by ``expand_factor`` (both axes gain ``expand_factor - 1``
   times the short side; full axes capped at ``max_extended_radius``) and JUMP_DET is added
   inside it in group ``g`` except on saturated pixels.

Finally the remembered cores get JUMP_DET in groups ``1 .. persist_groups - 1`` of the next
integration.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["component_ellipses", "flag_large_events", "label_components"]


@njit(cache=True)
def _find(parent, a):
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@njit(cache=True)
def label_components(mask, labels):
    """8-connected component labelling of a 2-D boolean/uint8 ``mask``.

    ``labels`` (ny, nx) int32 is written with 0 for background and 1..n for components,
    numbered in raster order of their first pixel. Returns n.
    """
    ny, nx = mask.shape
    parent = np.arange(ny * nx, dtype=np.int64)
    for y in range(ny):
        for x in range(nx):
            if not mask[y, x]:
                continue
            p = y * nx + x
            # previously visited neighbours: W, NW, N, NE
            for dy, dx in ((0, -1), (-1, -1), (-1, 0), (-1, 1)):
                yy = y + dy
                xx = x + dx
                if yy < 0 or xx < 0 or xx >= nx:
                    continue
                if mask[yy, xx]:
                    ra = _find(parent, p)
                    rb = _find(parent, yy * nx + xx)
                    if ra != rb:
                        if ra < rb:
                            parent[rb] = ra
                        else:
                            parent[ra] = rb
    n = 0
    root_label = np.zeros(ny * nx, dtype=np.int32)
    for y in range(ny):
        for x in range(nx):
            if not mask[y, x]:
                labels[y, x] = 0
                continue
            r = _find(parent, y * nx + x)
            if root_label[r] == 0:
                n += 1
                root_label[r] = n
            labels[y, x] = root_label[r]
    return n


@njit(cache=True)
def component_ellipses(labels, n):
    """Enclosing ellipse of each component of ``labels`` (from :func:`label_components`).

    Returns (n, 6) float64 rows: area, centre y, centre x, full axis along the principal
    direction, full axis across it, angle of the principal direction (radians, from +x).
    """
    ny, nx = labels.shape
    acc = np.zeros((n + 1, 7), dtype=np.float64)  # count, sx, sy, sxx, syy, sxy, boundary
    for y in range(ny):
        for x in range(nx):
            lab = labels[y, x]
            if lab == 0:
                continue
            acc[lab, 0] += 1.0
            acc[lab, 1] += x
            acc[lab, 2] += y
            acc[lab, 3] += x * x
            acc[lab, 4] += y * y
            acc[lab, 5] += x * y
            if (y == 0 or labels[y - 1, x] != lab or y == ny - 1 or labels[y + 1, x] != lab
                    or x == 0 or labels[y, x - 1] != lab or x == nx - 1
                    or labels[y, x + 1] != lab):
                acc[lab, 6] += 1.0
    theta = np.zeros(n + 1)
    mx = np.zeros(n + 1)
    my = np.zeros(n + 1)
    for lab in range(1, n + 1):
        c = acc[lab, 0]
        mx[lab] = acc[lab, 1] / c
        my[lab] = acc[lab, 2] / c
        cxx = acc[lab, 3] / c - mx[lab] * mx[lab]
        cyy = acc[lab, 4] / c - my[lab] * my[lab]
        cxy = acc[lab, 5] / c - mx[lab] * my[lab]
        theta[lab] = 0.5 * np.arctan2(2.0 * cxy, cxx - cyy)
    ext = np.empty((n + 1, 4))  # umin, umax, vmin, vmax
    ext[:, 0] = np.inf
    ext[:, 1] = -np.inf
    ext[:, 2] = np.inf
    ext[:, 3] = -np.inf
    for y in range(ny):
        for x in range(nx):
            lab = labels[y, x]
            if lab == 0:
                continue
            ct = np.cos(theta[lab])
            st = np.sin(theta[lab])
            u = (x - mx[lab]) * ct + (y - my[lab]) * st
            v = -(x - mx[lab]) * st + (y - my[lab]) * ct
            ext[lab, 0] = min(ext[lab, 0], u)
            ext[lab, 1] = max(ext[lab, 1], u)
            ext[lab, 2] = min(ext[lab, 2], v)
            ext[lab, 3] = max(ext[lab, 3], v)
    out = np.zeros((n, 6), dtype=np.float64)
    for lab in range(1, n + 1):
        ct = np.cos(theta[lab])
        st = np.sin(theta[lab])
        uc = 0.5 * (ext[lab, 0] + ext[lab, 1])
        vc = 0.5 * (ext[lab, 2] + ext[lab, 3])
        w1 = ext[lab, 1] - ext[lab, 0]
        w2 = ext[lab, 3] - ext[lab, 2]
        # round off float noise from the projection
        w1 = np.round(w1 * 1e6) / 1e6
        w2 = np.round(w2 * 1e6) / 1e6
        area = acc[lab, 0] - 0.5 * acc[lab, 6] - 1.0
        if w1 == 0.0 or w2 == 0.0 or area < 0.0:
            area = 0.0
        out[lab - 1, 0] = area
        out[lab - 1, 1] = my[lab] + uc * st + vc * ct
        out[lab - 1, 2] = mx[lab] + uc * ct - vc * st
        out[lab - 1, 3] = w1
        out[lab - 1, 4] = w2
        out[lab - 1, 5] = theta[lab]
    return out


@njit(cache=True)
def _fill_ellipse(plane, cy, cx, full1, full2, theta, value, skip_bit):
    """OR ``value`` into ``plane`` inside the ellipse (full axes ``full1`` along ``theta``,
    ``full2`` across), centre rounded to a pixel and half-axes rounded (as OpenCV draws),
    skipping pixels that have ``skip_bit``. Returns the number of pixels changed."""
    ny, nx = plane.shape
    a = max(np.round(full1 / 2.0), 0.5)
    b = max(np.round(full2 / 2.0), 0.5)
    yc = np.round(cy)
    xc = np.round(cx)
    r = int(max(a, b)) + 1
    ct = np.cos(theta)
    st = np.sin(theta)
    changed = 0
    for y in range(max(int(yc) - r, 0), min(int(yc) + r + 1, ny)):
        for x in range(max(int(xc) - r, 0), min(int(xc) + r + 1, nx)):
            dx = x - xc
            dy = y - yc
            u = dx * ct + dy * st
            v = -dx * st + dy * ct
            if (u / a) ** 2 + (v / b) ** 2 <= 1.0 and (plane[y, x] & skip_bit) == 0:
                if (plane[y, x] & value) != value:
                    plane[y, x] |= value
                    changed += 1
    return changed


@njit(cache=True)
def _large_events_kernel(gdq, jump_bit, sat_bit, min_sat_area, min_jump_area, expand_factor,
                         sat_required, min_sat_radius_extend, sat_expand, edge_size,
                         max_extended_radius, persist_groups):
    nints, ngroups, ny, nx = gdq.shape
    labels = np.zeros((ny, nx), dtype=np.int32)
    mask = np.zeros((ny, nx), dtype=np.bool_)
    persist = np.zeros((nints, ny, nx), dtype=np.uint8)
    total = 0
    for i in range(nints):
        for g in range(1, ngroups):
            # 1. new saturated cores in g and in g + 1
            for y in range(ny):
                for x in range(nx):
                    mask[y, x] = ((gdq[i, g, y, x] & sat_bit) != 0
                                  and (gdq[i, g - 1, y, x] & sat_bit) == 0)
            ns = label_components(mask, labels)
            sat_e = component_ellipses(labels, ns)
            nn = 0
            next_e = np.zeros((0, 6))
            if g < ngroups - 1:
                for y in range(ny):
                    for x in range(nx):
                        mask[y, x] = ((gdq[i, g + 1, y, x] & sat_bit) != 0
                                      and (gdq[i, g, y, x] & sat_bit) == 0)
                nn = label_components(mask, labels)
                next_e = component_ellipses(labels, nn)
            for y in range(ny):
                for x in range(nx):
                    mask[y, x] = (gdq[i, g, y, x] & jump_bit) != 0
            nj = label_components(mask, labels)
            jump_e = component_ellipses(labels, nj)

            # 2. snowballs
            is_snow = np.zeros(nj, dtype=np.bool_)
            for j in range(nj):
                if jump_e[j, 0] <= min_jump_area:
                    continue
                if not sat_required:
                    is_snow[j] = True
                    continue
                cy = jump_e[j, 1]
                cx = jump_e[j, 2]
                if (cy < edge_size or cx < edge_size or cy > ny - edge_size
                        or cx > nx - edge_size):
                    is_snow[j] = True
                    continue
                major = max(jump_e[j, 3], jump_e[j, 4])
                for s in range(ns):
                    if sat_e[s, 0] > min_sat_area and np.hypot(
                            sat_e[s, 1] - cy, sat_e[s, 2] - cx) < major:
                        is_snow[j] = True
                for s in range(nn):
                    if next_e[s, 0] > min_sat_area and np.hypot(
                            next_e[s, 1] - cy, next_e[s, 2] - cx) < major:
                        is_snow[j] = True

            # 3. grow large saturated cores into this and all later groups
            if sat_required:
                for s in range(ns):
                    if sat_e[s, 0] <= min_sat_area:
                        continue
                    if min(sat_e[s, 3], sat_e[s, 4]) > min_sat_radius_extend:
                        a1 = min(sat_e[s, 3] + sat_expand, max_extended_radius)
                        a2 = min(sat_e[s, 4] + sat_expand, max_extended_radius)
                        for gg in range(g, ngroups):
                            _fill_ellipse(gdq[i, gg], sat_e[s, 1], sat_e[s, 2], a1, a2,
                                          sat_e[s, 5], sat_bit, 0)
                        _fill_ellipse(persist[i], sat_e[s, 1], sat_e[s, 2], sat_e[s, 3],
                                      sat_e[s, 4], sat_e[s, 5], jump_bit, 0)

            # 4. grow the snowballs
            for j in range(nj):
                if not is_snow[j]:
                    continue
                total += 1
                w1 = jump_e[j, 3]
                w2 = jump_e[j, 4]
                if w2 < w1:
                    a1 = w1 + (expand_factor - 1.0) * w2
                    a2 = w2 * expand_factor
                else:
                    a1 = w1 * expand_factor
                    a2 = w2 + (expand_factor - 1.0) * w1
                a1 = min(a1, max_extended_radius)
                a2 = min(a2, max_extended_radius)
                _fill_ellipse(gdq[i, g], jump_e[j, 1], jump_e[j, 2], a1, a2, jump_e[j, 5],
                              jump_bit, sat_bit)

    if persist_groups >= 1:
        last = min(persist_groups, ngroups)
        for i in range(1, nints):
            for g in range(1, last):
                for y in range(ny):
                    for x in range(nx):
                        gdq[i, g, y, x] |= persist[i - 1, y, x]
    return total


def flag_large_events(
    gdq: np.ndarray,
    *,
    jump_bit: int,
    sat_bit: int,
    min_sat_area: float = 1.0,
    min_jump_area: float = 5.0,
    expand_factor: float = 2.0,
    sat_required_snowball: bool = True,
    min_sat_radius_extend: float = 2.5,
    sat_expand: float = 4.0,
    edge_size: int = 25,
    max_extended_radius: float = 400.0,
    persist_groups: int = 0,
) -> int:
    """Find and expand snowballs in ``gdq`` (nints, ngroups, ny, nx) uint8, in place.

    ``sat_expand`` and ``max_extended_radius`` are full-axis pixel lengths (the official step
    passes twice its ``sat_expand`` and ``max_extended_radius`` parameters); ``persist_groups``
    is ``snowball_time_masked_next_int // group_time`` (0 disables). Returns the number of
    snowballs found. Runs serially: groups depend on the saturation grown in earlier groups.
    """
    if gdq.ndim != 4 or gdq.dtype != np.uint8 or not gdq.flags.c_contiguous:
        raise ValueError("gdq must be a C-contiguous 4-D uint8 array")
    return int(_large_events_kernel(
        gdq, np.uint8(jump_bit), np.uint8(sat_bit), float(min_sat_area), float(min_jump_area),
        float(expand_factor), bool(sat_required_snowball), float(min_sat_radius_extend),
        float(sat_expand), float(edge_size), float(max_extended_radius), int(persist_groups)))
