"""assign_wcs: attach the imaging WCS (gwcs in ``meta.wcs``), its FITS SIP approximation and
the S_REGION footprint.

Imaging exposure types (table :data:`IMAGING_EXP_TYPES`) get the frames detector -> v2v3 ->
v2v3vacorr -> world built from the DISTORTION reference (an ASDF transform of full-frame
0-based pixels to V2V3 arcsec), the FILTEROFFSET row of the exposure's filter/pupil and the
pointing keywords V2_REF, V3_REF, RA_REF, DEC_REF, ROLL_REF and VA_SCALE (see
:mod:`webbflow.wcs.imaging_wcs`). Spectroscopic modes are not implemented: the step records
SKIPPED and says so.
"""

from __future__ import annotations

from typing import Any

from ..datamodels import CubeModel, DataModel, ImageModel
from ..errors import ReferenceError_, input_error
from ..references.models import open_reference
from ..stpipe.params import Param
from ..stpipe.step import Step
from ..wcs import Pointing, imaging_gwcs, s_region, sip_wcsinfo

#: EXP_TYPEs whose WCS is the imaging one (the official imaging modes)
IMAGING_EXP_TYPES = frozenset({
    "NRC_IMAGE", "NRC_TSIMAGE", "NRC_FOCUS", "NRC_TACQ", "NRC_TACONFIRM", "NRC_CORON",
    "NIS_IMAGE", "NIS_AMI", "NIS_TACQ", "NIS_TACONFIRM", "NIS_FOCUS",
    "MIR_IMAGE", "MIR_TACQ", "MIR_TACONFIRM", "MIR_CORONCAL", "MIR_4QPM", "MIR_LYOT",
    "FGS_IMAGE", "FGS_FOCUS",
})

#: pointing keyword (meta path) -> Pointing field; all required
POINTING_KEYWORDS = {
    "wcsinfo.v2_ref": "v2_ref", "wcsinfo.v3_ref": "v3_ref", "wcsinfo.ra_ref": "ra_ref",
    "wcsinfo.dec_ref": "dec_ref", "wcsinfo.roll_ref": "roll_ref",
}

#: FILTEROFFSET row field -> science meta path (a field absent from a row matches anything)
FILTEROFFSET_MATCH = {"filter": "instrument.filter", "pupil": "instrument.pupil"}

_SPECTRAL_REFTYPES = ("specwcs", "regions", "wavelengthrange", "camera", "chromcorr",
                      "collimator", "disperser", "fore", "fpa", "msa", "ote", "ifupost",
                      "ifufore", "ifuslicer")


def pointing_of(model: DataModel) -> Pointing:
    """The exposure's :class:`~webbflow.wcs.Pointing`, or a one-line InputError naming the
    missing keyword."""
    values: dict[str, float] = {}
    for path, field in POINTING_KEYWORDS.items():
        value = model.meta.get(path)
        if value is None:
            from ..datamodels.meta import by_path

            key = by_path()[path].keyword
            raise input_error(model.meta.filename or "<model>",
                              f"assign_wcs needs {key} (meta.{path}), which is missing")
        values[field] = float(value)
    va = model.meta.get("velocity_aberration.scale_factor")
    return Pointing(**values, va_scale=1.0 if va is None else float(va))


def filter_offset(filters: list[dict[str, Any]] | None, model: DataModel,
                  ref_name: str) -> tuple[float, float]:
    """``(column_offset, row_offset)`` pixels of the row matching the exposure; (0, 0) when
    no row matches (as officially)."""
    for row in filters or []:
        ok = True
        for field, path in FILTEROFFSET_MATCH.items():
            if field in row and str(row[field]).strip().upper() != \
                    str(model.meta.get(path) or "").strip().upper():
                ok = False
                break
        if ok:
            try:
                return float(row["column_offset"]), float(row["row_offset"])
            except (KeyError, TypeError, ValueError):
                raise ReferenceError_(f"{ref_name}: filteroffset row {row!r} lacks numeric "
                                      "column_offset/row_offset") from None
    return 0.0, 0.0


class AssignWcsStep(Step):
    """Build the imaging gwcs of an exposure, its SIP approximation and S_REGION."""

    class_alias = "assign_wcs"
    reference_file_types = ("distortion", "filteroffset", *_SPECTRAL_REFTYPES)
    spec = {
        "sip_approx": Param("boolean", True, "Compute the FITS SIP approximation (imaging)"),
        "sip_max_pix_error": Param("float", 0.01, "Maximum error of the forward SIP fit, "
                                   "pixels (ignored when sip_degree is set)", min=0.0),
        "sip_degree": Param("integer", None, "Degree of the forward SIP fit; None: the "
                            "lowest that meets sip_max_pix_error", min=1, max=6),
        "sip_max_inv_pix_error": Param("float", 0.01, "Maximum error of the inverse SIP fit, "
                                       "pixels", min=0.0),
        "sip_inv_degree": Param("integer", None, "Degree of the inverse SIP fit; None: best",
                                min=1, max=6),
        "sip_npoints": Param("integer", 12, "Points per axis sampled for the SIP fit", min=3),
        "slit_y_low": Param("float", -0.55, "Lower edge of a NIRSpec slit (not used)"),
        "slit_y_high": Param("float", 0.55, "Upper edge of a NIRSpec slit (not used)"),
        "nrs_ifu_slice_wcs": Param("boolean", False, "NIRSpec IFU slice WCS (not used)"),
    }

    def process(self, model):
        if not isinstance(model, ImageModel | CubeModel):
            raise input_error(model.meta.filename or "<model>",
                              f"{self.name} needs a rate or rateints product, got "
                              f"{type(model).__name__}")
        exp_type = str(model.meta.exposure.type or "").upper()
        if exp_type not in IMAGING_EXP_TYPES:
            return self.skip_step(model, f"the WCS of {exp_type or 'unknown EXP_TYPE'} is not "
                                         "implemented in webbflow (imaging modes only)")
        pointing = pointing_of(model)
        dist_path = self.get_reference_file(model, "distortion")
        if dist_path == "N/A":
            raise ReferenceError_(f"{self.name}: no DISTORTION reference for {exp_type} "
                                  f"({model.meta.instrument.detector}); the imaging WCS "
                                  "needs one")
        dist = open_reference(dist_path, "distortion")
        if dist.model is None:
            raise ReferenceError_(f"{dist_path}: distortion reference has no 'model'")
        offset = (0.0, 0.0)
        off_path = self.get_reference_file(model, "filteroffset")
        if off_path != "N/A":
            offset = filter_offset(open_reference(off_path, "filteroffset").filters, model,
                                   str(off_path))
            self.log.info("Filter offset (column, row) = %s pixels", offset)
        origin = (float(model.meta.subarray.xstart or 1) - 1.0,
                  float(model.meta.subarray.ystart or 1) - 1.0)
        shape = model.data.shape[-2:]
        wcs = imaging_gwcs(dist.model, pointing, shape, origin, offset)
        model.meta.wcs = wcs
        region = s_region(wcs)
        if region is not None:
            model.meta.wcsinfo.s_region = region
            self.log.info("S_REGION = %s", region)
        if self.sip_approx:
            self._store_sip(model, wcs)
        return model

    def _store_sip(self, model: DataModel, wcs: Any) -> None:
        info = model.meta.wcsinfo
        crpix = None
        if info.crpix1 is not None and info.crpix2 is not None:
            crpix = (float(info.crpix1), float(info.crpix2))
        sip = sip_wcsinfo(wcs, max_pix_error=self.sip_max_pix_error, degree=self.sip_degree,
                          max_inv_pix_error=self.sip_max_inv_pix_error,
                          inv_degree=self.sip_inv_degree, npoints=self.sip_npoints,
                          crpix=crpix)
        self.log.info("SIP approximation: degree %s, max error %.2g px; inverse degree %s, "
                      "max error %.2g px", sip.get("a_order"), sip["sip_max_error"],
                      sip.get("ap_order"), sip["sip_max_inv_error"])
        for key in [k for k, _ in info.items() if k.startswith(("a_", "b_", "ap_", "bp_"))]:
            delattr(info, key)
        for key, value in sip.items():
            if not key.startswith("sip_"):
                model.meta.set(f"wcsinfo.{key}", value)
