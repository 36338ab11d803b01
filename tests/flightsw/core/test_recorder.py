"""The flight recorder: standard .tlog out, written on a cadence, no signing material."""

import io
import os
import struct

import pytest
from pymavlink import mavutil

from flightsw.core.recorder import FlightRecorder
from flightsw.icd import mavlink, new_codec
from ground.logs.frames import FrameReader

EPOCH_US = 1_603_152_000_000_000


class CountingSink(io.BytesIO):
    """A BytesIO that counts flushes (what reaches 'the operating system')."""

    def __init__(self):
        super().__init__()
        self.flushed = b""

    def flush(self):
        self.flushed = self.getvalue()


def _frame(codec, k: int) -> bytes:
    return bytes(mavlink.MAVLink_heartbeat_message(1, 2, 3, k, 4, 3).pack(codec))


def test_output_is_a_tlog_that_pymavlink_reads(tmp_path):
    codec = new_codec(1, 1)
    path = tmp_path / "x.tlog"
    with open(path, "xb") as sink:
        rec = FlightRecorder(sink, EPOCH_US)
        for k in range(50):
            rec.record(k * 100_000, _frame(codec, k))
        rec.flush()
    log = mavutil.mavlink_connection(str(path), dialect="prospector")
    modes = []
    while (msg := log.recv_match()) is not None:
        modes.append(msg.custom_mode)
        assert msg._timestamp == pytest.approx((EPOCH_US + (len(modes) - 1) * 100_000) / 1e6)
    assert modes == list(range(50))
    assert rec.frames_written == 50 and rec.bytes_written == path.stat().st_size


@pytest.mark.parametrize("rate_hz", [100, 10, 1])
def test_no_more_than_4_kib_or_a_second_of_data_waits_in_the_recorder(rate_hz):
    raw = _frame(new_codec(1, 1), 1)
    record_bytes = 8 + len(raw)
    sink = CountingSink()
    rec = FlightRecorder(sink, EPOCH_US, sync="off")
    times_us = []
    for k in range(3 * rate_hz * 10):
        t_us = k * 1_000_000 // rate_hz
        rec.record(t_us, raw)
        times_us.append(t_us)
        # Everything recorded is either handed to the sink (and flushed) or still waiting.
        assert len(sink.flushed) + rec.pending_bytes == len(times_us) * record_bytes
        waiting = rec.pending_bytes // record_bytes
        assert rec.pending_bytes < 4096
        if waiting:
            assert times_us[-1] - times_us[-waiting] < 1_000_000
    assert rec.writes > 0


def test_setup_signing_is_never_written():
    codec = new_codec(255, 190)
    key = bytes(range(32))
    setup = bytes(mavlink.MAVLink_setup_signing_message(1, 1, key, 123).pack(codec))
    sink = io.BytesIO()
    rec = FlightRecorder(sink, EPOCH_US)
    rec.record(0, _frame(codec, 7))
    rec.record(0, setup)
    rec.flush()
    data = sink.getvalue()
    assert key not in data
    assert [f.msg_id for f in FrameReader(data)] == [0]
    assert rec.frames_refused == 1 and rec.frames_written == 1


def test_flush_fsyncs_a_real_file(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    with open(tmp_path / "x.tlog", "xb") as sink:
        rec = FlightRecorder(sink, EPOCH_US, sync="inline")
        rec.record(0, _frame(new_codec(1, 1), 1))
        rec.record(1_000_000, _frame(new_codec(1, 1), 2))  # a second of data: written out
        assert len(synced) == 1
        rec.flush()
        assert len(synced) == 2


def test_background_sync_thread_stops_on_flush(tmp_path):
    import threading

    before = {t.name for t in threading.enumerate()}
    with open(tmp_path / "x.tlog", "xb") as sink:
        rec = FlightRecorder(sink, EPOCH_US)  # background sync is the default
        for k in range(100):
            rec.record(k * 100_000, _frame(new_codec(1, 1), k))
        assert "recorder-fsync" in {t.name for t in threading.enumerate()}
        rec.flush()
    assert {t.name for t in threading.enumerate()} == before
    assert rec.sync_errors == 0


def test_in_memory_sink_needs_no_sync():
    rec = FlightRecorder(io.BytesIO(), EPOCH_US)
    rec.record(0, _frame(new_codec(1, 1), 1))
    rec.flush()
    assert rec.sync_errors == 0


@pytest.mark.parametrize("kwargs", [{"flush_bytes": 0}, {"flush_every_us": -1},
                                    {"sync": "sometimes"}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        FlightRecorder(io.BytesIO(), EPOCH_US, **kwargs)


def test_timestamps_are_big_endian_epoch_plus_mission_time():
    sink = io.BytesIO()
    rec = FlightRecorder(sink, EPOCH_US)
    rec.record(1234, _frame(new_codec(1, 1), 1))
    rec.flush()
    assert struct.unpack(">Q", sink.getvalue()[:8])[0] == EPOCH_US + 1234
