"""Momentum management (flightsw/components/momentum.py): unloading the wheels with the
attitude-control couples.

Pinned here: each couple fires against the wheels' momentum on its own axis (and not
on an axis holding less than a pulse's worth); the couples' average torque per axis
stays within WHEEL_TORQUE_SHARE of the wheels' torque for any vehicle; a dump started
high ends below FP_WHL_DONE_FRAC of the rating, the wheel momentum shrinking on every
axis all the way (a closed loop whose plant, wheels absorbing the couples' impulse
while the attitude is held, is written here); a vehicle without couples refuses to
start (False, a warning, the command FAILED).
"""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.components.momentum import WHEEL_TORQUE_SHARE, MomentumManager
from flightsw.components.propulsion import Propulsion
from flightsw.config import BodyModel, FlightConfig, VehicleConfig
from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamTable
from flightsw.icd import mavlink
from flightsw.params_table import FLIGHT_PARAMS
from flightsw.vehicle_geometry import wheel_axes_sc

# The Bennu scenario's vehicle: 4.4 N thrusters, 0.01 N s minimum impulse bit, couples on
# a 1 m arm (8.8 N m), four 0.12 kg m^2 wheels of 0.2 N m rated at 600 rad/s.
VEHICLE = VehicleConfig(1500.0, (2400.0, 2100.0, 1700.0), 4, 0.12, 0.2, 4.4, 0.01,
                        backaway_force_n=100.0, wheel_max_speed_radps=600.0,
                        acs_torque_nm=8.8, thruster_branches=2)
BODY = BodyModel(4.892, 85.65, -60.17, 4.296057 * 3600.0)
AXES = np.array(wheel_axes_sc(4)).T  # 3 x 4


class Port:
    def __init__(self):
        self.sent = []

    def send(self, msg):
        self.sent.append(msg)


def make(vehicle=VEHICLE):
    config = FlightConfig(vehicle=vehicle, body=BODY, hover_point_bf_m=(0.0, -1250.0, 200.0))
    clock = SimClock()
    events = EventLog(clock, None)
    params = ParamTable(FLIGHT_PARAMS)
    modes = ModeManager(clock, events, initial=Mode.SAFE)
    port = Port()
    commands = CommandDispatcher(modes, events, port.send)
    prop = Propulsion(config, port, events)
    return MomentumManager(config, params, events, commands, prop), events, commands, prop


def wheel_speeds(h_sc, inertia=VEHICLE.wheel_inertia_kgm2):
    """Minimum-norm wheel speeds holding h_sc (what the wheels settle to under the
    minimum-norm torque allocation from rest)."""
    return tuple(np.linalg.pinv(AXES) @ np.asarray(h_sc) / inertia)


def next_pulse(mm, h_sc, speeds):
    """The couples of the next cycle that fires, and how many cycles it took."""
    for k in range(1, mm.pulse_every + 1):
        out = mm.couples(h_sc, speeds)
        if out is not None:
            return out, k
    return None, mm.pulse_every


h_component = st.floats(-60.0, 60.0, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(h=st.tuples(h_component, h_component, h_component))
def test_each_couple_fires_against_the_wheel_momentum_on_its_axis(h):
    mm, _, _, _ = make()
    assert mm.start("test")
    speeds = (500.0, 0.0, 0.0, 0.0)  # above the done fraction: the dump goes on
    out, cycles = next_pulse(mm, h, speeds)
    assert cycles <= mm.pulse_every
    pulse_h = VEHICLE.acs_torque_nm * mm.pulse_s
    for k in range(3):
        plus, minus = (0.0, 0.0) if out is None else (out[2 * k], out[2 * k + 1])
        torque_k = VEHICLE.acs_torque_nm * (plus - minus)  # N m s of impulse on axis k
        if abs(h[k]) >= pulse_h:
            assert plus * minus == 0.0 and torque_k != 0.0
            assert np.sign(torque_k) == -np.sign(h[k])  # the wheels' momentum shrinks
            assert abs(torque_k) == pytest.approx(pulse_h, rel=1e-12)
        else:
            assert torque_k == 0.0


@settings(max_examples=40, deadline=None)
@given(thrust_n=st.floats(0.5, 25.0), mib_ns=st.floats(0.0, 0.05),
       arm_m=st.floats(0.2, 3.0), wheel_torque_nm=st.floats(0.02, 1.0),
       rate_hz=st.sampled_from([5, 10, 20]))
def test_the_couples_average_torque_stays_within_the_wheels_share(
        thrust_n, mib_ns, arm_m, wheel_torque_nm, rate_hz):
    """Over any whole number of pulse periods, on every axis, the couples' mean torque is
    at most WHEEL_TORQUE_SHARE of a wheel's torque (what the attitude loop can return
    while the couples push)."""
    vehicle = dataclasses.replace(VEHICLE, thrust_n=thrust_n, min_impulse_bit_ns=mib_ns,
                                  acs_torque_nm=2.0 * thrust_n * arm_m,
                                  wheel_max_torque_nm=wheel_torque_nm)
    config_cycle_s = 1.0 / rate_hz
    if max(mib_ns / thrust_n, 1e-3) > config_cycle_s:
        return  # a minimum pulse longer than a cycle: no such vehicle
    config = FlightConfig(vehicle=vehicle, body=BODY, hover_point_bf_m=(0.0, -1250.0, 200.0),
                          base_rate_hz=rate_hz)
    clock = SimClock()
    events = EventLog(clock, None)
    modes = ModeManager(clock, events, initial=Mode.SAFE)
    mm = MomentumManager(config, ParamTable(FLIGHT_PARAMS), events,
                         CommandDispatcher(modes, events, Port().send),
                         Propulsion(config, Port(), events))
    assert mm.start("test")
    h = (40.0, -40.0, 40.0)  # far above a pulse on every axis: fires whenever allowed
    n_cycles = 3 * mm.pulse_every
    on = np.zeros(6)
    for _ in range(n_cycles):
        out = mm.couples(h, (550.0, 0.0, 0.0, 0.0))
        if out is not None:
            assert max(out) <= config_cycle_s
            on += np.array(out)
    assert on.sum() > 0.0
    mean_torque = vehicle.acs_torque_nm * on / (n_cycles * config_cycle_s)  # N m per couple
    limit = WHEEL_TORQUE_SHARE * wheel_torque_nm
    assert np.all(mean_torque <= limit * (1 + 1e-12)), (mean_torque, limit)


def test_a_dump_ends_below_the_done_fraction_with_the_momentum_shrinking_on_every_axis():
    """Closed loop: the attitude held, the wheels take up every couple's impulse."""
    mm, events, _, prop = make()
    rating = VEHICLE.wheel_max_speed_radps
    # 0.7 of the rating on wheel 0, spread as the minimum-norm allocation would.
    h = np.array(AXES[:, 0] * 0.72 * rating * VEHICLE.wheel_inertia_kgm2)
    h_start = h.copy()
    assert mm.start("wheel speed")
    done = mm.params.get("FP_WHL_DONE_FRAC") * rating
    cycles = 0
    while mm.active:
        out = mm.couples(tuple(h), wheel_speeds(h))
        if out is not None:
            prop.fire(0, (), mm.cycle_s, out)  # the propellant is accounted for
            impulse = VEHICLE.acs_torque_nm * np.array(
                [out[0] - out[1], out[2] - out[3], out[4] - out[5]])
            h_next = h + impulse
            assert np.all(np.abs(h_next) <= np.abs(h) + 1e-15)  # never pumps an axis up
            h = h_next
        cycles += 1
        assert cycles < 100_000, "the dump does not end"
    assert max(abs(w) for w in wheel_speeds(h)) < done
    assert np.all(np.abs(h) < np.abs(h_start))
    # Its cost: each pulse is a couple of two thrusters, 2 F t of impulse.
    assert prop.acs_dv_mps() > 0.0
    texts = [e.text for e in events.recent if e.source == "momentum"]
    assert texts[0] == "momentum dump started (wheel speed)"
    assert texts[-1].startswith("momentum dump done; ")
    assert mm.couples(tuple(h), wheel_speeds(h)) is None  # over: nothing more fires


def test_not_dumping_fires_nothing_and_a_second_start_is_the_same_dump():
    mm, events, _, _ = make()
    assert mm.couples((50.0, 50.0, 50.0), (590.0, 0.0, 0.0, 0.0)) is None
    assert mm.start("a") and mm.start("b")
    assert mm.dumps == 1
    assert [e.text for e in events.recent if e.source == "momentum"] == \
        ["momentum dump started (a)"]


def test_the_ground_command_starts_a_dump():
    mm, _, commands, _ = make()
    assert commands.dispatch(mavlink.PROBE_CMD_DUMP_MOMENTUM) == CommandResult.ACCEPTED
    assert mm.active and mm.dumps == 1


def test_a_vehicle_without_couples_cannot_dump():
    mm, events, commands, _ = make(dataclasses.replace(VEHICLE, acs_torque_nm=0.0))
    assert mm.start("wheel speed") is False
    assert not mm.active and mm.dumps == 0
    (event,) = events.recent
    assert event.severity == Severity.WARNING and event.source == "momentum"
    assert commands.dispatch(mavlink.PROBE_CMD_DUMP_MOMENTUM) == CommandResult.FAILED
    assert not mm.active and mm.dumps == 0
    assert mm.couples((50.0, 50.0, 50.0), (590.0, 0.0, 0.0, 0.0)) is None
