"""The spherical blend between nearly opposite points (flightsw/gnc/transfer.py): no great
circle is singled out, so the blend turns in the plane of the start and the spin pole (or
of the start and +x when the start is on the pole).  Pinned: the path is a half circle
at the interpolated radius, continuous in s, ending on the far point."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.gnc.transfer import spherical_blend

POLE = (0.0, 0.0, 1.0)
DEG = math.pi / 180.0
unit_floats = st.floats(-1.0, 1.0, allow_nan=False)


def angle(u, v):
    u, v = np.asarray(u, float), np.asarray(v, float)
    return math.acos(max(-1.0, min(1.0, u @ v / np.linalg.norm(u) / np.linalg.norm(v))))


@settings(max_examples=80, deadline=None)
@given(x=unit_floats, y=unit_floats, z=unit_floats, ra=st.floats(800.0, 1500.0),
       rb=st.floats(800.0, 1500.0), s=st.floats(0.0, 1.0))
def test_between_opposite_points_the_blend_is_a_half_circle(x, y, z, ra, rb, s):
    """Angle s x 180 deg from the start, radius ra + s (rb - ra), in the plane of the
    start and the pole (or +x for a start on the pole)."""
    u = np.array([x, y, z])
    if np.linalg.norm(u) < 0.1:
        u = np.array([1.0, 0.0, 0.0])
    u /= np.linalg.norm(u)
    pa, pb = tuple(ra * u), tuple(-rb * u)
    p = np.array(spherical_blend(pa, pb, s, POLE))
    assert np.linalg.norm(p) == pytest.approx(ra + s * (rb - ra), rel=1e-9)
    assert angle(p, pa) == pytest.approx(s * math.pi, abs=1e-6)
    other = np.cross(u, POLE)
    if np.linalg.norm(other) < 1e-6:
        other = np.cross(u, (1.0, 0.0, 0.0))
    assert p @ other / np.linalg.norm(other) == pytest.approx(0.0, abs=1e-6 * ra)


@pytest.mark.parametrize("start", [(1000.0, 0.0, 0.0), (0.0, 0.0, 1000.0),
                                   (0.0, 0.0, -900.0), (300.0, -400.0, 800.0)])
def test_the_half_circle_is_continuous_and_ends_on_the_far_point(start):
    """Steps of 1/200 in s move the point by about pi r / 200 each, never jump, and the
    last one lands on the far point (a fixed rule for the way round, not a new one at each
    call)."""
    pa = np.asarray(start)
    pb = -1.2 * pa
    ss = np.linspace(0.0, 1.0, 201)
    path = np.array([spherical_blend(tuple(pa), tuple(pb), s, POLE) for s in ss])
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    r_max = 1.2 * np.linalg.norm(pa)
    assert steps.max() < 1.1 * math.pi * r_max / 200
    assert path[-1] == pytest.approx(pb, abs=1e-6)
    assert path[0] == pytest.approx(pa, abs=1e-9)


def test_points_a_hair_short_of_opposite_take_the_same_way_round():
    """Just inside the opposite-points threshold the ordinary slerp takes over; the two
    rules agree there to well under a metre at mid-path, so the choice of rule cannot make
    the path jump."""
    pa = (1000.0, 0.0, 0.0)
    tilt = 1e-7  # rad: within the opposite-points threshold (1e-6)
    in_plane = (-1000.0 * math.cos(tilt), 0.0, 1000.0 * math.sin(tilt))
    beyond = 1e-5  # rad: the ordinary slerp
    slerped = (-1000.0 * math.cos(beyond), 0.0, 1000.0 * math.sin(beyond))
    mid_a = np.array(spherical_blend(pa, in_plane, 0.5, POLE))
    mid_b = np.array(spherical_blend(pa, slerped, 0.5, POLE))
    assert np.linalg.norm(mid_a - mid_b) < 0.1
