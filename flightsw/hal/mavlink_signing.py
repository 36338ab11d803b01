"""MAVLink 2 message signing, as pure functions over frame bytes (no I/O, no clock).

A signed MAVLink 2 frame is an ordinary frame with incompat flag 0x01 set
(covered by the CRC) and a 13-byte block appended after the CRC:

    link_id (1 byte) | timestamp (6 bytes, little endian, 10 us units
    since 2015-01-01 00:00:00 UTC) | signature (6 bytes)

where the signature is the first 48 bits of SHA-256 over
secret key + header + payload + CRC + link_id + timestamp (the MAVLink 2
signing specification).  The flight side judges uplink frames with `verify`
and `signature_fields`; the ground side (and tests) sign with `sign_frame`.

Nothing here stores, logs or formats the key: callers hold it, and an error
raised here never contains it.
"""

import hashlib
import hmac
import struct

from flightsw.icd import mavlink

MAVLINK2_MAGIC = 0xFD
HEADER_LEN = 10  # magic, len, incompat, compat, seq, sysid, compid, msgid (3)
CRC_LEN = 2
SIGNATURE_BLOCK_LEN = 13
SIGNATURE_LEN = 6
KEY_LEN = 32
INCOMPAT_FLAG_SIGNED = 0x01
TIMESTAMP_MAX = (1 << 48) - 1

# 2015-01-01 00:00:00 UTC as a Unix time: the epoch of signing timestamps.
SIGNING_EPOCH_UNIX_S = 1420070400


class SigningError(ValueError):
    """A frame or an argument that cannot be signed (the message never holds the key)."""


def _check_link_and_timestamp(link_id: int, timestamp_10us: int) -> None:
    if not 0 <= link_id <= 255:
        raise SigningError(f"link_id: expected 0..255, got {link_id}")
    if not 0 <= timestamp_10us <= TIMESTAMP_MAX:
        raise SigningError(f"timestamp_10us: expected 0..2**48-1, got {timestamp_10us}")


def _check_key(key: bytes) -> None:
    # The spec's secret key is 32 bytes; a shorter one would still hash, but a
    # mis-read key file must fail loudly, not sign with a weak key.
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_LEN:
        raise SigningError(f"key: expected {KEY_LEN} bytes")


def _frame_length(raw: bytes) -> int:
    """Length of the frame without a signature block (header + payload + CRC)."""
    if len(raw) < HEADER_LEN + CRC_LEN or raw[0] != MAVLINK2_MAGIC:
        raise SigningError("frame: expected a MAVLink 2 frame (magic 0xFD)")
    return HEADER_LEN + raw[1] + CRC_LEN


def signature(key: bytes, frame_without_signature: bytes, link_id: int,
              timestamp_10us: int) -> bytes:
    """The 6-byte signature of a frame (header + payload + CRC, signed flag already set)."""
    _check_key(key)
    _check_link_and_timestamp(link_id, timestamp_10us)
    digest = hashlib.sha256()
    digest.update(key)
    digest.update(frame_without_signature)
    digest.update(struct.pack("<B", link_id))
    digest.update(timestamp_10us.to_bytes(6, "little"))
    return digest.digest()[:SIGNATURE_LEN]


def _crc(frame_body: bytes, msg_id: int) -> int:
    """X.25 CRC over header (without magic) and payload, with the message's crc_extra."""
    msg_class = mavlink.mavlink_map.get(msg_id)
    if msg_class is None:
        raise SigningError(f"frame: message id {msg_id} is not in the dialect")
    crc = mavlink.x25crc(frame_body[1:])
    crc.accumulate(struct.pack("<B", msg_class.crc_extra))
    return crc.crc


def sign_frame(raw: bytes, key: bytes, link_id: int, timestamp_10us: int) -> bytes:
    """An unsigned MAVLink 2 frame -> the same frame signed (flag, CRC redone, block appended)."""
    _check_key(key)
    _check_link_and_timestamp(link_id, timestamp_10us)
    length = _frame_length(raw)
    if len(raw) != length:
        raise SigningError("frame: expected an unsigned frame: header + payload + CRC, no more")
    if raw[2] & INCOMPAT_FLAG_SIGNED:
        raise SigningError("frame: already signed")
    body = bytearray(raw[:HEADER_LEN + raw[1]])
    body[2] |= INCOMPAT_FLAG_SIGNED
    msg_id = body[7] | (body[8] << 8) | (body[9] << 16)
    framed = bytes(body) + struct.pack("<H", _crc(bytes(body), msg_id))
    block = struct.pack("<B", link_id) + timestamp_10us.to_bytes(6, "little")
    return framed + block + signature(key, framed, link_id, timestamp_10us)


def signature_fields(raw: bytes) -> tuple[int, int, bytes] | None:
    """(link_id, timestamp_10us, signature) of a signed frame; None if it carries no signature."""
    if len(raw) < HEADER_LEN + CRC_LEN or raw[0] != MAVLINK2_MAGIC:
        return None
    if not raw[2] & INCOMPAT_FLAG_SIGNED:
        return None
    end = HEADER_LEN + raw[1] + CRC_LEN
    if len(raw) != end + SIGNATURE_BLOCK_LEN:
        return None
    link_id = raw[end]
    timestamp_10us = int.from_bytes(raw[end + 1:end + 7], "little")
    return link_id, timestamp_10us, bytes(raw[end + 7:end + 13])


def verify(raw: bytes, key: bytes) -> bool:
    """True when the frame is signed and its signature is the key's (timestamps not judged here)."""
    fields = signature_fields(raw)
    if fields is None:
        return False
    link_id, timestamp_10us, received = fields
    end = HEADER_LEN + raw[1] + CRC_LEN
    try:
        expected = signature(key, bytes(raw[:end]), link_id, timestamp_10us)
    except SigningError:
        return False
    # Constant-time compare: no timing hint about how much of a forgery matched.
    return hmac.compare_digest(expected, received)


def wall_timestamp_10us(unix_s: float) -> int:
    """A signing timestamp for a wall-clock time: 10 us units since 2015-01-01 00:00:00 UTC."""
    ticks = int(round((unix_s - SIGNING_EPOCH_UNIX_S) * 100_000))
    return min(max(ticks, 0), TIMESTAMP_MAX)


# SETUP_SIGNING (id 256) carries a secret key in payload bytes 10..41 (wire order:
# initial_timestamp uint64, target_system, target_component, secret_key[32]).
SETUP_SIGNING_MSG_ID = 256
_SETUP_SIGNING_KEY_OFFSET = 10


def redacted_for_log(raw: bytes) -> bytes:
    """`raw` as the flight log may keep it: a SETUP_SIGNING's key zeroed (CRC redone,
    so log readers still decode it; its signature no longer verifies), others as is."""
    if len(raw) < HEADER_LEN + CRC_LEN or raw[0] != MAVLINK2_MAGIC:
        return raw
    msg_id = raw[7] | (raw[8] << 8) | (raw[9] << 16)
    payload_len = raw[1]
    if msg_id != SETUP_SIGNING_MSG_ID or len(raw) < HEADER_LEN + payload_len + CRC_LEN:
        return raw
    body = bytearray(raw[:HEADER_LEN + payload_len])
    for i in range(HEADER_LEN + _SETUP_SIGNING_KEY_OFFSET, len(body)):
        body[i] = 0
    tail = bytes(raw[HEADER_LEN + payload_len + CRC_LEN:])
    return bytes(body) + struct.pack("<H", _crc(bytes(body), msg_id)) + tail
