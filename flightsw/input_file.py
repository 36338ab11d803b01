"""Reading a user's input file (scenario, flight_config.json, .tlog, parameter file) safely.

Host-side, like flightsw/run_dir.py: no flight task reads a file.  A path may
name anything: a FIFO would block the reader until some writer came along (for
ever, silently), a device such as /dev/zero would never end.  `read_input`
opens without blocking, refuses whatever is not a regular file, and refuses a
file larger than the caller's limit before reading it; each refusal is an
InputFileError whose text is one line naming the file.
"""

import os
import stat
from pathlib import Path

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


class InputFileError(Exception):
    """An input file that cannot be read; one line, beginning with the file's name."""


def read_input(path: str | os.PathLike, max_bytes: int, what: str = "file") -> bytes:
    """The whole content of a regular file of at most max_bytes, or InputFileError."""
    label = os.fsdecode(os.fspath(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputFileError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{label}: is a directory, expected a {what}") from None
    except OSError as exc:
        raise InputFileError(f"{label}: cannot read: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
        raise InputFileError(f"{label}: is {kind}, expected a {what} (a regular file)")
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > max_bytes:
            raise InputFileError(f"{label}: {info.st_size} bytes, more than a {what} can be "
                                 f"({max_bytes} bytes at most)")
        try:
            data = handle.read(info.st_size + 1)  # (read(n) allocates n bytes up front)
        except OSError as exc:
            raise InputFileError(f"{label}: cannot read: {exc.strerror or exc}") from None
    if len(data) > info.st_size:  # still growing while we read it: take what it holds now
        data = data[:info.st_size]
    return data


def is_regular_file(path: Path) -> bool:
    """True for a regular file (following links); never blocks, never raises."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False
