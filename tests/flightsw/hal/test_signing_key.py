"""load_signing_key: the right file gives the 32 bytes; every wrong one is refused with one
line that names the file and holds no part of the key."""

import os

import pytest

from flightsw.hal.signing_key import SigningKeyError, load_signing_key

KEY_HEX = "00112233445566778899aabbccddeeff" "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def _write(path, data: bytes, mode: int = 0o600):
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


def _refusal(path) -> str:
    with pytest.raises(SigningKeyError) as info:
        load_signing_key(path)
    text = str(info.value)
    assert "\n" not in text
    assert str(path) in text
    # No run of the key's characters (8 hex digits is far less than any useful part).
    for start in range(0, len(KEY_HEX) - 8):
        assert KEY_HEX[start:start + 8].lower() not in text.lower()
    return text


@pytest.mark.parametrize("data", [KEY_HEX.encode(), KEY_HEX.encode() + b"\n",
                                  KEY_HEX.upper().encode() + b"\r\n"])
def test_a_private_file_of_64_hex_digits_gives_the_32_byte_key(tmp_path, data):
    path = _write(tmp_path / "key", data)
    assert load_signing_key(path) == bytes.fromhex(KEY_HEX)


def test_a_missing_file_is_named(tmp_path):
    assert "not found" in _refusal(tmp_path / "absent.key")


def test_a_directory_is_refused(tmp_path):
    assert "directory" in _refusal(tmp_path)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o644, 0o666])
def test_a_file_group_or_others_can_read_or_write_is_refused(tmp_path, mode):
    path = _write(tmp_path / "key", KEY_HEX.encode(), mode)
    text = _refusal(path)
    assert "group or others" in text and f"{mode:04o}" in text


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_file_is_refused(tmp_path):
    path = _write(tmp_path / "key", KEY_HEX.encode(), 0o200)
    assert "not readable" in _refusal(path)


@pytest.mark.parametrize("data, what", [
    (b"", "empty"),
    (b"\n", "empty"),
    (KEY_HEX[:-1].encode(), "63 hexadecimal"),
    (KEY_HEX.encode() + b"0", "65 hexadecimal"),
    (KEY_HEX.encode() * 2, "128 hexadecimal"),
    (b"0" * 5000, "more than 4096"),
    (KEY_HEX[:-1].encode() + b"g", "not hexadecimal"),
    (b" " + KEY_HEX.encode(), "not hexadecimal"),
    (KEY_HEX.encode() + b"\n\n", "not hexadecimal"),
    (KEY_HEX[:32].encode() + b"\n" + KEY_HEX[32:].encode(), "not hexadecimal"),
    (bytes.fromhex(KEY_HEX), "not hexadecimal"),  # the raw 32 bytes, not their hex
])
def test_a_malformed_key_is_refused_without_quoting_it(tmp_path, data, what):
    path = _write(tmp_path / "key", data)
    text = _refusal(path)
    assert what in text
    assert "expected exactly 64 hexadecimal characters" in text


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    path = tmp_path / "key"
    os.mkfifo(path, 0o600)
    assert "not a regular file" in _refusal(path)
