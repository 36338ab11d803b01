"""Control: pulse-modulated thrusters (sigma-delta) and the closed attitude loop."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from flightsw.geometry.frames import SpinningBody
from flightsw.gnc.control import AttitudeController, TranslationController
from flightsw.vehicle_geometry import wheel_axes_sc
from sim.dynamics import RigidBodyDynamics, SpacecraftState

# Rounding of sums of a few hundred impulses of up to ~10 N s.
IMPULSE_ROUNDING_NS = 1e-9
TIME_ROUNDING_S = 1e-12
TORQUE_TOL_NM = 1e-12

# The bennu-hover vehicle and the flight defaults of the attitude loop.
INERTIA_KGM2 = (2400.0, 2100.0, 1700.0)
MASS_KG = 1500.0
WHEEL_MAX_TORQUE_NM = 0.2
ATT_BW_RADPS = 0.3
ATT_ZETA = 0.9
BENNU_GM_M3S2 = 4.892
DEG = math.pi / 180.0
SETTLE_TOL_RAD = 0.01 * DEG
SETTLE_TIME_S = 120.0
CYCLE_S = 0.1


def to_scipy(q) -> Rotation:
    w, x, y, z = q
    return Rotation.from_quat([x, y, z, w])


def from_scipy(r: Rotation):
    x, y, z, w = r.as_quat()
    return (float(w), float(x), float(y), float(z))


# ---------------------------------------------------------------------------- thrusters


@st.composite
def thruster_setups(draw):
    mass = draw(st.floats(min_value=100.0, max_value=3000.0))
    thrust = draw(st.floats(min_value=0.1, max_value=10.0))
    cycle = draw(st.sampled_from([0.05, 0.1, 0.2, 1.0]))
    # A minimum impulse bit shorter than one cycle of full thrust (else nothing can fire).
    mib = draw(st.floats(min_value=1e-4, max_value=0.9)) * thrust * cycle
    # Commanded acceleration inside capability on every spacecraft axis (|a| < F/m).
    frac = draw(st.tuples(*[st.floats(min_value=-0.57, max_value=0.57)] * 3))
    accel_i = tuple(f * thrust / mass for f in frac)
    rv = draw(st.tuples(*[st.floats(min_value=-3.0, max_value=3.0)] * 3))
    return mass, thrust, cycle, mib, accel_i, from_scipy(Rotation.from_rotvec(rv))


def delivered_impulse_sc_ns(on_times, thrust_n):
    return np.array([on_times[0] - on_times[1], on_times[2] - on_times[3],
                     on_times[4] - on_times[5]]) * thrust_n


@settings(max_examples=60, deadline=None)
@given(thruster_setups())
def test_sigma_delta_follows_constant_command_within_one_mib(setup):
    mass, thrust, cycle, mib, accel_i, q = setup
    ctrl = TranslationController(mass, thrust, mib, 0.03, 1.0)
    # Oracle: the commanded impulse per cycle in the spacecraft frame.
    per_cycle_ns = to_scipy(q).inv().apply(accel_i) * mass * cycle
    commanded = np.zeros(3)
    delivered = np.zeros(3)
    dv_mps = 0.0
    for _ in range(300):
        on = ctrl.on_times(accel_i, q, cycle)
        assert len(on) == 6
        assert all(0.0 <= t <= cycle + TIME_ROUNDING_S for t in on)
        for k in range(3):
            assert on[2 * k] == 0.0 or on[2 * k + 1] == 0.0  # opposite pair never together
            for t in (on[2 * k], on[2 * k + 1]):
                # Every firing is at least one minimum impulse bit.
                assert t == 0.0 or t * thrust >= mib - IMPULSE_ROUNDING_NS
        commanded += per_cycle_ns
        delivered += delivered_impulse_sc_ns(on, thrust)
        dv_mps += sum(on) * thrust / mass
        # Running totals never drift apart by a minimum impulse bit.
        assert np.all(np.abs(commanded - delivered) <= mib + IMPULSE_ROUNDING_NS)
    assert ctrl.dv_total_mps == pytest.approx(dv_mps, rel=1e-12)


def test_sub_mib_command_is_accumulated_not_dropped():
    # 1/10 of a minimum impulse bit per cycle: one firing of ~1 MIB every 10 cycles.
    mib, thrust, mass, cycle = 0.005, 1.0, 1500.0, 0.1
    ctrl = TranslationController(mass, thrust, mib, 0.03, 1.0)
    accel = 0.1 * mib / (mass * cycle)
    pulses = [ctrl.on_times((accel, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0), cycle)[0]
              for _ in range(100)]
    fired = [p for p in pulses if p > 0.0]
    assert 9 <= len(fired) <= 10
    assert sum(pulses) * thrust == pytest.approx(100 * 0.1 * mib, abs=mib)


def test_over_capability_command_saturates_and_payback_is_bounded():
    thrust, mass, cycle, mib = 1.0, 1500.0, 0.1, 0.005
    ctrl = TranslationController(mass, thrust, mib, 0.03, 1.0)
    q = (1.0, 0.0, 0.0, 0.0)
    for _ in range(50):  # 5x what the -y thruster can give
        on = ctrl.on_times((0.0, -5.0 * thrust / mass, 0.0), q, cycle)
        assert on[3] == pytest.approx(cycle, abs=TIME_ROUNDING_S)
        assert on[2] == 0.0
    # After the command stops, the debt paid back is at most one full cycle of thrust.
    payback_ns = sum(ctrl.on_times((0.0, 0.0, 0.0), q, cycle)[3] for _ in range(20)) * thrust
    assert payback_ns <= thrust * cycle + IMPULSE_ROUNDING_NS


def test_accel_command_at_the_reference_is_feed_forward():
    ctrl = TranslationController(MASS_KG, 1.0, 0.005, 0.03, 1.0)
    ref_pos, ref_vel, ref_acc = (1000.0, 20.0, 500.0), (0.1, -0.2, 0.0), (1e-5, 2e-5, -3e-5)
    gravity = (-4e-6, 0.0, -2e-6)
    cmd = ctrl.accel_command_i(ref_pos, ref_vel, ref_pos, ref_vel, ref_acc, gravity)
    assert np.allclose(cmd, np.subtract(ref_acc, gravity), rtol=0.0, atol=1e-18)
    # 1 m short along x: a pull of kp = bandwidth^2 toward the reference.
    cmd = ctrl.accel_command_i((999.0, 20.0, 500.0), ref_vel, ref_pos, ref_vel, ref_acc, gravity)
    assert cmd[0] - (ref_acc[0] - gravity[0]) == pytest.approx(0.03 ** 2, rel=1e-12)


# ---------------------------------------------------------------------------- attitude


def far_point_mass(x, y, z):
    r2 = x * x + y * y + z * z
    k = -BENNU_GM_M3S2 / (r2 * math.sqrt(r2))
    return (k * x, k * y, k * z)


def closed_loop(initial_error_rotvec, rate_ref_i_radps, duration_s, wheel_h_nms):
    """Perfect navigation, truth dynamics with wheels; returns errors (rad) and torques."""
    axes = wheel_axes_sc(4)
    body = SpinningBody(85.65, -60.17, 4.296057 * 3600.0)
    # 10,000 km away: gravity ~5e-14 m/s^2, no torque on a rigid body anyway.
    dyn = RigidBodyDynamics(MASS_KG, INERTIA_KGM2, axes, body, far_point_mass)
    ctrl = AttitudeController(INERTIA_KGM2, axes, ATT_BW_RADPS, ATT_ZETA, WHEEL_MAX_TORQUE_NM)
    ref0 = Rotation.from_rotvec([0.4, -0.2, 1.0])
    w_ref_i = np.asarray(rate_ref_i_radps)
    q0 = ref0 * Rotation.from_rotvec(initial_error_rotvec)
    state = SpacecraftState(0.0, (1e7, 0.0, 0.0), (0.0, 0.0, 0.0), from_scipy(q0),
                            tuple(q0.inv().apply(w_ref_i)), tuple(wheel_h_nms))
    errors, torques = [], []
    for k in range(round(duration_s / CYCLE_S)):
        ref = Rotation.from_rotvec(w_ref_i * k * CYCLE_S) * ref0
        tau = ctrl.wheel_torques(state.q_i_to_sc, state.rate_sc_radps, from_scipy(ref),
                                 tuple(ref.inv().apply(w_ref_i)), state.wheel_momentum_nms)
        torques.append(tau)
        state = dyn.step(state, CYCLE_S, (0.0, 0.0, 0.0), tau)
        ref_next = Rotation.from_rotvec(w_ref_i * (k + 1) * CYCLE_S) * ref0
        errors.append((to_scipy(state.q_i_to_sc).inv() * ref_next).magnitude())
    return np.asarray(errors), np.asarray(torques), ctrl


def _rotvec_deg(axis, angle_deg):
    a = np.asarray(axis, dtype=float)
    return a / np.linalg.norm(a) * angle_deg * DEG


@pytest.mark.parametrize(("axis", "rate_ref_i", "wheel_h"), [
    ((1.0, 2.0, -1.5), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0)),
    ((-0.3, 0.1, 1.0), (0.0, 0.0, 0.0), (1.0, -0.5, 0.3, 0.8)),  # gyroscopic coupling
    # Tracking a frame turning at Bennu's spin rate about its pole (the hover case).
    ((0.5, -1.0, 0.2), tuple(4.06e-4 * np.array([0.038, 0.496, -0.867])), (0.5, 0.5, 0.5, 0.5)),
], ids=["inertial-hold", "inertial-hold-wheel-momentum", "track-spin"])
def test_attitude_loop_settles_from_5_deg_within_120_s(axis, rate_ref_i, wheel_h):
    errors, torques, ctrl = closed_loop(_rotvec_deg(axis, 5.0), rate_ref_i, 150.0, wheel_h)
    settled_from = round(SETTLE_TIME_S / CYCLE_S)
    assert np.all(errors[settled_from - 1:] < SETTLE_TOL_RAD), errors[settled_from - 1:].max()
    # The 5 deg slew needs more than the wheels can give: the limit is hit and respected.
    assert ctrl.saturated_count > 0
    assert np.all(np.abs(torques) <= WHEEL_MAX_TORQUE_NM)


def test_wheel_torques_are_the_allocated_pd_law_when_unsaturated():
    axes = wheel_axes_sc(4)
    ctrl = AttitudeController(INERTIA_KGM2, axes, ATT_BW_RADPS, ATT_ZETA, WHEEL_MAX_TORQUE_NM)
    q_est = from_scipy(Rotation.from_rotvec([0.1, 0.2, 0.3]))
    err_rv = np.array([2e-5, -1e-5, 3e-5])
    q_ref = from_scipy(to_scipy(q_est) * Rotation.from_rotvec(err_rv))
    w = np.array([1e-5, -2e-5, 5e-6])
    w_ref = np.array([0.0, 1e-5, 0.0])
    h = np.array([2.0, -1.0, 0.5, 0.0])
    tau = ctrl.wheel_torques(q_est, tuple(w), q_ref, tuple(w_ref), tuple(h))
    inertia = np.asarray(INERTIA_KGM2)
    kp = inertia * ATT_BW_RADPS ** 2
    kd = 2.0 * ATT_ZETA * ATT_BW_RADPS * inertia
    a = np.asarray(axes).T
    body_torque = kp * err_rv + kd * (w_ref - w) + np.cross(w, inertia * w + a @ h)
    assert np.all(np.abs(tau) < WHEEL_MAX_TORQUE_NM)
    assert np.allclose(tau, -np.linalg.pinv(a) @ body_torque, rtol=0.0, atol=TORQUE_TOL_NM)
    assert ctrl.saturated_count == 0


@given(st.tuples(*[st.floats(min_value=-math.pi, max_value=math.pi)] * 3),
       st.tuples(*[st.floats(min_value=-0.1, max_value=0.1)] * 3))
def test_wheel_torques_never_exceed_the_limit(err_rv, rate):
    axes = wheel_axes_sc(4)
    ctrl = AttitudeController(INERTIA_KGM2, axes, ATT_BW_RADPS, ATT_ZETA, WHEEL_MAX_TORQUE_NM)
    q_ref = from_scipy(Rotation.from_rotvec(err_rv))
    tau = ctrl.wheel_torques((1.0, 0.0, 0.0, 0.0), rate, q_ref, (0.0, 0.0, 0.0),
                             (10.0, -10.0, 10.0, -10.0))
    assert all(abs(t) <= WHEEL_MAX_TORQUE_NM for t in tau)
