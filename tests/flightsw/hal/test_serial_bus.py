"""SerialBus over a real pseudo-terminal pair (no emulator): framing, bounded work,
link layer, health, reconnection, and one-line errors for bad ports."""

import os
import random
import select
import tty

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.hal.serial_bus import LINK_COMPONENT_ID, SerialBus, SerialLinkError
from flightsw.icd import mavlink, new_codec


class FakeClock:
    def __init__(self):
        self.ns = 1_000_000_000

    def __call__(self):
        return self.ns


class Pty:
    """The board's side of a pty pair; the bus opens `path` (a symlink, like a udev link)."""

    def __init__(self, tmp_path, name="board"):
        self.path = str(tmp_path / name)
        self._open()

    def _open(self):
        self.master, slave = os.openpty()
        tty.setraw(self.master)
        self.slave_name = os.ttyname(slave)
        os.close(slave)
        if os.path.lexists(self.path):
            os.unlink(self.path)
        os.symlink(self.slave_name, self.path)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            _, w, _ = select.select([], [self.master], [], 1.0)
            assert w, "pty write blocked"
            n = os.write(self.master, view)
            view = view[n:]

    def read_all(self, timeout_s=0.5) -> bytes:
        out = bytearray()
        while True:
            r, _, _ = select.select([self.master], [], [], timeout_s)
            if not r:
                return bytes(out)
            out += os.read(self.master, 65536)
            timeout_s = 0.05

    def unplug(self):
        os.close(self.master)
        os.unlink(self.path)

    def replug(self):
        self._open()


_BOARD = new_codec(2, 1)
_LINK = new_codec(2, LINK_COMPONENT_ID)


def _imu(i: int) -> bytes:
    _BOARD.seq = i % 256
    return bytes(mavlink.MAVLink_highres_imu_message(i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                     0, 0).pack(_BOARD))


def _poll_until(bus, n, tries=200):
    got = []
    for _ in range(tries):
        bus.service(0.01)
        got += bus.poll()
        if len(got) >= n:
            break
    return got


@pytest.fixture
def pty(tmp_path):
    p = Pty(tmp_path)
    yield p
    try:
        os.close(p.master)
    except OSError:
        pass


def test_messages_cross_both_ways_unchanged(pty):
    bus = SerialBus(pty.path)
    pty.write(_imu(1) + _imu(2))
    got = _poll_until(bus, 2)
    assert [m.time_usec for m in got] == [1, 2]
    out = mavlink.MAVLink_wheel_distance_message(5, 2, [0.0] * 16)
    out.pack(new_codec(1, 1))
    bus.send(out)
    assert pty.read_all() == bytes(out.get_msgbuf())
    bus.close()


def test_each_poll_reads_a_bounded_number_of_bytes(pty):
    bus = SerialBus(pty.path, max_rx_bytes_per_poll=256)
    frames = b"".join(_imu(i) for i in range(40))
    pty.write(frames)
    first = bus.poll()
    assert 0 < len(first) <= 256 // len(_imu(0)) + 1
    got = list(first)
    for _ in range(200):
        got += bus.poll()
        if len(got) == 40:
            break
    assert [m.time_usec for m in got] == list(range(40))
    assert bus.stats()["rx_bytes"] == len(frames)
    bus.close()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=120), min_size=1, max_size=12),
       st.randoms(use_true_random=False))
def test_garbage_between_frames_costs_no_frame(tmp_path_factory, junk, rnd):
    pty = Pty(tmp_path_factory.mktemp("pty"))
    bus = SerialBus(pty.path)
    stream = bytearray()
    for i, j in enumerate(junk):
        if rnd.random() < 0.3:
            j = bytes([0xFD, 0xFF]) + j  # a marker with a long length: the worst case
        stream += j + _imu(i)
    pty.write(bytes(stream))
    got = _poll_until(bus, len(junk))
    assert [m.time_usec for m in got] == list(range(len(junk)))
    bus.close()
    os.close(pty.master)


def test_link_layer_messages_are_consumed_not_delivered(pty):
    bus = SerialBus(pty.path, release_on_mark=True)
    mark = bytes(mavlink.MAVLink_system_time_message(1234, 99).pack(_LINK))
    stats = bytes(mavlink.MAVLink_named_value_int_message(99, b"f_rx_err", 3).pack(_LINK))
    pty.write(_imu(1) + mark + stats + _imu(2))
    assert bus.wait_time_mark(1234, timeout_s=1.0)
    # Released up to the mark only: frame 2 came after it.
    assert [m.time_usec for m in bus.poll()] == [1]
    assert bus.last_mark_us == 1234
    assert _poll_until(bus, 0) == []  # held until the next mark
    pty.write(bytes(mavlink.MAVLink_system_time_message(2000, 100).pack(_LINK)))
    assert bus.wait_time_mark(2000, timeout_s=1.0)
    assert [m.time_usec for m in bus.poll()] == [2]
    assert bus.board_stats == {"f_rx_err": 3}
    bus.close()


def test_time_mark_wait_gives_up_after_its_timeout(pty):
    bus = SerialBus(pty.path)
    assert not bus.wait_time_mark(1, timeout_s=0.05)
    bus.close()


def test_timesync_round_trip_is_measured(pty):
    clock = FakeClock()
    bus = SerialBus(pty.path, monotonic_ns=clock)
    bus.request_timesync()
    request = new_codec(9, 9).parse_buffer(pty.read_all())[0]
    assert request.get_type() == "TIMESYNC" and request.tc1 == 0
    assert request.get_srcComponent() == LINK_COMPONENT_ID
    clock.ns += 1_500_000
    pty.write(bytes(mavlink.MAVLink_timesync_message(777, request.ts1).pack(_LINK)))
    _poll_until(bus, 0, tries=20)
    assert list(bus.rtt_ns) == [1_500_000]
    bus.close()


def test_silence_makes_the_link_not_ok(pty):
    clock = FakeClock()
    bus = SerialBus(pty.path, loss_timeout_s=0.3, monotonic_ns=clock)
    assert not bus.link_ok  # nothing heard yet
    pty.write(_imu(0))
    _poll_until(bus, 1)
    assert bus.link_ok
    clock.ns += 300_000_000
    assert bus.link_ok
    clock.ns += 1_000_000
    assert not bus.link_ok
    assert bus.silence_s() == pytest.approx(0.301)
    bus.close()


def test_sequence_gaps_count_lost_frames(pty):
    bus = SerialBus(pty.path)
    pty.write(_imu(1) + _imu(2) + _imu(5) + _imu(6))  # frames 3 and 4 lost
    _poll_until(bus, 4)
    assert bus.stats()["sources"]["2/1"] == {"received": 4, "lost": 2, "restarts": 0}
    assert bus.stats()["frames_lost"] == 2
    bus.close()


def test_a_sender_that_restarts_its_sequence_loses_nothing(pty):
    bus = SerialBus(pty.path)
    pty.write(_imu(100) + _imu(101) + _imu(0) + _imu(1))  # the board was reset
    _poll_until(bus, 4)
    assert bus.stats()["sources"]["2/1"] == {"received": 4, "lost": 0, "restarts": 1}
    bus.close()


def test_a_sender_that_never_advances_its_sequence_loses_nothing(pty):
    bus = SerialBus(pty.path)
    codec = new_codec(1, 1)  # pack() alone leaves seq at 0
    pty.write(b"".join(bytes(mavlink.MAVLink_heartbeat_message(0, 0, 0, 0, 0, 3).pack(codec))
                       for _ in range(5)))
    _poll_until(bus, 5)
    assert bus.stats()["frames_lost"] == 0
    bus.close()


def test_unplugged_device_is_detected_and_reopened_when_back(pty):
    clock = FakeClock()
    bus = SerialBus(pty.path, reopen_interval_s=0.1, monotonic_ns=clock)
    pty.write(_imu(1))
    assert [m.time_usec for m in _poll_until(bus, 1)] == [1]
    pty.unplug()
    for _ in range(5):
        bus.service(0.01)
        bus.poll()
    assert not bus.connected and not bus.link_ok
    assert bus.counters["disconnects"] == 1
    # Writes while unplugged are dropped and counted, never raised.
    hb = mavlink.MAVLink_heartbeat_message(0, 0, 0, 0, 0, 3)
    hb.pack(new_codec(1, 1))
    bus.send(hb)
    assert bus.counters["tx_dropped"] == 1
    pty.replug()
    clock.ns += 100_000_000
    bus.poll()
    assert bus.connected and bus.counters["reconnects"] == 1
    pty.write(_imu(2))
    assert [m.time_usec for m in _poll_until(bus, 1)] == [2]
    bus.close()


def test_a_port_that_does_not_exist_is_one_line_naming_it(tmp_path):
    path = str(tmp_path / "ttyACM9")
    with pytest.raises(SerialLinkError) as err:
        SerialBus(path)
    text = str(err.value)
    assert path in text and "no such device" in text and "\n" not in text


def test_a_busy_port_is_one_line_naming_it(pty):
    first = SerialBus(pty.path)
    with pytest.raises(SerialLinkError) as err:
        SerialBus(pty.path)
    assert pty.path in str(err.value) and "busy" in str(err.value)
    first.close()


def test_a_tcp_url_that_refuses_is_one_line_naming_it():
    with pytest.raises(SerialLinkError) as err:
        SerialBus("socket://127.0.0.1:1")
    assert "socket://127.0.0.1:1" in str(err.value)
    assert "\n" not in str(err.value)


def test_random_bytes_never_raise(pty):
    rng = random.Random(11)
    bus = SerialBus(pty.path, max_rx_bytes_per_poll=1024)
    for _ in range(30):
        pty.write(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 800))))
        bus.service(0.005)
        bus.poll()
    assert bus.stats()["rx_bytes_skipped"] > 0
    bus.close()


def test_a_flood_cannot_grow_the_receive_backlog_beyond_its_bound(pty):
    """0xFD-heavy garbage parses slower than it arrives: the oldest bytes are dropped and
    counted, the backlog stays bounded, and frames after the flood still arrive."""
    bus = SerialBus(pty.path)
    bound = bus.max_rx_backlog_bytes
    rng = random.Random(5)
    flood = bytes(0xFD if rng.random() < 0.5 else rng.randrange(256) for _ in range(4096))
    peak = 0
    for _ in range(80):  # 320 kB
        pty.write(flood)
        bus.poll()
        peak = max(peak, bus.stats()["rx_backlog_bytes"])
    assert peak <= bound + 280
    stats = bus.stats()
    assert stats["rx_dropped_bytes"] > 0
    pty.write(_imu(1) + _imu(2))
    got = [m for m in _poll_until(bus, 2, tries=2000) if m.get_msgId() != 0]
    assert [m.time_usec for m in got][-2:] == [1, 2]
    bus.close()
