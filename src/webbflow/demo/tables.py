"""NIRCam tables the demo needs: subarrays, readout patterns, and the exposure timing.

Frame time (NIRCam, 10 µs per pixel sample; as used by the NIRCam team's simulators)::

    TFRAME = ((nx / noutputs + 12) * (ny + rowpad) + fullpad) * 1e-5 s
    rowpad, fullpad = (1, 1) for the 4-output full frame, (2, 0) otherwise

(full frame 10.73677 s, SUB640 4.18584 s, SUB320 1.06904 s, SUB160 0.27864 s).
Group and integration times follow the JWST keyword conventions for NIR detectors::

    TGROUP   = (NFRAMES + GROUPGAP) * TFRAME
    EFFINTTM = (NGROUPS * NFRAMES + (NGROUPS - 1) * GROUPGAP) * TFRAME   (first to last read)
    EFFEXPTM = NINTS * EFFINTTM
    DURATION = (NRSTSTRT + NINTS * frames per integration + (NINTS - 1) * NRESETS) * TFRAME
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParameterError

__all__ = ["READPATTS", "SUBARRAYS", "ReadPattern", "Subarray", "Timing", "timing"]


@dataclass(frozen=True)
class Subarray:
    """A NIRCam SW subarray: size, 1-based origin on the detector, outputs, reference edges.

    ``ref_edges`` lists the detector edges (``"left"``, ``"right"``, ``"bottom"``, ``"top"``,
    in the science frame) whose 4 reference rows/columns the subarray contains.
    """

    name: str
    xsize: int
    ysize: int
    xstart: int
    ystart: int
    noutputs: int
    ref_edges: tuple[str, ...]

    @property
    def slices(self) -> tuple[slice, slice]:
        """Full-frame 0-based (rows, columns) slices covered by the subarray."""
        return (slice(self.ystart - 1, self.ystart - 1 + self.ysize),
                slice(self.xstart - 1, self.xstart - 1 + self.xsize))


SUBARRAYS: dict[str, Subarray] = {
    "FULL": Subarray("FULL", 2048, 2048, 1, 1, 4, ("left", "right", "bottom", "top")),
    "SUB640": Subarray("SUB640", 640, 640, 1, 1, 1, ("left", "bottom")),
    "SUB320": Subarray("SUB320", 320, 320, 1, 1, 1, ("left", "bottom")),
    "SUB160": Subarray("SUB160", 160, 160, 1, 1, 1, ("left", "bottom")),
}


@dataclass(frozen=True)
class ReadPattern:
    """A MULTIACCUM pattern: frames averaged per group and frames dropped between groups."""

    name: str
    nframes: int
    groupgap: int
    max_ngroups: int


READPATTS: dict[str, ReadPattern] = {
    p.name: p for p in (
        ReadPattern("RAPID", 1, 0, 10),
        ReadPattern("BRIGHT1", 1, 1, 10),
        ReadPattern("BRIGHT2", 2, 0, 10),
        ReadPattern("SHALLOW2", 2, 3, 10),
        ReadPattern("SHALLOW4", 4, 1, 10),
        ReadPattern("MEDIUM2", 2, 8, 10),
        ReadPattern("MEDIUM8", 8, 2, 10),
        ReadPattern("DEEP2", 2, 18, 20),
        ReadPattern("DEEP8", 8, 12, 20),
    )
}


def frame_time(sub: Subarray) -> float:
    """TFRAME (s) of a NIRCam SW subarray read through ``sub.noutputs`` outputs."""
    full = sub.xsize == 2048 and sub.ysize == 2048 and sub.noutputs == 4
    rowpad, fullpad = (1, 1) if full else (2, 0)
    return round(((sub.xsize / sub.noutputs + 12) * (sub.ysize + rowpad) + fullpad) * 1e-5, 5)


@dataclass(frozen=True)
class Timing:
    """Exposure timing (s) and frame bookkeeping of one exposure."""

    tframe: float
    tgroup: float
    effinttm: float
    effexptm: float
    duration: float
    frames_per_int: int
    nresets_at_start: int = 1
    nresets_between_ints: int = 1


def timing(sub: Subarray, patt: ReadPattern, ngroups: int, nints: int) -> Timing:
    """Header timing for ``nints`` integrations of ``ngroups`` groups (see module docstring)."""
    if ngroups < 1 or ngroups > patt.max_ngroups:
        raise ParameterError(f"ngroups={ngroups}: {patt.name} allows 1 to {patt.max_ngroups}")
    if nints < 1:
        raise ParameterError(f"nints={nints}: must be at least 1")
    tf = frame_time(sub)
    nfr = ngroups * patt.nframes + (ngroups - 1) * patt.groupgap
    effint = nfr * tf
    dur = (1 + nints * nfr + (nints - 1) * 1) * tf
    return Timing(tframe=tf, tgroup=round((patt.nframes + patt.groupgap) * tf, 5),
                  effinttm=round(effint, 5), effexptm=round(nints * effint, 5),
                  duration=round(dur, 5), frames_per_int=nfr)


def lookup_subarray(name: str) -> Subarray:
    """The subarray called ``name`` (case-insensitive) or a one-line ParameterError."""
    try:
        return SUBARRAYS[name.upper()]
    except KeyError:
        raise ParameterError(f"subarray {name!r}: expected one of "
                             f"{', '.join(SUBARRAYS)}") from None


def lookup_readpatt(name: str) -> ReadPattern:
    """The readout pattern called ``name`` (case-insensitive) or a one-line ParameterError."""
    try:
        return READPATTS[name.upper()]
    except KeyError:
        raise ParameterError(f"readpatt {name!r}: expected one of "
                             f"{', '.join(READPATTS)}") from None
