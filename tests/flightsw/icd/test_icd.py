"""The ICD: generated code matches the XML, ids stay in our block, frames round-trip."""

import math
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.icd import (
    PROBE_MSG_ID_FIRST,
    PROBE_MSG_ID_LAST,
    icd_fingerprint,
    mavlink,
    new_codec,
)

ROOT = Path(__file__).resolve().parents[3]
XML_DIR = ROOT / ".cache" / "mavlink-xml"
GENERATED = ROOT / "flightsw" / "icd" / "generated" / "prospector.py"

PROBE_CLASSES = [cls for msg_id, cls in sorted(mavlink.mavlink_map.items())
                 if PROBE_MSG_ID_FIRST <= msg_id <= PROBE_MSG_ID_LAST]


def test_generated_code_is_current_with_the_xml(tmp_path):
    if not (XML_DIR / "common.xml").exists():
        pytest.fail(f"{XML_DIR}/common.xml missing: run `make icd` (make test fetches it)")
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from gen_icd import generate
    finally:
        sys.path.pop(0)
    fresh = tmp_path / "prospector.py"
    generate(XML_DIR, fresh)
    assert fresh.read_bytes() == GENERATED.read_bytes(), (
        "flightsw/icd/generated/prospector.py is stale against prospector.xml: run `make icd`")


def test_probe_messages_exist_for_every_device():
    names = {cls.msgname for cls in PROBE_CLASSES}
    for needed in ("PROBE_STAR_TRACKER", "PROBE_LIDAR_RANGE", "PROBE_NAVCAM_FIX",
                   "PROBE_THRUSTER_CMD", "PROBE_WHEEL_CMD", "PROBE_WHEEL_STATUS",
                   "PROBE_SPECTRUM_CHUNK", "PROBE_SAMPLER_STATUS", "PROBE_SAMPLER_CMD",
                   "PROBE_POWER_THERMAL"):
        assert needed in names


def test_our_ids_do_not_collide_with_common():
    probe_ids = {cls.id for cls in PROBE_CLASSES}
    for msg_id, cls in mavlink.mavlink_map.items():
        if cls.msgname.startswith("PROBE_"):
            assert msg_id in probe_ids
        else:
            assert not PROBE_MSG_ID_FIRST <= msg_id <= PROBE_MSG_ID_LAST


def test_lidar_range_is_float_metres_beyond_655_m():
    codec = new_codec(2, 1)
    raw = mavlink.MAVLink_probe_lidar_range_message(1, 1234.5, 0.1, 1).pack(codec)
    msg = new_codec(2, 1).decode(bytearray(raw))
    assert msg.range_m == pytest.approx(1234.5, abs=1e-3)


def test_fingerprint_is_stable_and_32_bit():
    assert icd_fingerprint() == icd_fingerprint()
    assert 0 <= icd_fingerprint() < 2 ** 32


def _with_entry_moved(enums, enum_name, old_value, new_value):
    """A copy of `enums` with one entry of one enum given another value."""
    out = {name: dict(entries) for name, entries in enums.items()}
    out[enum_name][new_value] = out[enum_name].pop(old_value)
    return out


def test_fingerprint_changes_with_an_enum_value(monkeypatch):
    before = icd_fingerprint()
    assert mavlink.enums["PROBE_MODE"][2].name == "PROBE_MODE_HOVER"
    monkeypatch.setattr(mavlink, "enums", _with_entry_moved(mavlink.enums, "PROBE_MODE", 2, 9))
    assert icd_fingerprint() != before


def test_fingerprint_changes_with_a_field_unit_or_type_not_with_a_description(monkeypatch):
    cls = mavlink.MAVLink_probe_thruster_cmd_message
    before = icd_fingerprint()
    monkeypatch.setattr(cls, "fieldunits_by_name", dict(cls.fieldunits_by_name, cycle_s="ms"))
    assert icd_fingerprint() != before
    monkeypatch.undo()
    monkeypatch.setattr(cls, "fieldtypes", ["uint64_t", "float", "double"])
    assert icd_fingerprint() != before
    monkeypatch.undo()
    entry = mavlink.enums["PROBE_MODE"][2]
    monkeypatch.setattr(entry, "description", "another text")
    assert icd_fingerprint() == before


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


_FIELD_LIMITS = {"uint8_t": (0, 255), "uint16_t": (0, 65535), "uint32_t": (0, 2 ** 32 - 1),
                 "uint64_t": (0, 2 ** 64 - 1), "int8_t": (-128, 127),
                 "int16_t": (-32768, 32767), "int32_t": (-2 ** 31, 2 ** 31 - 1)}


def _value_strategy(type_name: str, array_length: int):
    if type_name == "char":
        return st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", max_size=array_length)
    if type_name == "float":
        elem = st.floats(width=32, allow_nan=False, allow_infinity=False)
    else:
        lo, hi = _FIELD_LIMITS[type_name]
        elem = st.integers(lo, hi)
    if array_length:
        return st.lists(elem, min_size=array_length, max_size=array_length)
    return elem


@st.composite
def probe_messages(draw):
    cls = draw(st.sampled_from(PROBE_CLASSES))
    # array_lengths follows the wire order (ordered_fieldnames); types the declared order.
    length_of = dict(zip(cls.ordered_fieldnames, cls.array_lengths, strict=True))
    values = []
    for name, type_name in zip(cls.fieldnames, cls.fieldtypes, strict=True):
        values.append(draw(_value_strategy(type_name, length_of[name])))
    return cls, values


@settings(max_examples=300, deadline=None)
@given(probe_messages())
def test_every_probe_message_round_trips_through_mavlink2_framing(case):
    cls, values = case
    msg = cls(*[v.encode() if isinstance(v, str) else v for v in values])
    raw = msg.pack(new_codec(1, 1))
    assert raw[0] == 0xFD  # MAVLink 2 frame
    decoded = new_codec(1, 1).decode(bytearray(raw))
    assert decoded.get_type() == cls.msgname
    for name, value in zip(cls.fieldnames, values, strict=True):
        got = getattr(decoded, name)
        if isinstance(value, str):
            assert got == value
        elif isinstance(value, list):
            assert list(got) == [(_f32(v) if isinstance(v, float) else v) for v in value]
        elif isinstance(value, float):
            assert got == _f32(value) or (math.isnan(got) and math.isnan(value))
        else:
            assert got == value


def test_every_message_fits_a_mavlink_payload():
    """A MAVLink 2 payload is at most 255 bytes: a larger message cannot be packed at all
    (the header's length byte overflows), and the task sending it raises in flight."""
    too_big = {cls.msgname: cls.unpacker.size for cls in mavlink.mavlink_map.values()
               if cls.unpacker.size > 255}
    assert not too_big, too_big
