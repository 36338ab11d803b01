"""Property: after any damage the readers return only valid frames and lose only damaged ones.

Damage kinds: truncation, a bit flip, inserted bytes, deleted bytes, a corrupted
length byte.  A record (timestamp + frame) is "touched" when the damage hits one
of its bytes (an insertion: strictly inside it).  Every untouched record must
come back, in order, with its timestamp; every frame that comes back has a
valid checksum (pymavlink agrees), and one never recorded can only stand for a
damaged one; the readers never raise; the report accounts for every byte.

derandomize: the guarantee rests on a 16-bit checksum (a damaged frame passes it
with probability 2**-16), so the examples are the same on every run.
"""

import math
import struct
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from logmaker import logs

from flightsw.icd import new_codec
from ground.logs.columns import read_columns
from ground.logs.frames import FrameReader

SETTINGS = settings(max_examples=300, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
MANY = settings(SETTINGS, max_examples=1000)
_CODEC = new_codec(0, 0)


@dataclass
class Case:
    original: bytes
    damaged: bytes
    spans: list
    raws: list
    touched: set
    kind: str

    def untouched(self):
        return [(struct.unpack(">Q", self.original[s:s + 8])[0], self.raws[i])
                for i, (s, _) in enumerate(self.spans) if i not in self.touched]


@st.composite
def damaged_logs(draw):
    data, spans, raws = draw(logs())
    n = len(data)
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "length"]))
    if kind == "truncate":
        k = draw(st.integers(0, n))
        out, touched = data[:k], {i for i, (s, e) in enumerate(spans) if e > k}
    elif kind == "flip":
        pos, bit = draw(st.integers(0, n - 1)), draw(st.integers(0, 7))
        buf = bytearray(data)
        buf[pos] ^= 1 << bit
        out, touched = bytes(buf), {i for i, (s, e) in enumerate(spans) if s <= pos < e}
    elif kind == "insert":
        pos = draw(st.integers(0, n))
        junk = draw(st.binary(min_size=1, max_size=24))
        out = data[:pos] + junk + data[pos:]
        touched = {i for i, (s, e) in enumerate(spans) if s < pos < e}
    elif kind == "delete":
        pos, count = draw(st.integers(0, n - 1)), draw(st.integers(1, 24))
        out = data[:pos] + data[pos + count:]
        touched = {i for i, (s, e) in enumerate(spans) if s < pos + count and pos < e}
    else:
        i = draw(st.integers(0, len(spans) - 1))
        at = spans[i][0] + 8 + 1  # the length byte follows the magic
        value = draw(st.integers(0, 255).filter(lambda v: v != data[at]))
        buf = bytearray(data)
        buf[at] = value
        out, touched = bytes(buf), {i}
    return Case(data, out, spans, raws, touched, kind)


def _in_order(needles, haystack) -> bool:
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needles)


@MANY
@given(damaged_logs(), st.sampled_from([4 << 20, 700, 1500]))
def test_robust_reader_loses_only_damaged_frames(case, chunk_bytes):
    reader = FrameReader(case.damaged, chunk_bytes=chunk_bytes)
    got = [(f.timestamp_us, f.raw) for f in reader]
    for _, raw in got:
        _CODEC.decode(bytearray(raw))  # pymavlink checks the checksum as well (raises if bad)
    # A frame never recorded can only be a damaged one whose checksum holds by chance.
    assert sum(raw not in set(case.raws) for _, raw in got) <= len(case.touched)
    assert _in_order(case.untouched(), got), case.kind
    report = reader.report
    assert report.bytes_total == len(case.damaged)
    assert report.frames == len(got)
    # Every byte is in a frame, in a frame of an id the ICD does not know (a flipped id bit
    # makes one), or counted as damaged; a frame whose timestamp lost a byte begins inside
    # the record before it (shared bytes).
    assert (sum(8 + len(raw) for _, raw in got) + report.damaged_bytes + report.unknown_bytes
            - report.shared_bytes == len(case.damaged))
    if not case.touched and len(got) == len(case.raws):
        assert report.damaged_bytes == len(case.damaged) - len(case.original)


@MANY
@given(damaged_logs())
def test_columnar_reader_returns_what_the_robust_reader_returns(case):
    frames = list(FrameReader(case.damaged))
    log = read_columns(case.damaged)
    assert log.report.frames == len(frames)
    by_type: dict[str, list] = {}
    for f in frames:
        msg = _CODEC.decode(bytearray(f.raw))
        by_type.setdefault(msg.get_type(), []).append((f, msg))
    assert set(log.messages) == set(by_type)
    for name, expected in by_type.items():
        cols = log[name]
        assert [int(t) for t in cols.timestamp_us] == [f.timestamp_us for f, _ in expected]
        assert cols.src_system.tolist() == [m.get_srcSystem() for _, m in expected]
        assert cols.seq.tolist() == [m.get_seq() for _, m in expected]
        for field in cols.fields:
            column = cols[field]
            for k, (_, msg) in enumerate(expected):
                assert _same(column[k], getattr(msg, field)), (name, field, k)


def _same(ours, theirs) -> bool:
    """numpy value against pymavlink's: exactly equal (NaN equals NaN)."""
    value = ours.tolist() if isinstance(ours, np.ndarray | np.generic) else ours
    if isinstance(theirs, list):
        return len(value) == len(theirs) and all(_same(a, b) for a, b in zip(value, theirs,
                                                                               strict=True))
    if isinstance(theirs, float) and math.isnan(theirs):
        return isinstance(value, float) and math.isnan(value)
    return value == theirs and type(value) is type(theirs)


@SETTINGS
@given(st.binary(max_size=2000))
def test_readers_never_raise_on_arbitrary_bytes(junk):
    reader = FrameReader(junk)
    frames = list(reader)
    log = read_columns(junk)
    assert log.report.frames == len(frames) == reader.report.frames
    assert reader.report.bytes_total == len(junk)


@SETTINGS
@given(logs(min_frames=2), st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1,
                                                                        max_size=40)),
                                    min_size=1, max_size=4))
def test_several_damaged_places_cost_only_their_frames(log, hits):
    data, spans, raws = log
    out = bytearray(data)
    touched = set()
    for where, junk in hits:  # overwrite bytes in place: the record layout stays put
        pos = int(where * (len(data) - 1))
        piece = junk[: len(data) - pos]
        out[pos:pos + len(piece)] = piece
        touched |= {i for i, (s, e) in enumerate(spans) if s < pos + len(piece) and pos < e
                    and data[pos:pos + len(piece)] != piece}
    got = [(f.timestamp_us, f.raw) for f in FrameReader(bytes(out), chunk_bytes=700)]
    expected = [(struct.unpack(">Q", data[s:s + 8])[0], raws[i])
                for i, (s, _) in enumerate(spans) if i not in touched]
    assert _in_order(expected, got)
    assert sum(raw not in set(raws) for _, raw in got) <= len(touched)
