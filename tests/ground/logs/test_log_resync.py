"""Resynchronisation cases written out by hand (the property tests cover the general case)."""

import struct

from logmaker import EPOCH_US, build_log

from flightsw.icd import mavlink, new_codec
from ground.logs.frames import FrameReader
from ground.logs.scan import ReadReport


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


def _nav(t_usec):
    return mavlink.MAVLink_probe_nav_state_message(
        t_usec, [1.0, 2.0, 3.0], [0.5, 0.25, 0.125], [1.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.3],
        [1.0, 1.0, 1.0], [0.1, 0.1, 0.1], [0.01, 0.02, 0.03])


def test_a_damaged_frame_that_passes_its_checksum_by_chance_does_not_swallow_the_next():
    # Found by search: with time_usec 19066, deleting the first 9 payload bytes of this nav
    # state leaves a frame whose checksum happens to hold and which runs 9 bytes into the
    # next record.  The next record is followed by a frame, the impostor is not: the reader
    # keeps the next record and drops the impostor.
    msgs = [_nav(1), _nav(19066), _nav(2), _nav(3)]
    data, spans, raws = build_log(msgs, [2, 2, 2, 2], [100_000] * 4)
    at = spans[1][0] + 8 + 10
    damaged = data[:at] + data[at + 9:]
    impostor = damaged[spans[1][0] + 8: spans[1][1]]
    new_codec(0, 0).decode(bytearray(impostor))  # its checksum does hold
    assert [f.raw for f in FrameReader(damaged)] == [raws[0], raws[2], raws[3]]


def test_an_impostor_one_byte_long_costs_no_good_frame():
    # Found by search likewise (custom_mode 54414, one payload byte deleted): the impostor
    # ends one byte into the next record's timestamp.  Both come back: the impostor's
    # checksum holds (a 1 in 65536 chance), and the next record is not lost.
    msgs = [_heartbeat(1), _heartbeat(54414), _heartbeat(2), _heartbeat(3)]
    data, spans, raws = build_log(msgs, [2, 2, 2, 2], [100_000] * 4)
    at = spans[1][0] + 8 + 10
    got = [f.raw for f in FrameReader(data[:at] + data[at + 1:])]
    assert got[0] == raws[0] and got[2:] == raws[2:]


def test_a_byte_lost_from_a_timestamp_costs_no_frame():
    data, spans, raws = build_log([_heartbeat(k) for k in range(5)], [1] * 5, [1000] * 5)
    at = spans[3][0]  # the first byte of record 3's timestamp
    reader = FrameReader(data[:at] + data[at + 1:])
    frames = list(reader)
    assert [f.raw for f in frames] == raws
    stamps = [struct.unpack(">Q", data[s:s + 8])[0] for s, _ in spans]
    assert [f.timestamp_us for f in frames] != stamps  # record 3's stamp is not to be trusted
    assert reader.report.damaged_timestamps == 1 and not reader.report.clean
    assert "damaged timestamp" in reader.report.describe()


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
