"""Resynchronisation cases written out by hand (the property tests cover the general case)."""

import struct

from logmaker import EPOCH_US, build_log

from flightsw.icd import mavlink
from flightsw.logs.frames import FrameReader
from flightsw.logs.scan import ReadReport


def _heartbeat(custom_mode):
    return mavlink.MAVLink_heartbeat_message(1, 2, 3, custom_mode, 4, 3)


def test_a_corrupted_length_byte_costs_one_frame():
    msgs = [_heartbeat(k) for k in range(20)]
    data, spans, raws = build_log(msgs, [1] * 20, [100_000] * 20)
    bad = bytearray(data)
    bad[spans[3][0] + 9] = 250  # frame 3 now claims 250 payload bytes: swallows the next ones
    reader = FrameReader(bytes(bad))
    got = [f.raw for f in reader]
    assert got == raws[:3] + raws[4:]
    assert reader.report.damaged_regions == 1
    assert reader.report.damaged_bytes == spans[3][1] - spans[3][0]


def test_a_damaged_frame_that_passes_its_checksum_by_chance_does_not_swallow_the_next():
    # Found by search: with custom_mode 54414, deleting the first payload byte of this
    # HEARTBEAT leaves a shorter frame whose checksum happens to hold, and which ends one
    # byte into the next record.  The next record is followed by a frame, the impostor is
    # not: the reader keeps the next record.
    msgs = [_heartbeat(1), _heartbeat(54414), _heartbeat(2), _heartbeat(3)]
    data, spans, raws = build_log(msgs, [2, 2, 2, 2], [100_000] * 4)
    at = spans[1][0] + 8 + 10  # first payload byte of record 1
    damaged = data[:at] + data[at + 1:]
    got = [f.raw for f in FrameReader(damaged)]
    assert got == [raws[0], raws[2], raws[3]]


def test_bytes_between_records_are_skipped_and_counted():
    data, spans, raws = build_log([_heartbeat(k) for k in range(5)], [1] * 5, [1] * 5)
    junk = b"\xfd\x09garbage\xfe\x01"
    damaged = data[: spans[2][0]] + junk + data[spans[2][0]:]
    reader = FrameReader(damaged)
    assert [f.raw for f in reader] == raws
    assert (reader.report.damaged_bytes, reader.report.damaged_regions) == (len(junk), 1)
    assert reader.report.regions == [(spans[2][0], len(junk))]


def test_a_truncated_tail_is_reported_as_such():
    data, spans, raws = build_log([_heartbeat(k) for k in range(5)], [1] * 5, [1] * 5)
    reader = FrameReader(data[:-7])
    assert [f.raw for f in reader] == raws[:4]
    assert reader.report.tail_incomplete_bytes == spans[4][1] - spans[4][0] - 7
    assert "incomplete" in reader.report.describe()


def test_frames_of_another_dialect_are_counted_not_decoded():
    data, spans, raws = build_log([_heartbeat(k) for k in range(3)], [1] * 3, [1] * 3)
    # A MAVLink 2 frame of id 60000 (unknown to our ICD): its checksum cannot be checked.
    foreign = bytes([0xFD, 2, 0, 0, 7, 9, 1]) + (60000).to_bytes(3, "little") + b"\x01\x02" \
        + b"\x55\xaa"
    record = struct.pack(">Q", EPOCH_US) + foreign
    reader = FrameReader(data[: spans[1][0]] + record + record + data[spans[1][0]:])
    assert [f.raw for f in reader] == raws
    assert reader.report.unknown_frames == {60000: 2}
    assert reader.report.unknown_bytes == 2 * len(record)
    assert reader.report.damaged_bytes == 0
    assert "does not know" in reader.report.describe()


def test_mavlink1_and_signed_frames_are_read():
    from flightsw.icd import new_codec

    v1 = new_codec(3, 1)
    v1_raw = bytes(_heartbeat(9).pack(v1, force_mavlink1=True))
    v2 = new_codec(1, 1)
    v2.signing.secret_key = bytes(range(32))
    v2.signing.sign_outgoing = True
    signed_raw = bytes(_heartbeat(10).pack(v2))
    assert signed_raw[2] & 1 and len(signed_raw) == 21 + 13
    data = b"".join(struct.pack(">Q", EPOCH_US + k) + raw
                    for k, raw in enumerate([v1_raw, signed_raw, v1_raw]))
    reader = FrameReader(data)
    assert [f.raw for f in reader] == [v1_raw, signed_raw, v1_raw]
    assert (reader.report.frames_v1, reader.report.frames_signed) == (2, 1)


def test_report_describes_a_clean_log_in_one_line():
    report = ReadReport("x", bytes_total=10, frames=1)
    assert report.clean and "\n" not in report.describe()
