"""The MAVLink 2 signing key of the ground link, read from a file the operator keeps.

The file holds the 32-byte secret as 64 hexadecimal characters (a trailing
newline is allowed, as an editor or `openssl rand -hex 32 > key` leaves one).
A key that others can read is no secret, so a file readable or writable by
group or others is refused, as ssh refuses a private key with loose modes.

Every refusal is one line naming the file and what is wrong.  None of them
quotes the file's content: a key that is almost right (one character short,
a stray space) is still almost all of the secret.
"""

import os
import stat
from pathlib import Path

KEY_BYTES = 32
KEY_HEX_CHARS = 2 * KEY_BYTES
# Read at most this much: enough to tell "too long" from "right", never a whole
# large file pointed at by mistake.
_READ_LIMIT_BYTES = 4096
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


class SigningKeyError(Exception):
    """A key file that cannot be used (one line naming the file, no key material)."""


def load_signing_key(path) -> bytes:
    """The 32-byte secret in `path`; SigningKeyError (one line) if the file is not fit."""
    path = Path(path)
    try:
        # O_NONBLOCK: a FIFO given by mistake must be refused, not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise SigningKeyError(f"{path}: signing key file not found") from None
    except IsADirectoryError:
        raise SigningKeyError(f"{path}: is a directory, expected a signing key file") from None
    except PermissionError:
        raise SigningKeyError(f"{path}: signing key file not readable (permission denied)") \
            from None
    except OSError as exc:
        raise SigningKeyError(f"{path}: signing key file not readable ({exc.strerror})") \
            from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SigningKeyError(f"{path}: is a directory, expected a signing key file")
        if not stat.S_ISREG(info.st_mode):
            raise SigningKeyError(f"{path}: not a regular file, expected a signing key file")
        loose = info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
        if loose:
            raise SigningKeyError(
                f"{path}: signing key file is accessible by group or others (mode "
                f"{stat.S_IMODE(info.st_mode):04o}); make it private, e.g. chmod 600")
        try:
            data = os.read(fd, _READ_LIMIT_BYTES)
        except OSError as exc:
            raise SigningKeyError(f"{path}: signing key file not readable ({exc.strerror})") \
                from None
    finally:
        os.close(fd)
    return _parse_key(path, data)


def _parse_key(path: Path, data: bytes) -> bytes:
    """The key from the file's bytes; the messages describe the shape, never the content."""
    expected = f"expected exactly {KEY_HEX_CHARS} hexadecimal characters (a 32-byte key)"
    if data.endswith(b"\r\n"):
        text = data[:-2]
    elif data.endswith(b"\n"):
        text = data[:-1]
    else:
        text = data
    if not text:
        raise SigningKeyError(f"{path}: signing key file is empty; {expected}")
    if any(byte not in _HEX_DIGITS for byte in text):
        raise SigningKeyError(f"{path}: signing key file holds characters that are not "
                              f"hexadecimal digits (or more than one line); {expected}")
    if len(text) != KEY_HEX_CHARS:
        size = f"more than {_READ_LIMIT_BYTES}" if len(data) >= _READ_LIMIT_BYTES \
            else str(len(text))
        raise SigningKeyError(f"{path}: signing key file holds {size} hexadecimal "
                              f"characters; {expected}")
    return bytes.fromhex(text.decode("ascii"))
