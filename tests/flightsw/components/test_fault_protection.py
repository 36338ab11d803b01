"""Fault protection (flightsw/components/fault_protection.py) inside the real flight
software, its inputs set by hand.

The component is the one FlightSoftware wires (real parameters, modes, events, monitor
bank, propulsion, momentum manager, SAFE sequence, guidance and control, devices).
Two stand-ins replace what would need a whole flight to drive: navigation (only what
fault protection reads: sample times, the position sigma, the last IMU sample, and a
real attitude filter) and the touch-and-go sequence (only its wave-off, which records
the reason and backs away as the real one does).  Device readings are set on the real
drivers.  Time is the mission clock, set per check; nothing here reads a wall clock.

Pinned here: timeouts strictly longer than their parameter (10 Hz sensor staleness and
1 Hz escalations); the position uncertainty judged on the norm of the sigma vector; the
responses per mode (SAFE forced outside a touch-and-go, a wave-off in DESCENT and SAFE
after the back-away if still tripped, the sequence finished in TAG and BACKAWAY,
nothing more in SAFE); FP_ENABLE off logs only; GYRO_BIAS relearns the bias; the
thruster check isolates a branch (SAFE when none is left); the wheel check isolates a
wheel; the momentum monitor starts a dump; health and task faults; the sampler's next
bottle; PROBE_FAULT_STATUS on change and every 10 s; SAFE's autonomous exit.
"""

import dataclasses
import math
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.app import FlightSoftware
from flightsw.components.safe_mode import SafePhase
from flightsw.config import BodyModel, FlightConfig, VehicleConfig
from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandResult
from flightsw.core.modes import Mode
from flightsw.fault.monitor_bank import SOURCE
from flightsw.fault.monitor_table import BY_ID, MonitorId, Response
from flightsw.gnc.navigation import AttitudeFilter
from flightsw.gnc.tag import TagPhase
from flightsw.hal.drivers import ImuSample, WheelSpeedSample
from flightsw.icd import mavlink
from tests.flightsw.test_app import MockBus

US = 1
S = 1_000_000 * US
CYCLE_US = 100_000
T_NOW = 10_000 * S  # mission time of the first check
M = MonitorId

# The Bennu scenario's vehicle (4.4 N thrusters, couples on a 1 m arm, 4 wheels).
VEHICLE = VehicleConfig(1500.0, (2400.0, 2100.0, 1700.0), 4, 0.12, 0.2, 4.4, 0.01,
                        backaway_force_n=100.0, wheel_max_speed_radps=600.0,
                        acs_torque_nm=8.8, thruster_branches=1)
BODY = BodyModel(4.892, 85.65, -60.17, 4.296057 * 3600.0)

PATH = {  # how each mode is reached from SAFE through the transition table
    Mode.SAFE: (), Mode.STANDBY: (Mode.STANDBY,),
    Mode.HOVER: (Mode.STANDBY, Mode.HOVER),
    Mode.SURVEY: (Mode.STANDBY, Mode.HOVER, Mode.SURVEY),
    Mode.MASS_MEASURE: (Mode.STANDBY, Mode.HOVER, Mode.MASS_MEASURE),
    Mode.DESCENT: (Mode.STANDBY, Mode.HOVER, Mode.DESCENT),
    Mode.TAG: (Mode.STANDBY, Mode.HOVER, Mode.DESCENT, Mode.TAG),
    Mode.BACKAWAY: (Mode.STANDBY, Mode.HOVER, Mode.DESCENT, Mode.BACKAWAY),
}
OUTSIDE_TAG = [Mode.STANDBY, Mode.HOVER, Mode.SURVEY, Mode.MASS_MEASURE]


class FakeNavigation:
    """What fault protection reads of navigation; the attitude filter is the real one."""

    def __init__(self, t_us):
        self.last_star_tracker_us = t_us
        self.last_fix_us = t_us
        self.last_landmark_us = t_us
        self.last_prop_us = t_us
        self.last_imu = ImuSample(t_us, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
        self.lidar_plane_bf = None
        self.sigma_m = (0.1, 0.1, 0.1)
        attitude = AttitudeFilter(1e-6, 1e-8)
        attitude.initialised = True
        translation = SimpleNamespace(initialised=True, pos_sigma_m=lambda: self.sigma_m,
                                      accel_bias_sc=lambda: (0.0, 0.0, 0.0))
        self.nav = SimpleNamespace(attitude=attitude, translation=translation)

    def fresh(self, t_us):
        """Every sensor heard at t_us."""
        self.last_star_tracker_us = self.last_fix_us = self.last_landmark_us = t_us
        self.last_prop_us = t_us
        self.last_imu = ImuSample(t_us, self.last_imu.accel_sc_mps2, (0.0, 0.0, 0.0))


class FakeTagSequence:
    """The wave-off as the real sequence does it (back away), without a descent."""

    def __init__(self, modes):
        self.modes = modes
        self.waveoffs = []
        self.to_start_height = []
        self.gas_fired = False
        self.phase = TagPhase.TO_CHECKPOINT  # above the Checkpoint unless a test says so
        self.near = False

    def near_surface(self):
        return self.near

    def wave_off(self, reason, to_start_height=False):
        self.waveoffs.append(reason)
        self.to_start_height.append(to_start_height)
        self.modes.request(Mode.BACKAWAY, "back away")


class FakeScheduler:
    """task_counts() and tasks_by_group() of the real Scheduler, counts set by hand."""

    def __init__(self, rates):
        self.rates = rates
        self.counts = {name: (0, 0) for name in rates}

    def task_counts(self):
        return dict(self.counts)

    def tasks_by_group(self):
        return [(f"{rate} Hz", rate, SimpleNamespace(name=name))
                for name, rate in self.rates.items()]

    def advance(self, names, faults=()):
        for name in names:
            runs, f = self.counts[name]
            self.counts[name] = (runs + 1, f + (1 if name in faults else 0))


class Rig:
    def __init__(self, mode=Mode.HOVER, vehicle=VEHICLE):
        config = FlightConfig(vehicle=vehicle, body=BODY, hover_point_bf_m=(0.0, -1250.0, 200.0))
        self.clock = SimClock(T_NOW)
        self.bus = MockBus()
        self.fsw = FlightSoftware(config, self.bus, self.clock)
        self.fp = self.fsw.fault_protection
        self.nav = FakeNavigation(T_NOW)
        self.tag = FakeTagSequence(self.fsw.modes)
        self.fp.navigation = self.nav
        self.fp.tag_sequence = self.tag
        self.fp.scheduler = None  # health: tests of its own below
        self.modes = self.fsw.modes
        self.params = self.fsw.params
        self.bank = self.fp.bank
        for m in PATH[mode]:
            assert self.modes.request(m, "test") == CommandResult.ACCEPTED
        self.history_len = len(self.modes.history)

    def fresh(self, t_us):
        """Every sensor heard at t_us (navigation's samples and the camera's images)."""
        self.nav.fresh(t_us)
        self.fsw.devices.navcam.last_heard_us = t_us

    def at(self, t_us):
        self.clock.advance_to_us(t_us)
        return t_us

    def fast(self, t_us, n=1):
        self.at(t_us)
        for _ in range(n):
            self.fp.task_fast(t_us)

    def slow(self, t_us, n=1):
        self.at(t_us)
        for _ in range(n):
            self.fp.task(t_us)

    def new_changes(self):
        return self.modes.history[self.history_len:]

    def texts(self, source=SOURCE):
        return [e.text for e in self.fsw.events.recent if e.source == source]


def assert_forced_safe(rig, reason):
    (*_, change) = rig.new_changes()
    assert rig.modes.current == Mode.SAFE
    assert change.forced and change.reason == reason
    assert rig.fsw.safe_mode.phase == SafePhase.DAMP  # a forced SAFE damps, then climbs


def assert_unchanged(rig, mode):
    assert rig.modes.current == mode and rig.new_changes() == []
    assert rig.tag.waveoffs == [] and rig.fp.safe_after_sequence is None


# -- nothing wrong ------------------------------------------------------------------------

@pytest.mark.parametrize("mode", list(Mode))
def test_healthy_sensors_trip_nothing_in_any_mode(mode):
    rig = Rig(mode)
    for k in range(30):  # 3 s of 10 Hz checks, every sensor fresh
        t = T_NOW + k * CYCLE_US
        rig.fresh(t)
        rig.fast(t)
        if k % 10 == 0:
            rig.slow(t)
    assert_unchanged(rig, mode)
    assert not any(rig.bank.tripped.values()) and not any(rig.bank.count.values())
    assert rig.texts() == []


# -- the 10 Hz sensor checks ----------------------------------------------------------------

def _set_age(rig, which, t_us):
    if which == "imu":
        rig.nav.last_imu = ImuSample(t_us, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    elif which == "navcam":  # the camera's liveness: an image, whatever it found
        rig.fsw.devices.navcam.last_heard_us = t_us
    else:
        setattr(rig.nav, which, t_us)


@pytest.mark.parametrize(("monitor", "name", "which"), [
    (M.STAR_TRACKER, "FP_ST_STALE_S", "last_star_tracker_us"),
    (M.IMU, "FP_IMU_STALE_S", "imu"),
    (M.NAVCAM, "FP_CAM_STALE_S", "navcam"),
])
def test_a_sensor_is_stale_only_when_silent_longer_than_its_parameter(monitor, name, which):
    """Silent exactly the parameter: fine however often checked; one microsecond longer:
    the monitor trips on its persistence-th check."""
    rig = Rig(Mode.HOVER)
    stale_us = round(rig.params.get(name) * S)
    _set_age(rig, which, T_NOW - stale_us)
    rig.fast(T_NOW, n=20)
    assert not rig.bank.is_tripped(monitor) and rig.bank.count[monitor] == 0
    _set_age(rig, which, T_NOW - stale_us - 1 * US)
    persistence = BY_ID[monitor].persistence
    rig.fast(T_NOW, n=persistence - 1)
    assert not rig.bank.is_tripped(monitor)
    rig.fast(T_NOW)
    assert rig.bank.is_tripped(monitor)
    assert rig.texts()[0].startswith(f"trip {monitor.name}: ")


def test_an_imu_gap_is_a_backup_and_a_lost_imu_forces_safe():
    """Silent a second (a link outage): bridged, no SAFE.  In a hover the fixes hold the
    estimate: still no SAFE beyond the touch-and-go limit FP_IMU_TMO_S, SAFE beyond
    FP_IMU_CRUISE_S."""
    rig = Rig(Mode.HOVER)
    _set_age(rig, "imu", T_NOW - 2 * S)
    rig.fast(T_NOW, n=BY_ID[M.IMU].persistence)
    assert rig.bank.is_tripped(M.IMU)
    assert_unchanged(rig, Mode.HOVER)
    tmo_us = round(rig.fp.params.get("FP_IMU_TMO_S") * S)
    _set_age(rig, "imu", T_NOW - tmo_us - 1)
    rig.fast(T_NOW)
    assert_unchanged(rig, Mode.HOVER)
    cruise_us = round(rig.fp.params.get("FP_IMU_CRUISE_S") * S)
    assert cruise_us > tmo_us
    _set_age(rig, "imu", T_NOW - cruise_us - 1)
    rig.fast(T_NOW)
    assert_forced_safe(rig, "IMU lost")


@pytest.mark.parametrize("mode", [Mode.HOVER, Mode.DESCENT])
def test_a_stale_star_tracker_is_a_backup_not_a_safe(mode):
    rig = Rig(mode)
    rig.nav.last_star_tracker_us = T_NOW - 5 * S
    rig.fast(T_NOW, n=5)
    assert rig.bank.is_tripped(M.STAR_TRACKER)
    assert "attitude on gyros alone" in rig.texts()
    assert_unchanged(rig, mode)


@pytest.mark.parametrize("mode", [Mode.HOVER, Mode.DESCENT])
def test_the_altimeter_is_watched_for_liveness_in_every_mode(mode):
    """Never heard: nothing to judge.  Heard, then silent: tripped whether or not its
    ranges are used now (a hover does not use them, the next descent will); a BACKUP,
    so a descent goes on for now."""
    rig = Rig(mode)
    rig.fast(T_NOW, n=5)
    assert rig.bank.count[M.LIDAR] == 0
    rig.fsw.devices.altimeter.last_heard_us = T_NOW - 5 * S
    rig.fast(T_NOW, n=BY_ID[M.LIDAR].persistence)
    assert rig.bank.is_tripped(M.LIDAR)
    assert rig.tag.waveoffs == []


# -- GYRO_BIAS --------------------------------------------------------------------------------

def test_a_large_star_tracker_innovation_relearns_the_gyro_bias():
    """Counted per star-tracker update (updates or rejections), not per check: checks
    without a new update leave the count alone.  On the trip the attitude filter's
    covariance is widened to twice the innovation and 1e-4 rad/s of bias."""
    rig = Rig(Mode.HOVER)
    att = rig.nav.nav.attitude
    calls = []
    real = att.relearn_bias
    att.relearn_bias = lambda a, b: (calls.append((a, b)), real(a, b))
    limit_deg = rig.params.get("FP_GYRO_INN_DEG")
    att.last_innovation_rad = math.radians(3.0 * limit_deg)
    persistence = BY_ID[M.GYRO_BIAS].persistence
    for k in range(persistence - 1):
        att.rejected += 1  # a gated-out measurement counts too
        rig.fast(T_NOW + k * CYCLE_US, n=3)
    assert calls == [] and rig.bank.count[M.GYRO_BIAS] == persistence - 1
    att.updates += 1
    rig.fast(T_NOW + persistence * CYCLE_US)
    assert calls == [(att.last_innovation_rad * 2.0, 1e-4)]
    assert att.angle_sigma_rad() == pytest.approx((2.0 * att.last_innovation_rad,) * 3,
                                                  rel=1e-12)
    assert att.bias_sigma_radps() == pytest.approx((1e-4,) * 3, rel=1e-12)
    assert rig.texts()[-1].startswith("trip GYRO_BIAS: star-tracker innovation ")
    assert rig.texts()[-1].endswith("; response BACKUP")
    att.updates += 1
    rig.fast(T_NOW + (persistence + 1) * CYCLE_US)
    assert len(calls) == 1  # once per trip
    assert_unchanged(rig, Mode.HOVER)


def test_a_small_innovation_is_no_gyro_fault():
    rig = Rig(Mode.HOVER)
    att = rig.nav.nav.attitude
    att.last_innovation_rad = math.radians(rig.params.get("FP_GYRO_INN_DEG")) * 0.99
    for k in range(20):
        att.updates += 1
        rig.fast(T_NOW + k * CYCLE_US)
    assert rig.bank.count[M.GYRO_BIAS] == 0


# -- the 1 Hz escalations ---------------------------------------------------------------------

@pytest.mark.parametrize("mode", OUTSIDE_TAG)
def test_a_star_tracker_never_heard_forces_safe_outside_a_touch_and_go(mode):
    rig = Rig(mode)
    rig.nav.last_star_tracker_us = None
    rig.slow(T_NOW)
    assert_forced_safe(rig, "star tracker lost")


@pytest.mark.parametrize("mode", [Mode.SAFE, Mode.DESCENT, Mode.TAG, Mode.BACKAWAY])
def test_a_star_tracker_never_heard_is_no_safe_in_safe_or_a_touch_and_go(mode):
    rig = Rig(mode)
    rig.nav.last_star_tracker_us = None
    rig.slow(T_NOW, n=3)
    assert_unchanged(rig, mode)


@pytest.mark.parametrize(("name", "attr", "mode", "reason"), [
    ("FP_ST_TMO_S", "last_star_tracker_us", Mode.STANDBY, "star tracker lost"),
    ("FP_FIX_TMO_S", "last_fix_us", Mode.HOVER, "navigation fixes lost"),
    ("FP_FIX_TMO_S", "last_fix_us", Mode.SURVEY, "navigation fixes lost"),
    ("TAG_LM_TMO_S", "last_landmark_us", Mode.DESCENT, "landmarks lost"),
])
def test_a_sensor_is_lost_only_when_silent_longer_than_its_timeout(name, attr, mode, reason):
    """Silent exactly the timeout: still there; one microsecond longer: lost (SAFE, or a
    wave-off in DESCENT)."""
    rig = Rig(mode)
    timeout_us = round(rig.params.get(name) * S)
    setattr(rig.nav, attr, T_NOW - timeout_us)
    rig.slow(T_NOW, n=3)
    assert_unchanged(rig, mode)
    setattr(rig.nav, attr, T_NOW - timeout_us - 1 * US)
    rig.slow(T_NOW)
    if mode == Mode.DESCENT:
        assert rig.tag.waveoffs == [f"navigation degraded: {reason}"]
        assert rig.tag.to_start_height == [True]  # a fault's climb: back to safe-home
        assert rig.fp.safe_after_sequence is None  # ABORT: back away, then hover
    else:
        assert_forced_safe(rig, reason)


@settings(max_examples=30, deadline=None)
@given(timeout_s=st.floats(1.0, 600.0), silent_s=st.floats(0.0, 1200.0))
def test_the_landmark_timeout_follows_its_parameter(timeout_s, silent_s):
    """TAG_LM_TMO_S in seconds of mission time: lost iff silent for longer (away from the
    boundary by more than a microsecond, where rounding to whole microseconds decides)."""
    rig = Rig(Mode.DESCENT)
    rig.params.set("TAG_LM_TMO_S", timeout_s)
    timeout_s = rig.params.get("TAG_LM_TMO_S")  # as stored (float32)
    silent_us = round(silent_s * S)
    if abs(silent_us - timeout_s * S) < 2:
        return
    rig.nav.last_landmark_us = T_NOW - silent_us
    rig.slow(T_NOW)
    lost = rig.tag.waveoffs == ["navigation degraded: landmarks lost"]
    assert lost == (silent_us > timeout_s * S)


def test_hover_does_not_escalate_landmarks_and_descent_does_not_escalate_fixes():
    rig = Rig(Mode.HOVER)
    rig.nav.last_landmark_us = None
    rig.slow(T_NOW, n=3)
    assert_unchanged(rig, Mode.HOVER)
    rig = Rig(Mode.DESCENT)
    rig.nav.last_fix_us = T_NOW - 10_000 * S
    rig.slow(T_NOW, n=3)
    assert_unchanged(rig, Mode.DESCENT)


# -- navigation uncertainty -------------------------------------------------------------------

@pytest.mark.parametrize(("mode", "name"), [
    (Mode.HOVER, "FP_NAV_SIG_M"), (Mode.SURVEY, "FP_NAV_SIG_M"),
    (Mode.MASS_MEASURE, "FP_NAV_SIG_M"), (Mode.DESCENT, "TAG_NAV_SIG_M")])
def test_position_uncertainty_is_judged_on_the_norm_of_the_sigma_vector(mode, name):
    """Each axis below the limit but the norm above it is too uncertain; a norm equal to
    the limit is not (3-4-5 triangles scaled to the limit).  It trips after its
    persistence in 1 Hz checks."""
    rig = Rig(mode)
    limit_m = rig.params.get(name)
    persistence = BY_ID[M.NAV_COVARIANCE].persistence
    rig.nav.sigma_m = (0.6 * limit_m, 0.8 * limit_m, 0.0)
    rig.slow(T_NOW, n=persistence + 2)
    assert rig.bank.count[M.NAV_COVARIANCE] == 0
    rig.nav.sigma_m = (0.6 * limit_m, 0.8 * limit_m, 0.05 * limit_m)
    rig.slow(T_NOW, n=persistence - 1)
    assert_unchanged(rig, mode)
    rig.slow(T_NOW)
    assert rig.bank.is_tripped(M.NAV_COVARIANCE)
    if mode == Mode.DESCENT:
        assert rig.tag.waveoffs == ["navigation degraded: navigation uncertainty too large"]
        assert rig.fp.safe_after_sequence == "navigation uncertainty too large"
    else:
        assert_forced_safe(rig, "navigation uncertainty too large")


def test_descent_has_its_own_tighter_uncertainty_limit():
    """1 m of sigma: fine in hover (FP_NAV_SIG_M 5 m), too much to descend (TAG_NAV_SIG_M
    0.5 m)."""
    for mode, trips in ((Mode.HOVER, False), (Mode.DESCENT, True)):
        rig = Rig(mode)
        rig.nav.sigma_m = (1.0, 0.0, 0.0)
        rig.slow(T_NOW, n=BY_ID[M.NAV_COVARIANCE].persistence)
        assert rig.bank.is_tripped(M.NAV_COVARIANCE) == trips


@pytest.mark.parametrize("mode", [Mode.STANDBY, Mode.TAG, Mode.BACKAWAY])
def test_fixes_landmarks_and_uncertainty_are_not_checked_outside_the_navigated_modes(mode):
    rig = Rig(mode)
    rig.nav.last_fix_us = rig.nav.last_landmark_us = None
    rig.nav.sigma_m = (1e3, 1e3, 1e3)
    rig.slow(T_NOW, n=5)
    rig.fast(T_NOW, n=5)
    assert_unchanged(rig, mode)
    assert rig.bank.count[M.NAV_COVARIANCE] == 0


def test_uncertainty_is_judged_in_safe_but_safe_is_not_entered_again():
    """In SAFE the covariance check runs (an automatic exit waits for it to clear) and
    its trip changes nothing: the probe is already safe."""
    rig = Rig(Mode.SAFE)
    rig.nav.sigma_m = (1e3, 1e3, 1e3)
    rig.slow(T_NOW, n=BY_ID[M.NAV_COVARIANCE].persistence)
    assert rig.bank.is_tripped(M.NAV_COVARIANCE)
    assert_unchanged(rig, Mode.SAFE)


# -- responses ----------------------------------------------------------------------------------

MILD = [Response.LOG, Response.BACKUP, Response.RECONFIGURE, Response.DUMP]


@pytest.mark.parametrize("response", MILD)
@pytest.mark.parametrize("mode", list(Mode))
def test_mild_responses_change_no_mode(mode, response):
    rig = Rig(mode)
    rig.fp.respond(M.TASK, response, "x")
    assert_unchanged(rig, mode)


@pytest.mark.parametrize("response", [Response.ABORT, Response.SAFE])
@pytest.mark.parametrize("mode", OUTSIDE_TAG)
def test_abort_and_safe_outside_a_touch_and_go_force_safe(mode, response):
    rig = Rig(mode)
    rig.fp.respond(M.POWER, response, "undervoltage")
    assert_forced_safe(rig, "undervoltage")
    assert rig.tag.waveoffs == []


@pytest.mark.parametrize("response", [Response.ABORT, Response.SAFE])
def test_in_safe_nothing_more_happens(response):
    rig = Rig(Mode.SAFE)
    rig.fp.respond(M.POWER, response, "undervoltage")
    assert_unchanged(rig, Mode.SAFE)


@pytest.mark.parametrize("still_tripped", [True, False])
def test_a_safe_in_descent_waves_off_and_safes_after_the_back_away_if_still_tripped(
        still_tripped):
    rig = Rig(Mode.DESCENT)
    for _ in range(BY_ID[M.POWER].persistence):
        rig.bank.check(M.POWER, True, "bus at 20 V")
    rig.fp.respond(M.POWER, Response.SAFE, "undervoltage")
    assert rig.tag.waveoffs == ["fault: undervoltage"] and rig.tag.to_start_height == [True]
    assert rig.modes.current == Mode.BACKAWAY  # the back-away is the way out
    assert rig.fp.safe_after_sequence == "undervoltage"
    assert rig.modes.request(Mode.HOVER, "back-away done") == CommandResult.ACCEPTED
    assert rig.modes.current == Mode.HOVER  # judged at the next check, in hover's terms
    rig.fsw.devices.power.latest = SimpleNamespace(bus_voltage_v=20.0 if still_tripped else 28.0)
    rig.slow(T_NOW + 1 * S)
    if still_tripped:
        assert_forced_safe(rig, "undervoltage (after the back-away)")
    else:
        assert rig.modes.current == Mode.HOVER
    assert rig.fp.safe_after_sequence is None


def test_an_abort_in_descent_waves_off_and_then_hovers():
    rig = Rig(Mode.DESCENT)
    for _ in range(BY_ID[M.LIDAR].persistence):
        rig.bank.check(M.LIDAR, True, "no range")  # still tripped at the end
    rig.fp.respond(M.LIDAR, Response.ABORT, "altimeter lost")
    assert rig.tag.waveoffs == ["navigation degraded: altimeter lost"]
    assert rig.fp.safe_after_sequence is None
    assert rig.modes.request(Mode.HOVER, "back-away done") == CommandResult.ACCEPTED
    assert rig.modes.current == Mode.HOVER


@pytest.mark.parametrize("mode", [Mode.TAG, Mode.BACKAWAY])
def test_in_contact_or_back_away_the_sequence_finishes_before_safe(mode):
    rig = Rig(mode)
    rig.fp.respond(M.IMU, Response.ABORT, "IMU lost")
    assert_unchanged(rig, mode)
    for _ in range(BY_ID[M.IMU].persistence):
        rig.bank.check(M.IMU, True, "late")
    rig.fp.respond(M.IMU, Response.SAFE, "IMU lost")
    assert rig.modes.current == mode and rig.tag.waveoffs == []
    assert rig.fp.safe_after_sequence == "IMU lost"
    if mode == Mode.TAG:
        rig.modes.request(Mode.BACKAWAY, "contact over")
        assert rig.modes.current == Mode.BACKAWAY  # not yet: the back-away first
    rig.modes.request(Mode.HOVER, "back-away done")
    rig.slow(T_NOW)  # judged at the next check
    assert_forced_safe(rig, "IMU lost (after the back-away)")


@pytest.mark.parametrize("response", [Response.ABORT, Response.SAFE])
@pytest.mark.parametrize("mode", [Mode.HOVER, Mode.DESCENT, Mode.TAG])
def test_fp_enable_off_only_logs(mode, response):
    rig = Rig(mode)
    rig.params.set("FP_ENABLE", False)
    rig.fp.respond(M.POWER, response, "undervoltage")
    assert_unchanged(rig, mode)
    assert rig.texts()[-1] == f"undervoltage: {response.name} not taken (FP_ENABLE off)"


def test_fp_enable_off_keeps_monitoring():
    rig = Rig(Mode.HOVER)
    rig.params.set("FP_ENABLE", False)
    rig.nav.last_star_tracker_us = None
    rig.nav.sigma_m = (100.0, 0.0, 0.0)
    rig.slow(T_NOW, n=BY_ID[M.NAV_COVARIANCE].persistence)
    assert_unchanged(rig, Mode.HOVER)
    assert rig.bank.is_tripped(M.NAV_COVARIANCE)
    assert "star tracker lost: SAFE not taken (FP_ENABLE off)" in rig.texts()


# -- thrusters ----------------------------------------------------------------------------------

def fly_seconds(rig, t0_us, seconds, accel_sc=(0.0, 0.0, 0.0), on_times=None):
    """10 Hz: an IMU sample with this acceleration (and these thruster on-times commanded)
    each cycle, fault protection's fast task; its 1 Hz task at each whole second."""
    t = t0_us
    for _ in range(seconds):
        for k in range(10):
            t += CYCLE_US
            rig.at(t)
            rig.nav.last_imu = ImuSample(t, accel_sc, (0.0, 0.0, 0.0))
            rig.nav.last_prop_us = t
            rig.nav.last_star_tracker_us = rig.nav.last_fix_us = t
            if on_times is not None:
                rig.fsw.propulsion.fire(t, on_times, 0.1)
            rig.fp.task_fast(t)
            if k == 9:
                rig.fp.task(t)
    return t


def test_commanded_thrust_that_is_felt_trips_nothing():
    """2 mm/s a second commanded along +x and felt: no residual."""
    rig = Rig(Mode.HOVER)
    on_s = 2e-3 * VEHICLE.mass_kg * 0.1 / VEHICLE.thrust_n  # 2e-3 m/s^2 for 0.1 s
    fly_seconds(rig, T_NOW, 6, accel_sc=(2e-3, 0.0, 0.0), on_times=(on_s, 0, 0, 0, 0, 0))
    assert rig.bank.count[M.THRUSTER] == 0
    assert_unchanged(rig, Mode.HOVER)


@pytest.mark.parametrize(("fraction_of_limit", "trips"), [(0.9, False), (1.1, True)])
def test_the_thruster_limit_is_a_floor_plus_a_share_of_the_commanded(fraction_of_limit,
                                                                     trips):
    """Residual limit FP_THR_DV_MPS + FP_THR_FRAC x |commanded delta-v| per 1 s window:
    2 mm/s commanded along +x, felt with 0.9 or 1.1 times that limit more."""
    rig = Rig(Mode.HOVER)
    cmd_mps = 2e-3
    on_s = cmd_mps * VEHICLE.mass_kg * 0.1 / VEHICLE.thrust_n  # per 0.1 s cycle
    limit_mps = rig.params.get("FP_THR_DV_MPS") + rig.params.get("FP_THR_FRAC") * cmd_mps
    felt = (cmd_mps + fraction_of_limit * limit_mps, 0.0, 0.0)  # m/s^2 for 1 s: m/s
    fly_seconds(rig, T_NOW, BY_ID[M.THRUSTER].persistence, accel_sc=felt,
                on_times=(on_s, 0, 0, 0, 0, 0))
    assert rig.bank.is_tripped(M.THRUSTER) == trips
    assert (rig.fsw.propulsion.latch_closed != 0) == trips


@pytest.mark.parametrize(("accel", "on_x", "named"), [
    ((2e-3, 0.0, 0.0), 0.0, "a +x thruster stuck on or a -x one stuck off"),
    ((0.0, 0.0, 0.0), 2e-3 * 1500.0 * 0.1 / 4.4, "a -x thruster stuck on or a +x one stuck off"),
])
def test_a_thruster_residual_isolates_the_only_branch_and_safes(accel, on_x, named):
    rig = Rig(Mode.HOVER)
    persistence = BY_ID[M.THRUSTER].persistence
    t = fly_seconds(rig, T_NOW, persistence - 1, accel_sc=accel,
                    on_times=(on_x, 0, 0, 0, 0, 0))
    assert not rig.bank.is_tripped(M.THRUSTER) and rig.fsw.propulsion.latch_closed == 0
    fly_seconds(rig, t, 1, accel_sc=accel, on_times=(on_x, 0, 0, 0, 0, 0))
    trip = [x for x in rig.texts() if x.startswith("trip THRUSTER")]
    assert trip == [f"trip THRUSTER: delta-v 2.00 mm/s off command over 1 s ({named}); "
                    "response RECONFIGURE"]
    assert rig.fsw.propulsion.latch_closed == 0b01
    assert not rig.fsw.propulsion.translation_available
    assert_forced_safe(rig, "no translation thrusters left")


def test_a_thruster_residual_with_two_branches_flies_on_branch_b():
    rig = Rig(Mode.HOVER, dataclasses.replace(VEHICLE, thruster_branches=2))
    fly_seconds(rig, T_NOW, BY_ID[M.THRUSTER].persistence, accel_sc=(0.0, 0.0, 2e-3))
    prop = rig.fsw.propulsion
    assert prop.branch == 1 and prop.latch_closed == 0b01 and prop.translation_available
    sent = rig.bus.of_type("PROBE_THRUSTER_CMD")
    assert sent[-1].latch_closed == 0b01  # told at once
    assert_unchanged(rig, Mode.HOVER)


def test_the_residual_is_not_judged_in_contact():
    rig = Rig(Mode.TAG)
    fly_seconds(rig, T_NOW, 5, accel_sc=(0.0, 0.0, 0.05))  # the surface pushes
    assert rig.bank.count[M.THRUSTER] == 0


# -- wheels and momentum ------------------------------------------------------------------------

def test_a_wheel_not_following_its_torque_is_isolated():
    """Wheel 0 is told 0.1 N m (0.83 rad/s each second on a 0.12 kg m^2 wheel) and does
    not move; the others are told nothing and do not move.  Over the 10 s window its
    error is 8.3 rad/s: isolated after the persistence; the others never."""
    rig = Rig(Mode.HOVER)
    wheels = rig.fsw.devices.wheels
    wheels.command_torque(T_NOW, (0.1, 0.0, 0.0, 0.0))
    t = T_NOW
    isolated_at = None
    for second in range(20):
        for k in range(10):
            t += CYCLE_US
            rig.at(t)
            if k == 0:  # a 1 Hz tachometer
                wheels.latest = WheelSpeedSample(t, (100.0, -50.0, 20.0, 0.0))
            rig.fresh(t)
            rig.fp.task_fast(t)
            if k == 9:
                rig.fp.task(t)
        if rig.fsw.control.failed_wheels and isolated_at is None:
            isolated_at = second
    assert rig.fsw.control.failed_wheels == frozenset({0})
    assert isolated_at is not None and isolated_at >= 10  # a full window first
    assert any(x.startswith("trip WHEEL: wheel 0 off its command by 8.3") for x in rig.texts())
    assert rig.fsw.control.att_ctrl.alloc[0] == (0.0, 0.0, 0.0)
    assert_unchanged(rig, Mode.HOVER)


def test_a_wheel_above_the_dump_fraction_starts_a_dump():
    rig = Rig(Mode.HOVER)
    limit = rig.params.get("FP_WHL_DUMP_FRAC") * VEHICLE.wheel_max_speed_radps
    rig.fsw.devices.wheels.latest = WheelSpeedSample(T_NOW, (limit, 0.0, 0.0, 0.0))
    rig.slow(T_NOW, n=3)
    assert not rig.fsw.momentum.active  # at the limit: not above it
    rig.fsw.devices.wheels.latest = WheelSpeedSample(T_NOW, (0.0, 0.0, -limit - 1.0, 0.0))
    rig.slow(T_NOW)
    assert rig.fsw.momentum.active and rig.fsw.momentum.dumps == 1
    assert "momentum dump started (wheel speed)" in rig.texts("momentum")
    assert_unchanged(rig, Mode.HOVER)


def test_a_vehicle_without_couples_warns_instead_of_dumping():
    rig = Rig(Mode.HOVER, dataclasses.replace(VEHICLE, acs_torque_nm=0.0))
    rig.fsw.devices.wheels.latest = WheelSpeedSample(T_NOW, (590.0, 0.0, 0.0, 0.0))
    rig.slow(T_NOW)
    assert rig.bank.is_tripped(M.MOMENTUM) and not rig.fsw.momentum.active
    assert rig.texts("momentum") == [
        "no attitude-control couples: the wheels cannot be unloaded"]


# -- power, tasks, health -----------------------------------------------------------------------

def test_undervoltage_forces_safe_after_its_persistence():
    rig = Rig(Mode.SURVEY)
    low = rig.params.get("FP_BUS_MIN_V")
    rig.fsw.devices.power.latest = SimpleNamespace(bus_voltage_v=low)
    rig.slow(T_NOW, n=5)
    assert_unchanged(rig, Mode.SURVEY)  # at the limit: not below
    rig.fsw.devices.power.latest = SimpleNamespace(bus_voltage_v=low - 0.1)
    rig.slow(T_NOW, n=BY_ID[M.POWER].persistence)
    assert_forced_safe(rig, "undervoltage")


RATES = {"nav": 10.0, "control": 10.0, "telemetry": 1.0, "guidance": 1.0, "slow": 0.1}


def health_rig(mode=Mode.HOVER):
    rig = Rig(mode)
    rig.fp.scheduler = FakeScheduler(RATES)
    return rig, rig.fp.scheduler


@pytest.mark.parametrize(("task", "limit_s"), [("nav", 5.0), ("slow", 20.0)])
def test_a_vital_task_that_stops_answering_forces_safe_after_its_limit(task, limit_s):
    """No successful run for max(FP_HEALTH_S, two periods), strictly longer: HEALTH."""
    rig, sched = health_rig()
    assert rig.params.get("FP_HEALTH_S") == 5.0
    rig.slow(T_NOW)  # everything seen at T_NOW
    others = [n for n in RATES if n != task]
    for t in (T_NOW + 1 * S, T_NOW + round(limit_s * S)):
        sched.advance(others)
        rig.fresh(t)
        rig.slow(t)
    assert rig.fp.missing == [] and not rig.bank.is_tripped(M.HEALTH)
    assert_unchanged(rig, Mode.HOVER)
    t = T_NOW + round(limit_s * S) + 1 * US
    sched.advance(others)
    rig.fresh(t)
    rig.slow(t)
    assert rig.fp.missing == [task]
    assert f"trip HEALTH: task {task} not answering; response SAFE" in rig.texts()
    assert_forced_safe(rig, f"task {task} not answering")


def test_a_vital_fast_task_not_answering_runs_on_in_fault_protection():
    """The app's backups: fault protection's 10 Hz task runs the missing task's work."""
    rig, sched = health_rig()
    ran = []
    rig.fp.backups = {"nav": ran.append, "control": lambda t: ran.append(("control", t))}
    rig.slow(T_NOW)
    t = T_NOW + 6 * S
    sched.advance([n for n in RATES if n != "nav"])
    rig.fresh(t)
    rig.slow(t)
    assert rig.fp.missing == ["nav"]
    rig.fast(t + CYCLE_US)
    assert ran == [t + CYCLE_US]  # nav's backup, and only nav's
    sched.advance(RATES)  # it answers again
    rig.slow(t + 1 * S)
    rig.fast(t + 1 * S + CYCLE_US)
    assert rig.fp.missing == [] and ran == [t + CYCLE_US]


def test_the_app_backs_up_the_vital_fast_tasks():
    rig = Rig()
    assert set(rig.fp.backups) == {"bus_in", "nav", "sequence", "control"}
    assert all(callable(f) for f in rig.fp.backups.values())


@pytest.mark.parametrize("task", ["telemetry", "guidance"])
def test_a_nonvital_task_that_stops_answering_only_logs(task):
    rig, sched = health_rig()
    rig.slow(T_NOW)
    t = T_NOW + 6 * S
    sched.advance([n for n in RATES if n != task])
    rig.fresh(t)
    rig.slow(t)
    assert rig.bank.is_tripped(M.HEALTH) and rig.fp.missing == [task]
    assert_unchanged(rig, Mode.HOVER)


def test_a_task_that_raises_trips_the_task_monitor_and_its_failures_do_not_count_as_answers():
    """Runs that raised are no answer: a task raising every time is missing too."""
    rig, sched = health_rig()
    rig.slow(T_NOW)
    sched.advance(RATES, faults=("nav",))
    rig.slow(T_NOW + 1 * S)
    assert "trip TASK: 1 task fault(s) in the last second; response LOG" in rig.texts()
    assert_unchanged(rig, Mode.HOVER)
    for s in range(2, 8):
        sched.advance(RATES, faults=("nav",))
        rig.fresh(T_NOW + s * S)
        rig.slow(T_NOW + s * S)
    assert rig.fp.missing == ["nav"]
    assert_forced_safe(rig, "task nav not answering")


def test_the_real_scheduler_keeps_a_healthy_flight_software_healthy():
    """Frames of the whole flight software (no sensors at all): every task answers, no
    health or task monitor counts."""
    rig = Rig(Mode.STANDBY)
    rig.fp.scheduler = rig.fsw.scheduler
    rig.fp.navigation = rig.fsw.navigation  # the real one: nothing initialised
    for _ in range(100):  # 10 s
        rig.fsw.run_frame()
        rig.clock.advance_by_us(CYCLE_US)
    assert rig.fp.missing == []
    assert rig.bank.count[M.HEALTH] == 0 and rig.bank.count[M.TASK] == 0


# -- sampler --------------------------------------------------------------------------------

def test_gas_fired_without_a_bottle_used_fires_the_next():
    """Judged against the bottles left before the firing, from GAS_CHECK_S (2 s) after
    the firing is seen, with the monitor's persistence in 1 Hz checks."""
    rig = Rig(Mode.TAG)
    rig.fsw.devices.sampler.latest = SimpleNamespace(gas_bottles_left=3)
    rig.slow(T_NOW)  # before the firing: 3 bottles
    rig.tag.gas_fired = True
    t_fired = T_NOW + 1 * S
    rig.slow(t_fired)
    persistence = BY_ID[M.SAMPLER].persistence
    for s in range(1, 2 + persistence - 1):
        rig.slow(t_fired + s * S)
    assert not rig.bank.is_tripped(M.SAMPLER)
    rig.slow(t_fired + (1 + persistence) * S)
    # Tripped once, then armed again for the next bottle.
    assert rig.bank.trips[M.SAMPLER] == 1 and not rig.bank.is_tripped(M.SAMPLER)
    cmds = rig.bus.of_type("PROBE_SAMPLER_CMD")
    assert [c.action for c in cmds] == [mavlink.PROBE_SAMPLER_FIRE_GAS]
    assert "firing the next gas bottle" in rig.texts()
    assert_unchanged(rig, Mode.TAG)


@pytest.mark.parametrize("used_before_seen", [False, True])
def test_a_bottle_used_is_no_sampler_fault(used_before_seen):
    """Also when the status shows the bottle used by the time the firing is first seen."""
    rig = Rig(Mode.TAG)
    rig.fsw.devices.sampler.latest = SimpleNamespace(gas_bottles_left=3)
    rig.slow(T_NOW)
    rig.tag.gas_fired = True
    if used_before_seen:
        rig.fsw.devices.sampler.latest = SimpleNamespace(gas_bottles_left=2)
    rig.slow(T_NOW + 1 * S)
    rig.fsw.devices.sampler.latest = SimpleNamespace(gas_bottles_left=2)
    for s in range(2, 10):
        rig.slow(T_NOW + s * S)
    assert rig.bank.count[M.SAMPLER] == 0 and rig.bus.of_type("PROBE_SAMPLER_CMD") == []


# -- telemetry ----------------------------------------------------------------------------------

def test_fault_status_goes_out_on_a_change_and_every_ten_seconds():
    rig = Rig(Mode.HOVER)
    sent_at = []
    for s in range(31):
        t = T_NOW + s * S
        rig.fresh(t)
        if s == 14:
            rig.fp.navigation.sigma_m = (100.0, 0.0, 0.0)  # NAV_COVARIANCE starts failing
        before = len(rig.bus.of_type("PROBE_FAULT_STATUS"))
        rig.slow(t)
        if len(rig.bus.of_type("PROBE_FAULT_STATUS")) > before:
            sent_at.append(s)
    # First check (everything new), then every 10 s, and each second something changed:
    # 14 (starts failing), 16 (tripped, SAFE forced; the count going on is no change),
    # then 10 s after the last change.
    assert sent_at == [0, 10, 14, 16, 26]
    last = rig.bus.of_type("PROBE_FAULT_STATUS")[-1]
    enabled, tripped, failing = rig.bank.masks()
    assert (last.enabled, last.tripped, last.failing) == (enabled, tripped, failing)
    assert last.tripped == 1 << int(M.NAV_COVARIANCE)
    assert last.safe_phase == SafePhase.DAMP and last.thruster_branch == 0
    assert list(last.trips)[int(M.NAV_COVARIANCE)] == 1


def test_at_most_one_fault_status_a_second_however_many_changes():
    rig = Rig(Mode.HOVER)
    rig.slow(T_NOW)
    n = len(rig.bus.of_type("PROBE_FAULT_STATUS"))
    for m in (M.TASK, M.SPECTROMETER, M.MOMENTUM):
        rig.bank.check(m, True, "x")
    rig.fp.task_fast(T_NOW + CYCLE_US)
    assert len(rig.bus.of_type("PROBE_FAULT_STATUS")) == n  # the 10 Hz task sends none
    rig.slow(T_NOW + 1 * S)
    assert len(rig.bus.of_type("PROBE_FAULT_STATUS")) == n + 1


# -- SAFE's exit -----------------------------------------------------------------------------

def test_safe_is_left_by_itself_only_when_allowed_and_healthy_long_enough():
    rig = Rig(Mode.HOVER)
    rig.fp.respond(M.POWER, Response.SAFE, "undervoltage")
    assert rig.modes.current == Mode.SAFE
    exit_s = 10
    rig.params.set("SAFE_EXIT_S", float(exit_s))
    for s in range(1, 30):  # not allowed (SAFE_AUTO_EXIT off by default)
        rig.slow(T_NOW + s * S)
    assert rig.modes.current == Mode.SAFE
    rig.params.set("SAFE_AUTO_EXIT", True)
    t0 = T_NOW + 30 * S
    for s in range(exit_s):
        rig.fresh(t0 + s * S)
        rig.slow(t0 + s * S)
    assert rig.modes.current == Mode.SAFE  # healthy for 9 s
    rig.slow(t0 + exit_s * S)
    assert rig.modes.current == Mode.HOVER
    assert [c.new for c in rig.new_changes()][-2:] == [Mode.STANDBY, Mode.HOVER]
    assert rig.fsw.safe_mode.phase == SafePhase.NONE


def test_a_tripped_monitor_holds_safe_and_a_ground_safe_is_never_left_by_itself():
    rig = Rig(Mode.HOVER)
    rig.params.set("SAFE_AUTO_EXIT", True)
    rig.params.set("SAFE_EXIT_S", 10.0)
    rig.fsw.devices.power.latest = SimpleNamespace(bus_voltage_v=10.0)
    for s in range(30):
        rig.fresh(T_NOW + s * S)
        rig.slow(T_NOW + s * S)
    assert rig.modes.current == Mode.SAFE and rig.bank.is_tripped(M.POWER)
    ground = Rig(Mode.SAFE)  # SAFE at boot: not forced
    ground.params.set("SAFE_AUTO_EXIT", True)
    ground.params.set("SAFE_EXIT_S", 10.0)
    for s in range(30):
        ground.slow(T_NOW + s * S)
    assert ground.modes.current == Mode.SAFE
    assert ground.fsw.safe_mode.phase == SafePhase.NONE  # never entered: boot SAFE


@pytest.mark.parametrize(("phase", "aborts"), [(TagPhase.TO_CHECKPOINT, False),
                                              (TagPhase.TO_MATCHPOINT, True),
                                              (TagPhase.FINAL, True)])
def test_below_the_checkpoint_any_sensor_trip_aborts_the_descent(phase, aborts):
    """A star tracker lost is a backup above the Checkpoint and an abort below it."""
    rig = Rig(Mode.DESCENT)
    rig.tag.phase = phase
    rig.nav.last_star_tracker_us = T_NOW - 5 * S
    rig.fast(T_NOW, n=BY_ID[M.STAR_TRACKER].persistence)
    assert rig.bank.is_tripped(M.STAR_TRACKER)
    assert bool(rig.tag.waveoffs) == aborts
    if aborts:
        assert rig.tag.to_start_height == [True]
        assert "STAR_TRACKER below the Checkpoint" in rig.tag.waveoffs[0]


def test_a_momentum_dump_does_not_abort_a_low_descent():
    rig = Rig(Mode.DESCENT)
    rig.tag.phase = TagPhase.FINAL
    rig.bank.check(M.MOMENTUM, True, "wheel fast")
    rig.slow(T_NOW)
    assert rig.tag.waveoffs == []
