"""Subarray and readout-pattern tables and the NIRCam exposure timing."""

from __future__ import annotations

import pytest

from webbflow.demo.tables import READPATTS, SUBARRAYS, frame_time, timing
from webbflow.errors import ParameterError


@pytest.mark.parametrize(("name", "tframe"), [("FULL", 10.73677), ("SUB640", 4.18584),
                                              ("SUB320", 1.06904), ("SUB160", 0.27864)])
def test_frame_times(name, tframe):
    assert frame_time(SUBARRAYS[name]) == pytest.approx(tframe, abs=1e-5)


def test_medium8_full_frame_timing():
    t = timing(SUBARRAYS["FULL"], READPATTS["MEDIUM8"], ngroups=10, nints=1)
    assert t.tgroup == pytest.approx(10 * 10.73677, abs=1e-4)
    assert t.frames_per_int == 98
    assert t.effinttm == pytest.approx(98 * 10.73677, abs=1e-3)
    assert t.duration == pytest.approx(99 * 10.73677, abs=1e-3)


def test_readpatt_table_and_limits():
    assert (READPATTS["DEEP8"].nframes, READPATTS["DEEP8"].groupgap) == (8, 12)
    assert (READPATTS["SHALLOW4"].nframes, READPATTS["SHALLOW4"].groupgap) == (4, 1)
    with pytest.raises(ParameterError, match="MEDIUM8 allows 1 to 10"):
        timing(SUBARRAYS["SUB160"], READPATTS["MEDIUM8"], ngroups=11, nints=1)
