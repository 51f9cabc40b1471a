"""Metadata, GROUP and INT_TIMES tables of a demo exposure (the keywords JWST uncal files carry)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from astropy.time import Time, TimeDelta

from ..wcs import Pointing, v23_to_sky
from .tables import ReadPattern, Subarray, Timing

__all__ = ["ExposureId", "exposure_meta", "group_table", "int_times_table"]

PROGRAM, OBSERVATION, VISIT = "01234", "001", "001"
DETECTOR = "NRCA1"


@dataclass(frozen=True)
class ExposureId:
    """Identity and timing of exposure ``number`` (1-based) of the demo visit."""

    number: int
    start: Time

    @property
    def root(self) -> str:
        """File root, e.g. ``jw01234001001_01101_00001_nrca1``."""
        return f"jw{PROGRAM}{OBSERVATION}{VISIT}_01101_{self.number:05d}_{DETECTOR.lower()}"


def _position_angle(ra0: float, dec0: float, ra1: float, dec1: float) -> float:
    """Position angle (deg, east of north) of point 1 seen from point 0."""
    r0, d0, r1, d1 = map(math.radians, (ra0, dec0, ra1, dec1))
    y = math.sin(r1 - r0) * math.cos(d1)
    x = math.cos(d0) * math.sin(d1) - math.sin(d0) * math.cos(d1) * math.cos(r1 - r0)
    return math.degrees(math.atan2(y, x)) % 360.0


def exposure_meta(eid: ExposureId, sub: Subarray, patt: ReadPattern, ngroups: int,
                  nints: int, tim: Timing, pointing: Pointing, target: tuple[float, float],
                  n_exposures: int, dither: tuple[float, float]) -> dict[str, object]:
    """Flat ``{meta.path: value}`` of one exposure."""
    end = eid.start + TimeDelta(tim.duration, format="sec")
    mid = eid.start + TimeDelta(tim.duration / 2.0, format="sec")
    ra_v1, dec_v1 = (float(v) for v in v23_to_sky(0.0, 0.0, pointing))
    ra_v3, dec_v3 = (float(v) for v in v23_to_sky(0.0, 60.0, pointing))
    pa_v3 = _position_angle(ra_v1, dec_v1, ra_v3, dec_v3)
    iso = eid.start.isot
    return {
        "origin": "webbflow demo", "time_sys": "UTC", "time_unit": "s",
        "telescope": "JWST",
        "observation.date": iso[:10], "observation.time": iso[11:23],
        "observation.date_beg": iso[:23], "observation.date_end": end.isot[:23],
        "observation.program_number": PROGRAM, "observation.observation_number": OBSERVATION,
        "observation.visit_number": VISIT, "observation.visit_group": "01",
        "observation.sequence_id": "1", "observation.activity_id": "01",
        "observation.exposure_number": str(eid.number),
        "observation.visit_id": f"{PROGRAM}{OBSERVATION}{VISIT}",
        "observation.obs_id": f"V{PROGRAM}{OBSERVATION}{VISIT}P0000000001101",
        "observation.template": "NIRCam Imaging",
        "program.title": "webbflow demo field", "program.pi_name": "Demo, Webbflow",
        "visit.type": "PRIME_TARGETED_FIXED", "visit.tsovisit": False,
        "visit.total_exposures": n_exposures, "visit.crowded_field": False,
        "target.catalog_name": "WEBBFLOW-DEMO", "target.ra": target[0],
        "target.dec": target[1], "target.type": "FIXED", "target.source_type": "EXTENDED",
        "instrument.name": "NIRCAM", "instrument.detector": DETECTOR,
        "instrument.module": "A", "instrument.channel": "SHORT", "instrument.filter": "F200W",
        "instrument.pupil": "CLEAR",
        "exposure.type": "NRC_IMAGE", "exposure.readpatt": patt.name,
        "exposure.nints": nints, "exposure.ngroups": ngroups,
        "exposure.nframes": patt.nframes, "exposure.groupgap": patt.groupgap,
        "exposure.integration_start": 1, "exposure.integration_end": nints,
        "exposure.nsamples": 1, "exposure.sample_time": 10.0,
        "exposure.frame_time": tim.tframe, "exposure.group_time": tim.tgroup,
        "exposure.integration_time": tim.effinttm, "exposure.exposure_time": tim.effexptm,
        "exposure.effective_exposure_time": tim.effexptm,
        "exposure.measurement_time": round((ngroups - 1) * tim.tgroup * nints, 5),
        "exposure.duration": tim.duration, "exposure.elapsed_exposure_time": tim.duration,
        "exposure.nresets_at_start": tim.nresets_at_start,
        "exposure.nresets_between_ints": tim.nresets_between_ints,
        "exposure.zero_frame": False, "exposure.drop_frames1": 0, "exposure.drop_frames3": 0,
        "exposure.frame_divisor": patt.nframes, "exposure.noutputs": sub.noutputs,
        "exposure.data_problem": False, "exposure.sca_num": 481, "exposure.count": eid.number,
        "exposure.start_time": eid.start.mjd, "exposure.mid_time": mid.mjd,
        "exposure.end_time": end.mjd, "exposure.start_time_mjd": eid.start.mjd,
        "exposure.mid_time_mjd": mid.mjd, "exposure.end_time_mjd": end.mjd,
        "exposure.primary_cosmic_rays": 100.0,
        "subarray.name": sub.name, "subarray.xstart": sub.xstart,
        "subarray.ystart": sub.ystart, "subarray.xsize": sub.xsize,
        "subarray.ysize": sub.ysize, "subarray.fastaxis": -1, "subarray.slowaxis": 2,
        "dither.primary_type": "INTRAMODULEBOX", "dither.position_number": eid.number,
        "dither.total_points": n_exposures, "dither.primary_points": n_exposures,
        "dither.pattern_size": "DEFAULT", "dither.subpixel_pattern": "NONE",
        "dither.x_offset": dither[0], "dither.y_offset": dither[1],
        "aperture.name": f"{DETECTOR}_{sub.name}" if sub.name != "FULL" else f"{DETECTOR}_FULL",
        "aperture.pps_name": f"{DETECTOR}_{sub.name}",
        "aperture.position_angle": pointing.roll_ref,
        "pointing.ra_v1": ra_v1, "pointing.dec_v1": dec_v1, "pointing.pa_v3": pa_v3,
        "velocity_aberration.scale_factor": pointing.va_scale,
        "velocity_aberration.va_ra_ref": pointing.ra_ref,
        "velocity_aberration.va_dec_ref": pointing.dec_ref,
        "wcsinfo.v2_ref": pointing.v2_ref, "wcsinfo.v3_ref": pointing.v3_ref,
        "wcsinfo.vparity": -1, "wcsinfo.v3yangle": -0.55,
        "wcsinfo.ra_ref": pointing.ra_ref, "wcsinfo.dec_ref": pointing.dec_ref,
        "wcsinfo.roll_ref": pointing.roll_ref,
        "wcsinfo.siaf_xref_sci": (sub.xsize + 1) / 2.0,
        "wcsinfo.siaf_yref_sci": (sub.ysize + 1) / 2.0,
        "coordinates.reference_frame": "ICRS",
        "bunit_data": "DN",
    }


def group_table(eid: ExposureId, tim: Timing, patt: ReadPattern, ngroups: int, nints: int,
                shape: tuple[int, int]) -> np.ndarray:
    """GROUP table (official columns), one row per (integration, group)."""
    dtype = [("integration_number", ">i4"), ("group_number", ">i2"), ("end_day", ">i2"),
             ("end_milliseconds", ">i4"), ("end_submilliseconds", ">i2"),
             ("group_end_time", "S26"), ("number_of_columns", ">i2"),
             ("number_of_rows", ">i2"), ("number_of_gaps", ">i2"),
             ("completion_code_number", ">i2"), ("completion_code_text", "S36"),
             ("bary_end_time", ">f8"), ("helio_end_time", ">f8")]
    rows = []
    period = patt.nframes + patt.groupgap
    for i in range(nints):
        t0 = (1 + i * (tim.frames_per_int + 1)) * tim.tframe
        for g in range(ngroups):
            t = eid.start + TimeDelta(t0 + (g * period + patt.nframes) * tim.tframe, format="sec")
            day = int(t.mjd) - 58849  # days since 2020-01-01
            ms = (t.mjd - int(t.mjd)) * 86400000.0
            rows.append((i + 1, g + 1, day, int(ms), int((ms % 1) * 1000),
                         t.isot.encode(), shape[1], shape[0], 0, 0, b"COMPLETE",
                         t.mjd, t.mjd))
    return np.array(rows, dtype=dtype)


def int_times_table(eid: ExposureId, tim: Timing, nints: int) -> np.ndarray:
    """INT_TIMES table (official columns; BJD columns hold the MJD values: no ephemeris)."""
    dtype = [("integration_number", ">i4"), ("int_start_MJD_UTC", ">f8"),
             ("int_mid_MJD_UTC", ">f8"), ("int_end_MJD_UTC", ">f8"),
             ("int_start_BJD_TDB", ">f8"), ("int_mid_BJD_TDB", ">f8"),
             ("int_end_BJD_TDB", ">f8")]
    rows = []
    for i in range(nints):
        s = eid.start.mjd + (1 + i * (tim.frames_per_int + 1)) * tim.tframe / 86400.0
        e = s + tim.frames_per_int * tim.tframe / 86400.0
        m = 0.5 * (s + e)
        rows.append((i + 1, s, m, e, s + 2400000.5 - 2400000.5, m, e))
    return np.array(rows, dtype=dtype)
