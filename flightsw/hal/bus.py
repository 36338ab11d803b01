"""The Bus seam: the only way messages reach or leave the flight software.

A Bus backend is tiny (like an HTTP transport): `send` one packed ICD message,
`poll` the decoded messages that arrived since the last poll.  Backends:
SimBus (the simulator, same process), SerialBus (a devboard over pyserial),
ReplayBus (a recorded .tlog).  Everything above the backend (recording,
routing to drivers) lives in BusPort and is the same for all of them.

Messages are instances of the mavgen-generated classes; each carries the exact
bytes that crossed the link (`get_msgbuf()`), which is what the recorder logs.
"""

from collections.abc import Callable
from typing import Protocol

from flightsw.hal.mavlink_signing import redacted_for_log
from flightsw.icd import FLIGHT_COMPONENT_ID, FLIGHT_SYSTEM_ID, mavlink, new_codec


class Bus(Protocol):
    def send(self, msg: "mavlink.MAVLink_message") -> None:
        """Hand one packed message (get_msgbuf() valid) to the link."""

    def poll(self) -> list["mavlink.MAVLink_message"]:
        """Decoded messages received since the previous poll, in arrival order."""


RecordFn = Callable[[int, bytes], None]
_SETUP_SIGNING_ID = mavlink.MAVLINK_MSG_ID_SETUP_SIGNING
GateFn = Callable[["mavlink.MAVLink_message"], bool]


class BusPort:
    """The flight software's end of the Bus: packs, records and routes.

    Every message that crosses in either direction goes to `record(t_us, raw)`
    so the flight log holds everything needed to re-run the flight (a
    SETUP_SIGNING with its key zeroed: a secret never reaches the log).
    `gate(msg) -> bool` (the uplink guard) is asked about every received
    message after it is recorded and before it is routed: a message it refuses
    reaches no subscriber.  Recording first lets a replay re-judge every frame.
    """

    def __init__(self, bus: Bus, now_us: Callable[[], int], record: RecordFn | None = None,
                 gate: GateFn | None = None):
        self._bus = bus
        self.gate = gate
        self._now_us = now_us
        self._record = record
        self._codec = new_codec(FLIGHT_SYSTEM_ID, FLIGHT_COMPONENT_ID)
        self._handlers: dict[str, list[Callable]] = {}
        self.sent_count = 0
        self.received_count = 0
        self.unhandled_count = 0
        self.gated_count = 0

    def subscribe(self, msg_type: str, handler: Callable[["mavlink.MAVLink_message"], None]):
        """Call handler(msg) for every received message of this type (e.g. 'HIGHRES_IMU')."""
        self._handlers.setdefault(msg_type, []).append(handler)

    def send(self, msg: "mavlink.MAVLink_message") -> None:
        codec = self._codec
        raw = msg.pack(codec)
        # pack() stamps the sequence number but, unlike MAVLink.send(), does not
        # advance it: advance it here so the far end can count lost frames.
        codec.seq = (codec.seq + 1) % 256
        if self._record is not None:
            self._record(self._now_us(), raw)
        self._bus.send(msg)
        self.sent_count += 1

    def pump(self) -> int:
        """Receive everything pending and route it to subscribers; returns count."""
        msgs = self._bus.poll()
        record = self._record
        now = self._now_us()
        handlers = self._handlers
        gate = self.gate
        for msg in msgs:
            if record is not None:
                # Only a SETUP_SIGNING carries a secret: the check stays off every other
                # message's path (this loop sees every sensor message).
                raw = msg.get_msgbuf()
                record(now, redacted_for_log(raw) if msg.id == _SETUP_SIGNING_ID else raw)
            if gate is not None and not gate(msg):
                self.gated_count += 1
                continue
            subs = handlers.get(msg.get_type())
            if subs:
                for handler in subs:
                    handler(msg)
            else:
                self.unhandled_count += 1
        self.received_count += len(msgs)
        return len(msgs)
