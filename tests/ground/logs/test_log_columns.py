"""The columnar reader: values exactly pymavlink's, for every message of the ICD and real logs."""

import math
import struct
from pathlib import Path

import numpy as np
import pytest

from flightsw.icd import mavlink, new_codec
from ground.logs.columns import read_columns
from ground.logs.frames import FrameReader, frame_table
from ground.logs.layout import icd_catalogue
from ground.logs.scan import LogFileError

GOLDEN = Path(__file__).parent.parent.parent / "golden"
EPOCH_US = 1_603_152_000_000_000


def _same(ours, theirs) -> bool:
    value = ours.tolist() if isinstance(ours, np.ndarray | np.generic) else ours
    if isinstance(theirs, list):
        return len(value) == len(theirs) and all(_same(a, b) for a, b in zip(value, theirs,
                                                                               strict=True))
    if isinstance(theirs, float) and math.isnan(theirs):
        return isinstance(value, float) and math.isnan(value)
    return value == theirs and type(value) is type(theirs)


def _assert_matches_pymavlink(data: bytes) -> int:
    """Every message of `data`, decoded by pymavlink, equals our columns; returns the count."""
    codec = new_codec(0, 0)
    log = read_columns(data)
    seen: dict[str, int] = {}
    for frame in FrameReader(data):
        msg = codec.decode(bytearray(frame.raw))
        name = msg.get_type()
        k = seen.get(name, 0)
        seen[name] = k + 1
        cols = log[name]
        assert int(cols.timestamp_us[k]) == frame.timestamp_us
        assert (int(cols.src_system[k]), int(cols.src_component[k]), int(cols.seq[k])) == (
            msg.get_srcSystem(), msg.get_srcComponent(), msg.get_seq())
        for field in cols.fields:
            assert _same(cols[field][k], getattr(msg, field)), (name, field, k)
    assert seen == log.counts()
    return sum(seen.values())


def test_every_message_of_the_icd_decodes_as_pymavlink_decodes_it():
    rng = np.random.default_rng(5)
    codec = new_codec(7, 9)
    records = []
    for k, (msg_id, cls) in enumerate(sorted(mavlink.mavlink_map.items())):
        for variant in range(3):
            size = cls.unpacker.size
            payload = rng.integers(0, 256, size, dtype=np.uint8)
            if variant == 1:
                payload[size // 2:] = 0  # MAVLink 2 trims these zeros on the wire
            msg = mavlink.MAVLink_message(msg_id, cls.msgname)
            codec.seq = (k * 3 + variant) % 256
            raw = msg._pack(codec, cls.crc_extra, payload.tobytes())
            records.append(struct.pack(">Q", EPOCH_US + k) + raw)
    data = b"".join(records)
    assert _assert_matches_pymavlink(data) == len(records)
    assert read_columns(data).report.clean


def test_mavlink1_signed_and_mavlink2_frames_of_one_type_mix():
    v1, v2, signed = new_codec(3, 1), new_codec(4, 2), new_codec(5, 3)
    signed.signing.secret_key = bytes(range(32))
    signed.signing.sign_outgoing = True
    records = []
    for k in range(30):
        codec = (v1, v2, signed)[k % 3]
        codec.seq = k
        msg = mavlink.MAVLink_statustext_message(k % 8, b"frame %d" % k, k, 0)
        raw = msg.pack(codec, force_mavlink1=codec is v1)
        records.append(struct.pack(">Q", EPOCH_US + k) + raw)
    data = b"".join(records)
    assert _assert_matches_pymavlink(data) == 30
    log = read_columns(data)
    assert log["STATUSTEXT"].src_system.tolist() == [3, 4, 5] * 10
    assert (log.report.frames_v1, log.report.frames_signed) == (10, 10)


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
def test_golden_logs_decode_as_pymavlink_decodes_them(name):
    data = (GOLDEN / name / "flight.tlog").read_bytes()
    assert _assert_matches_pymavlink(data) > 2000


def test_file_and_bytes_and_any_chunk_size_give_the_same_columns():
    path = GOLDEN / "hover-60s" / "flight.tlog"
    whole = read_columns(path)
    for source, chunk in ((path.read_bytes(), 8 << 20), (path, 1000), (path, 4096)):
        other = read_columns(source, chunk_bytes=chunk)
        assert other.counts() == whole.counts()
        for name, cols in whole.messages.items():
            assert np.array_equal(other[name].timestamp_us, cols.timestamp_us)
            assert other[name].data.tobytes() == cols.data.tobytes()


def test_only_the_asked_types_are_decoded():
    path = GOLDEN / "hover-60s" / "flight.tlog"
    log = read_columns(path, types=["HIGHRES_IMU", "HEARTBEAT"])
    assert set(log.messages) == {"HIGHRES_IMU", "HEARTBEAT"}
    assert log.report.frames == read_columns(path).report.frames
    with pytest.raises(KeyError, match="NOT_A_MESSAGE"):
        read_columns(path, types=["NOT_A_MESSAGE"])


def test_columns_are_numpy_arrays_with_units_of_the_icd():
    log = read_columns(GOLDEN / "hover-60s" / "flight.tlog")
    imu = log["HIGHRES_IMU"]
    assert imu.timestamp_us.dtype == np.uint64 and imu.data.dtype.names == imu.fields
    assert imu["xacc"].dtype == np.float32 and len(imu) == len(imu["xacc"])
    nav = log["PROBE_NAV_STATE"]
    assert nav["pos_i_m"].shape == (len(nav), 3)
    text = log["STATUSTEXT"]["text"]
    assert text.dtype.kind == "U" and text[0].startswith("modes:")
    flight = log["HEARTBEAT"].where(log["HEARTBEAT"].src_system == 1)
    assert len(flight) == len(log["HEARTBEAT"])
    assert log.nbytes == sum(m.nbytes for m in log.messages.values())


def test_frame_table_indexes_every_frame():
    data = (GOLDEN / "hover-60s" / "flight.tlog").read_bytes()
    table = frame_table(data)
    frames = list(FrameReader(data))
    assert len(table) == len(frames)
    assert [table.raw(i) for i in range(len(table))] == [f.raw for f in frames]
    assert table.timestamp_us.tolist() == [f.timestamp_us for f in frames]


def test_catalogue_covers_the_icd():
    cat = icd_catalogue()
    assert len(cat.layouts) == len(mavlink.mavlink_map)
    for layout in cat.layouts:
        assert layout.dtype.itemsize == mavlink.mavlink_map[layout.msg_id].unpacker.size


def test_a_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(LogFileError, match="no such file"):
        read_columns(tmp_path / "nope.tlog")
    with pytest.raises(LogFileError, match="is a directory"):
        read_columns(tmp_path)
