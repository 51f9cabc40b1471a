"""assign_mtwcs: make the WCS of moving-target exposures follow the target.

As the official step (jwst 3.0 ``AssignMTWcsStep``): the average of the target positions of
all exposures (``MT_RA``, ``MT_DEC`` in ``meta.wcsinfo``) is computed, and every exposure's
WCS gets a last frame ``moving_target`` (a copy of its celestial frame) reached from ``world``
by the shift ``(MT_AVRA - MT_RA, MT_AVDEC - MT_DEC)`` deg, so that the target lands on the
same coordinates in every exposure; MT_AVRA/MT_AVDEC and S_REGION are recorded. Exposures
of a fixed target (TARGTYPE not ``moving`` and no MT_RA/MT_DEC) are left alone and the step
is SKIPPED; a moving target with an MT_RA/MT_DEC missing in any exposure is SKIPPED with
the official warning.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from astropy.modeling.models import Shift

from ..datamodels import DataModel
from ..errors import input_error
from ..stpipe.step import Step
from .tweakreg import load_models

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

    def process(self, model: Any) -> list[DataModel]:
        models = load_models(model)
        moving = [str(m.meta.target.type or "").strip().lower() == "moving" for m in models]
        ra = np.array([np.nan if m.meta.wcsinfo.mt_ra is None else float(m.meta.wcsinfo.mt_ra)
                       for m in models])
        dec = np.array([np.nan if m.meta.wcsinfo.mt_dec is None
                        else float(m.meta.wcsinfo.mt_dec) for m in models])
        if not any(moving) and not np.any(np.isfinite(ra)):
            return self.skip_step(models, "not a moving target (TARGTYPE is not 'moving' and "
                                          "no MT_RA/MT_DEC)")
        if not (np.all(np.isfinite(ra)) and np.all(np.isfinite(dec))):
            self.log.warning("One or more MT RA/Dec values missing in input images.")
            self.log.warning("Step will be skipped, resulting in target misalignment.")
            return self.skip_step(models, "MT_RA/MT_DEC missing")
        avra = float(ra.mean())
        avdec = float(dec.mean())
        self.log.info("Moving target average position: RA %.8f, Dec %.8f", avra, avdec)
        for m, r, d in zip(models, ra, dec, strict=True):
            if m.meta.wcs is None:
                raise input_error(m.meta.filename or "<model>",
                                  f"{self.name} needs a WCS (meta.wcs); run assign_wcs first")
            m.meta.wcs = add_mt_frame(m.meta.wcs, avra, avdec, float(r), float(d))
            m.meta.wcsinfo.mt_avra = avra
            m.meta.wcsinfo.mt_avdec = avdec
            try:
                from ..wcs import s_region

                region = s_region(m.meta.wcs)
                if region is not None:
                    m.meta.wcsinfo.s_region = region
            except ImportError:
                pass
        return models
