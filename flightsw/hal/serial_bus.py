"""SerialBus: the flight software's Bus over a serial line.

The other end is a devboard on a UART (`/dev/ttyACM0`, `/dev/ttyUSB0`), the
emulated board behind a pseudo-terminal (`/dev/pts/N`, or a stable symlink to
it), or any pyserial URL (`socket://127.0.0.1:5760` for a TCP bridge).

- Framing: MAVLink 2 from the generated dialect, read through FrameReader
  (resynchronises within one frame after garbage).
- Bounded work and memory: `poll()` reads at most `max_rx_bytes_per_poll`
  bytes from the OS and parses at most twice that (at least 8 KiB), so a flood
  on the line cannot starve the scheduler.  Bytes read but not parsed yet wait
  in a receive backlog of at most `max_rx_backlog_bytes`; under a flood that
  parses slower than it arrives (garbage full of 0xFD markers), the oldest
  waiting bytes are dropped and counted (`rx_dropped_bytes` in `stats()`),
  so the backlog, and the delay it adds, stay bounded.
- Writes never block: frames wait in a bounded transmit buffer; when it is
  full (or the port is down) frames are dropped and counted.
- Link layer: messages from component MAV_COMP_ID_UART_BRIDGE are the link's
  own traffic (time marks for lockstep, TIMESYNC round trips, the board's
  link statistics); the bus consumes them and never hands them to the flight
  software, so they neither reach tasks nor the flight log.
- Health: per-source sequence numbers (frames lost; a jump back to 0 that
  would mean more than 128 lost is taken for a restart of the sender, a board
  reset, not a loss), time since the last
  valid frame (`link_ok` is False after `loss_timeout_s` of silence), and
  reconnection: when the device goes away (board unplugged, emulator killed)
  the port is closed and re-opened every `reopen_interval_s` until it is back.

Fault protection in the flight software does not read `link_ok` (that would
not replay from a log): it watches the board's heartbeats, which cross the
Bus and are recorded (see flightsw.hal.link_health).  `link_ok` is for hosts
and tools.
"""

from __future__ import annotations

import errno
import select
import time
from collections import deque
from collections.abc import Callable

import serial

from flightsw.hal.mavlink_stream import FrameReader
from flightsw.icd import FLIGHT_SYSTEM_ID, mavlink, new_codec

LINK_COMPONENT_ID = mavlink.MAV_COMP_ID_UART_BRIDGE  # link-layer traffic, either end
BOARD_COMPONENT_ID = mavlink.MAV_COMP_ID_PERIPHERAL  # the devboard as a component
_SYSTEM_TIME = mavlink.MAVLINK_MSG_ID_SYSTEM_TIME
_TIMESYNC = mavlink.MAVLINK_MSG_ID_TIMESYNC
_NAMED_VALUE_INT = mavlink.MAVLINK_MSG_ID_NAMED_VALUE_INT


class SerialLinkError(Exception):
    """A port that cannot be used; the text is one line naming the port."""


def _describe_open_error(port: str, exc: Exception) -> str:
    code = getattr(exc, "errno", None)
    if code == errno.ENOENT:
        return f"{port}: no such device"
    if code in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EBUSY):
        return f"{port}: busy (opened by another process)"
    if code == errno.EACCES:
        return f"{port}: permission denied"
    if code == errno.ECONNREFUSED:
        return f"{port}: connection refused"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{port}: cannot open: {text}"


class _Source:
    __slots__ = ("received", "lost", "restarts", "last_seq")

    def __init__(self, seq: int):
        self.received = 1
        self.lost = 0
        self.restarts = 0
        self.last_seq = seq


class SerialBus:
    """A Bus backend over pyserial; see the module doc.

    `open_serial(url)` returns an open pyserial object (injectable for tests).
    """

    def __init__(
        self,
        port: str,
        *,
        system_id: int = FLIGHT_SYSTEM_ID,
        baudrate: int = 115200,
        max_rx_bytes_per_poll: int = 4096,
        max_rx_backlog_bytes: int = 16384,
        max_tx_backlog_bytes: int = 65536,
        max_queue: int = 8192,
        loss_timeout_s: float = 0.3,
        reopen_interval_s: float = 0.1,
        release_on_mark: bool = False,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
        open_serial: Callable[[str], object] | None = None,
    ):
        if not isinstance(port, str) or not port:
            raise SerialLinkError(f"{port!r}: a serial port must be a device path or URL")
        if not isinstance(max_rx_bytes_per_poll, int) or max_rx_bytes_per_poll < 64:
            raise ValueError(f"max_rx_bytes_per_poll must be an int >= 64, "
                             f"got {max_rx_bytes_per_poll!r}")
        work_bytes = max(8192, 2 * max_rx_bytes_per_poll)
        if not isinstance(max_rx_backlog_bytes, int) or max_rx_backlog_bytes < work_bytes:
            raise ValueError(f"max_rx_backlog_bytes must be an int >= {work_bytes} (the "
                             f"parsing work of one poll), got {max_rx_backlog_bytes!r}")
        self.port = port
        self.baudrate = baudrate
        self.max_rx_bytes_per_poll = max_rx_bytes_per_poll
        self.max_rx_backlog_bytes = max_rx_backlog_bytes
        self.max_tx_backlog_bytes = max_tx_backlog_bytes
        self.max_queue = max_queue
        self.loss_timeout_ns = int(loss_timeout_s * 1e9)
        self.reopen_interval_ns = int(reopen_interval_s * 1e9)
        self.release_on_mark = release_on_mark
        self._now_ns = monotonic_ns
        self._open_serial = open_serial or self._default_open
        self._link_codec = new_codec(system_id, LINK_COMPONENT_ID)
        self._reader = FrameReader(max_work_bytes=work_bytes,
                                   max_backlog_bytes=max_rx_backlog_bytes)
        self._serial = None
        self._fileno = None
        self._tx = bytearray()
        self._queue: deque = deque()
        self._releasable = 0  # queued messages received before the last time mark
        self._next_reopen_ns = 0
        self._last_rx_ns: int | None = None
        self.sources: dict[tuple[int, int], _Source] = {}
        self.last_mark_us: int | None = None
        self.rtt_ns: deque[int] = deque(maxlen=100_000)
        self.board_stats: dict[str, int] = {}
        self.board_time_ms: int | None = None
        self.counters = dict(rx_bytes=0, tx_bytes=0, rx_msgs=0, tx_msgs=0, tx_dropped=0,
                             queue_dropped=0, link_msgs=0, marks=0, disconnects=0,
                             reconnects=0, reopen_attempts=0)
        self._open_or_raise()

    # -- opening and closing ------------------------------------------------------------------
    def _default_open(self, url: str):
        ser = serial.serial_for_url(url, do_not_open=True, baudrate=self.baudrate, timeout=0,
                                    write_timeout=0)
        if isinstance(ser, serial.Serial):  # a local device: refuse one already in use
            ser.exclusive = True
        ser.open()
        return ser

    def _open_or_raise(self) -> None:
        try:
            self._attach(self._open_serial(self.port))
        except (serial.SerialException, OSError, ValueError) as exc:
            raise SerialLinkError(_describe_open_error(self.port, exc)) from None

    def _attach(self, ser) -> None:
        self._serial = ser
        try:
            self._fileno = ser.fileno()
        except (AttributeError, OSError, NotImplementedError):
            self._fileno = None
        self._reader.reset()
        self._tx.clear()
        self.sources.clear()  # a device that comes back starts its sequences afresh

    @property
    def connected(self) -> bool:
        return self._serial is not None

    def close(self) -> None:
        """Close the port (idempotent); poll() will not re-open it."""
        self._drop_port()
        self._next_reopen_ns = None

    def _drop_port(self) -> None:
        ser, self._serial = self._serial, None
        self._fileno = None
        if ser is not None:
            try:
                ser.close()
            except (serial.SerialException, OSError):
                pass

    def _lost_port(self) -> None:
        self._drop_port()
        self.counters["disconnects"] += 1
        self._next_reopen_ns = self._now_ns() + self.reopen_interval_ns

    def _try_reopen(self) -> None:
        if self._next_reopen_ns is None or self._now_ns() < self._next_reopen_ns:
            return
        self.counters["reopen_attempts"] += 1
        try:
            self._attach(self._open_serial(self.port))
            self.counters["reconnects"] += 1
        except (serial.SerialException, OSError, ValueError):
            self._next_reopen_ns = self._now_ns() + self.reopen_interval_ns

    # -- the Bus protocol ---------------------------------------------------------------------
    def send(self, msg) -> None:
        """Queue one packed message for the line (never blocks; dropped when full or down)."""
        self._write(msg.get_msgbuf())

    def poll(self) -> list:
        """Messages received since the last poll (bounded work per call)."""
        if self._serial is None:
            self._try_reopen()
        if self._serial is not None:
            self._flush_tx()
            self._receive(self.max_rx_bytes_per_poll)
        return self._take_queue()

    def send_raw(self, data: bytes) -> None:
        """Bytes as they are, in order with the frames (noise injection in tests and benches)."""
        self._write(bytes(data))

    # -- link layer -----------------------------------------------------------------------------
    def send_link(self, msg) -> None:
        """A link-layer message (component MAV_COMP_ID_UART_BRIDGE) to the other end."""
        codec = self._link_codec
        raw = msg.pack(codec)
        codec.seq = (codec.seq + 1) % 256  # pack() alone does not advance it
        self._write(raw)

    def send_time_mark(self, time_us: int) -> None:
        """Lockstep: everything up to mission time `time_us` is sent (or consumed)."""
        self.send_link(mavlink.MAVLink_system_time_message(time_us, 0))

    def request_timesync(self) -> None:
        """Ask the other end for a TIMESYNC answer; the round trip lands in `rtt_ns`."""
        self.send_link(mavlink.MAVLink_timesync_message(0, self._now_ns()))

    def await_answer(self, timeout_s: float = 10.0, resend_every_s: float = 0.25) -> bool:
        """Send TIMESYNC requests until one is answered; False after timeout_s.

        A request is repeated because an emulator (QEMU's pty backend polls for a
        connected peer about once a second) or a board still booting can drop the first.
        """
        deadline = self._now_ns() + int(timeout_s * 1e9)
        while not self.rtt_ns:
            now = self._now_ns()
            if now >= deadline:
                return False
            self.request_timesync()
            resend_at = min(deadline, now + int(resend_every_s * 1e9))
            while not self.rtt_ns and self._now_ns() < resend_at:
                self.service((resend_at - self._now_ns()) / 1e9)
        return True

    def wait_time_mark(self, time_us: int, timeout_s: float) -> bool:
        """Receive until a time mark >= time_us has arrived; False after timeout_s."""
        deadline = self._now_ns() + int(timeout_s * 1e9)
        while self.last_mark_us is None or self.last_mark_us < time_us:
            left = deadline - self._now_ns()
            if left <= 0:
                return False
            self.service(left / 1e9)
        return True

    def service(self, timeout_s: float) -> int:
        """Wait up to timeout_s for bytes, then receive what is there; returns bytes read."""
        if self._serial is None:
            self._try_reopen()
            if self._serial is None:
                time.sleep(min(timeout_s, 0.01))
                return 0
        self._flush_tx()
        if self._fileno is not None and not self._reader.backlog:
            try:
                ready, _, _ = select.select([self._fileno], [], [], max(0.0, timeout_s))
            except (OSError, ValueError):
                ready = [True]
            if not ready:
                return 0
        # Read no more than the backlog has room for (at least one poll's worth): a burst
        # read in one piece must not push out bytes that were waiting.
        room = self.max_rx_backlog_bytes - self._reader.backlog
        return self._receive(max(room, self.max_rx_bytes_per_poll))

    # -- health ---------------------------------------------------------------------------------
    @property
    def link_ok(self) -> bool:
        """Port open and a valid frame received within loss_timeout_s."""
        if self._serial is None or self._last_rx_ns is None:
            return False
        return self._now_ns() - self._last_rx_ns <= self.loss_timeout_ns

    def silence_s(self) -> float | None:
        """Seconds since the last valid frame (None before the first)."""
        if self._last_rx_ns is None:
            return None
        return (self._now_ns() - self._last_rx_ns) / 1e9

    def discard_received(self) -> int:
        """Drop every received message not yet polled (before a run starts); returns the count."""
        n = len(self._queue)
        self._queue.clear()
        self._releasable = 0
        return n

    def reset_sources(self) -> None:
        """Forget the per-source sequence figures (a new run starts)."""
        self.sources.clear()

    def stats(self) -> dict:
        r = self._reader
        out = dict(self.counters)
        out.update(port=self.port, connected=self.connected, rx_frames_ok=r.frames_ok,
                   rx_bytes_skipped=r.bytes_skipped, rx_bad_candidates=r.bad_candidates,
                   rx_dropped_bytes=r.bytes_dropped, rx_backlog_bytes=r.backlog,
                   tx_backlog_bytes=len(self._tx))
        out["sources"] = {f"{s}/{c}": {"received": v.received, "lost": v.lost,
                                        "restarts": v.restarts}
                          for (s, c), v in sorted(self.sources.items())}
        out["frames_lost"] = sum(v.lost for v in self.sources.values())
        if self.board_stats:
            out["board"] = dict(self.board_stats, time_boot_ms=self.board_time_ms)
        return out

    # -- internals ------------------------------------------------------------------------------
    def _write(self, raw: bytes) -> None:
        if self._serial is None or len(self._tx) + len(raw) > self.max_tx_backlog_bytes:
            self.counters["tx_dropped"] += 1
            return
        self._tx += raw
        self.counters["tx_msgs"] += 1
        self._flush_tx()

    def _flush_tx(self) -> None:
        if not self._tx or self._serial is None:
            return
        try:
            if self._fileno is not None:
                _, writable, _ = select.select([], [self._fileno], [], 0)
                if not writable:
                    return
            n = self._serial.write(bytes(self._tx))
        except (serial.SerialException, OSError):
            self._lost_port()
            return
        n = len(self._tx) if n is None else n
        del self._tx[:n]
        self.counters["tx_bytes"] += n

    def _receive(self, max_bytes: int) -> int:
        try:
            data = self._serial.read(max_bytes)
        except (serial.SerialException, OSError):
            self._lost_port()
            return 0
        if data:
            self.counters["rx_bytes"] += len(data)
        msgs = self._reader.feed(data)
        if msgs:
            self._last_rx_ns = self._now_ns()
            for msg in msgs:
                self._dispatch(msg)
        return len(data)

    def _dispatch(self, msg) -> None:
        key = (msg.get_srcSystem(), msg.get_srcComponent())
        seq = msg.get_seq()
        src = self.sources.get(key)
        if src is None:
            self.sources[key] = _Source(seq)
        else:
            src.received += 1
            gap = (seq - src.last_seq - 1) & 0xFF
            if seq == src.last_seq:
                pass  # a sender that never advances its sequence tells nothing
            elif seq == 0 and gap > 128:
                src.restarts += 1  # the sender restarted (a board reset), nothing lost
            else:
                src.lost += gap
            src.last_seq = seq
        if key[1] == LINK_COMPONENT_ID:
            self._on_link_message(msg)
            return
        self.counters["rx_msgs"] += 1
        if len(self._queue) >= self.max_queue:
            self._queue.popleft()
            self._releasable = max(0, self._releasable - 1)
            self.counters["queue_dropped"] += 1
        self._queue.append(msg)

    def _on_link_message(self, msg) -> None:
        self.counters["link_msgs"] += 1
        msg_id = msg.get_msgId()
        if msg_id == _SYSTEM_TIME:
            self.last_mark_us = msg.time_unix_usec
            self.board_time_ms = msg.time_boot_ms
            self.counters["marks"] += 1
            self._releasable = len(self._queue)
        elif msg_id == _TIMESYNC:
            if msg.tc1 != 0:
                self.rtt_ns.append(self._now_ns() - msg.ts1)
        elif msg_id == _NAMED_VALUE_INT:
            self.board_stats[msg.name] = msg.value
            self.board_time_ms = msg.time_boot_ms

    def _take_queue(self) -> list:
        queue = self._queue
        n = self._releasable if self.release_on_mark else len(queue)
        if n >= len(queue):
            out = list(queue)
            queue.clear()
        else:
            out = [queue.popleft() for _ in range(n)]
        self._releasable = 0
        return out
