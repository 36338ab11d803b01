"""MAVLink 2 signing, checked against pymavlink's own signing as an independent oracle.

pymavlink signs in MAVLink_message.sign_packet and checks in
MAVLink.check_signature; our functions share none of that code, so a frame
signed by one and accepted by the other checks both against the spec.
"""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.hal import mavlink_signing as signing
from flightsw.icd import mavlink

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))

keys = st.binary(min_size=32, max_size=32)
link_ids = st.integers(0, 255)
timestamps = st.integers(1, signing.TIMESTAMP_MAX)
texts = st.binary(min_size=0, max_size=50).map(lambda b: bytes(c % 95 + 32 for c in b))


def _codec(system_id=255, component_id=190, key=None, link_id=0, timestamp=0):
    codec = mavlink.MAVLink(None, srcSystem=system_id, srcComponent=component_id)
    codec.robust_parsing = True
    if key is not None:
        codec.signing.secret_key = key
        codec.signing.link_id = link_id
        codec.signing.timestamp = timestamp
        codec.signing.sign_outgoing = True
    return codec


def _statustext(text: bytes):
    return mavlink.MAVLink_statustext_message(6, text)


def _command(param1: float):
    return mavlink.MAVLink_command_long_message(1, 1, 176, 0, param1, 0, 0, 0, 0, 0, 0)


def _unsigned_raw(msg) -> bytes:
    return msg.pack(_codec())


def _oracle_accepts(raw: bytes, key: bytes) -> bool:
    """pymavlink with the key parses the frame as a good message (not BAD_DATA)."""
    receiver = _codec(system_id=1, component_id=1, key=key)
    receiver.signing.sign_outgoing = False
    parsed = receiver.parse_buffer(raw) or []
    return len(parsed) == 1 and parsed[0].get_type() != "BAD_DATA"


@settings(max_examples=60, deadline=None)
@given(key=keys, link_id=link_ids, timestamp=timestamps, text=texts)
def test_pymavlink_signed_frames_verify_with_their_fields(key, link_id, timestamp, text):
    raw = _statustext(text).pack(_codec(key=key, link_id=link_id, timestamp=timestamp))
    assert signing.verify(raw, key)
    assert signing.signature_fields(raw) == (link_id, timestamp, raw[-6:])


@settings(max_examples=60, deadline=None)
@given(key=keys, link_id=link_ids, timestamp=timestamps, text=texts)
def test_our_signing_equals_pymavlink_signing_byte_for_byte(key, link_id, timestamp, text):
    msg = _statustext(text)
    expected = msg.pack(_codec(key=key, link_id=link_id, timestamp=timestamp))
    ours = signing.sign_frame(_unsigned_raw(_statustext(text)), key, link_id, timestamp)
    assert ours == expected


@settings(max_examples=60, deadline=None)
@given(key=keys, link_id=link_ids, timestamp=timestamps, param1=st.floats(-1e6, 1e6))
def test_pymavlink_with_the_key_accepts_our_signed_frames(key, link_id, timestamp, param1):
    raw = signing.sign_frame(_unsigned_raw(_command(param1)), key, link_id, timestamp)
    assert _oracle_accepts(raw, key)
    assert signing.verify(raw, key)


@settings(max_examples=60, deadline=None)
@given(key=keys, other=keys, timestamp=timestamps, text=texts)
def test_a_frame_signed_with_another_key_is_refused_by_both(key, other, timestamp, text):
    if key == other:
        return
    raw = signing.sign_frame(_unsigned_raw(_statustext(text)), other, 0, timestamp)
    assert not signing.verify(raw, key)
    assert not _oracle_accepts(raw, key)


@settings(max_examples=80, deadline=None)
@given(text=texts, position=st.integers(0, 10_000), flip=st.integers(1, 255))
def test_any_single_byte_change_breaks_the_signature(text, position, flip):
    raw = bytearray(signing.sign_frame(_unsigned_raw(_statustext(text)), KEY, 3, 123456))
    raw[position % len(raw)] ^= flip
    # A change to the length byte or the signed flag can make it no longer a
    # signed frame at all; either way it must not verify.
    assert not signing.verify(bytes(raw), KEY)


def test_unsigned_frames_have_no_signature_fields_and_never_verify():
    raw = _unsigned_raw(_command(1.0))
    assert signing.signature_fields(raw) is None
    assert not signing.verify(raw, KEY)
    assert signing.signature_fields(b"") is None
    assert signing.signature_fields(b"\xfe\x00" + bytes(10)) is None  # MAVLink 1


def test_signature_is_the_first_48_bits_of_sha256_over_key_frame_link_and_timestamp():
    import hashlib

    frame = bytes(range(20))
    expected = hashlib.sha256(KEY + frame + bytes([7]) + (5).to_bytes(6, "little")).digest()[:6]
    assert signing.signature(KEY, frame, 7, 5) == expected


def test_wall_timestamp_counts_10us_from_2015():
    epoch = datetime(2015, 1, 1, tzinfo=UTC).timestamp()
    assert signing.wall_timestamp_10us(epoch) == 0
    assert signing.wall_timestamp_10us(epoch + 1.0) == 100_000
    assert signing.wall_timestamp_10us(epoch - 5.0) == 0
    assert signing.wall_timestamp_10us(epoch + 86400.0) == 8_640_000_000


@pytest.mark.parametrize("bad", [
    dict(key=b"short"), dict(link_id=256), dict(link_id=-1), dict(timestamp_10us=-1),
    dict(timestamp_10us=1 << 48),
])
def test_bad_arguments_are_named_and_never_echo_the_key(bad):
    args = dict(raw=_unsigned_raw(_command(0.0)), key=KEY, link_id=0, timestamp_10us=0)
    args.update(bad)
    with pytest.raises(signing.SigningError) as err:
        signing.sign_frame(**args)
    assert KEY.hex() not in str(err.value) and "short" not in str(err.value)


def test_sign_frame_refuses_a_signed_or_truncated_frame():
    raw = signing.sign_frame(_unsigned_raw(_command(0.0)), KEY, 0, 1)
    with pytest.raises(signing.SigningError, match="frame"):
        signing.sign_frame(raw, KEY, 0, 2)
    with pytest.raises(signing.SigningError, match="frame"):
        signing.sign_frame(raw[:5], KEY, 0, 2)


@settings(max_examples=40, deadline=None)
@given(key=keys, new_key=keys, timestamp=timestamps, signed=st.booleans())
def test_the_log_copy_of_setup_signing_has_no_key_and_still_decodes(key, new_key, timestamp,
                                                                    signed):
    msg = mavlink.MAVLink_setup_signing_message(1, 1, list(new_key), 12345)
    raw = _unsigned_raw(msg)
    if signed:
        raw = signing.sign_frame(raw, key, 0, timestamp)
    logged = signing.redacted_for_log(raw)
    assert len(logged) == len(raw) and (new_key not in logged or not any(new_key))
    decoded = _codec(system_id=1, component_id=1).parse_buffer(logged)[0]
    assert decoded.get_type() == "SETUP_SIGNING" and not any(decoded.secret_key)
    assert decoded.initial_timestamp == 12345


def test_the_log_copy_of_any_other_frame_is_the_frame():
    raw = signing.sign_frame(_unsigned_raw(_command(3.0)), KEY, 1, 99)
    assert signing.redacted_for_log(raw) == raw
    assert signing.redacted_for_log(b"\x00garbage") == b"\x00garbage"
