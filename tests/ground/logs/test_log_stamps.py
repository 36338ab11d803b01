"""Damaged timestamps: found against the log's order and span, counted, their frames kept."""

import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from logmaker import EPOCH_US, build_log

from flightsw.icd import mavlink
from ground.logs.columns import read_columns
from ground.logs.frames import frame_table
from ground.logs.info import log_info
from ground.logs.stamps import ISLAND_RECORDS, trusted_stamps

SECOND_US = 1_000_000


def _heartbeat(k):
    return mavlink.MAVLink_heartbeat_message(2, 0, 0, k, 4, 3)


def _log(n=60, step_us=100_000):
    return build_log([_heartbeat(k) for k in range(n)], [1] * n, [step_us] * n)


def _set_top_byte(data, spans, i, value=0x7F):
    out = bytearray(data)
    out[spans[i][0]] = value
    return bytes(out)


def test_a_top_byte_set_to_0x7f_is_one_damaged_stamp_and_its_frame_is_kept():
    data, spans, raws = _log()
    damaged = _set_top_byte(data, spans, 30)
    table = frame_table(damaged)
    assert len(table) == len(raws)
    assert np.flatnonzero(~table.stamp_ok).tolist() == [30]
    assert table.report.damaged_timestamps == 1 and not table.report.clean
    log = read_columns(damaged)
    assert log["HEARTBEAT"].timestamp_ok.tolist() == [k != 30 for k in range(60)]
    assert log.report.damaged_timestamps == 1


def test_log_info_takes_the_span_from_trusted_stamps_only():
    data, spans, _ = _log()
    info = log_info(read_columns(_set_top_byte(data, spans, 59)))
    assert info.damaged_timestamps == 1 and not info.clean
    assert info.duration_s == 5.8  # records 1 .. 58, 0.1 s apart


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(0, 59), st.integers(0, 7), st.integers(1, 255))
def test_any_byte_of_one_stamp_moved_far_is_found(i, byte, value):
    data, spans, _ = _log()
    out = bytearray(data)
    out[spans[i][0] + byte] ^= value
    moved = abs(struct.unpack(">Q", out[spans[i][0]:spans[i][0] + 8])[0] - (EPOCH_US + (i + 1)
                                                                            * 100_000))
    ok = frame_table(bytes(out)).stamp_ok
    # Every other stamp is trusted; this one is distrusted when it moved by more than the
    # order tolerance inside the log, or by more than the gap limit at either end.
    assert ok.sum() >= 59
    if moved > 3600 * SECOND_US:
        assert not ok[i]


def test_a_clean_log_and_a_log_with_pauses_are_all_trusted():
    # Pauses of 10 s and 1000 s; parts of at least ISLAND_RECORDS across longer ones.
    part = list(range(ISLAND_RECORDS))
    stamps = np.array(part + [10**7, 10**7 + 1] + [10**9 + k for k in part]
                      + [10**13 + k for k in part], dtype=np.uint64) + np.uint64(EPOCH_US)
    assert trusted_stamps(stamps).all()


def test_a_clock_stepping_back_costs_the_shorter_side_only():
    before = np.arange(100, dtype=np.uint64) * np.uint64(SECOND_US) + np.uint64(EPOCH_US)
    after = before[:30] - np.uint64(3600 * SECOND_US)
    ok = trusted_stamps(np.concatenate([before, after]))
    assert ok[:100].all() and not ok[100:].any()


def test_small_jitter_back_is_tolerated():
    stamps = np.array([10, 20, 19, 30, 25, 40], dtype=np.uint64) * np.uint64(100_000)
    assert trusted_stamps(stamps + np.uint64(EPOCH_US)).all()


def test_a_far_island_at_the_end_is_damage_a_large_part_is_not():
    base = np.arange(50, dtype=np.uint64) * np.uint64(100_000) + np.uint64(EPOCH_US)
    far = base[-1] + np.uint64(10 * 3600 * SECOND_US)
    small = np.concatenate([base, far + np.arange(ISLAND_RECORDS - 1, dtype=np.uint64)])
    assert trusted_stamps(small).tolist() == [True] * 50 + [False] * (ISLAND_RECORDS - 1)
    large = np.concatenate([base, far + np.arange(ISLAND_RECORDS, dtype=np.uint64)])
    assert trusted_stamps(large).all()


def test_stamps_beyond_2_pow_53_us_are_never_trusted():
    assert trusted_stamps(np.array([2**53, 2**64 - 1], dtype=np.uint64)).tolist() == [False] * 2
