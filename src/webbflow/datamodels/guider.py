"""FGS guider products in the official layouts: raw (``GuiderRawModel``) and calibrated
(``GuiderCalModel``).

Both carry SCI (4-D raw counts, 3-D count rates), ERR, a 2-D DQ and the guide-star tables of the
official ``guider_raw``/``guider_cal`` schemas. Header keywords of the table extensions
(DETECTID, GUIDESTA, NUMREFST, RA_DDC...) are kept per extension and written back unchanged.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .model import ArraySpec, DataModel

__all__ = [
    "GUIDER_EXP_TYPES",
    "GUIDER_TABLES",
    "TABLE_DTYPES",
    "GuiderCalModel",
    "GuiderRawModel",
]

#: EXP_TYPEs of guider data (official ``calwebb_guider`` inputs)
GUIDER_EXP_TYPES = ("FGS_ID-STACK", "FGS_ID-IMAGE", "FGS_ACQ1", "FGS_ACQ2", "FGS_TRACK",
                    "FGS_FINEGUIDE")

#: attribute -> EXTNAME (official names, upper case as FITS stores them)
GUIDER_TABLES: dict[str, str] = {
    "planned_star_table": "PLANNED REFERENCE STARS",
    "flight_star_table": "FLIGHT REFERENCE STARS",
    "pointing_table": "POINTING",
    "centroid_table": "FGS CENTROID PACKET",
    "track_sub_table": "TRACK SUBARRAY TABLE",
}

#: row layouts of the guider tables (official schema column names and types)
TABLE_DTYPES: dict[str, np.dtype] = {
    "planned_star_table": np.dtype([
        ("guide_star_order", ">i4"), ("reference_order", ">i4"), ("reference_star_id", "S12"),
        ("ra", ">f8"), ("dec", ">f8"), ("id_x", ">f8"), ("id_y", ">f8"), ("fgs_mag", ">f8"),
        ("fgs_mag_uncert", ">f8"), ("count_rate", ">f8"), ("count_rate_uncert", ">f8")]),
    "flight_star_table": np.dtype([
        ("reference_star_id", "S2"), ("id_x", ">f8"), ("id_y", ">f8"), ("count_rate", ">f8")]),
    "pointing_table": np.dtype([
        ("time", ">f8"), ("jitter", ">f8"), ("delta_ddc_ra", ">f8"), ("delta_ddc_dec", ">f8"),
        ("delta_aperture_pa", ">f8"), ("delta_v1_ra", ">f8"), ("delta_v1_dec", ">f8"),
        ("delta_v3_pa", ">f8"), ("delta_j1_ra", ">f8"), ("delta_j1_dec", ">f8"),
        ("delta_j3_pa", ">f8"), ("HGA_motion", "S16")]),
    "centroid_table": np.dtype([
        ("observatory_time", "S23"), ("centroid_time", "S23"),
        ("guide_star_position_x", ">f8"), ("guide_star_position_y", ">f8"),
        ("guide_star_instrument_counts_per_sec", ">f8"),
        ("signal_to_noise_current_frame", ">f8"), ("delta_signal", ">f8"),
        ("delta_noise", ">f8"), ("psf_width_x", ">i4"), ("psf_width_y", ">i4"),
        ("data_quality", ">i4"), ("bad_pixel_flag", "S4"), ("bad_centroid_dq_flag", "S12"),
        ("cosmic_ray_hit_flag", "S5"), ("sw_subwindow_loc_change_flag", "S5"),
        ("guide_star_at_detector_subwindow_boundary_flag", "S5"),
        ("subwindow_out_of_FOV_flag", "S5")]),
    "track_sub_table": np.dtype([
        ("observatory_time", "S23"), ("x_corner", ">f8"), ("y_corner", ">f8"),
        ("x_size", ">i4"), ("y_size", ">i4")]),
}


class _GuiderModel(DataModel):
    tables: ClassVar[dict[str, str]] = GUIDER_TABLES
    required = ("data", "err", "dq")
    required_keywords = ("INSTRUME", "EXP_TYPE")

    def copy_tables_from(self, other: DataModel) -> None:
        """Copy every guider table ``other`` has."""
        for name in GUIDER_TABLES:
            tab = other._tables.get(name)
            if tab is not None:
                self._tables[name] = tab.copy()


class GuiderRawModel(_GuiderModel):
    """Raw guider exposure: SCI float32 [nints, ngroups, ny, nx] (DN), ERR, DQ [ny, nx]."""

    model_type = "GuiderRawModel"
    arrays: ClassVar[dict[str, ArraySpec]] = {
        "data": ArraySpec("SCI", "float32", None),
        "err": ArraySpec("ERR", "float32"),
        "dq": ArraySpec("DQ", "uint32", "pixel", 0),
    }
    ndim = 4


class GuiderCalModel(_GuiderModel):
    """Calibrated guider product (``cal``): SCI float32 [nplanes, ny, nx] (DN/s), ERR, 2-D DQ."""

    model_type = "GuiderCalModel"
    arrays: ClassVar[dict[str, ArraySpec]] = {
        "data": ArraySpec("SCI", "float32", None),
        "err": ArraySpec("ERR", "float32"),
        "dq": ArraySpec("DQ", "uint32", "pixel", 0),
    }
    ndim = 3


def _register() -> None:
    from . import register

    register(GuiderRawModel)
    register(GuiderCalModel)


_register()
