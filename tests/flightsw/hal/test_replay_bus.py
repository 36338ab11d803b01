"""ReplayBus: recorded inbound messages at their times; what the software sends is kept."""

from flightsw.core.clock import SimClock
from flightsw.hal.replay_bus import ReplayBus
from flightsw.icd import mavlink, new_codec


def _raw(k):
    return bytes(mavlink.MAVLink_heartbeat_message(1, 2, 3, k, 4, 3).pack(new_codec(2, 1)))


def test_messages_are_delivered_when_their_time_has_come():
    clock = SimClock()
    bus = ReplayBus([(0, _raw(0)), (0, _raw(1)), (100_000, _raw(2)), (300_000, _raw(3))],
                    clock.now_us)
    assert [m.custom_mode for m in bus.poll()] == [0, 1]
    assert bus.poll() == []
    clock.advance_to_us(250_000)
    got = bus.poll()
    assert [m.custom_mode for m in got] == [2]
    assert bytes(got[0].get_msgbuf()) == _raw(2)  # the recorded bytes, for the recorder
    assert bus.next_time_us == 300_000 and not bus.exhausted
    clock.advance_to_us(300_000)
    assert [m.custom_mode for m in bus.poll()] == [3]
    assert bus.exhausted and bus.delivered_count == 4


def test_sent_messages_are_kept_for_the_host():
    bus = ReplayBus([], SimClock().now_us)
    msg = mavlink.MAVLink_heartbeat_message(1, 2, 3, 9, 4, 3)
    bus.send(msg)
    assert bus.take_sent() == [msg]
    assert bus.take_sent() == []


def test_an_undecodable_frame_is_counted_not_raised():
    bad = bytearray(_raw(1))
    bad[-1] ^= 0xFF
    bus = ReplayBus([(0, bytes(bad)), (0, _raw(2))], SimClock().now_us)
    assert [m.custom_mode for m in bus.poll()] == [2]
    assert bus.undecodable_count == 1
