"""What a ground station gets from the assembled flight software (issue 16), through
an in-memory Bus: HEARTBEAT, mode change, COMMAND_INT, acks of our own commands,
AUTOPILOT_VERSION, TIMESYNC, message rates, SYS_STATUS, the parameter protocol,
and the uplink guard in front of all of it.
"""

import pytest

from flightsw.app import PARAMS_PER_CYCLE, FlightSoftware
from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandResult
from flightsw.core.modes import Mode
from flightsw.fault.monitor_table import MonitorId
from flightsw.hal.mavlink_signing import sign_frame
from flightsw.icd import GROUND_COMPONENT_ID, GROUND_SYSTEM_ID, mavlink, new_codec
from flightsw.icd.ground_commands import BY_ID, command_message
from tests.flightsw.test_app import CONFIG

KEY = bytes(range(32, 64))
MSG = {name: getattr(mavlink, f"MAVLINK_MSG_ID_{name}") for name in (
    "HEARTBEAT", "SYS_STATUS", "AUTOPILOT_VERSION", "PROBE_LINK_STATUS", "PROBE_NAV_STATE")}


class GroundBus:
    """The Bus with a ground station at the other end: frames in as bytes (signed or
    not), decoded as a backend does; everything the flight sends collected."""

    def __init__(self):
        self.codec = new_codec(GROUND_SYSTEM_ID, GROUND_COMPONENT_ID)
        self.rx = new_codec(1, 1)
        self.inbox = []
        self.sent = []
        self.timestamp_10us = 400_000_000_000

    def push(self, msg, key=None, system=GROUND_SYSTEM_ID):
        codec = self.codec if system == GROUND_SYSTEM_ID else new_codec(system, 190)
        raw = msg.pack(codec)
        if key is not None:
            self.timestamp_10us += 1
            raw = sign_frame(raw, key, 0, self.timestamp_10us)
        self.inbox.append(self.rx.decode(bytearray(raw)))

    def send(self, msg):
        self.sent.append(msg)

    def poll(self):
        out, self.inbox = self.inbox, []
        return out

    def of_type(self, kind):
        return [m for m in self.sent if m.get_type() == kind]


def make(key=None):
    bus, clock = GroundBus(), SimClock()
    return FlightSoftware(CONFIG, bus, clock, signing_key=key), bus, clock


def step(fsw, clock, frames=1):
    for _ in range(frames):
        fsw.run_frame()
        clock.advance_by_us(100_000)


def long(cmd_id, *params, target=(1, 1)):
    p = [float(x) for x in params] + [0.0] * (7 - len(params))
    return mavlink.MAVLink_command_long_message(*target, cmd_id, 0, *p)


def ack_for(bus, cmd_id):
    acks = [a for a in bus.of_type("COMMAND_ACK") if a.command == cmd_id]
    assert acks, f"no COMMAND_ACK for {cmd_id}"
    return acks[-1]


def hover(fsw):
    fsw.modes.request(Mode.STANDBY, "test")
    fsw.modes.request(Mode.HOVER, "test")


def test_heartbeat_at_1hz_with_the_mode_and_a_vehicle_type():
    fsw, bus, clock = make()
    step(fsw, clock, 30)
    beats = bus.of_type("HEARTBEAT")
    assert len(beats) == 3
    beat = beats[-1]
    assert beat.custom_mode == int(Mode.SAFE)
    assert beat.base_mode & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
    assert beat.type not in (mavlink.MAV_TYPE_GCS, mavlink.MAV_TYPE_GENERIC)
    assert beat.autopilot != mavlink.MAV_AUTOPILOT_INVALID  # a vehicle, not a ground tool


def test_do_set_mode_as_mavproxy_sends_it_changes_mode_and_acks():
    fsw, bus, clock = make()
    bus.push(long(mavlink.MAV_CMD_DO_SET_MODE, mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED,
                  int(Mode.STANDBY)))
    step(fsw, clock)
    assert fsw.modes.current == Mode.STANDBY
    assert ack_for(bus, mavlink.MAV_CMD_DO_SET_MODE).result == mavlink.MAV_RESULT_ACCEPTED
    assert ack_for(bus, mavlink.MAV_CMD_DO_SET_MODE).target_system == GROUND_SYSTEM_ID


def test_the_set_mode_message_is_a_mode_command_too():
    fsw, bus, clock = make()
    bus.push(mavlink.MAVLink_set_mode_message(1, mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED,
                                              int(Mode.STANDBY)))
    step(fsw, clock)
    assert fsw.modes.current == Mode.STANDBY
    assert ack_for(bus, mavlink.MAV_CMD_DO_SET_MODE).result == mavlink.MAV_RESULT_ACCEPTED


def test_command_int_goes_through_the_one_dispatcher():
    fsw, bus, clock = make()
    hover(fsw)
    bus.push(mavlink.MAVLink_command_int_message(
        1, 1, 0, mavlink.PROBE_CMD_SET_HOVER_POINT, 0, 0, 0.0, 1200.0, 300.0, 0, 0, 0, 0))
    step(fsw, clock)
    ack = ack_for(bus, mavlink.PROBE_CMD_SET_HOVER_POINT)
    assert CommandResult.from_ack(ack) == CommandResult.ACCEPTED
    assert fsw.control.guidance.target_bf_m == (0.0, 1200.0, 300.0)
    bus.push(mavlink.MAVLink_command_int_message(
        1, 1, 0, mavlink.PROBE_CMD_SET_HOVER_POINT, 0, 0, 10.0, 0, 0, 0, 0, 0, 0))
    step(fsw, clock)
    assert ack_for(bus, mavlink.PROBE_CMD_SET_HOVER_POINT).result == mavlink.MAV_RESULT_DENIED


@pytest.mark.parametrize("cmd_id", sorted(BY_ID))
def test_every_command_of_the_table_is_acknowledged(cmd_id):
    fsw, bus, clock = make()
    cmd = BY_ID[cmd_id]
    args = ("HOVER",) if cmd.name == "SET_MODE" else tuple(
        a.default if a.default is not None else (a.low if a.low is not None else
                                                 (a.choices[0] if a.choices else 1.0))
        for a in cmd.args)
    if cmd.name == "SET_HOVER_POINT":
        args = (0.0, 1200.0, 300.0)
    bus.push(command_message(cmd.name, args))
    step(fsw, clock)
    ack = ack_for(bus, cmd_id)
    assert ack.target_system == GROUND_SYSTEM_ID
    assert CommandResult.from_ack(ack) in set(CommandResult)


def test_autopilot_version_on_both_requests():
    fsw, bus, clock = make()
    bus.push(long(mavlink.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES, 1))
    bus.push(long(mavlink.MAV_CMD_REQUEST_MESSAGE, MSG["AUTOPILOT_VERSION"]))
    step(fsw, clock)
    versions = bus.of_type("AUTOPILOT_VERSION")
    assert len(versions) == 2
    assert versions[0].capabilities & mavlink.MAV_PROTOCOL_CAPABILITY_MAVLINK2
    assert versions[0].capabilities & mavlink.MAV_PROTOCOL_CAPABILITY_PARAM_ENCODE_C_CAST
    assert ack_for(bus, mavlink.MAV_CMD_REQUEST_MESSAGE).result == mavlink.MAV_RESULT_ACCEPTED


def test_request_message_of_a_periodic_message_and_of_an_unknown_one():
    fsw, bus, clock = make()
    step(fsw, clock, 2)
    before = len(bus.of_type("SYS_STATUS"))
    bus.push(long(mavlink.MAV_CMD_REQUEST_MESSAGE, MSG["SYS_STATUS"]))
    step(fsw, clock)
    assert len(bus.of_type("SYS_STATUS")) == before + 1
    bus.push(long(mavlink.MAV_CMD_REQUEST_MESSAGE, 4242))
    step(fsw, clock)
    assert ack_for(bus, mavlink.MAV_CMD_REQUEST_MESSAGE).result == mavlink.MAV_RESULT_DENIED


def test_timesync_is_answered_with_the_flight_clock_in_ns():
    fsw, bus, clock = make()
    step(fsw, clock, 5)
    bus.push(mavlink.MAVLink_timesync_message(0, 123456789))
    bus.push(mavlink.MAVLink_timesync_message(99, 5))  # an answer: not for us to answer
    t_us = clock.now_us()
    step(fsw, clock)
    (reply,) = bus.of_type("TIMESYNC")
    assert (reply.tc1, reply.ts1) == (t_us * 1000, 123456789)


def test_sys_status_at_1hz():
    fsw, bus, clock = make()
    step(fsw, clock, 20)
    status = bus.of_type("SYS_STATUS")
    assert len(status) == 2
    assert status[-1].onboard_control_sensors_present & mavlink.MAV_SYS_STATUS_SENSOR_3D_GYRO
    assert status[-1].onboard_control_sensors_health == \
        status[-1].onboard_control_sensors_present


def test_message_interval_set_get_stop_default_and_refused():
    fsw, bus, clock = make()
    sys_status = MSG["SYS_STATUS"]
    bus.push(long(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, sys_status, 5_000_000))
    bus.push(long(mavlink.MAV_CMD_GET_MESSAGE_INTERVAL, sys_status))
    step(fsw, clock)
    assert ack_for(bus, mavlink.MAV_CMD_SET_MESSAGE_INTERVAL).result == \
        mavlink.MAV_RESULT_ACCEPTED
    assert bus.of_type("MESSAGE_INTERVAL")[-1].interval_us == 5_000_000
    first = len(bus.of_type("SYS_STATUS"))
    step(fsw, clock, 100)  # 10 s: two more at 0.2 Hz
    assert len(bus.of_type("SYS_STATUS")) - first == 2

    bus.push(long(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, sys_status, -1))
    step(fsw, clock)
    stopped = len(bus.of_type("SYS_STATUS"))
    step(fsw, clock, 30)
    assert len(bus.of_type("SYS_STATUS")) == stopped

    bus.push(long(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, sys_status, 0))  # default: 1 Hz
    bus.push(long(mavlink.MAV_CMD_GET_MESSAGE_INTERVAL, sys_status))
    step(fsw, clock, 30)
    assert bus.of_type("MESSAGE_INTERVAL")[-1].interval_us == 1_000_000
    assert len(bus.of_type("SYS_STATUS")) - stopped == 3

    # A message the table does not have: DENIED, nothing changes; GET says 0.
    bus.push(long(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, 4242, 1_000_000))
    bus.push(long(mavlink.MAV_CMD_GET_MESSAGE_INTERVAL, 4242))
    step(fsw, clock)
    assert ack_for(bus, mavlink.MAV_CMD_SET_MESSAGE_INTERVAL).result == \
        mavlink.MAV_RESULT_DENIED
    assert bus.of_type("MESSAGE_INTERVAL")[-1].interval_us == 0
    # 10 Hz, the control rate, is granted; faster is granted at 10 Hz, and said so.
    bus.push(long(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, sys_status, 100_000))
    step(fsw, clock)
    before = len(bus.of_type("SYS_STATUS"))
    step(fsw, clock, 10)
    assert len(bus.of_type("SYS_STATUS")) - before == 10
    bus.push(long(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, sys_status, 20_000))
    bus.push(long(mavlink.MAV_CMD_GET_MESSAGE_INTERVAL, sys_status))
    step(fsw, clock)
    assert bus.of_type("MESSAGE_INTERVAL")[-1].interval_us == 100_000


def test_param_request_list_every_parameter_once_with_count_and_index_over_cycles():
    fsw, bus, clock = make()
    bus.push(mavlink.MAVLink_param_request_list_message(1, 0))
    step(fsw, clock)
    first_cycle = len(bus.of_type("PARAM_VALUE"))
    assert 0 < first_cycle <= PARAMS_PER_CYCLE
    step(fsw, clock, 10)
    values = bus.of_type("PARAM_VALUE")
    names = fsw.params.names
    assert [v.param_id for v in values] == names
    assert [v.param_index for v in values] == list(range(len(names)))
    assert {v.param_count for v in values} == {len(names)}


def test_param_read_by_name_and_index_and_set():
    fsw, bus, clock = make()
    index = fsw.params.index("FP_GROUND_HB_S")
    bus.push(mavlink.MAVLink_param_request_read_message(1, 1, b"FP_GROUND_HB_S", -1))
    bus.push(mavlink.MAVLink_param_request_read_message(1, 1, b"", index))
    bus.push(mavlink.MAVLink_param_set_message(1, 1, b"FP_GROUND_HB_S", 20.0,
                                               mavlink.MAV_PARAM_TYPE_REAL32))
    step(fsw, clock)
    by_name, by_index, after_set = bus.of_type("PARAM_VALUE")
    assert by_name.param_id == by_index.param_id == "FP_GROUND_HB_S"
    assert by_name.param_index == index and by_name.param_count == len(fsw.params)
    assert after_set.param_value == 20.0 and fsw.params.get("FP_GROUND_HB_S") == 20.0


# -- the guard in front of all of it -------------------------------------------------
def test_mis_addressed_commands_are_ignored_with_or_without_signing():
    for key in (None, KEY):
        fsw, bus, clock = make(key)
        bus.push(long(mavlink.MAV_CMD_DO_SET_MODE, 1, int(Mode.STANDBY), target=(7, 1)), key=key)
        bus.push(long(mavlink.MAV_CMD_DO_SET_MODE, 1, int(Mode.STANDBY), target=(1, 50)),
                 key=key)
        step(fsw, clock)
        assert fsw.modes.current == Mode.SAFE
        assert not bus.of_type("COMMAND_ACK")


def test_with_signing_only_signed_ground_frames_are_obeyed():
    fsw, bus, clock = make(KEY)
    obey = long(mavlink.MAV_CMD_DO_SET_MODE, 1, int(Mode.STANDBY))
    bus.push(obey)  # unsigned
    bus.push(obey, key=bytes(32 * [9]))  # wrong key
    bus.push(obey, key=KEY, system=66)  # from elsewhere
    bus.push(mavlink.MAVLink_param_set_message(1, 1, b"FP_ENABLE", 0.0,
                                               mavlink.MAV_PARAM_TYPE_UINT8))
    bus.push(mavlink.MAVLink_heartbeat_message(6, 8, 0, 0, 0, 3))  # unsigned HEARTBEAT: fine
    step(fsw, clock, 10)
    assert fsw.modes.current == Mode.SAFE and fsw.params.get("FP_ENABLE") is True
    assert not bus.of_type("COMMAND_ACK")
    (status,) = bus.of_type("PROBE_LINK_STATUS")[-1:]
    assert (status.rejected_unsigned, status.rejected_bad_signature,
            status.rejected_wrong_source, status.admitted) == (2, 1, 1, 1)
    bus.push(obey, key=KEY)
    step(fsw, clock)
    assert fsw.modes.current == Mode.STANDBY


def test_the_link_monitor_trips_when_the_ground_heartbeat_stops():
    fsw, bus, clock = make()
    fsw.commands.dispatch(mavlink.PROBE_CMD_MONITOR_ENABLE, (int(MonitorId.LINK), 1))
    bus.push(mavlink.MAVLink_heartbeat_message(6, 8, 0, 0, 0, 3))
    step(fsw, clock, 50)
    assert not fsw.fault_protection.bank.is_tripped(MonitorId.LINK)
    step(fsw, clock, 100)  # 15 s of silence > FP_GROUND_HB_S (10 s)
    assert fsw.fault_protection.bank.is_tripped(MonitorId.LINK)
    assert any("ground HEARTBEAT silent" in e.text for e in fsw.events.recent)
    assert fsw.modes.current == Mode.SAFE  # LOG only: nothing else happens


def test_a_replay_with_the_same_key_re_judges_every_recorded_frame_alike():
    """The guard sits after the recorder and reads no wall clock: the recorded inbound
    frames, fed again to a flight software with the same key, give the same outbound
    bytes (the same admissions, rejections and counts)."""
    def fly(key, inbound_frames=None):
        bus, clock = GroundBus(), SimClock()
        records = []
        fsw = FlightSoftware(CONFIG, bus, clock, signing_key=key,
                             record=lambda t, raw: records.append((t, bytes(raw))))
        script = [
            lambda: bus.push(long(mavlink.MAV_CMD_DO_SET_MODE, 1, int(Mode.STANDBY))),
            lambda: bus.push(long(mavlink.MAV_CMD_DO_SET_MODE, 1, int(Mode.STANDBY)), key=KEY),
            lambda: bus.push(mavlink.MAVLink_heartbeat_message(6, 8, 0, 0, 0, 3)),
            lambda: bus.push(long(mavlink.MAV_CMD_DO_SET_MODE, 1, int(Mode.HOVER)),
                             key=bytes(32)),
        ]
        for frame in range(40):
            if inbound_frames is None:
                if frame % 10 == 0:
                    script[frame // 10]()
            else:
                bus.inbox = [bus.rx.decode(bytearray(raw)) for raw in inbound_frames.get(frame, [])]
            fsw.run_frame()
            clock.advance_by_us(100_000)
        return records

    live = fly(KEY)
    inbound = {}
    for t_us, raw in live:
        if raw[5] != 1:  # not sent by the probe (system id byte of a MAVLink 2 frame)
            inbound.setdefault(t_us // 100_000, []).append(raw)
    replayed = fly(KEY, inbound)
    assert replayed == live
    assert fly(bytes(range(32)), inbound) != live  # another key: other verdicts
