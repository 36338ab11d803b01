"""Flight recorder: every message that crosses the Bus, as a standard .tlog.

A .tlog is the raw MAVLink byte stream with each frame preceded by an 8-byte
big-endian timestamp in microseconds since the Unix epoch; pymavlink's
mavutil, mavlogdump.py and MAVProxy read it as it is.  The timestamp is the
mission epoch plus the flight Clock's time, so a simulated run is
byte-for-byte reproducible.  The recorder writes to any binary sink; opening
the file (and refusing to overwrite one) is the caller's business.
"""

import struct
from typing import BinaryIO

_TIMESTAMP = struct.Struct(">Q")

# Never let signing material into a log (FACTS.md, MAVLink signing).
_FORBIDDEN_MSG_ID_SETUP_SIGNING = 256


class FlightRecorder:
    def __init__(self, sink: BinaryIO, epoch_unix_us: int):
        self._sink = sink
        self._epoch_unix_us = int(epoch_unix_us)
        self.frames_written = 0
        self.bytes_written = 0
        self.frames_refused = 0

    def record(self, t_us: int, raw: bytes) -> None:
        if len(raw) > 9 and raw[0] == 0xFD:
            msg_id = raw[7] | (raw[8] << 8) | (raw[9] << 16)
            if msg_id == _FORBIDDEN_MSG_ID_SETUP_SIGNING:
                self.frames_refused += 1
                return
        self._sink.write(_TIMESTAMP.pack(self._epoch_unix_us + t_us) + raw)
        self.frames_written += 1
        self.bytes_written += 8 + len(raw)

    def flush(self) -> None:
        self._sink.flush()
