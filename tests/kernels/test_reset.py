"""Reset subtraction: per integration and group, last reference integration reused."""

import numpy as np

from webbflow.kernels.reset import subtract_reset


def test_subtracts_reference_per_int_and_group():
    data = np.full((3, 4, 2, 2), 100.0, np.float32)
    ref = np.zeros((2, 2, 2, 2), np.float32)
    ref[0, 0], ref[0, 1], ref[1, 0], ref[1, 1] = 5, 3, 2, 1
    ref[0, 0, 0, 0] = np.nan                      # NaN counts as no correction
    subtract_reset(data, ref)
    assert data[0, 0, 1, 1] == 95 and data[0, 0, 0, 0] == 100 and data[0, 1, 0, 0] == 97
    assert data[1, 0, 0, 0] == 98 and data[2, 1, 0, 0] == 99   # int 3 uses ref int 2
    assert np.all(data[:, 2:] == 100)                         # groups past NGROUPS untouched


def test_segment_offset_and_meta_limits():
    data = np.zeros((1, 2, 1, 1), np.float32)
    ref = np.arange(8, dtype=np.float32).reshape(4, 2, 1, 1)
    subtract_reset(data, ref, istart=2, reset_ngroups=1)
    assert data[0, 0, 0, 0] == -4 and data[0, 1, 0, 0] == 0
