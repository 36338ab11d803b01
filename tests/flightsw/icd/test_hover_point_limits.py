"""SET_HOVER_POINT's radius check in the ground-command table (flightsw/icd/ground_commands.py).

Pinned here: the hover point's distance from the body's centre, in any direction, must
lie in [HOVER_POINT_MIN_M, HOVER_POINT_MAX_M], both ends included; the refusal names the
radius.  The oracle is numpy's norm.  Also the other end of the table's argument checks:
an argument's upper limit is included (CHOOSE_SITE's rank 1..MAX_SITE_RANK).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.icd.ground_commands import BY_NAME, HOVER_POINT_MAX_M, HOVER_POINT_MIN_M

METRE = 1.0
CHECK = BY_NAME["SET_HOVER_POINT"].validate


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize(("radius_m", "ok"), [
    (HOVER_POINT_MIN_M, True), (HOVER_POINT_MAX_M, True), (400.0, True),
    (HOVER_POINT_MIN_M - 0.01, False), (HOVER_POINT_MAX_M + 0.01, False), (0.0, False)])
def test_each_axis_counts_and_both_limits_are_included(axis, sign, radius_m, ok):
    point = [0.0, 0.0, 0.0]
    point[axis] = sign * radius_m
    reason = CHECK(tuple(point))
    assert (reason is None) == ok, reason
    if not ok:
        assert reason == (f"hover point radius {radius_m:.1f} m outside [300, 100000] m")


@settings(max_examples=200, deadline=None)
@given(st.tuples(*[st.floats(-2e5, 2e5)] * 3))
def test_any_direction_is_judged_by_its_euclidean_radius(point):
    r = float(np.linalg.norm(point))
    if min(abs(r - HOVER_POINT_MIN_M), abs(r - HOVER_POINT_MAX_M)) < 1e-6 * METRE:
        return  # rounding decides at the boundary itself
    assert (CHECK(point) is None) == (HOVER_POINT_MIN_M <= r <= HOVER_POINT_MAX_M)


def test_a_point_of_mixed_components_inside_the_limits():
    """(300, 300, 300) m: 519.6 m from the centre, though no axis alone says so."""
    assert CHECK((300.0, 300.0, 300.0)) is None
    assert CHECK((200.0, 150.0, 100.0)) == \
        f"hover point radius {math.sqrt(200**2 + 150**2 + 100**2):.1f} m outside [300, 100000] m"


@pytest.mark.parametrize(("rank", "ok"), [(1.0, True), (10.0, True), (0.0, False),
                                          (11.0, False), (9.5, False)])
def test_choose_site_rank_limits_are_both_included(rank, ok):
    reason = BY_NAME["CHOOSE_SITE"].validate((rank,))
    assert (reason is None) == ok
    if not ok:
        assert reason == f"rank must be an integer 1..10, got {rank}"
