"""Sample-mass measurement (flightsw/components/mass_measurement.py) on its own.

Pinned here: MEASURE_MASS's preconditions (no "after" test without a baseline, the mode
manager's consent) and what an accepted command sets up (a spin test at MASS_SPIN_RADPS
for MASS_MEAS_S, started now); the spin test flown to its end against a rigid body, so
that the reported inertia and the sample mass (m = dI / L^2) are the body's to within a
gram; the estimator's bias frozen only while spinning; the return to HOVER only once
pointing is back within 1 degree; PROBE_MASS_ESTIMATE; and the second test started by
itself after a touch-and-go once the hover has lasted TAG_MASS_WAIT_S (TAG_AUTO_MASS).

Navigation, the wheels and the control loop are stand-ins: a rigid body spinning about
x whose rate follows the component's rate reference with a torque-limited loop, whose
wheels hold the rest of a constant angular momentum, read by a tachometer once a second.
"""

import math
from types import SimpleNamespace

import pytest

from flightsw.components.mass_measurement import (
    AFTER_SAMPLING,
    BASELINE,
    POINTING_RESTORED_RAD,
    MassMeasurement,
)
from flightsw.config import BodyModel, FlightConfig, VehicleConfig
from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamTable
from flightsw.gnc.mass_measure import SpinState
from flightsw.gnc.tag import TagPhase
from flightsw.icd import mavlink
from flightsw.params_table import FLIGHT_PARAMS

KG, GRAM = 1.0, 1e-3
S = 1_000_000  # us
DT_S = 0.1
T0_US = 5000 * S
ARM_M = 3.35
I_NOMINAL_KGM2 = (2400.0, 2100.0, 1700.0)
H_TOTAL_NMS = 1.5  # conserved angular momentum about x
IDENTITY = (1.0, 0.0, 0.0, 0.0)


class RigidBody:
    """Navigation, wheels and control as mass measurement sees them."""

    def __init__(self, inertia_x_kgm2):
        self.inertia_x = inertia_x_kgm2
        self.w = 0.0
        self.k = 0
        self.attitude = SimpleNamespace(rate_sc_radps=(0.0, 0.0, 0.0), q_i_to_sc=IDENTITY,
                                        bias_frozen=False)
        self.nav = SimpleNamespace(attitude=self.attitude)
        self.pointing_err_rad = 0.0
        self.wheel_reads = 0

    def advance(self, rate_ref):
        """One 0.1 s cycle: the rate loop follows rate_ref (None: hold still)."""
        target = 0.0 if rate_ref is None else rate_ref[0]
        before = self.w
        self.w += max(-2e-4, min(2e-4, (target - self.w) / DT_S)) * DT_S
        self.attitude.rate_sc_radps = (0.5 * (before + self.w), 0.0, 0.0)  # gyro mean
        self.k += 1

    # the wheels' driver: a tachometer reading once a second
    def take(self):
        return (1.0,) if self.k % 10 == 0 else None

    # the control component: wheel momentum, spacecraft frame
    def wheel_h_sc(self):
        self.wheel_reads += 1
        return (H_TOTAL_NMS - self.inertia_x * self.w, 0.0, 0.0)


class Rig:
    def __init__(self, inertia_x_kgm2=I_NOMINAL_KGM2[0], mode=Mode.HOVER):
        self.clock = SimClock(T0_US)
        self.sent = []
        self.events = EventLog(self.clock)
        self.modes = ModeManager(self.clock, self.events, initial=mode)
        self.params = ParamTable(FLIGHT_PARAMS)
        self.commands = CommandDispatcher(self.modes, self.events, self.sent.append)
        self.body = RigidBody(inertia_x_kgm2)
        # A sampled touch-and-go (a contact time) with no retry pending.
        self.tag = SimpleNamespace(phase=TagPhase.IDLE, t_contact_us=0, retry_at_us=None)
        cfg = FlightConfig(
            vehicle=VehicleConfig(1500.0, I_NOMINAL_KGM2, 4, 0.12, 0.2, 1.0, 0.005,
                                  arm_length_m=ARM_M),
            body=BodyModel(4.892, 85.65, -60.17, 4.296057 * 3600.0),
            hover_point_bf_m=(1082.5, 0.0, 625.0))
        self.mm = MassMeasurement(cfg, self.params, self.modes, self.events, self.commands,
                                  self.clock, SimpleNamespace(wheels=self.body), self.body,
                                  self.body, self.tag, self.sent.append)

    def cycle(self):
        self.clock.advance_by_us(round(DT_S * S))
        self.body.advance(self.mm.rate_reference())
        return self.mm.step(self.clock.now_us())

    def fly_spin_test(self, max_s=2000.0):
        for _ in range(round(max_s / DT_S)):
            self.cycle()
            if self.modes.current != Mode.MASS_MEASURE:
                return
        raise AssertionError("the spin test did not end")

    def texts(self, severity=None):
        return [e.text for e in self.events.recent
                if e.source == "mass" and (severity is None or e.severity == severity)]

    def estimates(self):
        return [m for m in self.sent if m.get_type() == "PROBE_MASS_ESTIMATE"]


def measure(rig, which):
    return rig.commands.dispatch(mavlink.PROBE_CMD_MEASURE_MASS, (float(which),))


# -- the command ----------------------------------------------------------------------------

def test_no_after_sampling_test_without_a_baseline():
    rig = Rig()
    assert rig.mm.sample_mass_estimate is None  # no estimate before the second test
    assert measure(rig, AFTER_SAMPLING) == CommandResult.FAILED
    assert rig.texts(Severity.WARNING) == ["no baseline measurement yet"]
    assert rig.modes.current == Mode.HOVER and rig.mm.spin.state == SpinState.DONE


def test_an_accepted_command_starts_a_spin_test_with_the_parameters_now():
    rig = Rig()
    rig.params.set("MASS_SPIN_RADPS", 0.03)
    rig.params.set("MASS_MEAS_S", 90.0)
    assert measure(rig, BASELINE) == CommandResult.ACCEPTED
    spin = rig.mm.spin
    assert rig.modes.current == Mode.MASS_MEASURE and rig.mm.which == BASELINE
    assert spin.state == SpinState.PRE
    assert spin.spin_rate_radps == pytest.approx(0.03) and spin.measure_s == 90.0
    assert spin._t_state_s == T0_US * 1e-6
    assert "spin test 0 started" in rig.texts(Severity.INFO)


def test_a_command_the_mode_manager_refuses_changes_nothing():
    """Not from DESCENT (the dispatcher's mode check bypassed: the component's own)."""
    rig = Rig(mode=Mode.DESCENT)
    before = rig.mm.spin
    assert rig.mm.cmd_measure_mass((float(BASELINE),) + (0.0,) * 6) == CommandResult.WRONG_MODE
    assert rig.mm.spin is before and rig.mm.spin.state == SpinState.DONE
    assert rig.modes.current == Mode.DESCENT and rig.texts() == []


def test_rate_reference_only_while_the_spin_test_controls_the_rate():
    rig = Rig()
    assert rig.mm.rate_reference() is None  # no test under way
    measure(rig, BASELINE)
    assert rig.mm.rate_reference() == (0.0, 0.0, 0.0)  # pre-spin: hold still
    rig.mm.spin.state = SpinState.SPIN_UP
    assert rig.mm.rate_reference() == (pytest.approx(0.02), 0.0, 0.0)


def test_step_belongs_to_the_measurement_only_in_its_mode():
    rig = Rig()
    assert rig.cycle() is False
    measure(rig, BASELINE)
    assert rig.cycle() is True


# -- a whole measurement ------------------------------------------------------------------------

def baseline_then_sample(sample_kg):
    rig = Rig(I_NOMINAL_KGM2[0])
    measure(rig, BASELINE)
    rig.fly_spin_test()
    rig.body.inertia_x = I_NOMINAL_KGM2[0] + sample_kg * ARM_M ** 2
    rig.body.w = 0.0
    measure(rig, AFTER_SAMPLING)
    rig.fly_spin_test()
    return rig


def test_the_sample_mass_is_the_inertia_change_over_the_arm_squared():
    rig = baseline_then_sample(0.300 * KG)
    (i0, s0), (i1, s1) = rig.mm.inertia_results[BASELINE], rig.mm.inertia_results[AFTER_SAMPLING]
    assert i0 == pytest.approx(2400.0, abs=1e-3)  # kg m^2
    assert i1 == pytest.approx(2400.0 + 0.3 * ARM_M ** 2, abs=1e-3)
    mass, sigma = rig.mm.sample_mass_estimate
    assert mass == pytest.approx(0.300 * KG, abs=1 * GRAM)
    assert sigma == pytest.approx(math.hypot(s0, s1) / ARM_M ** 2, rel=1e-9)
    base, after = rig.estimates()
    assert (base.which, after.which) == (BASELINE, AFTER_SAMPLING)
    assert base.inertia_kgm2 == pytest.approx(i0) and base.inertia_sigma_kgm2 == \
        pytest.approx(s0)
    assert math.isnan(base.sample_mass_kg) and math.isnan(base.sample_mass_sigma_kg)
    assert after.inertia_kgm2 == pytest.approx(i1)
    assert after.sample_mass_kg == pytest.approx(mass) and \
        after.sample_mass_sigma_kg == pytest.approx(sigma)
    notice = [t for t in rig.texts(Severity.NOTICE) if t.startswith("sample mass")]
    assert notice == [f"sample mass {mass * 1000:.1f} g, 3-sigma {3 * sigma * 1000:.1f} g"]
    assert notice[0].startswith("sample mass 300.0 g")


def test_each_step_of_the_spin_test_is_an_event_and_the_bias_is_frozen_while_spinning():
    rig = Rig()
    measure(rig, BASELINE)
    frozen_by_state = {}
    for _ in range(5000):
        rig.cycle()
        frozen_by_state.setdefault(rig.mm.spin.state, set()).add(
            rig.body.attitude.bias_frozen)
        if rig.modes.current != Mode.MASS_MEASURE:
            break
    # The state seen after a cycle is the one the next cycle's freeze is set from, so the
    # PRE and DONE sets may hold the value the cycle of the change left; the spin's own
    # states see it frozen from their second cycle on, and it thaws in DONE.
    assert rig.texts(Severity.INFO)[1:] == [
        "spin test: spin_up", "spin test: measure", "spin test: spin_down", "spin test: done"]
    assert frozen_by_state[SpinState.MEASURE] == {True}
    assert frozen_by_state[SpinState.PRE] == {False}
    rig.cycle()
    assert rig.body.attitude.bias_frozen is False


def test_only_tachometer_readings_make_samples():
    rig = Rig()
    measure(rig, BASELINE)
    for _ in range(100):
        rig.cycle()
    assert rig.body.wheel_reads == 10  # 10 s of cycles, one reading a second


def test_back_to_hover_only_once_pointing_is_within_one_degree():
    rig = Rig()
    measure(rig, BASELINE)
    rig.body.pointing_err_rad = POINTING_RESTORED_RAD
    for _ in range(10000):
        rig.cycle()
        if rig.mm.spin.state == SpinState.DONE:
            break
    for _ in range(20):
        rig.cycle()
    assert rig.modes.current == Mode.MASS_MEASURE  # exactly 1 degree off: not yet
    assert POINTING_RESTORED_RAD == pytest.approx(math.radians(1.0))
    rig.body.pointing_err_rad = 0.999 * POINTING_RESTORED_RAD
    rig.cycle()
    assert rig.modes.current == Mode.HOVER
    assert rig.modes.history[-1].reason == "spin test done, pointing restored"


# -- the second test by itself after a touch-and-go ------------------------------------------

def after_tag(wait_s, **changes):
    """A baseline on board, a touch-and-go done, hovering for wait_s (mode entered at T0)."""
    rig = Rig()
    rig.mm.inertia_results[BASELINE] = (2400.0, 0.01)
    rig.tag.phase = TagPhase.DONE
    for name, v in changes.items():
        rig.params.set(name, v)
    rig.clock.advance_by_us(round(wait_s * S))
    return rig


def test_the_second_test_starts_by_itself_once_the_hover_has_lasted_tag_mass_wait_s():
    rig = after_tag(180.0 - 0.1)
    assert rig.mm.step(rig.clock.now_us()) is False
    rig.clock.advance_by_us(round(0.1 * S))
    assert rig.mm.step(rig.clock.now_us()) is True
    assert rig.modes.current == Mode.MASS_MEASURE and rig.mm.which == AFTER_SAMPLING
    assert "spin test 1 started" in rig.texts()


@pytest.mark.parametrize("what", ["auto_off", "no_baseline", "already_done", "not_done",
                                  "not_hover"])
def test_no_second_test_by_itself_unless_every_condition_holds(what):
    rig = after_tag(1000.0, TAG_AUTO_MASS=what != "auto_off")
    if what == "no_baseline":
        rig.mm.inertia_results.clear()
    elif what == "already_done":
        rig.mm.inertia_results[AFTER_SAMPLING] = (2401.0, 0.01)
    elif what == "not_done":
        rig.tag.phase = TagPhase.CLIMB
    elif what == "not_hover":
        rig.modes.request(Mode.STANDBY)
    assert rig.mm.step(rig.clock.now_us()) is False
    assert rig.modes.current != Mode.MASS_MEASURE


def test_the_hover_wait_follows_tag_mass_wait_s():
    rig = after_tag(29.9, TAG_MASS_WAIT_S=30.0)
    assert rig.mm.step(rig.clock.now_us()) is False
    rig.clock.advance_by_us(round(0.1 * S))
    assert rig.mm.step(rig.clock.now_us()) is True


def test_the_sample_mass_event_gives_grams_and_three_sigma():
    """Inertia 2400.000 then 2403.367 kg m^2, arm 3.35 m: 300.0 g; the two sigmas
    (0.6 and 0.8 x 0.05 L^2) make a sample-mass sigma of 0.05 kg, a 3-sigma of 150.0 g.
    The estimate goes down stamped with the cycle's time."""
    rig = Rig()
    l2 = ARM_M ** 2
    rig.mm.inertia_results[BASELINE] = (2400.0, 0.6 * 0.05 * l2)
    rig.mm.which = AFTER_SAMPLING
    rig.mm.spin = SimpleNamespace(inertia_kgm2=2403.367, inertia_sigma_kgm2=0.8 * 0.05 * l2)
    rig.mm._finish(rig.clock.now_us())
    assert rig.texts(Severity.NOTICE) == ["sample mass 300.0 g, 3-sigma 150.0 g"]
    (est,) = rig.estimates()
    assert est.time_usec == rig.clock.now_us() and est.which == AFTER_SAMPLING
    assert est.sample_mass_kg == pytest.approx(3.367 / l2, rel=1e-6)
    assert est.sample_mass_sigma_kg == pytest.approx(0.05, rel=1e-6)


def test_the_spin_test_runs_on_mission_time():
    """Pre-spin hold of 60 s from the command (the estimator's default reference time),
    and the estimate stamped with the time the test ended."""
    rig = Rig()
    measure(rig, BASELINE)
    assert rig.modes.history[-1].reason == "spin-method mass measurement"
    rig.fly_spin_test()
    spin_up = [e for e in rig.events.recent if e.text == "spin test: spin_up"]
    assert spin_up[0].time_us - T0_US == pytest.approx(60 * S, abs=0.1 * S)
    done = [e for e in rig.events.recent if e.text == "spin test: done"]
    (est,) = rig.estimates()
    assert est.time_usec == done[0].time_us
