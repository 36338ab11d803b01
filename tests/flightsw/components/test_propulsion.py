"""Propulsion (flightsw/components/propulsion.py): every thruster command goes out here.

Pinned here: slots 0-5 fly on branch A until it is isolated and then on branch B
(`on_time_b_s`), the back-away thruster (slot 6) and the couples on neither branch;
the latch bits close and stay closed in every later command; isolating with two
branches switches to B and says so at once (a command goes out with the latch closed),
with one branch (or the second time) it reports translation lost; the delta-v window
matches an oracle written here from the thruster directions of the ICD (+x, -x, +y,
-y, +z, -z; back-away along -z) to 1e-12 m/s.
"""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.components.propulsion import Propulsion
from flightsw.config import BodyModel, FlightConfig, VehicleConfig
from flightsw.core.clock import SimClock
from flightsw.core.events import EventLog, Severity

VEHICLE = VehicleConfig(1500.0, (2400.0, 2100.0, 1700.0), 4, 0.12, 0.2, 4.4, 0.01,
                        backaway_force_n=100.0, acs_torque_nm=8.8, thruster_branches=2)
BODY = BodyModel(4.892, 85.65, -60.17, 4.296057 * 3600.0)
CYCLE_S = 0.1
# Independent of flightsw.vehicle_geometry: the ICD's slot order.
DIRECTIONS = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]],
                      dtype=float)
DV_TOL_MPS = 1e-12


class Port:
    def __init__(self):
        self.sent = []

    def send(self, msg):
        self.sent.append(msg)


def make(branches=2, **vehicle):
    v = dataclasses.replace(VEHICLE, thruster_branches=branches, **vehicle)
    config = FlightConfig(vehicle=v, body=BODY, hover_point_bf_m=(0.0, -1250.0, 200.0))
    events = EventLog(SimClock(), None)
    port = Port()
    return Propulsion(config, port, events), port, events


def oracle_dv(slots, vehicle=VEHICLE):
    """Commanded delta-v (sc frame, m/s) of one command's slots 0-6 on whichever branch."""
    slots = list(slots) + [0.0] * (7 - len(slots))
    dv = DIRECTIONS.T @ np.array(slots[:6]) * vehicle.thrust_n / vehicle.mass_kg
    dv[2] -= vehicle.backaway_force_n * slots[6] / vehicle.mass_kg
    return dv


on_time = st.floats(0.0, CYCLE_S, allow_nan=False)
slot_lists = st.lists(on_time, min_size=0, max_size=7)


def test_branch_a_flies_slots_0_to_5_with_every_latch_open():
    prop, port, _ = make()
    prop.fire(100, (0.01, 0.0, 0.02, 0.0, 0.03, 0.0, 0.04), CYCLE_S,
              (0.001, 0.0, 0.0, 0.0, 0.0, 0.002))
    (msg,) = port.sent
    assert list(msg.on_time_s) == pytest.approx([0.01, 0.0, 0.02, 0.0, 0.03, 0.0, 0.04, 0.0])
    assert list(msg.on_time_b_s) == [0.0] * 6
    assert list(msg.acs_on_time_s) == pytest.approx([0.001, 0.0, 0.0, 0.0, 0.0, 0.002])
    assert msg.latch_closed == 0 and msg.cycle_s == pytest.approx(CYCLE_S)
    assert prop.commands_sent == 1 and prop.translation_available


def test_isolating_branch_a_of_two_flies_b_and_closes_a_at_once():
    prop, port, events = make(branches=2)
    assert prop.isolate_branch(5_000_000, "stuck on") is True
    assert prop.branch == 1 and prop.latch_closed == 0b01 and prop.translation_available
    (now,) = port.sent  # the valves hear it now, not at the next burn
    assert now.latch_closed == 0b01 and now.time_usec == 5_000_000
    assert list(now.on_time_s) == [0.0] * 8 and list(now.on_time_b_s) == [0.0] * 6
    (event,) = events.recent
    assert event.severity == Severity.WARNING
    assert event.text == "branch A isolated (stuck on); flying branch B"
    prop.fire(6_000_000, (0.01, 0.02, 0.0, 0.0, 0.0, 0.05, 0.07), CYCLE_S)
    msg = port.sent[-1]
    assert list(msg.on_time_b_s) == pytest.approx([0.01, 0.02, 0.0, 0.0, 0.0, 0.05])
    # Branch A silent; the back-away thruster is on neither branch and still fires.
    assert list(msg.on_time_s) == pytest.approx([0.0] * 6 + [0.07, 0.0])
    assert msg.latch_closed == 0b01  # the latch state holds in every later command


def test_isolating_the_only_branch_leaves_no_translation():
    prop, port, events = make(branches=1)
    assert prop.isolate_branch(1, "stuck on") is False
    assert prop.branch == 0 and prop.latch_closed == 0b01 and not prop.translation_available
    assert port.sent[-1].latch_closed == 0b01
    (event,) = events.recent
    assert event.severity == Severity.ERROR
    assert event.text == "branch A isolated (stuck on); no translation thrusters left"
    prop.fire(2, (0.05,) * 6 + (0.03,), CYCLE_S, (0.0, 0.01, 0.0, 0.0, 0.0, 0.0))
    msg = port.sent[-1]
    assert list(msg.on_time_s) == pytest.approx([0.0] * 6 + [0.03, 0.0])
    assert list(msg.on_time_b_s) == [0.0] * 6  # no branch B on this vehicle
    assert list(msg.acs_on_time_s) == pytest.approx([0.0, 0.01, 0.0, 0.0, 0.0, 0.0])
    assert prop.take_window_dv() == pytest.approx(tuple(oracle_dv([0.0] * 6 + [0.03])),
                                                  abs=DV_TOL_MPS)


def test_isolating_the_second_branch_leaves_no_translation():
    prop, port, events = make(branches=2)
    assert prop.isolate_branch(1, "first") is True
    assert prop.isolate_branch(2, "second") is False
    assert prop.latch_closed == 0b11 and not prop.translation_available
    assert port.sent[-1].latch_closed == 0b11
    assert events.recent[-1].text == "branch B isolated (second); no translation thrusters left"
    prop.fire(3, (0.05,) * 6, CYCLE_S)
    assert list(port.sent[-1].on_time_s) == [0.0] * 8
    assert list(port.sent[-1].on_time_b_s) == [0.0] * 6


@settings(max_examples=100, deadline=None)
@given(commands=st.lists(slot_lists, min_size=1, max_size=12),
       isolate_after=st.integers(0, 12), branches=st.sampled_from([1, 2]))
def test_the_window_delta_v_is_what_was_commanded_on_a_live_branch(commands, isolate_after,
                                                                   branches):
    """Sum of F t / m along each thruster's direction (and the back-away's force along
    -z) over the commands since the last take; thrusters behind a closed latch count
    nothing, and the command isolate_branch sends counts nothing either."""
    prop, _, _ = make(branches=branches)
    expected = np.zeros(3)
    for k, slots in enumerate(commands):
        if k == isolate_after:
            prop.isolate_branch(k, "test")
        flying = prop.translation_available
        prop.fire(k, tuple(slots), CYCLE_S, (0.01,) * 6)  # couples: no net force
        padded = list(slots) + [0.0] * (7 - len(slots))
        if not flying:
            padded[:6] = [0.0] * 6
        expected += oracle_dv(padded)
    got = np.array(prop.take_window_dv())
    assert np.all(np.abs(got - expected) <= DV_TOL_MPS), (got, expected)
    assert prop.take_window_dv() == (0.0, 0.0, 0.0)  # taken: the window starts again


@settings(max_examples=50, deadline=None)
@given(acs=st.lists(st.tuples(on_time, on_time, on_time, on_time, on_time, on_time),
                    min_size=1, max_size=10))
def test_couple_propellant_is_two_thrusters_per_couple(acs):
    prop, _, _ = make()
    for k, couple in enumerate(acs):
        prop.fire(k, (), CYCLE_S, couple)
    total_on_s = sum(sum(c) for c in acs)
    expected_mps = 2.0 * VEHICLE.thrust_n * total_on_s / VEHICLE.mass_kg
    assert prop.acs_dv_mps() == pytest.approx(expected_mps, rel=1e-12, abs=1e-15)
    assert prop.take_window_dv() == (0.0, 0.0, 0.0)
