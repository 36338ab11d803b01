"""Touch-and-go guidance (flightsw/gnc/tag.py): the inertial reference, the predicted
contact point and the descent's expected duration, against independent oracles.

- The velocity and acceleration references are the time derivatives of the position
  reference (a point that co-rotates with the body while its height follows h_ref,
  hdot_ref, hddot_ref): checked by central differences of the position, which need no
  rotating-frame algebra (the Coriolis and centripetal terms come out by themselves).
- The attitude reference puts the boresight (+z spacecraft) down the target's normal,
  and its body rate is the attitude's own rate of change, checked by differencing the
  direction-cosine matrix built with scipy's Rotation.
- The predicted contact drifts with the lateral velocity only while the head is above
  the plane.
"""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from flightsw.geometry.frames import SpinningBody
from flightsw.gnc.tag import TagGuidance, TagProfile

METRE, SECOND = 1.0, 1.0
MPS2 = 1.0
RADPS = 1.0
BODY = SpinningBody(85.65, -60.17, 4.296057 * 3600.0, 0.0)
TARGET_BF_M = (180.0, -120.0, 150.0)
NORMAL_BF = tuple(np.array(TARGET_BF_M) / np.linalg.norm(TARGET_BF_M))
ARM_M = 3.35


def guidance(h_m, hdot_mps, hddot_mps2):
    g = TagGuidance(BODY, TARGET_BF_M, NORMAL_BF, ARM_M)
    g.h_ref_m, g.hdot_ref_mps, g.hddot_ref_mps2 = h_m, hdot_mps, hddot_mps2
    return g


def reference_at(t_s, h_m, hdot_mps, hddot_mps2):
    return guidance(h_m, hdot_mps, hddot_mps2).reference(t_s, BODY.pole_i)


def dcm(q_wxyz):
    w, x, y, z = q_wxyz
    return Rotation.from_quat([x, y, z, w]).as_matrix()  # spacecraft -> inertial


@settings(max_examples=25, deadline=None)
@example(t_s=100.0, h_m=50.0, hdot_mps=-0.2, hddot_mps2=1e-3)
@given(t_s=st.floats(0.0, 20_000.0), h_m=st.floats(0.0, 300.0),
       hdot_mps=st.floats(-0.3, 0.3), hddot_mps2=st.floats(-2e-3, 2e-3))
def test_velocity_and_acceleration_are_the_derivatives_of_the_position(t_s, h_m, hdot_mps,
                                                                       hddot_mps2):
    """Along the reference's own motion (h follows hdot and hddot), central differences
    over 0.1 s: the velocity's error is dt^2 / 6 x the third derivative (3 w hddot at most,
    2.4e-6 m/s^3: ~4e-9 m/s), the acceleration's below 1e-11 m/s^2 with rounding, against
    terms of 5e-5 m/s^2 (centripetal) and up to 2.4e-4 m/s^2 (Coriolis at 0.3 m/s)."""
    dt = 0.1 * SECOND

    def pos(tau):
        h = h_m + hdot_mps * tau + 0.5 * hddot_mps2 * tau ** 2
        return np.array(reference_at(t_s + tau, h, hdot_mps + hddot_mps2 * tau,
                                     hddot_mps2).pos_i_m)

    ref = reference_at(t_s, h_m, hdot_mps, hddot_mps2)
    p_minus, p0, p_plus = pos(-dt), pos(0.0), pos(dt)
    assert np.allclose(ref.pos_i_m, p0)
    v_fd = (p_plus - p_minus) / (2 * dt)
    a_fd = (p_plus - 2 * p0 + p_minus) / dt ** 2
    assert np.allclose(ref.vel_i_mps, v_fd, rtol=0, atol=1e-8 * METRE / SECOND)
    assert np.allclose(ref.acc_i_mps2, a_fd, rtol=0, atol=1e-9 * MPS2)


def test_position_reference_is_the_home_point_in_the_inertial_frame():
    ref = reference_at(1234.0, 40.0, -0.1, 0.0)
    home_bf = np.array(TARGET_BF_M) + np.array(NORMAL_BF) * (40.0 + ARM_M)
    assert np.allclose(ref.pos_i_m, BODY.bf_to_i(1234.0, tuple(home_bf)), atol=1e-9 * METRE)


@settings(max_examples=15, deadline=None)
@given(t_s=st.floats(0.0, 20_000.0))
def test_the_boresight_looks_down_the_normal_and_the_rate_is_the_attitudes_own(t_s):
    """Rate in the spacecraft frame from C^T dC/dt (C: spacecraft -> inertial), central
    differences over 1 s: the attitude turns with the body at its spin rate."""
    dt = 1.0 * SECOND
    ref = reference_at(t_s, 50.0, -0.1, 0.0)
    c = dcm(ref.q_i_to_sc)
    down_i = -np.array(BODY.bf_to_i(t_s, NORMAL_BF))
    assert np.allclose(c[:, 2], down_i, atol=1e-12)
    c_dot = (dcm(reference_at(t_s + dt, 50.0, -0.1, 0.0).q_i_to_sc)
             - dcm(reference_at(t_s - dt, 50.0, -0.1, 0.0).q_i_to_sc)) / (2 * dt)
    omega = c.T @ c_dot
    rate_fd = np.array([omega[2, 1], omega[0, 2], omega[1, 0]])
    assert np.allclose(ref.rate_sc_radps, rate_fd, rtol=0, atol=1e-10 * RADPS)
    spin = 2 * math.pi / BODY_PERIOD_S
    assert np.linalg.norm(ref.rate_sc_radps) == pytest.approx(spin, rel=1e-9)


BODY_PERIOD_S = 4.296057 * 3600.0


# -- the predicted contact ------------------------------------------------------------------

def at(head_m, lateral_m=(0.0, 0.0, 0.0)):
    """Centre of mass head_m above the target's plane, offset laterally (lateral_m must
    be in the plane: perpendicular to the normal)."""
    n = np.array(NORMAL_BF)
    return tuple(np.array(TARGET_BF_M) + n * (head_m + ARM_M) + np.array(lateral_m))


LATERAL_UNIT = tuple(np.cross(NORMAL_BF, (0.0, 0.0, 1.0)) /
                     np.linalg.norm(np.cross(NORMAL_BF, (0.0, 0.0, 1.0))))


@pytest.mark.parametrize("head_m", [0.5, 1.0, 20.0])
def test_above_the_plane_the_contact_point_drifts_with_the_lateral_velocity(head_m):
    """Descending at 0.1 m/s with 0.01 m/s of lateral drift: t_go = h / 0.1 m/s and the
    contact point moves t_go x 0.01 m/s along the drift."""
    g = guidance(0.0, 0.0, 0.0)
    n, u = np.array(NORMAL_BF), np.array(LATERAL_UNIT)
    vel = tuple(-0.1 * n + 0.01 * u)
    point, t_go = g.predicted_contact_bf(at(head_m, 2.0 * u), vel)
    assert t_go == pytest.approx(head_m / 0.1, rel=1e-9)
    expected = np.array(TARGET_BF_M) + (2.0 + 0.01 * head_m / 0.1) * u
    assert np.allclose(point, expected, atol=1e-9 * METRE)


@pytest.mark.parametrize("head_m", [0.0, -0.3])
def test_at_or_below_the_plane_the_contact_point_is_under_the_probe(head_m):
    g = guidance(0.0, 0.0, 0.0)
    n, u = np.array(NORMAL_BF), np.array(LATERAL_UNIT)
    point, t_go = g.predicted_contact_bf(at(head_m, 2.0 * u), tuple(-0.1 * n + 0.05 * u))
    assert t_go == 0.0
    assert np.allclose(point, np.array(TARGET_BF_M) + 2.0 * u, atol=1e-9 * METRE)


def test_a_hovering_or_rising_probe_gets_a_finite_time_to_go():
    """The descent rate is floored at 1 cm/s: 20 m at rest -> 2000 s."""
    g = guidance(0.0, 0.0, 0.0)
    n = np.array(NORMAL_BF)
    _, t_go = g.predicted_contact_bf(at(20.0), tuple(0.05 * n))
    assert t_go == pytest.approx(2000.0, rel=1e-9)


# -- the expected duration of a descent -----------------------------------------------------

def test_expected_duration_is_the_three_constant_rate_legs():
    """(start - 125 m) at 0.2 m/s + 600 s + 54 m at 0.1 m/s."""
    profile = TagProfile(125.0, 54.0, 0.2, 600.0, 0.1, 1.5e-3)
    assert profile.expected_duration_s(225.0) == pytest.approx(500.0 + 600.0 + 540.0)
    # Starting below Checkpoint: no first leg.
    assert profile.expected_duration_s(100.0) == pytest.approx(600.0 + 540.0)
    other = TagProfile(130.0, 50.0, 0.25, 400.0, 0.125, 1.5e-3)
    assert other.expected_duration_s(230.0) == pytest.approx(400.0 + 400.0 + 400.0)


# -- the burns ------------------------------------------------------------------------------

PROFILE = TagProfile(125.0, 54.0, 0.2, 600.0, 0.1, 1.5e-3)


def test_the_checkpoint_burn_is_at_exactly_its_height():
    g = guidance(0.0, 0.0, 0.0)
    g.start(100.0, 125.5)
    assert g.advance(101.0, PROFILE) is None  # no burn: None, not an empty event
    g.h_ref_m = 125.0
    assert g.advance(102.0, PROFILE) == "checkpoint"


def test_no_burn_and_no_change_without_time_passing():
    """Started below Checkpoint: the burn comes with the first step of time, not at once."""
    g = guidance(0.0, 0.0, 0.0)
    g.start(100.0, 100.0)
    assert g.advance(100.0, PROFILE) is None
    assert g.phase == 1 and g.hddot_ref_mps2 == 0.0 and g.h_ref_m == 100.0
    assert g.advance(100.1, PROFILE) == "checkpoint"


def test_an_idle_guidance_commands_no_descent():
    assert guidance(0.0, 0.0, 0.0).commanded_rate_mps(PROFILE) == 0.0


def corotating(t_s, h_m):
    """Inertial position, velocity and acceleration of the point h_m above the target
    that turns with the body (no motion along the normal)."""
    w = np.array(BODY.spin_vector_i())
    r = np.array(BODY.bf_to_i(t_s, tuple(np.array(TARGET_BF_M)
                                         + np.array(NORMAL_BF) * (h_m + ARM_M))))
    return r, np.cross(w, r), np.cross(w, np.cross(w, r))


def test_a_new_guidance_is_idle_and_at_rest_on_the_surface():
    g = TagGuidance(BODY, TARGET_BF_M, NORMAL_BF, ARM_M)
    assert g.phase == 0  # TagPhase.IDLE
    ref = g.reference(500.0, BODY.pole_i)
    r, v, a = corotating(500.0, 0.0)
    assert np.allclose(ref.pos_i_m, r, atol=1e-9) and np.allclose(ref.vel_i_mps, v, atol=1e-12)
    assert np.allclose(ref.acc_i_mps2, a, atol=1e-15)


def test_a_started_descent_holds_its_height_until_the_first_step():
    """START_TAG's own cycle runs the reference before any time has passed: it must be
    the co-rotating hover at the start height, not a push along the normal."""
    g = TagGuidance(BODY, TARGET_BF_M, NORMAL_BF, ARM_M)
    g.hdot_ref_mps, g.hddot_ref_mps2 = 0.3, 0.01  # left over from an earlier descent
    g.start(500.0, 150.0)
    g.advance(500.0, PROFILE)
    ref = g.reference(500.0, BODY.pole_i)
    r, v, a = corotating(500.0, 150.0)
    assert np.allclose(ref.vel_i_mps, v, atol=1e-12)
    assert np.allclose(ref.acc_i_mps2, a, atol=1e-15)


def test_the_rate_changes_at_the_acceleration_limit_and_lands_on_the_command():
    """From rest toward 0.2 m/s: 1.5e-3 m/s^2 x 0.1 s per step; once within one step of
    the command the reference takes it exactly; hddot reports the acceleration used."""
    g = TagGuidance(BODY, TARGET_BF_M, NORMAL_BF, ARM_M)
    g.start(0.0, 300.0)
    g.advance(0.1, PROFILE)
    assert g.hdot_ref_mps == pytest.approx(-1.5e-4, rel=1e-9)
    assert g.hddot_ref_mps2 == pytest.approx(-1.5e-3, rel=1e-9)
    g.hdot_ref_mps = -0.2 + 0.5 * 1.5e-4  # half a step's change from the command
    g.advance(0.2, PROFILE)
    assert g.hdot_ref_mps == pytest.approx(-0.2, abs=1e-12)
    assert g.hddot_ref_mps2 == pytest.approx(-0.75e-3, rel=1e-6)
    g.reference(0.2, BODY.pole_i)  # usable after a step


def test_the_braking_curve_holds_below_one_metre():
    """Half a metre above the surface, the Checkpoint-to-Matchpoint leg (71 m in 600 s,
    0.118 m/s; a descent started there burns Checkpoint at once) is capped at
    sqrt(v_c^2 + 1.6 a h) = 0.1058 m/s: a reference already at that rate keeps it."""
    g = TagGuidance(BODY, TARGET_BF_M, NORMAL_BF, ARM_M)
    g.start(0.0, 0.5)
    cap = math.sqrt(0.1 ** 2 + 1.6 * 1.5e-3 * 0.5)
    g.hdot_ref_mps = -cap
    assert g.advance(1e-3, PROFILE) == "checkpoint"
    assert g.hddot_ref_mps2 == pytest.approx(0.0, abs=1e-9)
