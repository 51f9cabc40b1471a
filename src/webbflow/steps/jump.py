"""jump: two-point-difference cosmic-ray (jump) detection, with large-event flagging."""

from __future__ import annotations

import numpy as np

from ..instruments import DMS_TO_DETECTOR, family
from ..kernels.jump import DEFAULT_PARAMS, detect_jumps
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import FLAGS, load_reference, owned_array, ramp_input

_DOCS = {
    "rejection_threshold": "Jump threshold (sigma) with ≥5 usable groups",
    "three_group_rejection_threshold": "Jump threshold (sigma) with 3 usable groups",
    "four_group_rejection_threshold": "Jump threshold (sigma) with 4 usable groups",
    "flag_4_neighbors": "Also flag the 4 neighbours of a jump",
    "max_jump_to_flag_neighbors": "Largest jump (sigma) whose neighbours are flagged",
    "min_jump_to_flag_neighbors": "Smallest jump (sigma) whose neighbours are flagged",
    "after_jump_flag_dn1": "Jump size (DN) above which later groups are flagged (1)",
    "after_jump_flag_time1": "Time (s) flagged after such a jump (1)",
    "after_jump_flag_dn2": "Jump size (DN) above which later groups are flagged (2)",
    "after_jump_flag_time2": "Time (s) flagged after such a jump (2)",
    "min_diffs_single_pass": "Differences from which one non-iterative pass is used",
    "minimum_groups": "Fewest groups for the step to run",
    "minimum_sigclip_groups": "Integrations from which sigma clipping across them is used",
    "only_use_ints": "Sigma-clip only across integrations, group by group",
    "expand_large_events": "Flag large events (snowballs) and expand them",
    "min_sat_area": "Smallest saturated core area (pixels) of a snowball",
    "min_jump_area": "Smallest jump area (pixels) of a large event",
    "expand_factor": "Expansion of a large event's ellipse",
    "sat_required_snowball": "A snowball must have a saturated core",
    "min_sat_radius_extend": "Core radius above which saturation is extended",
    "sat_expand": "Pixels added to an extended saturated core",
    "edge_size": "Distance (pixels) to the edge within which no core is required",
    "max_extended_radius": "Largest radius (pixels) of an expanded event",
    "mask_snowball_core_next_int": "Flag snowball cores in the next integration",
    "snowball_time_masked_next_int": "Time (s) masked in the next integration",
    "noise_aware": "webbflow's noise-aware test, not official (False: the official test): "
                   "per-row, per-amplifier 1/f offsets removed from the group differences, "
                   "each compared with the mean of the pixel's other differences (neighbours "
                   "excluded) including that mean's noise, negative steps at 1.25 x the "
                   "threshold, split hits by consecutive pairs; about 3x fewer false jumps",
}
_KIND = {bool: "boolean", int: "integer", float: "float"}

#: MIRI shower parameters (official names, defaults and meanings; see kernels/showers.py)
SHOWER_SPEC = {
    "find_showers": Param("boolean", False, "Apply MIRI shower flagging"),
    "max_shower_amplitude": Param("float", 4.0, "Maximum MIRI shower amplitude in DN/s",
                                  min=0.0),
    "extend_snr_threshold": Param("float", 1.2, "SNR minimum for the detection of extended "
                                  "showers in MIRI", min=0.0),
    "extend_min_area": Param("integer", 90, "Minimum area of emission after convolution for "
                             "the detection of showers", min=0),
    "extend_inner_radius": Param("float", 1.0, "Inner radius of the ring kernel used for "
                                 "convolution", min=0.0),
    "extend_outer_radius": Param("float", 2.6, "Outer radius of the ring kernel (used, as "
                                 "officially, as the ring width)", min=0.0),
    "extend_ellipse_expand_ratio": Param("float", 1.1, "Expansion of the ellipse fit to the "
                                         "extended emission", min=0.0),
    "time_masked_after_shower": Param("float", 15.0, "Seconds flagged as jump after a "
                                      "detected shower", min=0.0),
}


#: full-frame columns per amplifier of the NIR detectors (readout direction frame)
_NIR_AMP_WIDTH = 512


def _nir_amplifiers(ramp) -> tuple[np.ndarray, bool]:
    """Amplifier of each readout line position and whether lines are DMS columns."""
    ny, nx = ramp.data.shape[-2:]
    by_col = "t" in DMS_TO_DETECTOR.get(ramp.meta.instrument.detector or "", "")
    n, start = (ny, ramp.meta.subarray.ystart) if by_col else (nx, ramp.meta.subarray.xstart)
    if int(ramp.meta.exposure.noutputs or 1) < 4:
        return np.zeros(n, dtype=np.int64), by_col
    return (int(start or 1) - 1 + np.arange(n)) // _NIR_AMP_WIDTH, by_col


def _miri_amplifiers(ramp) -> tuple[np.ndarray, bool]:
    """MIRI: four amplifiers read interleaved columns (column k belongs to k % 4)."""
    nx = ramp.data.shape[-1]
    return (int(ramp.meta.subarray.xstart or 1) - 1 + np.arange(nx)) % 4, False


#: detector family → amplifier layout for the noise-aware test's common-mode offsets
AMPLIFIERS = {"nir": _nir_amplifiers, "miri": _miri_amplifiers}


class JumpStep(Step):
    """Flag cosmic-ray jumps as JUMP_DET in GROUPDQ (Anderson & Gordon 2011).

    ``noise_aware`` (default True) is a deliberate difference from the official step: before
    the two-point-difference test, the common offset of each group difference per row and
    amplifier (1/f read noise left by refpix) is removed, each difference is compared with the
    mean of the pixel's other differences without its two neighbours (uncorrelated with it)
    with that mean's own noise in the sigma, differences below that mean (which no cosmic ray
    makes) need 1.25x the threshold, and hits split over two consecutive differences are
    found from their sum (also at 1.25x). Only the JUMP_DET flags change, never the data. On
    the demo exposure it flags 0.039 % of clean pixels instead of 0.156 % with at least the
    official recall at every SNR (see :mod:`webbflow.kernels.jump_noise`).
    ``--steps.jump.noise_aware=False`` gives the official behaviour exactly. Sigma clipping
    (``minimum_sigclip_groups`` integrations) is unchanged either way.
    """

    class_alias = "jump"
    reference_file_types = ("gain", "readnoise")
    spec = {
        **{name: Param(_KIND[type(value)], value, _DOCS[name],
                       min=0 if not isinstance(value, bool) else None)
           for name, value in DEFAULT_PARAMS.items()},
        **SHOWER_SPEC,
        "maximum_cores": Param("string", "1", "Accepted for compatibility: webbflow uses "
                               "numba threads (NUMBA_NUM_THREADS)"),
    }

    def process(self, model):
        ramp = ramp_input(model, self.name)
        gain = load_reference(self, ramp, "gain")
        readnoise = load_reference(self, ramp, "readnoise")
        if gain is None or readnoise is None:
            return self.skip_step(ramp, "no GAIN or READNOISE reference applies (N/A)")
        exp = ramp.meta.exposure
        params = {name: getattr(self, name) for name in DEFAULT_PARAMS}
        gdq = owned_array(ramp.groupdq, "uint8")
        amplifier, by_col = AMPLIFIERS[family(ramp.meta.instrument.name)](ramp)
        groupdq, stats = detect_jumps(
            ramp.data, gdq, readnoise.data, gain.data, out=gdq, amplifier=amplifier,
            lines_are_columns=by_col,
            nframes=int(exp.nframes or 1), frame_time=float(exp.frame_time or 0.0),
            group_time=float(exp.group_time or 0.0),
            flags={"do_not_use": FLAGS["do_not_use"], "saturated": FLAGS["saturated"],
                   "jump_det": FLAGS["jump_det"]}, **params)
        self.log.info("Jump detection (%s): %d jumps, %d neighbours, %d pixels with jumps",
                      stats.mode, stats.n_primary, stats.n_neighbors, stats.n_pixels_with_jump)
        if stats.mode == "skipped":
            return self.skip_step(ramp, f"fewer than {self.minimum_groups} usable groups")
        if self.find_showers:
            groupdq = self._showers(ramp, groupdq, gain.data, readnoise.data)
        ramp.groupdq = groupdq
        return ramp

    def _showers(self, ramp, groupdq: np.ndarray, gain: np.ndarray,
                 readnoise: np.ndarray) -> np.ndarray:
        """MIRI shower flagging on the jump-flagged GROUPDQ (data in electrons)."""
        from ..kernels.showers import find_showers  # imported on use: keeps strun's start-up short

        exp = ramp.meta.exposure
        gtime = float(exp.group_time or 1.0)
        pixeldq = ramp.pixeldq.copy()
        bad_gain = ~(gain > 0)
        pixeldq[bad_gain] |= FLAGS["no_gain_value"] | FLAGS["do_not_use"]
        groupdq, n = find_showers(
            ramp.data * gain, groupdq, pixeldq, readnoise * gain,
            nframes=int(exp.nframes or 1),
            flags={k: FLAGS[k] for k in ("do_not_use", "saturated", "jump_det",
                                         "reference_pixel")},
            snr_threshold=self.extend_snr_threshold, min_area=self.extend_min_area,
            inner_radius=self.extend_inner_radius, outer_radius=self.extend_outer_radius,
            expand_ratio=self.extend_ellipse_expand_ratio,
            groups_masked=int(self.time_masked_after_shower // gtime),
            max_extended_width=2.0 * self.max_extended_radius,
            max_shower_amplitude=self.max_shower_amplitude * gtime,
            minimum_sigclip_groups=self.minimum_sigclip_groups)
        self.log.info("Total showers = %d", n)
        return groupdq
