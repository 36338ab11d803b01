"""MultiBus: one Bus made of the devices' bus and the ground links beside it.

The flight software keeps a single BusPort (one codec, one recorder, one set of
subscribers), so everything that crosses any of the links is recorded in
flight.tlog in the order the flight software saw it.  `poll` takes the
primary's messages first (the devices' sensor data of this cycle), then each
ground link's in the order given; `send` hands every flight message to the
primary and to every link (a ground station sees all the probe says, as it
would on a radio link that carries the whole downlink).

A run without a ground link does not build a MultiBus: the primary bus is
plugged in as it is, so such a run pays nothing for this seam.
"""

from collections.abc import Sequence

from flightsw.hal.bus import Bus


class MultiBus:
    def __init__(self, primary: Bus, links: Sequence[Bus]):
        if not links:
            raise ValueError("MultiBus needs at least one link beside the primary bus "
                             "(plug the primary in directly when there is none)")
        self.primary = primary
        self.links = tuple(links)

    def send(self, msg) -> None:
        self.primary.send(msg)
        for link in self.links:
            link.send(msg)

    def poll(self) -> list:
        msgs = self.primary.poll()
        for link in self.links:
            extra = link.poll()
            if extra:  # a new list: the primary's may be its own buffer
                msgs = [*msgs, *extra]
        return msgs
