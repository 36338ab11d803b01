"""The assembled flight software behind an in-memory Bus: commands, parameters, modes.

The mock transport below is the whole Bus contract: what a SerialBus or a
ReplayBus must also do.
"""

import math

import pytest

from flightsw.app import FlightSoftware
from flightsw.config import BodyModel, FlightConfig, VehicleConfig
from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandResult
from flightsw.core.modes import Mode
from flightsw.icd import GROUND_COMPONENT_ID, GROUND_SYSTEM_ID, mavlink, new_codec


class MockBus:
    """Ground-side test double: queue messages in, collect what comes out."""

    def __init__(self):
        self._codec = new_codec(GROUND_SYSTEM_ID, GROUND_COMPONENT_ID)
        self._rx = new_codec(GROUND_SYSTEM_ID, GROUND_COMPONENT_ID)
        self.inbox = []
        self.sent = []

    def push(self, msg):
        self.inbox.append(self._rx.decode(bytearray(msg.pack(self._codec))))

    def send(self, msg):
        self.sent.append(msg)

    def poll(self):
        out, self.inbox = self.inbox, []
        return out

    def of_type(self, kind):
        return [m for m in self.sent if m.get_type() == kind]


CONFIG = FlightConfig(
    vehicle=VehicleConfig(1500.0, (2400.0, 2100.0, 1700.0), 4, 0.12, 0.2, 1.0, 0.005),
    body=BodyModel(4.892, 85.65, -60.17, 4.296057 * 3600.0),
    hover_point_bf_m=(1082.5, 0.0, 625.0),
)


@pytest.fixture
def flight():
    bus, clock = MockBus(), SimClock()
    records = []
    fsw = FlightSoftware(CONFIG, bus, clock, record=lambda t, raw: records.append((t, raw)))
    return fsw, bus, clock, records


def command(cmd_id, *params):
    p = list(params) + [0.0] * (7 - len(params))
    return mavlink.MAVLink_command_long_message(1, 1, cmd_id, 0, *p)


def step(fsw, clock, frames=1):
    for _ in range(frames):
        fsw.run_frame()
        clock.advance_by_us(100_000)


def last_ack(bus):
    acks = bus.of_type("COMMAND_ACK")
    assert acks, "no COMMAND_ACK sent"
    return acks[-1]


def test_invalid_hover_point_is_rejected_and_changes_nothing(flight):
    fsw, bus, clock, _ = flight
    before = fsw.control.guidance.target_bf_m
    bus.push(command(mavlink.PROBE_CMD_SET_HOVER_POINT, 10.0, 0.0, 0.0))  # inside Bennu
    step(fsw, clock)
    ack = last_ack(bus)
    assert ack.command == mavlink.PROBE_CMD_SET_HOVER_POINT
    assert ack.result == mavlink.MAV_RESULT_DENIED
    assert CommandResult.from_ack(ack) == CommandResult.INVALID_PARAM
    assert fsw.control.guidance.target_bf_m == before


def test_valid_hover_point_is_accepted(flight):
    fsw, bus, clock, _ = flight
    bus.push(command(mavlink.PROBE_CMD_SET_HOVER_POINT, 0.0, 1200.0, 300.0))
    step(fsw, clock)
    assert CommandResult.from_ack(last_ack(bus)) == CommandResult.ACCEPTED
    assert fsw.control.guidance.target_bf_m == (0.0, 1200.0, 300.0)


def test_unknown_command_is_unsupported(flight):
    fsw, bus, clock, _ = flight
    bus.push(command(31337))
    step(fsw, clock)
    assert last_ack(bus).result == mavlink.MAV_RESULT_UNSUPPORTED


def test_disallowed_mode_transition_is_wrong_mode(flight):
    fsw, bus, clock, _ = flight
    assert fsw.modes.current == Mode.SAFE
    bus.push(command(mavlink.MAV_CMD_DO_SET_MODE, 1.0, float(Mode.HOVER)))  # SAFE -> HOVER
    step(fsw, clock)
    assert CommandResult.from_ack(last_ack(bus)) == CommandResult.WRONG_MODE
    assert fsw.modes.current == Mode.SAFE


def test_out_of_range_parameter_is_refused_and_value_kept(flight):
    fsw, bus, clock, _ = flight
    before = fsw.params.get("HOV_BW_RADPS")
    bus.push(mavlink.MAVLink_param_set_message(1, 1, b"HOV_BW_RADPS", 50.0,
                                               mavlink.MAV_PARAM_TYPE_REAL32))
    step(fsw, clock)
    assert fsw.params.get("HOV_BW_RADPS") == before
    reply = bus.of_type("PARAM_VALUE")[-1]
    assert reply.param_id == "HOV_BW_RADPS"
    assert reply.param_value == pytest.approx(before, rel=1e-6)
    error = bus.of_type("PARAM_ERROR")[-1]
    assert error.param_id == "HOV_BW_RADPS"
    assert error.error == mavlink.MAV_PARAM_ERROR_VALUE_OUT_OF_RANGE


def test_accepted_parameter_gets_no_param_error(flight):
    fsw, bus, clock, _ = flight
    bus.push(mavlink.MAVLink_param_set_message(1, 1, b"HOV_BW_RADPS", 0.05,
                                               mavlink.MAV_PARAM_TYPE_REAL32))
    step(fsw, clock)
    assert not bus.of_type("PARAM_ERROR")


@pytest.mark.parametrize("rank", [2.5, 0.0, 11.0])
def test_choose_site_that_is_no_rank_is_invalid_param_and_changes_nothing(flight, rank):
    """The command's own check (1..10, PRS_N_CAND's range), before any campaign is asked.
    Ranks beyond a real campaign's candidates: tests/sim/test_mission_paths.py and
    tests/flightsw/prospect/test_campaign.py."""
    fsw, bus, clock, _ = flight
    fsw.modes.request(Mode.STANDBY, "test")
    fsw.modes.request(Mode.HOVER, "test")
    target_before = fsw.control.guidance.target_bf_m
    bus.push(command(mavlink.PROBE_CMD_CHOOSE_SITE, rank))
    step(fsw, clock)
    assert CommandResult.from_ack(last_ack(bus)) == CommandResult.INVALID_PARAM
    assert fsw.control.guidance.target_bf_m == target_before
    texts = [m.text for m in bus.of_type("STATUSTEXT")]
    assert any("rank must be an integer 1..10" in t for t in texts), texts


def test_choose_site_before_any_survey_fails(flight):
    fsw, bus, clock, _ = flight
    fsw.modes.request(Mode.STANDBY, "test")
    fsw.modes.request(Mode.HOVER, "test")
    bus.push(command(mavlink.PROBE_CMD_CHOOSE_SITE, 1.0))
    step(fsw, clock)
    assert CommandResult.from_ack(last_ack(bus)) == CommandResult.FAILED


def test_parameter_change_retunes_the_controller(flight):
    fsw, bus, clock, _ = flight
    bus.push(mavlink.MAVLink_param_set_message(1, 1, b"HOV_BW_RADPS", 0.05,
                                               mavlink.MAV_PARAM_TYPE_REAL32))
    step(fsw, clock)
    assert fsw.control.trans_ctrl.kp == pytest.approx(0.05 ** 2, rel=1e-6)


def test_every_message_in_both_directions_is_recorded(flight):
    fsw, bus, clock, records = flight
    bus.push(command(31337))
    bus.push(mavlink.MAVLink_highres_imu_message(0, *([0.0] * 13), 0b111111, 0))
    step(fsw, clock, 12)  # includes a 1 Hz frame: HEARTBEAT goes out
    recorded = [new_codec(9, 9).decode(bytearray(raw)).get_type() for _, raw in records]
    assert "COMMAND_LONG" in recorded and "HIGHRES_IMU" in recorded  # inbound
    assert "COMMAND_ACK" in recorded and "HEARTBEAT" in recorded  # outbound
    assert len(records) == len(bus.sent) + 2


def test_no_wall_clock_in_the_tasks(flight, monkeypatch):
    """Flight tasks take time from the Clock only.  A wall-clock read raises here; the
    scheduler catches a task that raised and says so (ERROR "task <name> raised ..."), so
    the test reads those reports off the Bus and fails on any.  Star tracker, IMU and a
    position fix each frame, and HOVER, take navigation and control down their whole path
    (wheel and thruster commands go out)."""
    import time

    def wall_clock(*_args):
        raise RuntimeError("a flight task read the wall clock")

    for name in ("time", "time_ns", "monotonic", "monotonic_ns"):
        monkeypatch.setattr(time, name, wall_clock)
    fsw, bus, clock, records = flight
    bus.push(command(mavlink.MAV_CMD_DO_SET_MODE, 1.0, float(Mode.STANDBY)))
    hover_point = CONFIG.hover_point_bf_m
    for frame in range(40):
        t_us = clock.now_us()
        if frame == 5:
            bus.push(command(mavlink.MAV_CMD_DO_SET_MODE, 1.0, float(Mode.HOVER)))
        bus.push(mavlink.MAVLink_probe_star_tracker_message(t_us, [1.0, 0.0, 0.0, 0.0], 1e-5, 1))
        bus.push(mavlink.MAVLink_highres_imu_message(t_us, *([0.0] * 13), 0b111111, 0))
        if frame % 10 == 0:
            bus.push(mavlink.MAVLink_probe_navcam_fix_message(
                t_us, [hover_point[0] + 5.0, hover_point[1], hover_point[2]], 0.5, 8, 1))
        fsw.run_frame()
        clock.advance_by_us(100_000)
    faults = [m.text for m in bus.of_type("STATUSTEXT") if " raised " in m.text]
    assert faults == []
    modes = [m.custom_mode for m in bus.of_type("HEARTBEAT")]
    assert modes[-1] == Mode.HOVER
    assert len(bus.of_type("PROBE_WHEEL_CMD")) >= 30  # control ran, frame after frame
    assert bus.of_type("PROBE_THRUSTER_CMD")  # 5 m off the hover point: it steers back
    assert len(records) > 0


def test_an_imu_gap_is_bridged_once_not_twice(flight):
    """Samples dropped for a while: the attitude advances by rate x elapsed time, once."""
    fsw, bus, clock, _ = flight
    rate = 0.01  # rad/s about z
    bus.push(mavlink.MAVLink_probe_star_tracker_message(0, [1.0, 0.0, 0.0, 0.0], 1e-5, 1))
    for frame in range(40):
        t_us = clock.now_us()
        if not 10 <= frame < 20:  # one second of lost IMU samples
            bus.push(mavlink.MAVLink_highres_imu_message(t_us, 0, 0, 0, 0, 0, rate,
                                                         *([0.0] * 7), 0b111111, 0))
        fsw.run_frame()
        clock.advance_by_us(100_000)
    q = fsw.navigation.nav.attitude.q_i_to_sc
    angle = 2.0 * math.atan2(q[3], q[0])
    assert angle == pytest.approx(rate * 3.9, rel=1e-3)  # 39 propagated steps of 0.1 s


def test_samples_held_through_a_link_outage_do_not_turn_the_attitude_twice(flight):
    """A link outage, as the HIL rig's killed board gives it: one second with no samples
    (navigation bridges it with the last rate), then the board delivers the samples it
    held, up to 0.7 s old, one a frame, before fresh ones.

    Pins: the estimate's time never goes back to a late sample's time, so the bridged
    second is integrated once; the attitude stays the star tracker's, its updates pass
    the gate again as soon as fresh samples come, and fault protection does not find it
    lost 10 s later and force SAFE (the navigation issue after HIL link recovery)."""
    fsw, bus, clock, _ = flight
    rate = 0.01  # rad/s about z, steady: the true attitude at t is a turn of rate x t

    def sense(t_us):
        half = 0.5 * rate * t_us * 1e-6
        bus.push(mavlink.MAVLink_probe_star_tracker_message(
            t_us, [math.cos(half), 0.0, 0.0, math.sin(half)], 1e-5, 1))
        bus.push(mavlink.MAVLink_highres_imu_message(t_us, 0, 0, 0, 0, 0, rate,
                                                     *([0.0] * 7), 0b111111, 0))

    bus.push(command(mavlink.MAV_CMD_DO_SET_MODE, 1.0, float(Mode.STANDBY)))
    held = iter((13, 15, 17, 19))  # frames whose samples come out late
    last = 160
    for frame in range(last):
        if frame < 10 or frame >= 24:
            sense(clock.now_us())
        elif frame >= 20:
            sense(next(held) * 100_000)
        fsw.run_frame()
        clock.advance_by_us(100_000)
    q = fsw.navigation.nav.attitude.q_i_to_sc
    angle = 2.0 * math.atan2(q[3], q[0])
    assert angle == pytest.approx(rate * (last - 1) * 0.1, rel=1e-6)
    assert fsw.navigation.last_star_tracker_us == (last - 1) * 100_000
    assert fsw.modes.current == Mode.STANDBY, "fault protection forced SAFE"


def test_scan_lidar_scans_queue_in_order_until_read(flight):
    fsw, bus, clock, _ = flight
    for k in range(5):
        bus.push(mavlink.MAVLink_probe_lidar_scan_message(
            1000 * k, 0.02, 7, [900.0 + k] * 49))
    bus.push(mavlink.MAVLink_probe_lidar_scan_message(5000, 0.02, 9, [1.0] * 49))  # bad grid
    fsw.port.pump()
    scans = fsw.devices.scan_lidar.take_all()
    # A reader at 1 Hz gets every scan of a faster lidar, oldest first; the bad one is
    # counted, not queued.
    assert [s.t_us for s in scans] == [0, 1000, 2000, 3000, 4000]
    assert [s.ranges_m[0] for s in scans] == [900.0, 901.0, 902.0, 903.0, 904.0]
    assert fsw.devices.scan_lidar.invalid_count == 1
    assert fsw.devices.scan_lidar.take_all() == []


def test_pose_at_is_the_estimate_of_the_sample_time(flight):
    fsw, _, _, _ = flight
    q0 = (1.0, 0.0, 0.0, 0.0)
    fsw.navigation.poses.extend([(0, (1.0, 2.0, 3.0), q0, (0.0, 0.0, 0.01)),
                       (100_000, (4.0, 5.0, 6.0), q0, (0.0, 0.0, 0.01))])
    pos, q = fsw.navigation.pose_at(100_000)
    assert pos == (4.0, 5.0, 6.0) and q == q0
    # Between cycles: the earlier estimate, turned by its rate over the 50 ms since.
    pos, q = fsw.navigation.pose_at(50_000)
    assert pos == (1.0, 2.0, 3.0)
    angle = 2.0 * math.atan2(math.hypot(q[1], q[2], q[3]), q[0])
    assert abs(angle - 0.01 * 0.05) < 1e-12 and abs(q[3]) > 0.0
