"""The thruster monitor's evidence (flightsw/fault/thruster_check.py), driven cycle by
cycle with the real Propulsion: its commands go out at frame k, the IMU sample of frame
k + 1 reports the thrust they ordered, as in the simulator's loop.

The world here is written in this file: a thruster's felt acceleration is its force
over the mass along its ICD direction (+x, -x, +y, -y, +z, -z), a stuck-off one gives
nothing, the accelerometer adds a bias and seeded Gaussian noise of the scenario's size.

Pinned: minimum-impulse pulses of a healthy thruster never fail it, whatever the
accelerometer's bias (measured in quiet cycles) and whatever navigation believes the
bias to be; a stuck-off thruster is named within MIN_PULSES..10 of its pulses;
nothing is judged before the axis has a baseline, in a back-away burn, when both
thrusters of an axis fire, or on the other branch's pulses; a change of branch starts
afresh; a window with a cycle not accounted for is not judged.
"""

import random
from types import SimpleNamespace

import pytest

from flightsw.components.propulsion import Propulsion
from flightsw.config import BodyModel, FlightConfig, VehicleConfig
from flightsw.core.clock import SimClock
from flightsw.core.events import EventLog
from flightsw.core.params import ParamTable
from flightsw.fault.thruster_check import BASELINE_MIN_QUIET, MIN_PULSES, ThrusterCheck
from flightsw.hal.drivers import ImuSample
from flightsw.params_table import FLIGHT_PARAMS

CYCLE_US = 100_000
CYCLE_S = 0.1
VEHICLE = VehicleConfig(1500.0, (2400.0, 2100.0, 1700.0), 4, 0.12, 0.2, 4.4, 0.01,
                        backaway_force_n=100.0, acs_torque_nm=8.8, thruster_branches=2)
BODY = BodyModel(4.892, 85.65, -60.17, 4.296057 * 3600.0)
DIRECTIONS = ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1))
MIB_ON_S = 0.0024  # a little over the 0.01 N s minimum impulse bit of a 4.4 N thruster
NOISE_MPS2 = 1e-5  # the Bennu scenarios' accelerometer


class Port:
    def send(self, msg):
        pass


class World:
    """Thrusters, accelerometer and the flight's two parts under test."""

    def __init__(self, bias_mps2=(0.0, 0.0, 0.0), nav_bias_mps2=(0.0, 0.0, 0.0), seed=1,
                 late=None):
        config = FlightConfig(vehicle=VEHICLE, body=BODY, hover_point_bf_m=(0.0, -1250.0, 200.0))
        self.prop = Propulsion(config, Port(), EventLog(SimClock(), None))
        self.params = ParamTable(FLIGHT_PARAMS)
        self.check = ThrusterCheck(config, self.prop, self.params)
        translation = SimpleNamespace(accel_bias_sc=lambda: nav_bias_mps2)
        self.nav = SimpleNamespace(last_imu=None, nav=SimpleNamespace(translation=translation))
        self.bias = bias_mps2
        self.rng = random.Random(seed)
        self.stuck_off = set()  # (branch, thruster)
        self.t_us = 0
        self.thrust = (0.0, 0.0, 0.0)  # ordered by the last command, felt over the next cycle
        self.late = late or (lambda: False)  # True: this command is applied a frame late
        self.delayed = None

    def cycle(self, on_time_s=None, backaway_s=0.0, judge=True):
        """One frame: the sample of the cycle that ended, the checks, then a command."""
        self.t_us += CYCLE_US
        accel = tuple(self.thrust[k] + self.bias[k] + self.rng.gauss(0.0, NOISE_MPS2)
                      for k in range(3))
        self.nav.last_imu = ImuSample(self.t_us, accel, (0.0, 0.0, 0.0))
        self.check.on_cycle(self.nav, judge)
        self.thrust, self.delayed = (self.delayed or (0.0, 0.0, 0.0)), None
        if on_time_s is not None or backaway_s:
            on = list(on_time_s or (0.0,) * 6) + [backaway_s]
            self.prop.fire(self.t_us, on, CYCLE_S)
            a = [0.0, 0.0, 0.0]
            for k, d in enumerate(DIRECTIONS):
                if on[k] and (self.prop.branch, k) not in self.stuck_off:
                    for i in range(3):
                        a[i] += d[i] * VEHICLE.thrust_n * on[k] / VEHICLE.mass_kg / CYCLE_S
            a[2] -= VEHICLE.backaway_force_n * backaway_s / VEHICLE.mass_kg / CYCLE_S
            if self.late():
                self.delayed = tuple(a)
            else:
                self.thrust = tuple(a)

    def quiet(self, n):
        for _ in range(n):
            self.cycle()

    def pulse(self, k, n=1, gap=4):
        """n pulses of thruster k, `gap` quiet cycles after each (a station's rhythm)."""
        on = [0.0] * 6
        on[k] = MIB_ON_S
        for _ in range(n):
            self.cycle(on)
            self.quiet(gap)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("bias", "nav_bias"), [
    ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
    ((7e-5, -4e-5, 5e-5), (0.0, 0.0, 0.0)),  # navigation's estimate not settled yet
    ((0.0, 0.0, 0.0), (5e-5, 5e-5, -5e-5)),  # nor here, the other way
])
def test_healthy_minimum_pulses_never_fail(seed, bias, nav_bias):
    w = World(bias, nav_bias, seed)
    w.quiet(BASELINE_MIN_QUIET + 5)
    for _ in range(40):
        for k in range(6):
            w.pulse(k, 1, gap=2)
    assert w.check.stuck_off == {}
    assert all(s[2] < 40 for s in w.check._sums)  # verdicts were reached and passed


@pytest.mark.parametrize("late_share", [0.3, 1.0])
def test_commands_applied_a_frame_late_are_no_stuck_thruster(late_share):
    """A loaded real-time rig applies some commands a frame late: their push shows in the
    sample after the one paired with the command."""
    rng = random.Random(7)
    w = World(late=lambda: rng.random() < late_share)
    w.quiet(BASELINE_MIN_QUIET + 5)
    for _ in range(40):
        for k in range(6):
            w.pulse(k, 1, gap=2)
    assert w.check.stuck_off == {}
    w.stuck_off.add((0, 3))
    w.pulse(3, 12)
    assert list(w.check.stuck_off) == [3]


@pytest.mark.parametrize("k", range(6))
def test_a_stuck_off_thruster_is_named_within_ten_of_its_pulses(k):
    w = World(bias_mps2=(3e-5, -2e-5, 1e-5))
    w.quiet(BASELINE_MIN_QUIET + 5)
    w.pulse(k, 20)  # healthy: verdicts pass
    assert w.check.stuck_off == {}
    w.stuck_off.add((0, k))
    pulses_after_fault = 0
    while k not in w.check.stuck_off and pulses_after_fault < 10:
        w.pulse(k, 1)
        pulses_after_fault += 1
    assert k in w.check.stuck_off and pulses_after_fault <= 10
    share, pulses = w.check.stuck_off[k]
    assert share < 0.5 and pulses >= MIN_PULSES
    assert list(w.check.stuck_off) == [k]
    w.check.check(True)  # the window so far
    w.quiet(10)  # the next, a complete one
    failing, reason = w.check.check(True)
    assert failing
    names = ("+x", "-x", "+y", "-y", "+z", "-z")
    assert reason.startswith(f"{names[k]} thruster of branch A stuck off (")


def test_the_window_residual_still_names_its_own_reason_first():
    """A large burn missing: the window's words, not a pulse verdict's."""
    w = World()
    w.quiet(BASELINE_MIN_QUIET)
    w.stuck_off.add((0, 0))
    w.check._cycles = 0
    for _ in range(10):
        w.cycle((0.1, 0, 0, 0, 0, 0))
    failing, reason = w.check.check(True)
    assert failing and reason.startswith("delta-v ") and "+x one stuck off" in reason


def test_no_verdict_before_the_axis_has_a_baseline():
    w = World()
    w.stuck_off.add((0, 5))
    w.quiet(BASELINE_MIN_QUIET - 6)  # 19 quiet z cycles with the pulses' gaps below
    on = [0.0] * 6
    on[5] = MIB_ON_S
    for _ in range(5):
        w.cycle(on)
    assert w.check.stuck_off == {} and w.check._sums[5][2] == 0


def test_back_away_burns_and_both_ways_at_once_are_not_judged():
    w = World()
    w.quiet(BASELINE_MIN_QUIET)
    w.stuck_off.add((0, 4))
    for _ in range(20):
        w.cycle((0, 0, 0, 0, MIB_ON_S, 0), backaway_s=0.05)  # +z under the back-away push
        w.cycle((0, 0, 0, 0, MIB_ON_S, MIB_ON_S))  # +z and -z together
    assert w.check.stuck_off == {} and w.check._sums[4][2] == 0


def test_not_judged_in_contact():
    w = World()
    w.quiet(BASELINE_MIN_QUIET)
    w.stuck_off.add((0, 2))
    on = [0.0] * 6
    on[2] = MIB_ON_S
    for _ in range(20):
        w.cycle(on, judge=False)
    assert w.check.stuck_off == {}


def test_a_new_branch_starts_afresh_and_the_other_branchs_pulses_are_not_its():
    w = World()
    w.quiet(BASELINE_MIN_QUIET)
    w.stuck_off.add((0, 1))
    w.pulse(1, 10)
    assert 1 in w.check.stuck_off
    w.prop.isolate_branch(w.t_us, "test")  # flies B from now on, B healthy
    w.quiet(1)  # the sample of the isolation's cycle
    assert w.check.stuck_off == {} and w.check._quiet == [1, 1, 1]
    w.quiet(BASELINE_MIN_QUIET)
    w.pulse(1, 20)
    assert w.check.stuck_off == {}


def test_a_window_with_a_cycle_not_accounted_for_is_not_judged():
    """The fast task missed a cycle (a thruster fired in it): the measured side is short,
    nothing is judged; the next complete window is."""
    w = World()
    for _ in range(5):
        w.cycle((0.1, 0, 0, 0, 0, 0))
    w.quiet(4)
    w.prop.fire(w.t_us + CYCLE_US, (0.1, 0, 0, 0, 0, 0), CYCLE_S)  # in a cycle unseen
    assert w.check.check(True) is None
    w.quiet(10)
    failing, reason = w.check.check(True)
    assert not failing and reason.startswith("delta-v 0.0")
