"""FrameReader: every intact frame comes out, in order, whatever garbage surrounds it."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.hal.mavlink_stream import MAX_FRAME_LEN, FrameReader
from flightsw.icd import mavlink, new_codec

_CODEC = new_codec(2, 1)


def _frame(i: int) -> bytes:
    """A valid frame whose payload carries its index (HIGHRES_IMU.time_usec)."""
    msg = mavlink.MAVLink_highres_imu_message(i, 0.5, -0.25, 9.81, 1e-3, 2e-3, 3e-3,
                                              0, 0, 0, 0, 0, 0, 20.0, 63, 0)
    _CODEC.seq = i % 256
    return bytes(msg.pack(_CODEC))


def _feed_in_chunks(reader: FrameReader, stream: bytes, sizes) -> list:
    got, pos, k = [], 0, 0
    while pos < len(stream):
        n = sizes[k % len(sizes)]
        got += reader.feed(stream[pos:pos + n])
        pos += n
        k += 1
    while reader.backlog:
        got += reader.feed()
    return got


# Garbage that is hard on a MAVLink parser: frame markers followed by long lengths,
# truncated valid frames, and plain random bytes.
garbage = st.one_of(
    st.binary(min_size=1, max_size=300),
    st.builds(lambda n, tail: bytes([0xFD, n]) + tail, st.integers(0, 255),
              st.binary(max_size=40)),
    st.builds(lambda i, cut: _frame(i)[:cut], st.integers(0, 999), st.integers(1, 40)),
    st.just(bytes([0xFE, 0xFF, 0x00])),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), garbage), min_size=1, max_size=40),
       st.lists(st.integers(1, 700), min_size=1, max_size=8))
def test_every_intact_frame_is_recovered_in_order(pieces, chunk_sizes):
    stream = bytearray()
    sent = []
    for i, (garbage_first, junk) in enumerate(pieces):
        if garbage_first:
            stream += junk
        stream += _frame(i)
        sent.append(i)
    got = _feed_in_chunks(FrameReader(), bytes(stream), chunk_sizes)
    assert [m.time_usec for m in got] == sent
    assert all(m.get_type() == "HIGHRES_IMU" for m in got)


@settings(max_examples=100, deadline=None)
@given(garbage)
def test_a_frame_after_garbage_is_delivered_with_its_last_byte(junk):
    """Resynchronisation within one frame: nothing waits for bytes that never come."""
    reader = FrameReader()
    frame = _frame(7)
    for b in junk:
        assert all(m.time_usec != 7 for m in reader.feed(bytes([b])))
    for k, b in enumerate(frame):
        out = reader.feed(bytes([b]))
        if k < len(frame) - 1:
            assert [m.time_usec for m in out if m.time_usec == 7] == []
        else:
            assert [m.time_usec for m in out][-1] == 7


def test_pymavlink_alone_loses_frames_that_the_reader_keeps():
    """Why the reader exists: a marker and a long length in the noise swallow good frames."""
    stream = bytes([0xFD, 0xF0, 0, 0]) + b"".join(_frame(i) for i in range(5))
    plain = new_codec(1, 1)
    plain_got = [m for m in plain.parse_buffer(stream) or [] if m.get_type() == "HIGHRES_IMU"]
    reader_got = FrameReader().feed(stream)
    assert len(plain_got) < 5
    assert [m.time_usec for m in reader_got] == [0, 1, 2, 3, 4]


def test_work_per_feed_is_bounded_and_the_rest_waits():
    rng = random.Random(3)
    flood = bytes(rng.choice((0xFD, 0xFF, rng.randrange(256))) for _ in range(200_000))
    reader = FrameReader(max_work_bytes=4096)
    reader.feed(flood + _frame(1))
    assert reader.backlog > len(flood) - 3 * 4096  # most of it is still waiting
    got = []
    for _ in range(10_000):
        got += reader.feed()
        if not reader.backlog:
            break
    assert [m.time_usec for m in got] == [1]
    assert reader.bytes_skipped >= len(flood) - MAX_FRAME_LEN


def test_counters_account_for_every_byte():
    junk = bytes(range(256)) * 3
    stream = junk + _frame(1) + junk + _frame(2)
    reader = FrameReader()
    got = reader.feed(stream)
    assert len(got) == 2 and reader.frames_ok == 2
    assert reader.bytes_in == len(stream)
    assert reader.bytes_skipped == len(stream) - 2 * len(_frame(1)) - reader.partial


def test_mavlink1_frames_and_unknown_ids_are_not_delivered():
    v1 = new_codec(2, 1)
    v1_frame = bytes(mavlink.MAVLink_heartbeat_message(0, 0, 0, 0, 0, 3).pack(
        v1, force_mavlink1=True))
    unknown = bytearray(_frame(3))
    unknown[7:10] = (60000).to_bytes(3, "little")  # no such message id (and a bad CRC)
    got = FrameReader().feed(v1_frame + bytes(unknown) + _frame(4))
    assert [m.time_usec for m in got] == [4]


@pytest.mark.parametrize("bad", [0, 100, "4096"])
def test_bad_work_budget_is_refused(bad):
    with pytest.raises(ValueError, match="max_work_bytes"):
        FrameReader(max_work_bytes=bad)


def _flood(n: int, seed: int = 5) -> bytes:
    """Garbage heavy in frame markers: the slowest kind to parse (every 0xFD is a candidate)."""
    rng = random.Random(seed)
    return bytes(0xFD if rng.random() < 0.5 else rng.randrange(256) for _ in range(n))


def test_the_backlog_is_bounded_and_what_is_dropped_is_counted():
    reader = FrameReader(max_work_bytes=4096, max_backlog_bytes=16384)
    flood = _flood(200_000)
    for at in range(0, len(flood), 4096):
        reader.feed(flood[at:at + 4096])
        assert reader.backlog <= 16384 + MAX_FRAME_LEN
    assert reader.bytes_dropped > 0
    got = reader.feed(_frame(7))
    while reader.backlog:  # slow: every marker of the waiting garbage is a candidate
        got += reader.feed()
    assert [m.time_usec for m in got] == [7]  # the link comes back after the flood
    assert reader.bytes_in == (reader.bytes_skipped + reader.bytes_dropped + len(_frame(7))
                               + reader.backlog + reader.partial)


def test_bad_backlog_bound_is_refused():
    with pytest.raises(ValueError, match="max_backlog_bytes"):
        FrameReader(max_work_bytes=4096, max_backlog_bytes=1000)
