"""A log read in chunks gives the frames it gives in one piece, whatever the damage.

Found by the fuzzer (issue 21, tests/fuzz/cases/tlog/288bfcd0e6cd-n1761.tlog):
garbage just before a chunk's end looked like the start of a 270-byte frame of
an id the ICD does not know, ending where a good record began.  Read in one
piece, the good frames inside it come first and the unknown frame is refused;
read in chunks, those good frames began in the next chunk, the unknown frame
was counted in this one, and the next chunk began after it: three good frames
lost (a log over 4 MB is read in chunks).
"""

import struct

import numpy as np
from logmaker import EPOCH_US, build_log

from flightsw.icd import mavlink
from ground.logs.columns import read_columns
from ground.logs.frames import FrameReader, frame_table
from ground.logs.scan import OVERLAP_BYTES

UNKNOWN_ID = 0xFFFFFF  # not a message of the ICD


def _log(n: int = 60):
    msgs = [mavlink.MAVLink_highres_imu_message(k, *[float(k % 7 + 1)] * 13, 0)
            for k in range(n)]
    return build_log(msgs, [1] * n, [10_000] * n)


def _unknown_record_swallowing(data: bytes, spans, at: int) -> tuple[bytes, int]:
    """The log with, before record `at`, the timestamp and header of a frame of an
    unknown id (18 bytes of garbage) whose length makes it end exactly where a later
    record begins, so that it "chains"; (bytes, its offset)."""
    start = spans[at][0]
    later = next(s for s, _ in spans if s - start - 2 >= 100)  # a few records on
    length = later - start - 2  # 18 bytes inserted + length + 2 = 20 + length: ends at `later`
    assert length <= 255
    fake = (struct.pack(">Q", EPOCH_US) + bytes([0xFD, length, 0, 0, 0, 1, 1])
            + UNKNOWN_ID.to_bytes(3, "little"))
    assert len(fake) == 18
    return data[:start] + fake + data[start:], start


def test_an_unknown_frame_before_a_chunk_end_does_not_swallow_the_next_chunks_frames():
    data, spans, raws = _log()
    damaged, at = _unknown_record_swallowing(data, spans, 20)
    whole = frame_table(damaged)
    assert whole.report.frames == len(raws)  # one piece: every good frame
    lost = []
    for chunk in range(OVERLAP_BYTES, OVERLAP_BYTES + 700, 3):
        got = read_columns(damaged, chunk_bytes=chunk).report.frames
        if got != len(raws):
            lost.append((chunk, len(raws) - got))
    assert not lost, f"(chunk bytes, good frames lost): {lost[:6]}"


def test_the_fuzzers_case_reads_the_same_in_any_chunks():
    from pathlib import Path

    case = Path(__file__).resolve().parents[2] / "fuzz" / "cases" / "tlog" / \
        "288bfcd0e6cd-n1761.tlog"
    data = case.read_bytes()
    whole = frame_table(data)
    raws = [data[int(a):int(b)] for a, b in zip(whole.first, whole.end, strict=True)]
    for chunk in (591, 596, 636, 689, 1000, 1500):
        frames = list(FrameReader(data, chunk_bytes=chunk))
        assert [f.raw for f in frames] == raws, chunk
        log = read_columns(data, chunk_bytes=chunk)
        assert log.report.frames == whole.report.frames
        assert log.report.unknown_frames == whole.report.unknown_frames
        assert log.report.damaged_bytes == whole.report.damaged_bytes


def test_columns_in_chunks_equal_columns_in_one_piece():
    data, spans, _ = _log()
    damaged, _ = _unknown_record_swallowing(data, spans, 20)
    one = read_columns(damaged)
    for chunk in (OVERLAP_BYTES, OVERLAP_BYTES + 15, 1000):
        other = read_columns(damaged, chunk_bytes=chunk)
        for name, cols in one.messages.items():
            assert np.array_equal(other[name].timestamp_us, cols.timestamp_us)
            assert other[name].data.tobytes() == cols.data.tobytes()
