"""The actuators as the world applies them: branch B, the ACS couples, latch valves, stuck
valves, a failed wheel and a failed sampler gas bottle.

The oracle is written here, not read from sim: the ICD's directions (slots 0-5 push along
+x, -x, +y, -y, +z, -z spacecraft; couples turn about the same), F = force_n per thruster,
torque = 2 force_n acs_arm_m per couple, Newton and Euler over one step, and a failed
wheel's spin-down exp(-t / tau).  Build errors and pulse noise are switched off so that
the oracle is exact; tolerances are in units.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from flightsw.geometry.quat import q_rotate
from flightsw.icd import mavlink
from sim.scenario import load_scenario
from sim.world import World

DIRECTIONS = ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1))
EXACT = {"spacecraft.thrusters.magnitude_sigma_frac": 0.0,
         "spacecraft.thrusters.misalignment_sigma_deg": 0.0,
         "spacecraft.thrusters.impulse_noise_frac": 0.0,
         "initial.rate_sigma_degps": 0.0}
DT = 0.1  # s: one frame of bennu-hover
MPS = 1e-12  # m/s
RADPS = 1e-9  # rad/s (the rigid body's gyroscopic coupling over one step is below this)
NS = 1e-12  # N s


def _world(faults=(), scenario="bennu-hover", **overrides):
    o = dict(EXACT, **overrides)
    if faults:
        o["faults"] = list(faults)
    return World(load_scenario(scenario, o))


def _cmd(on=None, on_b=None, acs=None, latch=0, cycle=DT):
    return mavlink.MAVLink_probe_thruster_cmd_message(
        0, list(on or [0.0] * 8), cycle, list(on_b or [0.0] * 6), list(acs or [0.0] * 6), latch)


def _slot(k, on_s, n=8):
    v = [0.0] * n
    v[k] = on_s
    return v


def _frame(world, msgs=()):
    """One frame as the runner flies it: sensors (faults update), commands, one step."""
    t_us = round(world.state.t_s * 1e6)
    world.sensor_messages(round(t_us / 100_000), t_us)
    world.apply_commands(list(msgs))
    world.step(DT)


def _dv_i(world, reference):
    return np.subtract(world.state.vel_i_mps, reference.state.vel_i_mps)


def _dw_sc(world, reference):
    return np.subtract(world.state.rate_sc_radps, reference.state.rate_sc_radps)


@pytest.mark.parametrize("k", range(6))
def test_branch_b_thruster_pushes_along_its_slot_direction(k):
    on_s = 0.05
    w, ref = _world(), _world()
    q0 = w.state.q_i_to_sc
    _frame(w, [_cmd(on_b=_slot(k, on_s, 6))])
    _frame(ref)
    force_n = 1.0  # bennu-hover's spacecraft.thrusters.force_n
    expected_sc = np.array(DIRECTIONS[k], dtype=float) * force_n * on_s / 1500.0
    expected_i = q_rotate(q0, tuple(expected_sc))  # the attitude moves by < 1e-5 rad
    np.testing.assert_allclose(_dv_i(w, ref), expected_i, atol=1e-9 * np.abs(expected_sc).max()
                               + MPS)
    thr = w.thrusters
    assert thr.branch_b_impulse_ns == pytest.approx(force_n * on_s, abs=NS)
    assert thr.impulse_ns_total == pytest.approx(force_n * on_s, abs=NS)  # in delta_v too
    assert thr.on_b_s_total[k] == pytest.approx(on_s) and sum(thr.on_s_total) == 0.0


def test_branch_b_absent_on_a_single_branch_vehicle():
    w, ref = _world(**{"spacecraft.thrusters.branches": 1}), _world()
    _frame(w, [_cmd(on_b=_slot(0, 0.05, 6))])
    _frame(ref)
    assert np.abs(_dv_i(w, ref)).max() == 0.0 and w.thrusters.branch_b_impulse_ns == 0.0


@pytest.mark.parametrize("k", range(6))
def test_acs_couple_is_a_pure_torque_about_its_axis(k):
    on_s, arm_m = 0.04, 0.8
    w = _world(**{"spacecraft.thrusters.acs_arm_m": arm_m})
    ref = _world(**{"spacecraft.thrusters.acs_arm_m": arm_m})
    _frame(w, [_cmd(acs=_slot(k, on_s, 6))])
    _frame(ref)
    torque_nm = 2.0 * 1.0 * arm_m * on_s / DT  # averaged over the cycle
    inertia = np.array([2400.0, 2100.0, 1700.0])
    expected = np.array(DIRECTIONS[k], dtype=float) * torque_nm * DT / inertia
    np.testing.assert_allclose(_dw_sc(w, ref), expected, atol=RADPS)
    assert np.abs(_dv_i(w, ref)).max() == 0.0  # no net force: the same trajectory
    assert w.thrusters.acs_impulse_ns == pytest.approx(2.0 * 1.0 * on_s, abs=NS)  # two thrusters
    assert w.thrusters.impulse_ns_total == 0.0


def test_acs_couples_need_an_arm():
    w = _world(**{"spacecraft.thrusters.acs_arm_m": 0.0})
    accel, torque = w.thrusters.command(_cmd(acs=[0.05] * 6))
    assert torque is None and w.thrusters.acs_impulse_ns == 0.0


def test_a_stuck_on_thruster_fires_every_step_uncommanded_until_its_latch_closes():
    stuck = [{"t_s": 0.0, "kind": "thruster_stuck_on", "index": 2}]  # +y, branch A
    w, ref = _world(stuck), _world()
    dv = np.zeros(3)
    for _ in range(3):  # commands that fire nothing, latches open
        # +y spacecraft at the step's start attitude, F dt / m
        dv += q_rotate(w.state.q_i_to_sc, (0.0, DT * 1.0 / 1500.0, 0.0))
        _frame(w, [_cmd()])
        _frame(ref, [_cmd()])
    np.testing.assert_allclose(_dv_i(w, ref), dv, atol=1e-11)
    assert w.thrusters.impulse_ns_total == pytest.approx(3 * DT * 1.0, abs=NS)
    # Silence fires it too: a stuck valve does not wait for a command.
    _frame(w)
    _frame(ref)
    assert w.thrusters.impulse_ns_total == pytest.approx(4 * DT, abs=NS)
    # Latch A closed: nothing more, even commanded; branch B still flies.
    before = _dv_i(w, ref)
    _frame(w, [_cmd(on=_slot(2, 0.05), latch=1)])
    _frame(ref)
    np.testing.assert_allclose(_dv_i(w, ref), before, atol=MPS)
    _frame(w, [_cmd(on_b=_slot(2, 0.05, 6), latch=1)])
    _frame(ref)
    assert _dv_i(w, ref) @ np.array(q_rotate(w.state.q_i_to_sc, (0.0, 1.0, 0.0))) > \
        before @ np.array(q_rotate(w.state.q_i_to_sc, (0.0, 1.0, 0.0))) + 0.04 / 1500.0 * 0.9
    # The latch holds its state: a later command without the bit opens it again.
    assert w.thrusters.latch_closed == 1
    _frame(w, [_cmd()])
    assert w.thrusters.latch_closed == 0 and w.thrusters.impulse_ns_total == pytest.approx(
        4 * DT + 0.05 + DT, abs=NS)


def test_latch_b_stops_a_stuck_branch_b_thruster():
    w, ref = _world([{"t_s": 0.0, "kind": "thruster_stuck_on", "index": 4, "branch": "B"}]), \
        _world()
    _frame(w, [_cmd(latch=2)])
    _frame(ref)
    assert np.abs(_dv_i(w, ref)).max() <= MPS and w.thrusters.branch_b_impulse_ns == 0.0
    _frame(w, [_cmd(latch=0)])
    _frame(ref)
    assert w.thrusters.branch_b_impulse_ns == pytest.approx(DT * 1.0, abs=NS)


def test_a_stuck_off_thruster_never_fires_the_others_do():
    w, ref = _world([{"t_s": 0.0, "kind": "thruster_stuck_off", "index": 0}]), _world()
    _frame(w, [_cmd(on=[0.05, 0.0, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0])])
    _frame(ref, [_cmd(on=[0.0, 0.0, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0])])
    np.testing.assert_allclose(_dv_i(w, ref), 0.0, atol=MPS)
    assert w.thrusters.on_s_total[0] == 0.0 and w.thrusters.on_s_total[2] == pytest.approx(0.05)


def test_a_stuck_off_backaway_thruster():
    w = _world([{"t_s": 0.0, "kind": "thruster_stuck_off", "index": 6}], scenario="bennu-tag")
    _frame(w, [_cmd(on=_slot(6, 0.09))])
    assert w.thrusters.backaway_impulse_ns == 0.0


def test_a_failed_wheel_spins_down_on_its_bearings_and_keeps_reporting():
    tau_s, h0_radps = 200.0, 100.0
    over = {"spacecraft.wheels.initial_speed_radps": h0_radps,
            "spacecraft.wheels.friction_time_constant_s": tau_s}
    w = _world([{"t_s": 0.0, "kind": "wheel_failure", "index": 1}], **over)
    cmd = mavlink.MAVLink_probe_wheel_cmd_message(0, [0.05, 0.05, 0.05, 0.05])
    total_before = _angular_momentum(w)
    n = 100
    for _ in range(n):
        _frame(w, [cmd])
    t = n * DT
    speeds = w.wheel_speeds_radps()
    # The failed wheel ignores its command and decays; the others follow theirs.
    assert speeds[1] == pytest.approx(h0_radps * math.exp(-t / tau_s), abs=1e-3)
    for j in (0, 2, 3):
        assert speeds[j] == pytest.approx(h0_radps + 0.05 * t / 0.12, abs=1e-6)
    # Friction is internal: the spacecraft takes what the wheels lose (inertial frame).
    np.testing.assert_allclose(_angular_momentum(w), total_before, atol=1e-6)
    tach = [m for m in w.sensor_messages(100, round(w.state.t_s * 1e6))
            if m.get_type() == "PROBE_WHEEL_STATUS"]
    assert tach and tach[0].speed_radps[1] == pytest.approx(speeds[1], abs=0.1)


def _angular_momentum(world):
    """Spacecraft plus wheels, inertial frame, N m s."""
    st = world.state
    inertia = np.array(world.dynamics.inertia)
    h_sc = inertia * np.array(st.rate_sc_radps)
    for axis, h in zip(world.wheel_axes, st.wheel_momentum_nms, strict=True):
        h_sc = h_sc + np.array(axis) * h
    return np.array(q_rotate(st.q_i_to_sc, tuple(h_sc)))


def test_sampler_gas_failure_uses_no_bottle_and_collects_nothing():
    w = _world([{"t_s": 0.0, "kind": "sampler_gas_failure", "duration_s": 0.25}],
               scenario="bennu-tag")
    deploy = mavlink.MAVLink_probe_sampler_cmd_message(0, mavlink.PROBE_SAMPLER_DEPLOY)
    fire = mavlink.MAVLink_probe_sampler_cmd_message(0, mavlink.PROBE_SAMPLER_FIRE_GAS)
    bottles = w.sampler.bottles_left
    _frame(w, [deploy, fire])
    assert w.sampler.bottles_left == bottles and not w.sampler.gas_active
    w.sampler.step(1.0, True)  # even in contact, nothing is mobilised
    assert w.sampler.collected_kg == 0.0
    _frame(w)
    _frame(w)
    _frame(w, [fire])  # the fault is over
    assert w.sampler.bottles_left == bottles - 1 and w.sampler.gas_active


def test_branch_b_build_errors_leave_branch_a_as_it_was():
    """A's draws come from its own stream: adding branch B changes none of them."""
    one = World(load_scenario("bennu-hover", {"spacecraft.thrusters.branches": 1}))
    two = World(load_scenario("bennu-hover"))
    assert one.thrusters.force_a_sc == two.thrusters.force_a_sc
    assert two.thrusters.force_b_sc and two.thrusters.force_b_sc != two.thrusters.force_a_sc[:6]
    for f, d in zip(two.thrusters.force_b_sc, DIRECTIONS, strict=True):
        assert np.dot(f, d) == pytest.approx(1.0, abs=0.05)  # 1 % sigma, 0.2 deg
