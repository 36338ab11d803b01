"""ReplayBus: the flight software's Bus when the other end is a recorded flight.

It hands the flight software the inbound messages of a recording (sensors,
ground commands) at the mission times they were received, and keeps what the
software sends so that the host can compare it with what was recorded.  Each
inbound frame is decoded from its recorded bytes by the ICD codec, exactly as
SimBus and SerialBus decode theirs: the software sees the same objects, and
its recorder writes the same bytes again.

The bus knows nothing of files: it takes (mission time us, raw frame) pairs in
time order (see ground/replay.py for reading them from a .tlog).
"""

from collections.abc import Callable, Iterable

from flightsw.icd import WORLD_COMPONENT_ID, WORLD_SYSTEM_ID, mavlink, new_codec


class ReplayBus:
    def __init__(self, inbound: Iterable[tuple[int, bytes]], now_us: Callable[[], int]):
        self._inbound = iter(inbound)
        self._next = next(self._inbound, None)
        self._now_us = now_us
        self._codec = new_codec(WORLD_SYSTEM_ID, WORLD_COMPONENT_ID)
        self._sent: list = []
        self.delivered_count = 0
        self.undecodable_count = 0  # frames the codec refused (the reader passed only valid ones)

    @property
    def exhausted(self) -> bool:
        """Every recorded inbound message has been delivered."""
        return self._next is None

    @property
    def next_time_us(self) -> int | None:
        return None if self._next is None else self._next[0]

    # -- the host's side ---------------------------------------------------
    def take_sent(self) -> list:
        """What the flight software sent since the last call, in order."""
        out, self._sent = self._sent, []
        return out

    # -- the flight software's side (the Bus protocol) -------------------
    def send(self, msg) -> None:
        self._sent.append(msg)

    def poll(self) -> list:
        """The recorded inbound messages received up to now."""
        now = self._now_us()
        out = []
        decode = self._codec.decode
        while self._next is not None and self._next[0] <= now:
            raw = self._next[1]
            try:
                out.append(decode(bytearray(raw)))
            except mavlink.MAVError:
                self.undecodable_count += 1
            self._next = next(self._inbound, None)
        self.delivered_count += len(out)
        return out
