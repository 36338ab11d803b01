"""SimBus: the flight software's Bus when the other end is the simulator.

The world hands it device messages; the flight software polls them.  Each
message is packed by the world's codec and decoded again before delivery, so
the flight software sees exactly what it would see from a serial link or a
replayed log (float32 fields, the raw bytes in get_msgbuf()): that is what
makes a SIL log replay bit for bit.  Flight-to-world messages are handed to
the world as objects (their bytes are already in the log).

With a signing key, the scenario's own uplink (its commands and parameter
overrides, `deliver_from_ground`) is signed as a ground station would sign it,
so that a run whose flight software requires signed commands still flies its
scenario.  Its signing timestamps come from the UplinkSigner's `unix_s(t_us)`:
for a run alone, the scenario's epoch plus the simulated time: the same run gives the same bytes
(a byte-identical log).  A run with a live ground station passes the wall
clock instead, because the flight software refuses a new stream that starts
more than a minute behind the newest timestamp it has seen (the live ground
station's), as the signing specification asks.
"""

from collections.abc import Callable

from flightsw.hal.mavlink_signing import sign_frame, wall_timestamp_10us
from flightsw.icd import (
    GROUND_COMPONENT_ID,
    GROUND_SYSTEM_ID,
    WORLD_COMPONENT_ID,
    WORLD_SYSTEM_ID,
    new_codec,
)

# The scenario's uplink signs as its own stream: not a link id the ground links use
# (1, 2, ... for the probe's downlinks, which MAVProxy mirrors in its uplink).
SCENARIO_UPLINK_LINK_ID = 254


class UplinkSigner:
    """Signs the scenario's uplink frames as a ground station would (SimBus, HIL rig).

    `unix_s(t_us)`: the Unix time to stamp a frame sent at mission time t_us;
    stamps strictly increase whatever it returns.
    """

    def __init__(self, key: bytes, unix_s: Callable[[int], float],
                 link_id: int = SCENARIO_UPLINK_LINK_ID):
        self._key = key
        self._unix_s = unix_s
        self.link_id = link_id
        self._last_stamp_10us = -1

    def sign(self, raw: bytes, t_us: int) -> bytes:
        stamp = max(wall_timestamp_10us(self._unix_s(t_us)), self._last_stamp_10us + 1)
        self._last_stamp_10us = stamp
        return sign_frame(raw, self._key, self.link_id, stamp)

    def __repr__(self) -> str:  # never the key
        return f"UplinkSigner(link_id={self.link_id})"


class SimBus:
    def __init__(self, signer: UplinkSigner | None = None):
        self._signer = signer
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

    def deliver_from_ground(self, msg, t_us: int = 0) -> None:
        """A ground command or parameter message (system 255), e.g. a scenario's sequence,
        sent at simulated time t_us (signed when the bus has a key)."""
        raw = msg.pack(self._ground_codec)
        self._ground_codec.seq = (self._ground_codec.seq + 1) % 256
        if self._signer is not None:
            raw = self._signer.sign(raw, t_us)
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
