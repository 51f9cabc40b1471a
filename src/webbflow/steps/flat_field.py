"""flat_field: divide imaging (and guider) count rates by the FLAT reference."""

from __future__ import annotations

from pathlib import Path

from ..datamodels import CubeModel, DataModel, ImageModel
from ..datamodels.guider import GuiderCalModel
from ..errors import input_error
from ..kernels.flat_field import apply_flat, prepare_flat
from ..references.read import read_reference
from ..stpipe.params import Param
from ..stpipe.step import Step
from .support import FLAGS, load_reference

#: NIRSpec exposure types flat-fielded with the spectroscopic fflat/sflat/dflat (official list)
NRS_SPECTRAL = ("NRS_BRIGHTOBJ", "NRS_FIXEDSLIT", "NRS_IFU", "NRS_MSASPEC", "NRS_LAMP",
                "NRS_AUTOWAVE")
#: NIRSpec exposure types flat-fielded like imaging (official list)
NRS_IMAGING = ("NRS_CONFIRM", "NRS_FOCUS", "NRS_IMAGE", "NRS_MIMF", "NRS_MSATA",
               "NRS_TACONFIRM", "NRS_TACQ", "NRS_TASLIT", "NRS_WATA")
#: exposure types for which extract_2d may have run before flat_field (official list)
EXTRACT_2D_IS_OK = ("NRS_BRIGHTOBJ", "NRS_FIXEDSLIT", "NRS_LAMP", "NRS_MSASPEC",
                    "NRS_AUTOWAVE", "NRS_AUTOFLAT")

_SUPPORTED = (ImageModel, CubeModel, GuiderCalModel)


def _skip_reason(model: DataModel) -> str | None:
    """Why this exposure is not flat-fielded here, or None."""
    exp_type = str(model.meta.exposure.type or "").upper()
    instrument = str(model.meta.instrument.name or "").upper()
    if instrument == "NIRSPEC" and exp_type not in NRS_IMAGING:
        if exp_type in NRS_SPECTRAL and model.meta.instrument.lamp_mode != "IMAGE":
            return (f"{exp_type} needs the spectroscopic FFLAT/SFLAT/DFLAT flats, not "
                    "implemented in webbflow")
        return f"flat-fielding is not supported for {exp_type}"
    if model.meta.cal_step.extract_2d == "COMPLETE" and exp_type not in EXTRACT_2D_IS_OK:
        return f"extract_2d should not have been run for {exp_type} data"
    return None


class FlatFieldStep(Step):
    """Divide SCI by the FLAT (or multiply, ``inverse``), propagating DQ, ERR and variances."""

    class_alias = "flat_field"
    reference_file_types = ("flat", "fflat", "sflat", "dflat")
    spec = {
        "save_interpolated_flat": Param("boolean", False, "Save the interpolated flat "
                                        "(NIRSpec spectroscopy only; not in webbflow)"),
        "user_supplied_flat": Param("path", None, "A flat (FlatModel file) to use instead of "
                                    "the reference files"),
        "inverse": Param("boolean", False, "Multiply by the flat instead of dividing"),
    }

    def process(self, model):
        if not isinstance(model, _SUPPORTED):
            raise input_error(model.meta.filename or "<model>",
                              f"{self.name} needs a rate, rateints or guider cal product, got "
                              f"{type(model).__name__}")
        reason = _skip_reason(model)
        if reason is not None:
            return self.skip_step(model, reason)
        flat = self._flat(model)
        if flat is None:
            return self.skip_step(model, "no FLAT reference applies (N/A) and no "
                                         "user_supplied_flat")
        fdata, fdq = prepare_flat(flat.data, flat.dq, FLAGS["do_not_use"],
                                  FLAGS["no_flat_field"])
        guider = isinstance(model, GuiderCalModel)
        result = apply_flat(
            model.data, model.dq, model.err,
            None if guider else model.var_poisson, None if guider else model.var_rnoise,
            fdata, flat.err, fdq, do_not_use=FLAGS["do_not_use"], inverse=self.inverse)
        model.data, model.dq, model.err = result.data, result.dq, result.err
        if not guider:
            model.var_poisson, model.var_rnoise = result.var_poisson, result.var_rnoise
            model.var_flat = result.var_flat
        return model

    def _flat(self, model: DataModel) -> DataModel | None:
        """The flat cut to the science subarray (user-supplied first), or None for N/A."""
        if self.user_supplied_flat:
            path = str(self.user_supplied_flat)
            if not Path(path).is_file():
                raise input_error(path, f"{self.name}.user_supplied_flat: no such file")
            self.log.info("Using user-supplied flat %s; flat reference files ignored", path)
            self._refs_used["flat"] = Path(path).name
            model.meta.set("ref_file.flat.name", Path(path).name)
            return read_reference(path, "flat", model)
        return load_reference(self, model, "flat")
