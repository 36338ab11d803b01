"""GroundLink: a Bus backend to a ground station (MAVProxy, QGroundControl, a script).

Transport only.  The link moves MAVLink 2 frames between the flight software and
a ground station over TCP or UDP (flightsw/hal/ground_endpoint.py names the
connection kinds).  It does not judge signatures, replays or addresses: the
flight software's uplink guard does that for every frame that reaches it, so
the rule is the same on every link and in replay.  The link drops only what
no ground station may say at all: frames that claim to come from the probe
itself or from its devices (the world's system id), counted by reason.

Bounded and non-blocking, so the flight tasks never wait on the ground:

- `poll()` reads at most `max_rx_bytes_per_poll` bytes from the socket and
  parses them with FrameReader (resynchronises within one frame after garbage)
  for at most `parse_budget_s` of wall time: a flood costs a bounded slice of
  each cycle; the excess waits in the kernel (TCP flow control) or is dropped
  there (UDP), and unparsed bytes beyond a small backlog are dropped, oldest
  first, and counted.
- `send(msg)` restamps the flight's frame for this link (its own sequence
  numbers, so the ground station counts what this link lost), signs it when
  the link has a key, and queues it; the queue is written as far as the socket
  takes it at once.  When the ground station cannot keep up (a run at 600x real
  time), the oldest queued frames are dropped and counted: the ground sees the
  freshest telemetry.  With no ground station there (nobody connected yet),
  frames are not queued at all.
- A TCP ground station that disconnects is forgotten and the next one to
  connect is served (tcpin); a tcp: link to a listening ground station
  reconnects without blocking, every `reconnect_interval_s`.

Signing timestamps come from the wall clock (10 us units since 2015, strictly
increasing on this link), as the MAVLink signing specification asks of a
transmitter.  The key is held, never logged, formatted or returned.
"""

from __future__ import annotations

import errno
import select
import socket
import struct
import time
from collections import deque
from collections.abc import Callable

from flightsw.hal import mavlink_signing
from flightsw.hal.ground_endpoint import (
    GroundLinkError,
    open_connection,
    parse_endpoint,
)
from flightsw.hal.mavlink_stream import MAX_FRAME_LEN, FrameReader
from flightsw.icd import FLIGHT_SYSTEM_ID, WORLD_SYSTEM_ID, mavlink

__all__ = ["GroundLink", "GroundLinkError"]

_CRC_EXTRA = {msg_id: cls.crc_extra for msg_id, cls in mavlink.mavlink_map.items()}
_HEADER_LEN = 10
_TCP_WRITE_CHUNK_BYTES = 16384
# UDP has no connection: a ground station counts as there while it was heard lately.
_UDP_SILENCE_S = 5.0

DROP_REASONS = ("claims_world_system", "claims_flight_system", "tx_queue_full",
                "tx_no_ground_station", "tx_send_failed")


class GroundLink:
    """A Bus backend to one ground station; see the module doc."""

    def __init__(self, connection: str, signing_key: bytes | None = None, link_id: int = 0, *,
                 max_rx_bytes_per_poll: int = 2048, parse_budget_s: float = 0.001,
                 max_tx_frames: int = 2048,
                 reconnect_interval_s: float = 1.0,
                 wall_time_s: Callable[[], float] = time.time,
                 monotonic_s: Callable[[], float] = time.monotonic):
        if signing_key is not None and len(signing_key) != mavlink_signing.KEY_LEN:
            raise ValueError(f"signing_key: expected {mavlink_signing.KEY_LEN} bytes")
        if not isinstance(link_id, int) or not 0 <= link_id <= 255:
            raise ValueError(f"link_id: expected 0..255, got {link_id!r}")
        if not isinstance(max_rx_bytes_per_poll, int) or max_rx_bytes_per_poll < 64:
            raise ValueError(f"max_rx_bytes_per_poll: expected an int >= 64, "
                             f"got {max_rx_bytes_per_poll!r}")
        if not isinstance(max_tx_frames, int) or max_tx_frames < 1:
            raise ValueError(f"max_tx_frames: expected an int >= 1, got {max_tx_frames!r}")
        self.endpoint = parse_endpoint(connection)
        self._key = signing_key
        self.link_id = link_id
        self.max_rx_bytes_per_poll = max_rx_bytes_per_poll
        self.max_tx_frames = max_tx_frames
        self._reconnect_interval_s = reconnect_interval_s
        self._wall_time_s = wall_time_s
        self._monotonic_s = monotonic_s
        # Parsing is bounded in time as well as in bytes: garbage dense in frame markers
        # parses at a few us a byte (every marker is a candidate frame), so a byte budget
        # alone would let a hostile ground station take several ms of every cycle.  Parse
        # in steps of one frame's worth until the backlog is empty or the budget spent;
        # what is left waits (bounded: the oldest bytes are dropped, and counted).
        self._parse_budget_s = parse_budget_s
        self._reader = FrameReader(max_work_bytes=MAX_FRAME_LEN,
                                   max_backlog_bytes=max(4 * max_rx_bytes_per_poll,
                                                         MAX_FRAME_LEN))
        self._tx: deque[bytes] = deque()
        self._tx_partial = b""  # the unsent tail of a frame half-written to a TCP stream
        self._seq = 0
        self._last_timestamp_10us = 0
        self._last_heard_s: float | None = None
        self._connecting: socket.socket | None = None  # tcp: a reconnection under way
        self._next_connect_s = 0.0
        self.counters = dict(bytes_in=0, bytes_out=0, frames_in=0, frames_out=0,
                             connections=0, disconnects=0)
        self.dropped = dict.fromkeys(DROP_REASONS, 0)
        self._conn = open_connection(self.endpoint)
        if self.endpoint.kind == "tcp":
            self.counters["connections"] = 1

    # -- the Bus protocol ------------------------------------------------------------------
    def poll(self) -> list:
        """Frames from the ground station since the last poll (bounded work)."""
        if self._conn is None:
            return []
        if self.endpoint.is_tcp:
            data = self._receive_tcp()
        else:
            data = self._receive_udp()
        self._flush()
        msgs = self._parse(data)
        if not msgs:
            return msgs
        self._last_heard_s = self._monotonic_s()
        out = []
        for msg in msgs:
            source = msg.get_srcSystem()
            if source == WORLD_SYSTEM_ID:
                self.dropped["claims_world_system"] += 1  # a ground station posing as a device
            elif source == FLIGHT_SYSTEM_ID:
                self.dropped["claims_flight_system"] += 1  # ... or as the probe itself
            else:
                out.append(msg)
        self.counters["frames_in"] += len(out)
        return out

    def send(self, msg) -> None:
        """Queue one flight message for the ground station (never blocks)."""
        if not self._ground_present():
            self.dropped["tx_no_ground_station"] += 1
            return
        frame = self._frame_for_ground(msg.get_msgbuf())
        if len(self._tx) >= self.max_tx_frames:
            self._tx.popleft()
            self.dropped["tx_queue_full"] += 1
        self._tx.append(frame)
        self._flush()

    # -- host interface --------------------------------------------------------------------
    def set_signing_key(self, key: bytes) -> None:
        """Sign the downlink with a new key from now on: the flight software accepted a
        SETUP_SIGNING over the signed uplink (UplinkGuard.key_listeners)."""
        self._key = key

    @property
    def connected(self) -> bool:
        if self._conn is None:
            return False
        if self.endpoint.is_tcp:
            return self._conn.port is not None
        heard = self._last_heard_s
        return heard is not None and self._monotonic_s() - heard < _UDP_SILENCE_S

    def stats(self) -> dict:
        reader = self._reader
        return dict(self.counters, connection=self.endpoint.text, link_id=self.link_id,
                    signed=self._key is not None, connected=self.connected,
                    dropped=dict(self.dropped), tx_queued_frames=len(self._tx),
                    rx_backlog_bytes=reader.backlog,
                    rx_bytes_skipped=reader.bytes_skipped,
                    rx_bad_candidates=reader.bad_candidates,
                    rx_bytes_dropped=reader.bytes_dropped)

    def close(self) -> None:
        """Close the sockets (idempotent); the link is silent afterwards."""
        conn, self._conn = self._conn, None
        if self._connecting is not None:
            self._connecting.close()
            self._connecting = None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def __repr__(self) -> str:  # never the key
        return f"GroundLink({self.endpoint.text!r}, signed={self._key is not None})"

    # -- downlink --------------------------------------------------------------------------
    def _frame_for_ground(self, raw: bytes) -> bytes:
        """The flight's frame with this link's sequence number, signed if there is a key.

        The frame already carries the flight's system and component ids; only the
        sequence number (and so the checksum) is this link's own.
        """
        body = bytearray(raw[:_HEADER_LEN + raw[1]])
        body[4] = self._seq
        self._seq = (self._seq + 1) & 0xFF
        if self._key is not None:
            # sign_frame sets the signed flag and computes the checksum itself.
            return mavlink_signing.sign_frame(bytes(body) + b"\0\0", self._key, self.link_id,
                                              self._next_timestamp_10us())
        msg_id = body[7] | (body[8] << 8) | (body[9] << 16)
        crc = mavlink.x25crc(body[1:])
        crc.accumulate(struct.pack("<B", _CRC_EXTRA[msg_id]))
        return bytes(body) + struct.pack("<H", crc.crc)

    def _next_timestamp_10us(self) -> int:
        stamp = mavlink_signing.wall_timestamp_10us(self._wall_time_s())
        stamp = max(stamp, self._last_timestamp_10us + 1)  # strictly increasing
        self._last_timestamp_10us = stamp
        return stamp

    def _ground_present(self) -> bool:
        conn = self._conn
        if conn is None:
            return False
        kind = self.endpoint.kind
        if self.endpoint.is_tcp:
            return conn.port is not None
        if kind == "udpout":
            return True  # sends to where the ground station is said to listen
        return bool(conn.clients)  # udpin: whoever has sent to us

    def _flush(self) -> None:
        if not self._tx and not self._tx_partial:
            return
        if self.endpoint.is_tcp:
            self._flush_tcp()
            return
        conn, tx = self._conn, self._tx
        while tx:
            frame = tx.popleft()
            conn.write(frame)  # pymavlink's: a datagram, errors (no listener yet) ignored
            self.counters["bytes_out"] += len(frame)
            self.counters["frames_out"] += 1

    def _flush_tcp(self) -> None:
        """Write as much as the socket takes now; keep the rest, a partial frame first.

        Written on the socket itself: pymavlink's write drops the unsent tail of a
        partial send, which would cut a frame in two on the stream.
        """
        sock = self._conn.port if self._conn is not None else None
        if sock is None:
            return
        while self._tx_partial or self._tx:
            if self._tx_partial:
                chunk, frames = self._tx_partial, 0
            else:
                parts, size = [], 0
                while self._tx and size < _TCP_WRITE_CHUNK_BYTES:
                    parts.append(self._tx.popleft())
                    size += len(parts[-1])
                chunk, frames = b"".join(parts), len(parts)
            try:
                sent = sock.send(chunk)
            except BlockingIOError:
                sent = 0
            except OSError:
                self.dropped["tx_send_failed"] += frames
                self._lose_tcp_peer()
                return
            self.counters["bytes_out"] += sent
            self.counters["frames_out"] += frames
            self._tx_partial = chunk[sent:]
            if sent < len(chunk):
                return  # the socket is full: the rest waits for the next poll or send

    # -- uplink ----------------------------------------------------------------------------
    def _parse(self, data: bytes) -> list:
        reader, now = self._reader, self._monotonic_s
        msgs = reader.feed(data)
        if reader.backlog:
            deadline = now() + self._parse_budget_s
            while reader.backlog and now() < deadline:
                msgs += reader.feed()
        return msgs

    def _read_allowance(self) -> int:
        """Bytes to take from the socket now: no more than the parser has room for, so
        that a stream the link parses slower than it arrives waits in the kernel (TCP
        flow control slows the sender) instead of being dropped here."""
        reader = self._reader
        return min(self.max_rx_bytes_per_poll, reader.max_backlog_bytes - reader.backlog)

    def _receive_udp(self) -> bytes:
        conn, parts, size = self._conn, [], 0
        allowance = self._read_allowance()
        while size < allowance:
            data = conn.recv()  # pymavlink's: one datagram, b"" or "" when none
            if not data:
                break
            parts.append(data)
            size += len(data)
        self.counters["bytes_in"] += size
        return b"".join(parts)

    def _receive_tcp(self) -> bytes:
        conn = self._conn
        if conn.port is None:
            if self.endpoint.kind == "tcpin":
                conn.recv(0)  # pymavlink accepts a waiting ground station here
                if conn.port is None:
                    return b""
                self._on_tcp_peer()
            elif not self._reconnect_tcp():
                return b""
        sock = conn.port
        # Read only what is there: a readable socket that gives no bytes has been
        # closed by the ground station (pymavlink would return b"" for ever).
        try:
            readable = select.select([sock], [], [], 0)[0]
            allowance = self._read_allowance()
            data = sock.recv(allowance) if readable and allowance > 0 else b""
        except BlockingIOError:
            return b""
        except OSError:
            self._lose_tcp_peer()
            return b""
        if readable and allowance > 0 and not data:
            self._lose_tcp_peer()
            return b""
        self.counters["bytes_in"] += len(data)
        return data

    def _on_tcp_peer(self) -> None:
        """A new ground station on the stream: nothing of the previous one carries over."""
        self.counters["connections"] += 1
        self._reader.reset()
        self._tx.clear()
        self._tx_partial = b""

    def _lose_tcp_peer(self) -> None:
        conn = self._conn
        self.counters["disconnects"] += 1
        sock, conn.port = conn.port, None
        if sock is not None:
            sock.close()
        if self.endpoint.kind == "tcpin":
            conn.fd = conn.listen.fileno()  # pymavlink's own state after a lost peer
        self._next_connect_s = self._monotonic_s() + self._reconnect_interval_s
        self._tx.clear()
        self._tx_partial = b""

    def _reconnect_tcp(self) -> bool:
        """tcp: connect again to the ground station without blocking; True when connected."""
        sock = self._connecting
        if sock is None:
            if self._monotonic_s() < self._next_connect_s:
                return False
            self._next_connect_s = self._monotonic_s() + self._reconnect_interval_s
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            code = sock.connect_ex(self._conn.destination_addr)
            if code not in (0, errno.EINPROGRESS):
                sock.close()
                return False
            self._connecting = sock
        if not select.select([], [sock], [], 0)[1]:
            return False  # still connecting
        self._connecting = None
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
            sock.close()
            return False
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conn.port = sock
        self._conn.fd = sock.fileno()
        self._on_tcp_peer()
        return True
