"""The HIL rig's ground links and signed scenario uplink (issue 16), kept out of the rig.

Ground links (pymavlink connection strings) sit beside the board's flight link
in a MultiBus, as in a SIL run.  With a signing key the flight software obeys
only signed uplink, so the scenario's own uplink is signed by the rig
(sim.simbus.UplinkSigner) before the board routes it unchanged to the flight
link: lockstep stamps from mission time (the same run, the same bytes), real
time or next to a live ground station from the wall clock.
"""

from __future__ import annotations

import time

from flightsw.icd import GROUND_COMPONENT_ID, GROUND_SYSTEM_ID, new_codec
from sim.runner import close_ground_links, open_ground_links
from sim.simbus import UplinkSigner


class RigGround:
    def __init__(self, connections, signing_key: bytes | None):
        """Opens the links now (RunConfigError naming one that cannot be opened)."""
        self._key = signing_key
        self.links = open_ground_links(connections, signing_key)
        self._signer: UplinkSigner | None = None
        self._codec = new_codec(GROUND_SYSTEM_ID, GROUND_COMPONENT_ID)

    @property
    def signed(self) -> bool:
        return self._key is not None

    def flight_bus(self, board_bus):
        """The Bus the flight software gets: the board's alone, or with the ground links."""
        if not self.links:
            return board_bus
        from flightsw.hal.multi_bus import MultiBus
        return MultiBus(board_bus, self.links)

    def flight_software_options(self, lockstep: bool, epoch_us: int) -> dict:
        """Keyword arguments for FlightSoftware; sets up the uplink's signing."""
        if self._key is None:
            return {}
        if lockstep and not self.links:
            epoch_s = epoch_us / 1e6
            self._signer = UplinkSigner(self._key, lambda t_us: epoch_s + t_us * 1e-6)
        else:
            self._signer = UplinkSigner(self._key, lambda t_us: time.time())
        return {"signing_key": self._key}

    def send_uplink(self, stim, msg, t_us: int) -> None:
        """One scenario uplink message to the board's stimulus link, signed if keyed."""
        if self._signer is None:
            stim.send_ground(msg)
            return
        raw = msg.pack(self._codec)
        self._codec.seq = (self._codec.seq + 1) % 256
        stim.bus.send_raw(self._signer.sign(raw, t_us))
        stim.ground_sent += 1

    def follow_key_changes(self, fsw) -> None:
        """A key changed over the air (SETUP_SIGNING) signs the downlink from then on."""
        for link in self.links:
            fsw.uplink.key_listeners.append(link.set_signing_key)

    def stats(self) -> list[dict]:
        return [link.stats() for link in self.links]

    def close(self) -> None:
        close_ground_links(self.links)

    def __repr__(self) -> str:  # never the key
        return f"RigGround({len(self.links)} link(s), signed={self.signed})"
