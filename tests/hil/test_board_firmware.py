"""The firmware on the emulated STM32F405: boot and heartbeat, command round trips,
stimulus injection on USART2, time marks, garbage on both lines, reset."""

import random
import time

from flightsw.icd import GROUND_COMPONENT_ID, GROUND_SYSTEM_ID, mavlink, new_codec
from hil.stimulus import BOARD_SYSTEM_ID, CMD_LINE_NOISE

BOARD_COMPONENT = mavlink.MAV_COMP_ID_PERIPHERAL
FLIGHT = new_codec(1, 1)


def _collect(bus, seconds, want=None):
    """Messages received within `seconds` (or until want(msgs) is true)."""
    got = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        bus.service(0.01)
        got += bus.poll()
        if want is not None and want(got):
            break
    return got


def _of(msgs, kind, src=None):
    return [m for m in msgs if m.get_type() == kind
            and (src is None or (m.get_srcSystem(), m.get_srcComponent()) == src)]


def _command(target_component=BOARD_COMPONENT, command=mavlink.MAV_CMD_REQUEST_MESSAGE, *p):
    params = list(p) + [0.0] * (7 - len(p))
    return mavlink.MAVLink_command_long_message(BOARD_SYSTEM_ID, target_component, command, 0,
                                                *params)


def _send_flight(session, msg):
    msg.pack(FLIGHT)
    session.flight.send(msg)


def test_boots_and_sends_heartbeats_on_both_links(board_session):
    s = board_session
    s.drain()
    flight = _collect(s.flight, 1.0, lambda m: len(_of(m, "HEARTBEAT")) >= 5)
    stim = _collect(s.stim_bus, 1.0, lambda m: len(_of(m, "HEARTBEAT")) >= 2)
    beats = _of(flight, "HEARTBEAT", (BOARD_SYSTEM_ID, BOARD_COMPONENT))
    assert len(beats) >= 5
    assert beats[-1].type == mavlink.MAV_TYPE_ONBOARD_CONTROLLER
    assert beats[-1].system_status == mavlink.MAV_STATE_ACTIVE  # BOOT only for the first three
    assert _of(stim, "HEARTBEAT", (BOARD_SYSTEM_ID, BOARD_COMPONENT))
    # Consecutive sequence numbers: nothing lost on the way.
    seqs = [m.get_seq() for m in beats]
    assert all((b - a) % 256 == 1 for a, b in zip(seqs, seqs[1:], strict=False))


def test_every_timesync_request_is_answered_with_board_time(board_session):
    s = board_session
    s.flight.rtt_ns.clear()
    for _ in range(100):
        n = len(s.flight.rtt_ns)
        s.flight.request_timesync()
        for _ in range(500):
            s.flight.service(0.01)
            if len(s.flight.rtt_ns) > n:
                break
    assert len(s.flight.rtt_ns) == 100


def test_commands_to_the_board_are_acknowledged(board_session):
    s = board_session
    s.drain()
    _send_flight(s, _command(BOARD_COMPONENT, mavlink.MAV_CMD_REQUEST_MESSAGE,
                             float(mavlink.MAVLINK_MSG_ID_NAMED_VALUE_INT)))
    _send_flight(s, _command(BOARD_COMPONENT, mavlink.MAV_CMD_DO_SET_MODE, 1.0))
    _send_flight(s, _command(BOARD_COMPONENT, CMD_LINE_NOISE, 300.0, 10.0, 1.0))
    got = _collect(s.flight, 3.0, lambda m: len(_of(m, "COMMAND_ACK")) >= 3)
    acks = {(a.command, a.result) for a in _of(got, "COMMAND_ACK")}
    assert acks == {(mavlink.MAV_CMD_REQUEST_MESSAGE, mavlink.MAV_RESULT_ACCEPTED),
                    (mavlink.MAV_CMD_DO_SET_MODE, mavlink.MAV_RESULT_UNSUPPORTED),
                    (CMD_LINE_NOISE, mavlink.MAV_RESULT_DENIED)}
    assert all(a.target_system == 1 for a in _of(got, "COMMAND_ACK"))
    assert "f_rx_msg" in s.flight.board_stats  # the requested link statistics came


def test_a_heartbeat_from_the_flight_software_is_answered_and_counted(board_session):
    s = board_session
    s.drain()
    before = _board_stat(s, "host_hb")
    _send_flight(s, mavlink.MAVLink_heartbeat_message(0, 0, 0, 0, 0, 3))
    assert _board_stat(s, "host_hb", lambda v: v > before) == before + 1
    ground = _collect(s.stim_bus, 1.0, lambda m: bool(_of(m, "HEARTBEAT", (1, 1))))
    assert _of(ground, "HEARTBEAT", (1, 1))  # passed on towards the ground


def _board_stat(s, name, until=lambda value: True):
    """A link statistic of the board (asked for; the board also sends them every second)."""
    s.flight.board_stats.pop(name, None)
    _send_flight(s, _command(BOARD_COMPONENT, mavlink.MAV_CMD_REQUEST_MESSAGE,
                             float(mavlink.MAVLINK_MSG_ID_NAMED_VALUE_INT)))
    _collect(s.flight, 3.0, lambda m: name in s.flight.board_stats
             and until(s.flight.board_stats[name]))
    return s.flight.board_stats[name]


def test_sensor_stimulus_reaches_the_flight_link_as_the_boards_own(board_session):
    s = board_session
    s.drain()
    sent = [mavlink.MAVLink_highres_imu_message(1000 * i, 0.1 * i, -2.5, 9.75, 1e-4, -2e-4, 3e-4,
                                                0, 0, 0, 0, 0, 0, 21.5, 63, 0) for i in range(5)]
    star = mavlink.MAVLink_probe_star_tracker_message(4242, [0.5, 0.5, 0.5, 0.5], 2.4e-5, 1)
    for msg in sent + [star]:
        s.stim.send_device(msg)
    got = _collect(s.flight, 3.0, lambda m: bool(_of(m, "PROBE_STAR_TRACKER")))
    imu = _of(got, "HIGHRES_IMU")
    assert [(m.time_usec, m.xacc, m.zacc, m.zgyro, m.temperature) for m in imu] == [
        (m.time_usec, m.xacc, m.zacc, m.zgyro, m.temperature) for m in _decoded(sent)]
    assert {(m.get_srcSystem(), m.get_srcComponent()) for m in imu} == {(2, 1)}
    seqs = [m.get_seq() for m in imu]
    assert all((b - a) % 256 == 1 for a, b in zip(seqs, seqs[1:], strict=False))
    st, = _of(got, "PROBE_STAR_TRACKER")
    assert (st.time_usec, list(st.q_i_to_sc), st.valid) == (4242, [0.5, 0.5, 0.5, 0.5], 1)


def _decoded(msgs):
    codec = new_codec(3, 1)
    return [codec.decode(bytearray(m.pack(codec))) for m in msgs]


def test_actuator_commands_and_telemetry_reach_the_simulator(board_session):
    s = board_session
    s.drain()
    wheel = mavlink.MAVLink_probe_wheel_cmd_message(77, [0.01, -0.02, 0.03, -0.04])
    thr = mavlink.MAVLink_probe_thruster_cmd_message(78, [0.01] * 8, 0.1)
    status = mavlink.MAVLink_statustext_message(mavlink.MAV_SEVERITY_INFO, b"hello ground", 0, 0)
    for msg in (wheel, thr, status):
        _send_flight(s, msg)
    got = _collect(s.stim_bus, 3.0, lambda m: bool(_of(m, "STATUSTEXT")))
    w, = _of(got, "PROBE_WHEEL_CMD")
    assert (w.time_usec, list(w.torque_nm)) == (77, list(_decoded([wheel])[0].torque_nm))
    assert (w.get_srcSystem(), w.get_srcComponent()) == (2, 1)  # reported by the board
    t, = _of(got, "PROBE_THRUSTER_CMD")
    assert t.time_usec == 78
    text, = _of(got, "STATUSTEXT")
    assert bytes(text.get_msgbuf()) == bytes(status.get_msgbuf())  # routed unchanged


def test_ground_commands_are_routed_unchanged(board_session):
    s = board_session
    s.drain()
    cmd = mavlink.MAVLink_command_long_message(1, 1, mavlink.MAV_CMD_DO_SET_MODE, 0, 1.0, 2.0,
                                               0, 0, 0, 0, 0)
    s.stim.send_ground(cmd)
    got = _collect(s.flight, 3.0, lambda m: bool(_of(m, "COMMAND_LONG")))
    c, = _of(got, "COMMAND_LONG")
    assert (c.get_srcSystem(), c.get_srcComponent()) == (GROUND_SYSTEM_ID, GROUND_COMPONENT_ID)
    assert bytes(c.get_msgbuf()) == bytes(cmd.get_msgbuf())


def test_time_marks_follow_everything_sent_before_them(board_session):
    s = board_session
    s.drain()
    s.flight.release_on_mark = True
    try:
        for k in range(20):
            for i in range(3):
                s.stim.send_device(mavlink.MAVLink_highres_imu_message(
                    k * 10 + i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 63, 0))
            s.stim.send_time_mark(k)
            assert s.flight.wait_time_mark(k, timeout_s=3.0)
            frame = [m.time_usec for m in s.flight.poll() if m.get_type() == "HIGHRES_IMU"]
            assert frame == [k * 10, k * 10 + 1, k * 10 + 2]
            s.flight.send_time_mark(k)  # and back to the simulator
            assert s.stim_bus.wait_time_mark(k, timeout_s=3.0)
    finally:
        s.flight.release_on_mark = False


def test_garbage_on_both_lines_between_valid_traffic(board_session):
    """A short version of the 10-minute soak (bench/bench_hil.py --soak runs the long one)."""
    s = board_session
    s.drain()
    rng = random.Random(5)
    sent = 0
    for i in range(150):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        if i % 3 == 0:
            junk = bytes([0xFD, rng.randrange(256)]) + junk
        s.flight.send_raw(junk)
        s.stim_bus.send_raw(junk[::-1])
        s.stim.send_device(mavlink.MAVLink_highres_imu_message(
            500_000 + i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 63, 0))
        sent += 1
        s.flight.service(0.002)
    # A frame can wait inside a false candidate until that candidate's claimed length
    # has arrived; idle-line bytes complete it, and the frame is parsed again.
    got = []
    for _ in range(1000):  # until every queued frame has gone out
        s.stim_bus.poll()
        got += _collect(s.flight, 0.01)
        if not s.stim_bus.stats()["tx_backlog_bytes"]:
            break
    s.stim_bus.send_raw(bytes(300))
    for _ in range(500):
        s.stim_bus.poll()  # keeps the stimulus link's transmit buffer moving
        got += _collect(s.flight, 0.01)
        if len(_of(got, "HIGHRES_IMU")) >= sent:
            break
    imu = [m.time_usec for m in got if m.get_type() == "HIGHRES_IMU"]
    assert imu == [500_000 + i for i in range(sent)]  # the board's receiver lost none
    assert _board_stat(s, "s_rx_err", lambda v: v > 0) > 0
    # Still answering on both links afterwards.
    n = len(s.flight.rtt_ns)
    s.flight.request_timesync()
    _collect(s.flight, 3.0, lambda m: len(s.flight.rtt_ns) > n)
    assert len(s.flight.rtt_ns) > n


def test_line_noise_from_the_board_costs_the_flight_link_nothing(board_session):
    s = board_session
    s.drain()
    skipped = s.flight.stats()["rx_bytes_skipped"]
    _send_flight(s, _command(BOARD_COMPONENT, CMD_LINE_NOISE, 200.0, 10.0, 1.0))
    got = _collect(s.flight, 1.5)
    _send_flight(s, _command(BOARD_COMPONENT, CMD_LINE_NOISE, 0.0, 10.0, 1.0))
    got += _collect(s.flight, 0.5)
    board = [m.get_seq() for m in got
             if (m.get_srcSystem(), m.get_srcComponent()) == (BOARD_SYSTEM_ID, BOARD_COMPONENT)]
    assert len(board) >= 10  # heartbeats and acknowledgements, every one of them
    assert all((b - a) % 256 == 1 for a, b in zip(board, board[1:], strict=False))
    assert s.flight.stats()["rx_bytes_skipped"] - skipped > 10_000


def test_reboot_command_resets_the_board(board_session):
    s = board_session
    s.drain()
    _send_flight(s, _command(BOARD_COMPONENT, mavlink.MAV_CMD_PREFLIGHT_REBOOT_SHUTDOWN, 1.0))
    got = _collect(s.flight, 3.0, lambda m: any(
        h.system_status == mavlink.MAV_STATE_BOOT for h in _of(m, "HEARTBEAT")))
    assert _of(got, "COMMAND_ACK")[0].result == mavlink.MAV_RESULT_ACCEPTED
    assert any(h.system_status == mavlink.MAV_STATE_BOOT for h in _of(got, "HEARTBEAT"))
    assert _board_stat(s, "f_rx_msg", lambda v: v >= 1) >= 1  # it answers after the reset
