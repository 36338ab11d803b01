"""MultiBus: the primary's messages first, then each link's; every message to all."""

import pytest

from flightsw.hal.multi_bus import MultiBus


class ListBus:
    def __init__(self, incoming=()):
        self.incoming = list(incoming)
        self.sent = []

    def send(self, msg):
        self.sent.append(msg)

    def poll(self):
        out, self.incoming = self.incoming, []
        return out


def test_poll_takes_the_primary_first_then_each_link_in_order():
    primary, a, b = ListBus(["imu", "star"]), ListBus(["cmd-a"]), ListBus(["cmd-b1", "cmd-b2"])
    bus = MultiBus(primary, [a, b])
    assert bus.poll() == ["imu", "star", "cmd-a", "cmd-b1", "cmd-b2"]
    assert bus.poll() == []


def test_the_primary_list_is_not_extended_in_place():
    shared = ["imu"]

    class SharedBus(ListBus):
        def poll(self):
            return shared

    bus = MultiBus(SharedBus(), [ListBus(["cmd"])])
    assert bus.poll() == ["imu", "cmd"]
    assert shared == ["imu"]


def test_send_goes_to_the_primary_and_every_link():
    primary, a, b = ListBus(), ListBus(), ListBus()
    MultiBus(primary, [a, b]).send("hb")
    assert primary.sent == a.sent == b.sent == ["hb"]


def test_a_multibus_without_links_is_refused():
    with pytest.raises(ValueError, match="at least one link"):
        MultiBus(ListBus(), [])
