"""The world's nadir pointing (sim/nadir.py): against scipy, and against the flight guidance
law it must agree with (flightsw.gnc.guidance.pointing_attitude, the same convention
written independently)."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from flightsw.geometry.quat import q_angle_between, q_from_rotvec, q_mul
from flightsw.gnc.guidance import pointing_attitude
from sim.nadir import nadir_attitude, nadir_direction_i, pointing_error_rad

AGREE_RAD = 1e-12
finite = st.floats(-1.0, 1.0)
directions = st.tuples(finite, finite, finite).filter(lambda v: math.hypot(*v) > 0.05)


def _unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def _rotation(q):
    w, x, y, z = q
    return Rotation.from_quat([x, y, z, w])


@given(direction=directions, range_m=st.floats(10.0, 1e6), pole=directions)
@settings(max_examples=300)
def test_nadir_attitude_agrees_with_the_flight_guidance_law(direction, range_m, pole):
    pos = tuple(float(c) for c in _unit(direction) * range_m)
    pole_i = tuple(float(c) for c in _unit(pole))
    # Within a milliradian of the pole the azimuth is set by a tiny cross product and both
    # lose digits to rounding (next test); a probe is never there but over a pole.
    assume(np.linalg.norm(np.cross(_unit(direction), pole_i)) > 1e-3)
    assert q_angle_between(nadir_attitude(pos, pole_i), pointing_attitude(pos, pole_i)) \
        <= AGREE_RAD


@given(direction=directions, off_pole_rad=st.floats(0.0, 1e-3), range_m=st.floats(10.0, 1e6))
@settings(max_examples=200)
def test_near_the_pole_they_agree_to_the_rounding_of_the_azimuth(direction, off_pole_rad,
                                                                  range_m):
    pole_i = (0.0, 0.0, 1.0)
    # A line of sight off_pole_rad from the pole, in the azimuth drawn.
    az = math.atan2(direction[1], direction[0])
    sight = (math.sin(off_pole_rad) * math.cos(az), math.sin(off_pole_rad) * math.sin(az),
             math.cos(off_pole_rad))
    pos = tuple(-range_m * c for c in sight)
    sim_q, flight_q = nadir_attitude(pos, pole_i), pointing_attitude(pos, pole_i)
    # The azimuth about the boresight comes from a cross product of size sin(off_pole): its
    # rounding, 1e-16 / sin(off_pole), reaches every axis of the quaternion built from it.
    assert q_angle_between(sim_q, flight_q) <= AGREE_RAD + 1e-15 / max(off_pole_rad, 1e-9)


@pytest.mark.parametrize("tilt_rad", [0.0, 1e-9, 5e-7, 2e-6])
def test_over_the_pole_both_fall_back_to_inertial_x_alike(tilt_rad):
    pole = (0.0, 0.0, 1.0)
    pos = (1000.0 * math.sin(tilt_rad), 0.0, -1000.0 * math.cos(tilt_rad))
    assert q_angle_between(nadir_attitude(pos, pole), pointing_attitude(pos, pole)) <= 1e-9


@given(direction=directions, range_m=st.floats(10.0, 1e6), pole=directions)
@settings(max_examples=100)
def test_nadir_frame_against_scipy(direction, range_m, pole):
    """+z_sc toward the centre, +x_sc in the plane of the pole on its side, right-handed."""
    pos = _unit(direction) * range_m
    pole_i = _unit(pole)
    r = _rotation(nadir_attitude(tuple(pos), tuple(pole_i)))
    x, y, z = r.apply(np.eye(3))
    assert np.allclose(z, -pos / range_m, atol=1e-12)
    assert abs(float(np.cross(x, y) @ z) - 1.0) < 1e-12
    if np.linalg.norm(np.cross(z, pole_i)) > 1e-3:
        assert abs(float(x @ np.cross(z, pole_i))) < 1e-12  # x in the plane of z and pole
        assert float(x @ pole_i) > 0.0


@given(direction=directions, range_m=st.floats(10.0, 1e6),
       error=st.tuples(finite, finite, finite), scale=st.floats(1e-9, 1.0))
@settings(max_examples=200)
def test_pointing_error_is_the_boresights_angle_from_the_centre(direction, range_m, error,
                                                                scale):
    pos = tuple(float(c) for c in _unit(direction) * range_m)
    q = q_mul(nadir_attitude(pos, (0.0, 0.0, 1.0)),
              q_from_rotvec(tuple(scale * c for c in error)))
    boresight = _rotation(q).apply([0.0, 0.0, 1.0])
    nadir = np.asarray(nadir_direction_i(pos))
    want = math.atan2(np.linalg.norm(np.cross(boresight, nadir)), float(boresight @ nadir))
    assert pointing_error_rad(q, (0.0, 0.0, 1.0), pos) == pytest.approx(want, abs=1e-14)
    # A turn about an axis across the boresight tilts it by the turn's angle; a turn about
    # the boresight itself leaves it where it was.
    tilt = (scale * error[0], scale * error[1], 0.0)
    q_tilt = q_mul(nadir_attitude(pos, (0.0, 0.0, 1.0)), q_from_rotvec(tilt))
    assert pointing_error_rad(q_tilt, (0.0, 0.0, 1.0), pos) == pytest.approx(
        math.hypot(tilt[0], tilt[1]), rel=1e-9, abs=1e-14)
    q_spin = q_mul(nadir_attitude(pos, (0.0, 0.0, 1.0)), q_from_rotvec((0.0, 0.0, scale)))
    assert pointing_error_rad(q_spin, (0.0, 0.0, 1.0), pos) <= 1e-14


def test_the_origin_has_no_nadir():
    with pytest.raises(ValueError):
        nadir_attitude((0.0, 0.0, 0.0), (0.0, 0.0, 1.0))
