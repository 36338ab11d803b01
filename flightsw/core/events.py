"""Events: the flight software's one-line messages to the ground.

An event is (mission time, severity, source, text). The EventLog keeps the
latest ones in a bounded ring (memory stays flat however long the flight),
counts them per severity since boot, sends each one down as MAVLink
STATUSTEXT through the injected Bus port, and hands it to sinks the runner
adds (for example the writer of events.log): the flight code itself never
touches a file.

STATUSTEXT carries at most 50 bytes of ASCII. Longer texts are split into
chunks that share a non-zero `id` and number themselves with `chunk_seq`, as
the MAVLink spec describes; the last chunk is recognised by the NUL that pads
it, so a text whose length is an exact multiple of 50 gets an empty
terminating chunk. Non-ASCII characters travel as '?' (pymavlink decodes the
field as ASCII), and so does NUL (it terminates the field); the ring keeps
the original text.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from flightsw.icd import mavlink

if TYPE_CHECKING:
    from flightsw.core.clock import Clock

STATUSTEXT_LEN_BYTES = 50
# chunk_seq is a uint8: a longer text is cut rather than wrapped around.
STATUSTEXT_MAX_CHUNKS = 256
# The id only links the chunks of one text; 0 means "single chunk".
_STATUSTEXT_ID_MAX = 0xFFFF


class Severity(IntEnum):
    """Event severity, numerically equal to MAV_SEVERITY (lower is worse)."""

    EMERGENCY = mavlink.MAV_SEVERITY_EMERGENCY
    ALERT = mavlink.MAV_SEVERITY_ALERT
    CRITICAL = mavlink.MAV_SEVERITY_CRITICAL
    ERROR = mavlink.MAV_SEVERITY_ERROR
    WARNING = mavlink.MAV_SEVERITY_WARNING
    NOTICE = mavlink.MAV_SEVERITY_NOTICE
    INFO = mavlink.MAV_SEVERITY_INFO
    DEBUG = mavlink.MAV_SEVERITY_DEBUG


@dataclass(frozen=True)
class Event:
    time_us: int
    severity: Severity
    source: str
    text: str

    def line(self) -> str:
        """The event as one line of events.log: time in seconds, severity, source, text."""
        return f"{self.time_us / 1e6:14.6f} {self.severity.name:<9} {self.source}: {self.text}"


def statustext_chunks(severity: int, text: str, chunk_id: int) -> list:
    """Split `text` into STATUSTEXT messages.

    A text of at most 50 bytes becomes one message with id 0. A longer one
    becomes chunks with id `chunk_id` (1..65535) and chunk_seq 0, 1, ...
    """
    # A NUL would end the text early at the receiver: send it as '?' too.
    raw = text.replace("\0", "?").encode("ascii", errors="replace")
    if len(raw) <= STATUSTEXT_LEN_BYTES:
        return [mavlink.MAVLink_statustext_message(int(severity), raw, 0, 0)]
    if not 1 <= chunk_id <= _STATUSTEXT_ID_MAX:
        raise ValueError(f"chunk_id must be in 1..{_STATUSTEXT_ID_MAX}, got {chunk_id}")
    raw = raw[: STATUSTEXT_LEN_BYTES * STATUSTEXT_MAX_CHUNKS]
    pieces = [
        raw[i : i + STATUSTEXT_LEN_BYTES] for i in range(0, len(raw), STATUSTEXT_LEN_BYTES)
    ]
    # A receiver knows the text ended when a chunk holds a NUL; a full last
    # chunk has none, so an empty one follows (unless chunk_seq would overflow).
    if len(pieces[-1]) == STATUSTEXT_LEN_BYTES and len(pieces) < STATUSTEXT_MAX_CHUNKS:
        pieces.append(b"")
    return [
        mavlink.MAVLink_statustext_message(int(severity), piece, chunk_id, seq)
        for seq, piece in enumerate(pieces)
    ]


class EventLog:
    """Bounded log of events; sends each as STATUSTEXT and to the sinks.

    `send` is the Bus port (`send(msg) -> None`), or None to keep events
    on board only. `capacity` bounds the ring of recent events.
    """

    def __init__(
        self,
        clock: Clock,
        send: Callable[[object], None] | None = None,
        capacity: int = 1000,
    ) -> None:
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ValueError(f"capacity must be a positive int, got {capacity!r}")
        self._clock = clock
        self._send = send
        self._ring: deque[Event] = deque(maxlen=capacity)
        self._counts = {severity: 0 for severity in Severity}
        self._sinks: list[Callable[[Event], None]] = []
        self._next_chunk_id = 1

    def add_sink(self, sink: Callable[[Event], None]) -> None:
        """Call `sink(event)` for every event from now on."""
        if not callable(sink):
            raise TypeError(f"sink must be callable, got {sink!r}")
        self._sinks.append(sink)

    def emit(self, severity: int, source: str, text: str) -> Event:
        severity = Severity(severity)  # ValueError names a bad severity
        if not isinstance(source, str) or not source:
            raise ValueError(f"source must be a non-empty str, got {source!r}")
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        event = Event(self._clock.now_us(), severity, source, text)
        self._ring.append(event)
        self._counts[severity] += 1
        if self._send is not None:
            msgs = statustext_chunks(severity, f"{source}: {text}", self._next_chunk_id)
            if msgs[0].id:  # the id was used: the next long text gets a fresh one
                self._next_chunk_id = self._next_chunk_id % _STATUSTEXT_ID_MAX + 1
            for msg in msgs:
                self._send(msg)
        for sink in self._sinks:
            sink(event)
        return event

    @property
    def recent(self) -> list[Event]:
        """The events still in the ring, oldest first."""
        return list(self._ring)

    @property
    def capacity(self) -> int:
        return self._ring.maxlen or 0

    def counts(self) -> dict[Severity, int]:
        """Events emitted per severity since construction (not bounded by the ring)."""
        return dict(self._counts)

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    @property
    def dropped(self) -> int:
        """Events that fell out of the ring."""
        return self.total - len(self._ring)
