"""SAFE's trajectory targets (flightsw/gnc/safe_orbit.py) against geometry and physics.

Oracles: numpy vector algebra for the geometric properties, and a two-body RK4
integrator written here for the physical one (a circular orbit stays circular).
Tolerances are in metres, metres per second and radians of direction.
"""

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flightsw.gnc.safe_orbit import (
    MIN_PLANE_NORM,
    circular_velocity_i,
    climb_target_i,
    orbit_normal_i,
)

GM_BENNU = 4.892  # m^3/s^2
DIRECTION_TOL = 1e-9  # radians (as a dot product of unit vectors)

component = st.floats(-1.0, 1.0, allow_nan=False)
raw_vector = st.tuples(component, component, component)


@st.composite
def unit_vectors(draw):
    v = np.array(draw(raw_vector))
    assume(np.linalg.norm(v) > 0.1)
    return tuple(v / np.linalg.norm(v))


@st.composite
def positions(draw, r_low=200.0, r_high=6000.0):
    u = np.array(draw(unit_vectors()))
    r = draw(st.floats(r_low, r_high))
    return tuple(u * r)


def unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


@settings(max_examples=200, deadline=None)
@given(pos=positions(), sun=unit_vectors(), pole=unit_vectors(),
       gm=st.floats(0.1, 50.0))
def test_circular_velocity_is_the_circular_orbit_through_the_point(pos, sun, pole, gm):
    v = np.array(circular_velocity_i(pos, gm, sun, pole))
    p = np.array(pos)
    r = np.linalg.norm(p)
    speed = math.sqrt(gm / r)
    # Speed of the circular orbit, sqrt(GM / r), to 1e-12 relative.
    assert abs(np.linalg.norm(v) - speed) <= 1e-12 * speed
    # Perpendicular to the radius.
    assert abs(np.dot(unit(v), unit(p))) < DIRECTION_TOL
    # In the plane the orbit normal defines, and turning the way of the pole.
    n = np.array(orbit_normal_i(pos, sun, pole))
    assert abs(np.dot(unit(v), n)) < DIRECTION_TOL
    h = np.cross(p, v)
    assert np.dot(unit(h), np.array(pole)) >= -DIRECTION_TOL


@settings(max_examples=200, deadline=None)
@given(pos=positions(), sun=unit_vectors(), pole=unit_vectors())
def test_the_orbit_normal_is_the_sun_made_perpendicular_to_the_radius(pos, sun, pole):
    """A terminator-plane orbit: the normal is the Sun's direction with its radial part
    removed, unless the Sun is within asin(MIN_PLANE_NORM) of the radius (then the
    pole's, by the same rule)."""
    r_hat = unit(pos)
    n = np.array(orbit_normal_i(pos, sun, pole))
    assert abs(np.linalg.norm(n) - 1.0) < 1e-12
    assert abs(np.dot(n, r_hat)) < DIRECTION_TOL
    for ref in (np.array(sun), np.array(pole)):
        perp = ref - np.dot(ref, r_hat) * r_hat
        if np.linalg.norm(perp) > MIN_PLANE_NORM * (1 + 1e-9):
            assert np.linalg.norm(n - unit(perp)) < DIRECTION_TOL
            break
        if np.linalg.norm(perp) > MIN_PLANE_NORM * (1 - 1e-9):
            return  # on the threshold: either choice is right


@settings(max_examples=100, deadline=None)
@given(pos=positions(), other=unit_vectors())
def test_the_sun_along_the_radius_falls_back_to_the_pole(pos, other):
    """Sun straight overhead (noon above the probe) fixes no terminator plane: the orbit
    is then about the pole (here one perpendicular to the radius)."""
    r_hat = unit(pos)
    assume(np.linalg.norm(np.cross(r_hat, other)) > 0.2)
    pole = tuple(unit(np.cross(r_hat, other)))
    n = np.array(orbit_normal_i(pos, tuple(r_hat), pole))
    assert np.linalg.norm(n - np.array(pole)) < DIRECTION_TOL
    v = np.array(circular_velocity_i(pos, GM_BENNU, tuple(r_hat), pole))
    assert np.dot(unit(np.cross(pos, v)), pole) > 1.0 - DIRECTION_TOL


@settings(max_examples=200, deadline=None)
@given(pos=positions(r_low=1.0, r_high=1e4), r_min=st.floats(500.0, 5000.0))
def test_the_climb_target_is_straight_up_at_r_min_or_where_the_probe_is(pos, r_min):
    target = np.array(climb_target_i(pos, r_min))
    r = np.linalg.norm(pos)
    assert abs(np.linalg.norm(target) - max(r, r_min)) <= 1e-9 * max(r, r_min)  # metres
    assert np.dot(unit(target), unit(pos)) > 1.0 - DIRECTION_TOL  # radial, outward
    if r >= r_min:
        assert np.allclose(target, pos, rtol=0.0, atol=1e-9 * r)


def two_body_rk4(pos, vel, gm, t_end_s, steps):
    """Point-mass gravity, classical fourth-order Runge-Kutta; returns the radii at every
    step and the final state."""
    def accel(p):
        r = math.sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2])
        k = -gm / (r * r * r)
        return (k * p[0], k * p[1], k * p[2])

    def add(a, b, s):
        return (a[0] + s * b[0], a[1] + s * b[1], a[2] + s * b[2])

    h = t_end_s / steps
    p, v = tuple(pos), tuple(vel)
    radii = []
    for _ in range(steps):
        k1p, k1v = v, accel(p)
        k2p, k2v = add(v, k1v, h / 2), accel(add(p, k1p, h / 2))
        k3p, k3v = add(v, k2v, h / 2), accel(add(p, k2p, h / 2))
        k4p, k4v = add(v, k3v, h), accel(add(p, k3p, h))
        p = tuple(p[k] + h / 6 * (k1p[k] + 2 * k2p[k] + 2 * k3p[k] + k4p[k]) for k in range(3))
        v = tuple(v[k] + h / 6 * (k1v[k] + 2 * k2v[k] + 2 * k3v[k] + k4v[k]) for k in range(3))
        radii.append(math.sqrt(p[0] ** 2 + p[1] ** 2 + p[2] ** 2))
    return radii, p, v


@settings(max_examples=15, deadline=None)
@given(pos=positions(r_low=500.0, r_high=5000.0), sun=unit_vectors(), pole=unit_vectors(),
       gm=st.floats(1.0, 20.0))
def test_an_independent_integration_from_the_orbit_state_stays_within_1_percent(
        pos, sun, pole, gm):
    """One period of two-body motion from (pos, circular_velocity_i): the radius never
    strays by more than 1 % and the probe comes back to where it started (1 % of r)."""
    v = circular_velocity_i(pos, gm, sun, pole)
    r = np.linalg.norm(pos)
    period_s = 2.0 * math.pi * math.sqrt(r ** 3 / gm)
    radii, p_end, _ = two_body_rk4(pos, v, gm, period_s, steps=720)
    assert max(abs(x - r) for x in radii) < 0.01 * r  # metres
    assert np.linalg.norm(np.array(p_end) - np.array(pos)) < 0.01 * r  # metres
