"""Reading a user's input file (flightsw/input_file.py): whatever a path names, the reader
returns the bytes of a regular file within the limit or refuses in one line naming the
file, and never blocks."""

import os
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.input_file import InputFileError, is_regular_file, read_input


def refusal(path, max_bytes=1000, what="scenario"):
    with pytest.raises(InputFileError) as info:
        read_input(path, max_bytes, what)
    message = str(info.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(f"{os.fsdecode(path)}: ")
    return message


@settings(max_examples=40, deadline=None)
@given(content=st.binary(max_size=300), slack=st.integers(0, 3))
def test_a_regular_file_within_the_limit_is_read_whole(tmp_path_factory, content, slack):
    """The bytes come back unchanged, up to and including a file of exactly max_bytes."""
    path = tmp_path_factory.mktemp("in") / "f.bin"
    path.write_bytes(content)
    assert read_input(path, len(content) + slack) == content


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    """One byte over the caller's limit: refused, naming the size, the limit and the kind."""
    path = tmp_path / "big.toml"
    path.write_bytes(b"x" * 101)
    assert refusal(path, 100) == (f"{path}: 101 bytes, more than a scenario can be "
                                  f"(100 bytes at most)")


def test_a_missing_file_is_named():
    assert refusal("/nonexistent/scenario.toml") == "/nonexistent/scenario.toml: no such file"


def test_a_directory_is_refused_as_not_a_regular_file(tmp_path):
    assert refusal(tmp_path) == (f"{tmp_path}: is a directory, expected a scenario "
                                 f"(a regular file)")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    """A named pipe with no writer would block an ordinary open for ever."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert refusal(fifo, what="flight log") == (f"{fifo}: is a FIFO (named pipe), expected a "
                                                f"flight log (a regular file)")


def test_a_device_is_refused_not_read_for_ever():
    """/dev/zero would never end; its size (0) says nothing about that."""
    assert refusal("/dev/zero") == ("/dev/zero: is a character device, expected a scenario "
                                    "(a regular file)")


def test_a_path_the_system_cannot_open_gives_the_systems_reason(tmp_path):
    """A Unix socket cannot be opened as a file: the reason is the system's, in one line."""
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        message = refusal(path)
    assert message == f"{path}: cannot read: {os.strerror(6)}"  # ENXIO


def test_is_regular_file_follows_links_and_never_raises(tmp_path):
    """True for a file or a link to one; False for a directory, a dangling link, a missing
    path and a path the system cannot even represent (an embedded NUL)."""
    f = tmp_path / "f"
    f.write_text("x")
    (tmp_path / "link").symlink_to(f)
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    assert is_regular_file(f) and is_regular_file(tmp_path / "link")
    for path in (tmp_path, tmp_path / "dangling", tmp_path / "gone", "bad\0name"):
        assert not is_regular_file(path)


def test_a_regular_file_that_fails_to_read_gives_the_systems_reason():
    """/proc/self/mem is a regular file whose first page cannot be read (EIO)."""
    assert refusal("/proc/self/mem") == f"/proc/self/mem: cannot read: {os.strerror(5)}"


def test_a_file_still_growing_is_read_as_it_was_when_opened(tmp_path, monkeypatch):
    """Bytes written after the size was taken are not returned: the limit was checked on
    that size, so what comes back is never more than what was checked."""
    path = tmp_path / "growing.tlog"
    path.write_bytes(b"0123456789")
    real_fstat = os.fstat

    def fstat_before_the_last_write(fd):
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid,
                               st.st_gid, 6, st.st_atime, st.st_mtime, st.st_ctime))

    monkeypatch.setattr(os, "fstat", fstat_before_the_last_write)
    assert read_input(path, 6) == b"012345"
