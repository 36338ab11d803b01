"""Rigid-body dynamics (RK4) against conservation laws and closed-form solutions."""

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.quat import q_rotate
from flightsw.vehicle_geometry import wheel_axes_sc
from sim.dynamics import RigidBodyDynamics, SpacecraftState

# Conservation over 1000 s of 0.1 s RK4 steps with |w| dt ~ 4e-3: the local error
# ~ (w dt)^5 is far below rounding; 1e-10 relative leaves room for 1e4 steps of it.
CONSERVATION_REL_TOL = 1e-10
PRECESSION_ANGLE_TOL_RAD = 1e-8
RATE_TOL_RADPS = 1e-12
ORBIT_RADIUS_TOL_M = 1e-3
ORBIT_CLOSURE_TOL_M = 1e-3
ORBIT_CLOSURE_TOL_MPS = 1e-7  # a velocity error that drifts 1 mm in ~3 h
WHEEL_MOMENTUM_TOL_NMS = 1e-9

BENNU_GM_M3S2 = 4.892
INERTIA_KGM2 = (2400.0, 2100.0, 1700.0)


def bennu() -> SpinningBody:
    return SpinningBody(85.65, -60.17, 4.296057 * 3600.0)


def no_gravity(x, y, z):
    return (0.0, 0.0, 0.0)


def point_mass(x, y, z):
    r2 = x * x + y * y + z * z
    k = -BENNU_GM_M3S2 / (r2 * math.sqrt(r2))
    return (k * x, k * y, k * z)


def from_scipy(r: Rotation):
    x, y, z, w = r.as_quat()
    return (float(w), float(x), float(y), float(z))


def angular_momentum_i(dyn: RigidBodyDynamics, s: SpacecraftState) -> np.ndarray:
    inertia = np.asarray(dyn.inertia)
    h_sc = inertia * np.asarray(s.rate_sc_radps)
    h_sc += np.asarray(dyn.wheel_axes).T @ np.asarray(s.wheel_momentum_nms) \
        if dyn.wheel_axes else 0.0
    return np.asarray(q_rotate(s.q_i_to_sc, tuple(h_sc)))


def rotational_energy_j(dyn, s) -> float:
    w = np.asarray(s.rate_sc_radps)
    return 0.5 * float(w @ (np.asarray(dyn.inertia) * w))


def run(dyn, state, dt_s, steps, motor_torque=None):
    motor_torque = motor_torque if motor_torque is not None else (0.0,) * len(dyn.wheel_axes)
    states = [state]
    for _ in range(steps):
        state = dyn.step(state, dt_s, (0.0, 0.0, 0.0), motor_torque)
        states.append(state)
    return states


@pytest.mark.parametrize("wheel_count", [0, 4])
def test_torque_free_conserves_momentum_and_energy_over_1000_s(wheel_count):
    axes = wheel_axes_sc(wheel_count) if wheel_count else []
    dyn = RigidBodyDynamics(1500.0, INERTIA_KGM2, axes, bennu(), no_gravity)
    h0 = (2.0, -1.0, 0.5, 1.5)[:wheel_count]
    s0 = SpacecraftState(0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0),
                         from_scipy(Rotation.from_rotvec([0.3, -0.7, 1.1])),
                         (0.02, -0.03, 0.025), h0)
    states = run(dyn, s0, 0.1, 10_000)
    big_l = angular_momentum_i(dyn, s0)
    energy = rotational_energy_j(dyn, s0)
    for s in states[::100]:
        assert np.linalg.norm(angular_momentum_i(dyn, s) - big_l) \
            <= CONSERVATION_REL_TOL * np.linalg.norm(big_l)
        assert abs(rotational_energy_j(dyn, s) - energy) <= CONSERVATION_REL_TOL * energy
        assert s.q_i_to_sc[0] >= 0.0
        assert abs(np.linalg.norm(s.q_i_to_sc) - 1.0) < 1e-15
    # The body really tumbled (an intermediate-axis spin does not stay put).
    assert np.linalg.norm(np.subtract(states[-1].rate_sc_radps, s0.rate_sc_radps)) > 1e-3


def test_axisymmetric_body_precesses_at_the_analytic_rates():
    it, ia = 2000.0, 1200.0  # transverse, axial
    dyn = RigidBodyDynamics(1500.0, (it, it, ia), [], bennu(), no_gravity)
    w_t, w3 = 0.01, 0.05
    s0 = SpacecraftState(0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0),
                         (w_t, 0.0, w3), ())
    dt, steps = 0.1, 3000
    states = run(dyn, s0, dt, steps)
    # Body frame: the transverse rate turns about +z at lambda = (Ia - It) / It * w3.
    lam = (ia - it) / it * w3
    # Inertial frame: the symmetry axis cones about H at |H| / It.
    big_h = np.array([it * w_t, 0.0, ia * w3])
    h_hat = big_h / np.linalg.norm(big_h)
    omega_p = np.linalg.norm(big_h) / it
    z0 = np.array([0.0, 0.0, 1.0])
    for k in range(0, steps + 1, 100):
        t = k * dt
        s = states[k]
        expected_w = (w_t * math.cos(lam * t), w_t * math.sin(lam * t), w3)
        assert np.allclose(s.rate_sc_radps, expected_w, rtol=0.0, atol=RATE_TOL_RADPS)
        z_i = np.asarray(q_rotate(s.q_i_to_sc, (0.0, 0.0, 1.0)))
        z_expected = Rotation.from_rotvec(h_hat * omega_p * t).apply(z0)
        assert np.linalg.norm(z_i - z_expected) < PRECESSION_ANGLE_TOL_RAD


def test_two_body_circular_orbit_keeps_radius_and_closes():
    # Bennu's GM at 1 km: period ~25 h.  A 10 s step (omega dt = 7e-4 rad) keeps the
    # RK4 error per orbit at ~1e-8 m; the tolerance is 1 mm.
    r = 1000.0
    period = 2.0 * math.pi * math.sqrt(r ** 3 / BENNU_GM_M3S2)
    v = math.sqrt(BENNU_GM_M3S2 / r)
    dyn = RigidBodyDynamics(1500.0, INERTIA_KGM2, [], bennu(), point_mass)
    # An inclined orbit, so the body-fixed <-> inertial rotation matters.
    tilt = Rotation.from_rotvec([0.4, 0.0, 0.0])
    pos0, vel0 = tilt.apply([r, 0.0, 0.0]), tilt.apply([0.0, v, 0.0])
    s = SpacecraftState(0.0, tuple(pos0), tuple(vel0), (1.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0), ())
    dt = 10.0
    n_full = int(period // dt)
    for _ in range(n_full):
        s = dyn.step(s, dt, (0.0, 0.0, 0.0), ())
        assert abs(np.linalg.norm(s.pos_i_m) - r) < ORBIT_RADIUS_TOL_M
    s = dyn.step(s, period - n_full * dt, (0.0, 0.0, 0.0), ())
    assert s.t_s == pytest.approx(period, abs=1e-9)
    assert np.linalg.norm(np.subtract(s.pos_i_m, pos0)) < ORBIT_CLOSURE_TOL_M
    assert np.linalg.norm(np.subtract(s.vel_i_mps, vel0)) < ORBIT_CLOSURE_TOL_MPS


def test_constant_thrust_without_gravity_is_a_parabola():
    dyn = RigidBodyDynamics(1500.0, INERTIA_KGM2, [], bennu(), no_gravity)
    p0, v0, a = np.array([10.0, -5.0, 3.0]), np.array([0.1, 0.0, -0.2]), np.array([1e-3, 2e-3, 0])
    s = SpacecraftState(0.0, tuple(p0), tuple(v0), (1.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0), ())
    for _ in range(100):
        s = dyn.step(s, 0.5, tuple(a), ())
    t = 50.0
    assert np.allclose(s.pos_i_m, p0 + v0 * t + 0.5 * a * t * t, rtol=0.0, atol=1e-9)
    assert np.allclose(s.vel_i_mps, v0 + a * t, rtol=0.0, atol=1e-12)


def test_wheel_motor_torque_transfers_momentum_to_the_body():
    axes = wheel_axes_sc(4)
    dyn = RigidBodyDynamics(1500.0, INERTIA_KGM2, axes, bennu(), no_gravity)
    h0 = (0.5, -0.2, 0.0, 0.3)
    s0 = SpacecraftState(0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0),
                         from_scipy(Rotation.from_rotvec([1.0, 0.2, -0.4])),
                         (1e-3, -2e-3, 5e-4), h0)
    motor = (0.05, -0.1, 0.2, 0.02)
    dt, steps = 0.1, 2000
    states = run(dyn, s0, dt, steps, motor)
    big_l = angular_momentum_i(dyn, s0)
    scale = np.linalg.norm(big_l) + sum(abs(m) for m in motor) * dt * steps
    for k in range(0, steps + 1, 100):
        s = states[k]
        # Wheels gain exactly the motor torque times time ...
        assert np.allclose(s.wheel_momentum_nms, np.add(h0, np.multiply(motor, k * dt)),
                           rtol=0.0, atol=WHEEL_MOMENTUM_TOL_NMS)
        # ... and the spacecraft + wheels system keeps its total angular momentum.
        assert np.linalg.norm(angular_momentum_i(dyn, s) - big_l) <= CONSERVATION_REL_TOL * scale
    # The body did take the reaction: its rate changed by ~ the wheel momentum / inertia.
    assert np.linalg.norm(np.subtract(states[-1].rate_sc_radps, s0.rate_sc_radps)) > 1e-2


def test_motor_torque_count_must_match_wheels():
    dyn = RigidBodyDynamics(1500.0, INERTIA_KGM2, wheel_axes_sc(4), bennu(), no_gravity)
    s0 = SpacecraftState(0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0),
                         (0.0, 0.0, 0.0), (0.0,) * 4)
    with pytest.raises(ValueError):
        dyn.step(s0, 0.1, (0.0, 0.0, 0.0), (0.1, 0.1, 0.1))
