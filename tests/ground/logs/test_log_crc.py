"""The vectorised MAVLink checksum against pymavlink's, for every length a frame can have."""

import numpy as np
from pymavlink.generator.mavcrc import x25crc

from ground.logs.crc import MAX_ROW_BYTES, x25_bytes, x25_frames


def _check(buf, margin, first, length, extra):
    got = x25_frames(buf, margin, first, length, extra)
    data = buf[margin:]
    for i in range(len(first)):
        chunk = bytes(data[first[i]:first[i] + length[i]]) + bytes([extra[i]])
        assert int(got[i]) == x25crc(chunk).crc == x25_bytes(chunk), (i, length[i])


def test_every_length_alone_and_mixed():
    rng = np.random.default_rng(1)
    margin = MAX_ROW_BYTES + 8
    buf = rng.integers(0, 256, margin + 40_000, dtype=np.uint8)
    lengths = np.arange(0, 265)
    first = rng.integers(0, 39_000, len(lengths))
    _check(buf, margin, first, lengths, rng.integers(0, 256, len(lengths), dtype=np.uint8))


def test_many_frames_of_one_length_take_the_exact_path():
    rng = np.random.default_rng(2)
    margin = MAX_ROW_BYTES
    buf = rng.integers(0, 256, margin + 200_000, dtype=np.uint8)
    for length in (8, 9, 44, 45):
        first = rng.integers(0, 199_000, 3000)
        _check(buf, margin, first, np.full(3000, length),
               rng.integers(0, 256, 3000, dtype=np.uint8))


def test_frames_at_the_very_start_of_the_data():
    buf = np.zeros(MAX_ROW_BYTES + 300, dtype=np.uint8)
    buf[MAX_ROW_BYTES:] = np.arange(300) % 251
    _check(buf, MAX_ROW_BYTES, np.array([0, 0, 1]), np.array([0, 264, 17]),
           np.array([0, 255, 7], dtype=np.uint8))
