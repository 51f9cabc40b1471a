"""assign_mtwcs: make the WCS of moving-target exposures follow the target.

As the official step (jwst 3.0 ``AssignMTWcsStep``): the average of the target positions of
all exposures (``MT_RA``, ``MT_DEC`` in ``meta.wcsinfo``) is computed, and every exposure's
WCS gets a last frame ``moving_target`` (a copy of its celestial frame) reached from ``world``
by the shift ``(MT_AVRA - MT_RA, MT_AVDEC - MT_DEC)`` deg, so that the target lands on the
same coordinates in every exposure; MT_AVRA/MT_AVDEC and S_REGION are recorded. Exposures
of a fixed target (TARGTYPE not ``moving`` and no MT_RA/MT_DEC, read from the headers alone,
no pixels) are left alone and the step is SKIPPED; a moving target with an MT_RA/MT_DEC
missing in any exposure is SKIPPED with the official warning.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from astropy.modeling.models import Shift

from ..align.exposure import Exposure, as_exposures, results_like
from ..datamodels import DataModel
from ..errors import input_error
from ..stpipe.step import Step

__all__ = ["AssignMTWcsStep", "add_mt_frame"]


def add_mt_frame(wcs: Any, ra_average: float, dec_average: float, mt_ra: float,
                 mt_dec: float) -> Any:
    """A copy of ``wcs`` with the ``moving_target`` output frame appended (see module doc)."""
    from gwcs import coordinate_frames as cf
    from gwcs.wcs import WCS

    steps = [(s.frame, s.transform) for s in wcs.pipeline]
    out_frame = steps[-1][0]
    if not isinstance(out_frame, cf.CelestialFrame):
        raise TypeError(f"unsupported output frame {type(out_frame).__name__}")
    mt = copy.deepcopy(out_frame)
    mt.name = "moving_target"
    shift = Shift(ra_average - mt_ra) & Shift(dec_average - mt_dec)
    new = WCS([*steps[:-1], (out_frame, shift), (mt, None)])
    try:
        new.bounding_box = wcs.bounding_box
    except (NotImplementedError, AttributeError):
        pass
    return new


class AssignMTWcsStep(Step):
    """Shift the WCS of moving-target exposures to the target's average position."""

    class_alias = "assign_mtwcs"
    default_suffix = "assign_mtwcs"
    spec: dict = {}

    def process(self, model: Any) -> list[Any]:
        items = list(model) if isinstance(model, list | tuple) else [model]
        if not any(_moving(i) for i in items):  # headers only: no pixels read
            return self.skip_step(_as_given(model, items), "not a moving target (TARGTYPE is "
                                  "not 'moving' and no MT_RA/MT_DEC)")
        exposures = as_exposures(items, in_memory=True)
        ra = np.array([_float(e.meta.wcsinfo.mt_ra) for e in exposures])
        dec = np.array([_float(e.meta.wcsinfo.mt_dec) for e in exposures])
        if not (np.all(np.isfinite(ra)) and np.all(np.isfinite(dec))):
            self.log.warning("One or more MT RA/Dec values missing in input images.")
            self.log.warning("Step will be skipped, resulting in target misalignment.")
            return self.skip_step(results_like(model, exposures), "MT_RA/MT_DEC missing")
        avra = float(ra.mean())
        avdec = float(dec.mean())
        self.log.info("Moving target average position: RA %.8f, Dec %.8f", avra, avdec)
        for e, r, d in zip(exposures, ra, dec, strict=True):
            if e.meta.wcs is None:
                raise input_error(e.name, f"{self.name} needs a WCS (meta.wcs); run "
                                          "assign_wcs first")
            e.meta.wcs = add_mt_frame(e.meta.wcs, avra, avdec, float(r), float(d))
            e.meta.wcsinfo.mt_avra = avra
            e.meta.wcsinfo.mt_avdec = avdec
            try:
                from ..wcs import s_region

                region = s_region(e.meta.wcs)
                if region is not None:
                    e.meta.wcsinfo.s_region = region
            except ImportError:
                pass
        return results_like(model, exposures)


def _float(value: Any) -> float:
    return np.nan if value is None else float(value)


def _moving(item: Any) -> bool:
    """TARGTYPE is 'moving' or MT_RA/MT_DEC is set (from the primary header for paths)."""
    if isinstance(item, DataModel | Exposure):
        meta = item.meta
        targ, mt_ra, mt_dec = meta.target.type, meta.wcsinfo.mt_ra, meta.wcsinfo.mt_dec
    else:
        from astropy.io import fits

        try:
            with fits.open(item, memmap=True) as hdul:
                head = hdul[0].header
                sci = hdul["SCI"].header if "SCI" in hdul else head
                targ = head.get("TARGTYPE")
                mt_ra = sci.get("MT_RA", head.get("MT_RA"))
                mt_dec = sci.get("MT_DEC", head.get("MT_DEC"))
        except OSError as exc:
            raise input_error(item, f"not a readable FITS file ({exc})") from None
    return (str(targ or "").strip().lower() == "moving" or mt_ra is not None
            or mt_dec is not None)


def _as_given(model: Any, items: list[Any]) -> Any:
    """A skipped step's result: Exposures as given, models for paths (as officially)."""
    if all(isinstance(i, DataModel | Exposure) for i in items):
        return items
    return results_like(model, as_exposures(items, in_memory=True))
