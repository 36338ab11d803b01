"""The `ground` fuzz target: what a hostile ground station can send (issue 21).

A case is a list of UDP datagrams and whether the uplink is signed.  The
datagrams carry the frames a ground station sends (HEARTBEAT, COMMAND_LONG,
COMMAND_INT, SET_MODE, the parameter protocol, SETUP_SIGNING), signed with the
probe's key, a wrong key or the key a SETUP_SIGNING installs, with timestamps
rising, repeated (replays), old or at the end of the 48-bit range; frames that
claim to be the probe or its devices; bits flipped, frames cut, garbage between
them and floods of frame markers, cut into datagrams anywhere.

They go through a real socket on 127.0.0.1 to a GroundLink (udpin), and what
it hands on to the UplinkGuard, as BusPort.pump does.  Besides "no exception,
no hang", the check holds the guard to its promises on every frame:

- the link drops frames claiming the probe's or a device's system id;
- the link's receive backlog stays within its bound, and drains;
- with a key: a frame admitted (a ground HEARTBEAT aside) verifies with the key
  in force, and its stream's timestamp is past every earlier one admitted;
- every admitted frame comes from the ground and is addressed to the probe;
- the key changes only on a SETUP_SIGNING that passed, to a non-zero key;
- no event names a key.
"""

from __future__ import annotations

import socket

MARKER_FLOOD = bytes([0xFD])
T0_10US = 400_000_000_000  # some time in 2016, in signing units
_POOL: list = []
_PORT: list[int] = []


def _keys():
    return bytes(range(100, 132)), bytes(range(200, 232)), bytes(range(7, 39))


def ground_frame_pool() -> list[tuple[str, bytes]]:
    """(kind, unsigned frame) a ground station (or an impostor) sends."""
    if _POOL:
        return _POOL
    from flightsw.icd import (
        FLIGHT_COMPONENT_ID,
        FLIGHT_SYSTEM_ID,
        GROUND_COMPONENT_ID,
        GROUND_SYSTEM_ID,
        WORLD_SYSTEM_ID,
        mavlink,
        new_codec,
    )
    from flightsw.icd.ground_commands import command_message

    probe = (FLIGHT_SYSTEM_ID, FLIGHT_COMPONENT_ID)
    _, _, new_key = _keys()
    msgs = [
        ("heartbeat", mavlink.MAVLink_heartbeat_message(
            mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID, 0, 0, 0, 3)),
        ("set_mode", command_message("SET_MODE", ("SAFE",))),
        ("set_param", command_message("SET_PARAM", ("FP_IMU_TMO_S", 1.0))),
        ("command_long", mavlink.MAVLink_command_long_message(
            *probe, mavlink.MAV_CMD_DO_SET_MODE, 0, 1.0, 2.0, 0, 0, 0, 0, 0)),
        ("command_int", mavlink.MAVLink_command_int_message(
            *probe, 0, mavlink.MAV_CMD_DO_SET_MODE, 0, 0, 1.0, 2.0, 0, 0, 0, 0, 0)),
        ("param_list", mavlink.MAVLink_param_request_list_message(*probe)),
        ("param_read", mavlink.MAVLink_param_request_read_message(*probe, b"FP_IMU_TMO_S", -1)),
        ("wrong_target", mavlink.MAVLink_command_long_message(
            FLIGHT_SYSTEM_ID + 7, 0, mavlink.MAV_CMD_DO_SET_MODE, 0, 1.0, 2.0, 0, 0, 0, 0, 0)),
        ("setup_signing", mavlink.MAVLink_setup_signing_message(
            *probe, list(new_key), T0_10US + 50)),
        ("setup_signing_zero", mavlink.MAVLink_setup_signing_message(
            *probe, [0] * 32, T0_10US + 50)),
    ]
    ground = new_codec(GROUND_SYSTEM_ID, GROUND_COMPONENT_ID)
    for kind, msg in msgs:
        _POOL.append((kind, msg.pack(ground)))
    # impostors: a device's id and the probe's own (the link drops both), a stranger's
    for kind, system in (("as_world", WORLD_SYSTEM_ID), ("as_probe", FLIGHT_SYSTEM_ID),
                         ("as_stranger", 77)):
        _POOL.append((kind, msgs[3][1].pack(new_codec(system, 190))))
    return _POOL


def gen_ground(d, gen_junk) -> tuple[list[bytes], bool]:
    """(datagrams, signed uplink)."""
    from flightsw.hal.mavlink_signing import TIMESTAMP_MAX, sign_frame

    keys = _keys()
    pool = ground_frame_pool()
    signed_uplink = d.int(0, 3) != 0
    timestamp, sent, parts = T0_10US, [], []
    for _ in range(d.int(1, 30)):
        pick = d.int(0, 9)
        if pick == 0:
            parts.append(gen_junk(d))
            continue
        if pick == 1 and sent:  # a replay of an earlier frame, byte for byte
            parts.append(d.choice(sent))
            continue
        _, raw = pool[d.int(0, len(pool) - 1)]
        if d.int(0, 4) != 0:
            key = keys[min(d.int(0, 5), 2) if d.bool() else 0]
            when = d.int(0, 5)
            if when == 0:
                stamp = max(0, timestamp - d.int(0, 20_000_000))  # old: before the window
            elif when == 1:
                stamp = TIMESTAMP_MAX - d.int(0, 2)
            else:
                timestamp += d.int(1, 1000)
                stamp = timestamp
            raw = sign_frame(raw, key, d.int(0, 2), min(stamp, TIMESTAMP_MAX))
        raw = bytearray(raw)
        if d.int(0, 5) == 0:
            raw[d.int(0, len(raw) - 1)] ^= 1 << d.int(0, 7)
        if d.int(0, 9) == 0:
            raw = raw[:d.int(0, len(raw))]
        sent.append(bytes(raw))
        parts.append(bytes(raw))
    if d.int(0, 5) == 0:
        parts.insert(d.int(0, len(parts)), MARKER_FLOOD * d.int(100, 3000))
    if d.bool():  # one frame or piece a datagram
        return parts, signed_uplink
    blob, datagrams, at = b"".join(parts), [], 0
    while at < len(blob):
        size = d.int(1, 1400)
        datagrams.append(blob[at:at + size])
        at += size
    return datagrams, signed_uplink


def _free_port() -> int:
    if not _PORT:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            _PORT.append(s.getsockname()[1])
    return _PORT[0]


class _Judge:
    """What the guard may admit, tracked beside it from the same frames."""

    def __init__(self, key):
        self.key = key
        self.streams: dict = {}

    def check(self, guard, msg, admitted: bool, changes_before: int) -> None:
        from flightsw.hal import mavlink_signing as signing
        from flightsw.icd import FLIGHT_COMPONENT_ID, FLIGHT_SYSTEM_ID, GROUND_SYSTEM_ID

        raw = bytes(msg.get_msgbuf())
        kind = msg.get_type()
        if guard.key_changes != changes_before:
            assert kind == "SETUP_SIGNING", f"the key changed on a {kind}"
            assert self.key is not None and signing.verify(raw, self.key), \
                "the key changed on a SETUP_SIGNING not signed with the key in force"
            assert any(msg.secret_key), "the key was set to zeros over the air"
            self._advance(msg, raw)
            self.key = bytes(msg.secret_key)
            return
        if not admitted:
            return
        assert msg.get_srcSystem() == GROUND_SYSTEM_ID, \
            f"admitted a {kind} from system {msg.get_srcSystem()}"
        assert getattr(msg, "target_system", FLIGHT_SYSTEM_ID) == FLIGHT_SYSTEM_ID and \
            getattr(msg, "target_component", 0) in (FLIGHT_COMPONENT_ID, 0), \
            f"admitted a {kind} addressed elsewhere"
        if self.key is None:
            return
        if kind == "HEARTBEAT" and signing.signature_fields(raw) is None:
            return
        assert signing.verify(raw, self.key), f"admitted a {kind} not signed with the key"
        self._advance(msg, raw)

    def _advance(self, msg, raw: bytes) -> None:
        from flightsw.hal import mavlink_signing as signing

        link_id, stamp, _ = signing.signature_fields(raw)
        stream = (msg.get_srcSystem(), msg.get_srcComponent(), link_id)
        assert stamp > self.streams.get(stream, -1), "admitted a replayed timestamp"
        self.streams[stream] = stamp


def check_ground(case, n: int, ws) -> None:
    from flightsw.components.uplink import UplinkGuard
    from flightsw.core.clock import SimClock
    from flightsw.core.events import EventLog
    from flightsw.core.params import ParamTable
    from flightsw.hal.ground_link import GroundLink
    from flightsw.hal.mavlink_stream import MAX_FRAME_LEN
    from flightsw.icd import FLIGHT_SYSTEM_ID, WORLD_SYSTEM_ID
    from flightsw.params_table import FLIGHT_PARAMS

    datagrams, signed_uplink = case
    key = _keys()[0] if signed_uplink else None
    clock = SimClock()
    events = EventLog(clock)
    guard = UplinkGuard(clock, ParamTable(FLIGHT_PARAMS), events, lambda msg: None,
                        signing_key=key)
    judge = _Judge(key)
    port = _free_port()
    link = GroundLink(f"udpin:127.0.0.1:{port}", key, 0, max_rx_bytes_per_poll=2048)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        def pump(msgs):
            for msg in msgs:
                assert msg.get_srcSystem() not in (WORLD_SYSTEM_ID, FLIGHT_SYSTEM_ID), \
                    "the link handed on a frame claiming the probe's or a device's id"
                changes = guard.key_changes
                judge.check(guard, msg, guard.admit(msg), changes)
            stats = link.stats()
            assert stats["rx_backlog_bytes"] <= 4 * link.max_rx_bytes_per_poll + MAX_FRAME_LEN, \
                "receive backlog past its bound"

        for datagram in datagrams:
            if datagram:
                sender.sendto(datagram, ("127.0.0.1", port))
            pump(link.poll())
            clock.advance_by_us(10_000)
        for _ in range(10_000):
            pump(link.poll())
            if not link.stats()["rx_backlog_bytes"]:
                break
        assert not link.stats()["rx_backlog_bytes"], "receive backlog never drained"
    finally:
        sender.close()
        link.close()
    secrets = [k.hex() for k in _keys()] + [repr(k) for k in _keys()]
    for event in events.recent:
        assert not any(s in event.line() for s in secrets), "an event names a key"
