"""RSCD flagging: exact groups flagged, the ngroups rules and the saturation back-off."""

import numpy as np

from webbflow.kernels.rscd import apply_rscd_flags, flag_rscd_block, rscd_skip_groups


def test_skip_rules():
    assert rscd_skip_groups(2, 3, 4, 4) is None
    assert rscd_skip_groups(5, 3, 4, 4) == (1, 1)       # <= 5 groups: one group
    assert rscd_skip_groups(10, 3, 4, 6) == (4, 6)
    assert rscd_skip_groups(8, 3, 4, 6) == (4, 5)       # at least 3 groups left
    assert rscd_skip_groups(10, 1, -1, 9) == (1, 9)     # deprecated layout; 1 int: int2p untouched


def test_flags_exact_groups_and_backs_off_for_saturation():
    gdq = np.zeros((2, 10, 3, 3), np.uint8)
    gdq[1, 4:, 0, 0] = 2    # saturated from group 5 (1-based): groups 3, 4 kept -> skip 2
    gdq[1, 2:, 1, 1] = 2    # saturated from group 3: skip 0 (only groups 1, 2 left)
    gdq[1, :, 2, 2] = 2     # saturated in group 1: unrecoverable, untouched
    skip, lowered, n_low, n_one = flag_rscd_block(gdq, 1, 2, 4, sat_bit=2)
    assert skip[0, 0, 0] == 2 and skip[0, 1, 1] == 0 and skip[0, 2, 2] == 4
    assert skip[0, 0, 1] == 4
    assert n_low == 2 and lowered[0, 0] and lowered[1, 1] and not lowered[2, 2]
    assert n_one == 1
    apply_rscd_flags(gdq, 1, skip, dnu_bit=1)
    assert np.all(gdq[1, :4, 0, 1] & 1) and not np.any(gdq[1, 4:, 0, 1] & 1)
    assert np.all(gdq[1, :2, 0, 0] & 1) and not (gdq[1, 2, 0, 0] & 1)
    assert not np.any(gdq[1, :, 1, 1] & 1)
    assert not np.any(gdq[0] & 1)       # integration 1 untouched by this block
