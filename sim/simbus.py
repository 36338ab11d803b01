"""SimBus: the flight software's Bus when the other end is the simulator.

The world hands it device messages; the flight software polls them.  Each
message is packed by the world's codec and decoded again before delivery, so
the flight software sees exactly what it would see from a serial link or a
replayed log (float32 fields, the raw bytes in get_msgbuf()): that is what
makes a SIL log replay bit for bit.  Flight-to-world messages are handed to
the world as objects (their bytes are already in the log).
"""

from flightsw.icd import (
    GROUND_COMPONENT_ID,
    GROUND_SYSTEM_ID,
    WORLD_COMPONENT_ID,
    WORLD_SYSTEM_ID,
    new_codec,
)


class SimBus:
    def __init__(self):
        self._tx_codec = new_codec(WORLD_SYSTEM_ID, WORLD_COMPONENT_ID)
        self._rx_codec = new_codec(WORLD_SYSTEM_ID, WORLD_COMPONENT_ID)
        self._ground_codec = new_codec(GROUND_SYSTEM_ID, GROUND_COMPONENT_ID)
        self._to_flight: list = []
        self._to_world: list = []
        self.delivered_count = 0

    # -- the world's side ------------------------------------------------
    def deliver(self, msg) -> None:
        raw = msg.pack(self._tx_codec)
        self._tx_codec.seq = (self._tx_codec.seq + 1) % 256  # as MAVLink.send() would
        decoded = self._rx_codec.decode(bytearray(raw))
        self._to_flight.append(decoded)
        self.delivered_count += 1

    def deliver_from_ground(self, msg) -> None:
        """A ground command or parameter message (system 255), e.g. a scenario's sequence."""
        raw = msg.pack(self._ground_codec)
        self._ground_codec.seq = (self._ground_codec.seq + 1) % 256
        self._to_flight.append(self._rx_codec.decode(bytearray(raw)))
        self.delivered_count += 1

    def take_from_flight(self) -> list:
        out, self._to_world = self._to_world, []
        return out

    # -- the flight software's side (the Bus protocol) -----------------
    def send(self, msg) -> None:
        self._to_world.append(msg)

    def poll(self) -> list:
        out, self._to_flight = self._to_flight, []
        return out
