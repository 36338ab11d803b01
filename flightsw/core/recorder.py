"""Flight recorder: every message that crosses the Bus, as a standard .tlog.

A .tlog is the raw MAVLink byte stream with each frame preceded by an 8-byte
big-endian timestamp in microseconds since the Unix epoch; pymavlink's
mavutil, mavlogdump.py and MAVProxy read it as it is.  The timestamp is the
mission epoch plus the flight Clock's time, so a simulated run is
byte-for-byte reproducible.  The recorder writes to any binary sink; opening
the file (and refusing to overwrite one) is the caller's business.

Crash safety.  Records collect in a small buffer that goes to the operating
system (one write, then the sink's flush) as soon as it holds `flush_bytes`
or spans `flush_every_us` of mission time, whichever comes first.  Whatever
reached the operating system survives the process (even SIGKILL), so a
killed recorder loses at most the last second of data, and only whole
records (one write per buffer).  Surviving a power cut also needs fsync: by
default a background thread does it after each write, at most once per
`sync_min_interval_s` of wall time, so that the flight loop never waits on
storage and a simulation running 600x faster than real time does not fsync
600 times a second.  (The wall clock is read only by that thread and decides
only when bytes reach the disk, never which bytes: logs stay reproducible.)
`flush()` writes and fsyncs at once; call it at the end of a recording.

Signing keys never reach the log: SETUP_SIGNING frames are refused.
"""

import os
import struct
import threading
import weakref
from typing import BinaryIO

_TIMESTAMP = struct.Struct(">Q")

# Never let signing material into a log (FACTS.md, MAVLink signing).
_FORBIDDEN_MSG_ID_SETUP_SIGNING = 256
_MAGIC_V2 = 0xFD

SYNC_MODES = ("background", "inline", "off")


class FlightRecorder:
    def __init__(self, sink: BinaryIO, epoch_unix_us: int, *, flush_bytes: int = 4096,
                 flush_every_us: int = 1_000_000, sync: str = "background",
                 sync_min_interval_s: float = 0.25):
        if flush_bytes < 1:
            raise ValueError(f"flush_bytes must be >= 1, got {flush_bytes}")
        if flush_every_us < 0:
            raise ValueError(f"flush_every_us must be >= 0, got {flush_every_us}")
        if sync not in SYNC_MODES:
            raise ValueError(f"sync must be one of {', '.join(SYNC_MODES)}, got {sync!r}")
        self._sink = sink
        self._epoch_unix_us = int(epoch_unix_us)
        self._flush_bytes = int(flush_bytes)
        self._flush_every_us = int(flush_every_us)
        self._pending = bytearray()
        self._pending_since_us = 0
        self._fd = _fileno_or_none(sink) if sync != "off" else None
        self._sync = sync if self._fd is not None else "off"
        self._syncer: _Syncer | None = None
        self._sync_min_interval_s = float(sync_min_interval_s)
        self.frames_written = 0
        self.bytes_written = 0
        self.frames_refused = 0
        self.writes = 0          # buffers handed to the operating system
        self.sync_errors = 0

    def record(self, t_us: int, raw: bytes) -> None:
        if len(raw) > 9 and raw[0] == _MAGIC_V2:
            msg_id = raw[7] | (raw[8] << 8) | (raw[9] << 16)
            if msg_id == _FORBIDDEN_MSG_ID_SETUP_SIGNING:
                self.frames_refused += 1
                return
        pending = self._pending
        if not pending:
            self._pending_since_us = t_us
        pending += _TIMESTAMP.pack(self._epoch_unix_us + t_us)
        pending += raw
        self.frames_written += 1
        self.bytes_written += 8 + len(raw)
        if (len(pending) >= self._flush_bytes
                or t_us - self._pending_since_us >= self._flush_every_us):
            self._write_out()

    @property
    def pending_bytes(self) -> int:
        """Recorded but not yet handed to the operating system."""
        return len(self._pending)

    def flush(self) -> None:
        """Everything recorded so far to the operating system, and to the disk."""
        self._write_out(sync=False)
        if self._syncer is not None:
            self._syncer.stop()
            self._syncer = None
        if self._sync != "off":
            self._fsync_now()

    def _write_out(self, sync: bool = True) -> None:
        if self._pending:
            self._sink.write(bytes(self._pending))
            self._pending.clear()
            self.writes += 1
        self._sink.flush()
        if not sync or self._sync == "off":
            return
        if self._sync == "inline":
            self._fsync_now()
            return
        if self._syncer is None:
            self._syncer = _Syncer(self._fd, self._sync_min_interval_s)
            # Stop the thread if the recorder is dropped without a final flush().
            weakref.finalize(self, self._syncer.stop)
        self._syncer.request()

    def _fsync_now(self) -> None:
        try:
            os.fsync(self._fd)
        except OSError:
            self.sync_errors += 1


def _fileno_or_none(sink) -> int | None:
    try:
        fd = sink.fileno()
        os.fstat(fd)
    except (AttributeError, OSError, ValueError):
        return None  # in-memory sinks (BytesIO) and the like: nothing to sync
    return fd


class _Syncer:
    """fsync of one file in a thread: on request, at most once per min_interval_s of wall time.

    It holds its own duplicate of the descriptor, so the owner may close the file
    at any moment.
    """

    def __init__(self, fd: int, min_interval_s: float):
        self._fd = os.dup(fd)
        self._min_interval_s = min_interval_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.errors = 0
        self._thread = threading.Thread(target=self._run, name="recorder-fsync", daemon=True)
        self._thread.start()

    def request(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        with self._lock:
            if self._fd < 0:
                return
            self._stopping.set()
            self._wake.set()
            self._thread.join()
            os.close(self._fd)
            self._fd = -1

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stopping.is_set():
                return
            self._wake.clear()
            try:
                os.fsync(self._fd)
            except OSError:
                self.errors += 1
            if self._stopping.wait(self._min_interval_s):
                return
