"""GroundLink against a pymavlink ground station on 127.0.0.1 (free ports, no timing figures).

Each waiting loop is bounded by a generous wall-clock deadline only so that a broken
link fails the test instead of hanging it; nothing asserts how fast anything is.
"""

import random
import socket
import threading
import time

import pytest
from pymavlink import mavutil

from flightsw.hal import mavlink_signing
from flightsw.hal.ground_endpoint import GroundLinkError, parse_endpoint
from flightsw.hal.ground_link import GroundLink
from flightsw.hal.mavlink_stream import FrameReader
from flightsw.icd import (
    FLIGHT_COMPONENT_ID,
    FLIGHT_SYSTEM_ID,
    GROUND_COMPONENT_ID,
    GROUND_SYSTEM_ID,
    WORLD_SYSTEM_ID,
    mavlink,
    new_codec,
)

DEADLINE_S = 30.0
KEY = bytes(range(32))


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ground_station(device: str, system_id: int = GROUND_SYSTEM_ID,
                   component_id: int = GROUND_COMPONENT_ID):
    """A pymavlink connection that speaks our dialect (MAVLink 2) from the start."""
    conn = mavutil.mavlink_connection(device, source_system=system_id,
                                      source_component=component_id)
    conn.first_byte = False  # keep our dialect: pymavlink would swap in its default one
    conn.mav = mavlink.MAVLink(conn, srcSystem=system_id, srcComponent=component_id)
    conn.mav.robust_parsing = True
    return conn


def flight_message(msg):
    """A flight message as BusPort hands it to a backend: packed by the flight's codec."""
    msg.pack(new_codec(FLIGHT_SYSTEM_ID, FLIGHT_COMPONENT_ID))
    return msg


def heartbeat():
    return flight_message(mavlink.MAVLink_heartbeat_message(
        mavlink.MAV_TYPE_GENERIC, mavlink.MAV_AUTOPILOT_GENERIC, 0, 0, 0, 3))


def command(cmd_id=mavlink.MAV_CMD_DO_SET_MODE):
    return mavlink.MAVLink_command_long_message(FLIGHT_SYSTEM_ID, FLIGHT_COMPONENT_ID, cmd_id,
                                                0, 1, 2, 0, 0, 0, 0, 0)


def wait_for(predicate, what: str):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.001)
    raise AssertionError(f"gave up waiting for {what}")


def link_receives(link, msg_type: str):
    got = []

    def step():
        got.extend(m for m in link.poll() if m.get_type() == msg_type)
        return got
    return wait_for(step, f"{msg_type} at the link")


def ground_receives(conn, msg_type: str):
    return wait_for(lambda: conn.recv_match(type=msg_type, blocking=False),
                    f"{msg_type} at the ground station")


@pytest.fixture
def tcpin_link():
    port = free_port()
    link = GroundLink(f"tcpin:127.0.0.1:{port}", None, 0)
    yield link, port
    link.close()


def connect_ground(link, port, **kwargs):
    conn = ground_station(f"tcp:127.0.0.1:{port}", **kwargs)
    wait_for(lambda: (link.poll(), link.connected)[1], "the link to accept")
    return conn


def test_tcpin_frames_both_ways(tcpin_link):
    link, port = tcpin_link
    assert not link.connected
    conn = connect_ground(link, port)
    try:
        link.send(heartbeat())
        beat = ground_receives(conn, "HEARTBEAT")
        assert (beat.get_srcSystem(), beat.get_srcComponent()) == (FLIGHT_SYSTEM_ID,
                                                                   FLIGHT_COMPONENT_ID)
        conn.mav.send(command())
        (cmd,) = link_receives(link, "COMMAND_LONG")
        assert cmd.command == mavlink.MAV_CMD_DO_SET_MODE and cmd.get_srcSystem() == 255
        stats = link.stats()
        assert stats["frames_in"] == 1 and stats["frames_out"] == 1
        assert stats["connected"] and stats["connections"] == 1
    finally:
        conn.close()


def test_the_link_numbers_its_own_frames(tcpin_link):
    """The ground counts losses by sequence number: this link's run 0, 1, 2 ... whatever
    the flight codec's numbers were (it also numbers the frames to the devices)."""
    link, port = tcpin_link
    conn = connect_ground(link, port)
    try:
        for seq in (7, 9, 200):
            msg = heartbeat()
            buf = bytearray(msg.get_msgbuf())
            buf[4] = seq
            msg._msgbuf = buf
            link.send(msg)
        seqs = [ground_receives(conn, "HEARTBEAT").get_seq() for _ in range(3)]
        assert seqs == [0, 1, 2]
    finally:
        conn.close()


def test_udpout_sends_to_a_listening_ground_station_and_hears_its_answer():
    port = free_port(socket.SOCK_DGRAM)
    conn = ground_station(f"udpin:127.0.0.1:{port}")
    link = GroundLink(f"udpout:127.0.0.1:{port}", None, 0)
    try:
        link.send(heartbeat())
        ground_receives(conn, "HEARTBEAT")
        conn.mav.send(command())  # to the address the heartbeat came from
        link_receives(link, "COMMAND_LONG")
        assert link.connected and link.stats()["frames_out"] == 1
    finally:
        link.close()
        conn.close()


def test_udpin_answers_whoever_sent_to_it():
    port = free_port(socket.SOCK_DGRAM)
    link = GroundLink(f"udpin:127.0.0.1:{port}", None, 0)
    conn = ground_station(f"udpout:127.0.0.1:{port}")
    try:
        link.send(heartbeat())  # nobody there yet: not queued
        assert link.stats()["dropped"]["tx_no_ground_station"] == 1
        conn.mav.send(command())
        link_receives(link, "COMMAND_LONG")
        link.send(heartbeat())
        ground_receives(conn, "HEARTBEAT")
    finally:
        link.close()
        conn.close()


def test_a_ground_station_that_reconnects_is_served_again(tcpin_link):
    link, port = tcpin_link
    first = connect_ground(link, port)
    first.close()
    wait_for(lambda: (link.poll(), not link.connected)[1], "the link to see the disconnect")
    second = connect_ground(link, port)
    try:
        link.send(heartbeat())
        ground_receives(second, "HEARTBEAT")
        second.mav.send(command())
        link_receives(link, "COMMAND_LONG")
        stats = link.stats()
        assert stats["connections"] == 2 and stats["disconnects"] == 1
    finally:
        second.close()


@pytest.mark.parametrize("system_id, reason", [(WORLD_SYSTEM_ID, "claims_world_system"),
                                               (FLIGHT_SYSTEM_ID, "claims_flight_system")])
def test_frames_that_claim_to_be_the_devices_or_the_probe_are_dropped(tcpin_link, system_id,
                                                                       reason):
    link, port = tcpin_link
    conn = connect_ground(link, port, system_id=system_id)
    try:
        conn.mav.send(command(mavlink.MAV_CMD_DO_SET_MODE))
        conn.mav.srcSystem = GROUND_SYSTEM_ID
        conn.mav.send(command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM))
        (cmd,) = link_receives(link, "COMMAND_LONG")
        assert cmd.command == mavlink.MAV_CMD_COMPONENT_ARM_DISARM
        assert link.stats()["dropped"][reason] == 1
    finally:
        conn.close()


def test_a_valid_frame_after_a_megabyte_of_garbage_arrives(tcpin_link):
    link, port = tcpin_link
    conn = connect_ground(link, port)
    garbage = random.Random(16).randbytes(1 << 20)
    frame = command().pack(new_codec(GROUND_SYSTEM_ID, GROUND_COMPONENT_ID))
    writer = threading.Thread(target=conn.port.sendall, args=(garbage + frame,), daemon=True)
    conn.port.setblocking(True)
    writer.start()
    try:
        polls = []

        def step():
            polls.append(link.poll())
            return [m for m in polls[-1] if m.get_type() == "COMMAND_LONG"]
        (cmd,) = wait_for(step, "the frame after the garbage")
        assert cmd.command == mavlink.MAV_CMD_DO_SET_MODE
        stats = link.stats()
        assert stats["bytes_in"] == len(garbage) + len(frame)
        # Bounded work: no poll took more than its share of the burst.
        assert len(polls) >= len(garbage) // link.max_rx_bytes_per_poll
    finally:
        writer.join(DEADLINE_S)
        conn.close()


def test_a_ground_station_that_does_not_read_costs_dropped_frames_never_a_block():
    port = free_port()
    link = GroundLink(f"tcpin:127.0.0.1:{port}", None, 0, max_tx_frames=16)
    conn = connect_ground(link, port)
    # Small socket buffers (loopback's grow to megabytes): the ground falls behind sooner.
    link._conn.port.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    conn.port.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        text = "x" * 50
        n_sent = 5000
        for i in range(n_sent):  # far more than the socket buffers hold
            link.send(flight_message(mavlink.MAVLink_statustext_message(6, text.encode(), i,
                                                                        0)))
        stats = link.stats()
        assert stats["dropped"]["tx_queue_full"] > 0
        assert stats["tx_queued_frames"] <= 16
        assert stats["frames_out"] + stats["dropped"]["tx_queue_full"] + \
            stats["tx_queued_frames"] == n_sent
        # What did go out is whole frames: the stream stays framed across partial writes.
        conn.port.setblocking(True)
        conn.port.settimeout(0.5)
        reader, frames, data = FrameReader(), [], b""
        try:
            while True:
                data = conn.port.recv(1 << 16)
                if not data:
                    break
                frames += reader.feed(data)
                link.poll()  # lets the link write the rest of its queue
        except TimeoutError:
            pass
        assert len(frames) == stats["frames_out"] + stats["tx_queued_frames"]
        assert reader.bytes_skipped == 0
        ids = [f.id for f in frames]
        assert ids == sorted(ids) and ids[-1] == n_sent - 1  # oldest dropped, newest kept
    finally:
        conn.close()
        link.close()


def test_a_signed_link_signs_every_frame_with_rising_timestamps():
    wall = iter([1.7e9, 1.7e9, 1.6e9])  # the wall clock steps back: stamps still rise
    port = free_port()
    link = GroundLink(f"tcpin:127.0.0.1:{port}", KEY, 3, wall_time_s=lambda: next(wall))
    conn = connect_ground(link, port)
    try:
        stamps = []
        for _ in range(3):
            link.send(heartbeat())
            raw = bytes(ground_receives(conn, "HEARTBEAT").get_msgbuf())
            assert mavlink_signing.verify(raw, KEY)
            link_id, stamp, _ = mavlink_signing.signature_fields(raw)
            assert link_id == 3
            stamps.append(stamp)
        assert stamps[0] == mavlink_signing.wall_timestamp_10us(1.7e9)
        assert stamps[0] < stamps[1] < stamps[2]
        assert KEY.hex() not in repr(link) and "KEY" not in str(link.stats())
    finally:
        conn.close()
        link.close()


def test_a_key_changed_over_the_air_signs_the_downlink_from_then_on():
    """UplinkGuard.key_listeners -> set_signing_key: the ground, which set the new key,
    must be able to check what the probe sends next; the old key no longer verifies."""
    new_key = bytes(range(100, 132))
    assert new_key != KEY
    port = free_port()
    link = GroundLink(f"tcpin:127.0.0.1:{port}", KEY, 1)
    conn = connect_ground(link, port)
    try:
        link.send(heartbeat())
        assert mavlink_signing.verify(bytes(ground_receives(conn, "HEARTBEAT").get_msgbuf()),
                                      KEY)
        link.set_signing_key(new_key)
        link.send(heartbeat())
        raw = bytes(ground_receives(conn, "HEARTBEAT").get_msgbuf())
        assert mavlink_signing.verify(raw, new_key) and not mavlink_signing.verify(raw, KEY)
        assert new_key.hex() not in repr(link)
    finally:
        conn.close()
        link.close()


@pytest.mark.parametrize("text, what", [
    ("serial:/dev/ttyUSB0", "not a supported ground connection kind"),
    ("/dev/ttyUSB0", "not a ground connection"),
    ("udpbcast:127.0.0.1:14550", "not a supported"),
    ("tcpin:127.0.0.1:port", "is not a number"),
    ("tcpin:127.0.0.1:70000", "out of range"),
    ("tcpin:127.0.0.1:0", "out of range"),
    ("tcpin:[::1]:5760", "IPv6"),
])
def test_a_connection_string_that_is_no_ground_link_is_refused(text, what):
    with pytest.raises(GroundLinkError) as info:
        GroundLink(text)
    assert what in str(info.value) and text in str(info.value)
    assert "\n" not in str(info.value)


def test_no_address_means_127_0_0_1():
    assert parse_endpoint("tcpin:5760").host == "127.0.0.1"
    assert parse_endpoint("udpin::14550").host == "127.0.0.1"
    assert parse_endpoint("udpout:10.0.0.2:14550").host == "10.0.0.2"


@pytest.mark.parametrize("kind, sock_kind", [("tcpin", socket.SOCK_STREAM),
                                             ("udpin", socket.SOCK_DGRAM),
                                             ("udp", socket.SOCK_DGRAM)])
def test_a_port_in_use_is_refused_by_name(kind, sock_kind):
    with socket.socket(socket.AF_INET, sock_kind) as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", 0))
        if sock_kind == socket.SOCK_STREAM:
            holder.listen(1)
        port = holder.getsockname()[1]
        with pytest.raises(GroundLinkError, match=f"port {port} on 127.0.0.1 is already in use"):
            GroundLink(f"{kind}:127.0.0.1:{port}")


def test_tcp_to_nobody_listening_is_refused_by_name():
    port = free_port()
    with pytest.raises(GroundLinkError, match="connection refused"):
        GroundLink(f"tcp:127.0.0.1:{port}")


def test_tcp_reconnects_to_a_ground_station_that_restarts():
    port = free_port()
    server = ground_station(f"tcpin:127.0.0.1:{port}")
    link = GroundLink(f"tcp:127.0.0.1:{port}", None, 0, reconnect_interval_s=0.0)
    try:
        link.send(heartbeat())
        ground_receives(server, "HEARTBEAT")
        server.close()
        wait_for(lambda: (link.poll(), not link.connected)[1], "the link to see the loss")
        server = ground_station(f"tcpin:127.0.0.1:{port}")
        wait_for(lambda: (link.poll(), link.connected)[1], "the link to reconnect")
        link.send(heartbeat())
        ground_receives(server, "HEARTBEAT")
        assert link.stats()["connections"] == 2
    finally:
        server.close()
        link.close()


def _mutated(rng, frame: bytes) -> bytes:
    """A frame as a bad line or a hostile sender leaves it: bits flipped, cut short, a
    lying length or bytes slipped in; any of them also followed by a stray frame marker."""
    data = bytearray(frame)
    kind = rng.randrange(4)
    if kind == 0:
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == 1:
        data = data[:rng.randrange(1, len(data))]
    elif kind == 2:
        data[1] = (data[1] + rng.randrange(1, 255)) & 0xFF  # a lying length byte
    else:  # bytes slipped in after the header: the checksum no longer matches
        at = rng.randrange(10, len(data))
        data[at:at] = rng.randbytes(rng.randrange(1, 40))
    if rng.random() < 0.3:
        data += b"\xfd"
    return bytes(data)


def test_soak_random_and_mutated_frames_leave_every_intact_frame_and_nothing_else(tcpin_link):
    """Intact COMMAND_LONGs (numbered in param1) among mutated copies and random bytes: all
    of them come out, in order; nothing else does (a mutation that still passes the
    checksum would have to collide a CRC-16: with this seed, none does)."""
    link, port = tcpin_link
    conn = connect_ground(link, port)
    rng = random.Random(1616)
    codec = new_codec(GROUND_SYSTEM_ID, GROUND_COMPONENT_ID)
    stream, n_intact = bytearray(), 2000
    for i in range(n_intact):
        frame = mavlink.MAVLink_command_long_message(
            1, 1, mavlink.MAV_CMD_DO_SET_MODE, 0, float(i), 0, 0, 0, 0, 0, 0).pack(codec)
        codec.seq = (codec.seq + 1) % 256
        for _ in range(rng.randrange(3)):
            stream += _mutated(rng, frame) if rng.random() < 0.7 else \
                rng.randbytes(rng.randrange(1, 300))
        stream += frame
    writer = threading.Thread(target=conn.port.sendall, args=(bytes(stream),), daemon=True)
    conn.port.setblocking(True)
    writer.start()
    try:
        got = []

        def step():
            got.extend(link.poll())
            return len(got) >= n_intact and not link.stats()["bytes_in"] < len(stream)
        wait_for(step, "every intact frame")
        for _ in range(50):  # and whatever might still be buffered
            got.extend(link.poll())
        assert [m.param1 for m in got] == [float(i) for i in range(n_intact)]
        assert {m.get_type() for m in got} == {"COMMAND_LONG"}
    finally:
        writer.join(DEADLINE_S)
        conn.close()
