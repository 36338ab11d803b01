"""The robust frame reader: every valid frame of a log, as raw bytes, in order.

For tools that want pymavlink message objects (replay decodes each inbound
frame with the ICD codec) or the exact bytes.  Damage is skipped and counted in
`report` (see scan.py); content never raises.  FrameReader streams: its stamps
are as recorded (only those that lost bytes are counted as damaged);
`frame_table`, which sees the whole log, also checks them (stamps.py).

    reader = FrameReader("flight.tlog")
    for frame in reader:
        frame.timestamp_us, frame.src_system, frame.msg_id, frame.raw
    reader.report.describe()
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ground.logs.layout import Catalogue, icd_catalogue
from ground.logs.scan import (
    DEFAULT_CHUNK_BYTES,
    HEADER_V2_BYTES,
    TIMESTAMP_BYTES,
    ReadReport,
    Source,
    scan,
    source_label,
)
from ground.logs.stamps import DEFAULT_GAP_LIMIT_US, trusted_stamps


class Frame(NamedTuple):
    timestamp_us: int     # the .tlog stamp: microseconds since the Unix epoch
    src_system: int
    msg_id: int
    raw: bytes            # the MAVLink frame exactly as recorded (no timestamp)


class FrameReader:
    def __init__(self, source: Source, catalogue: Catalogue | None = None,
                 chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                 progress: Callable[[int], None] | None = None):
        self._source = source
        self._cat = catalogue if catalogue is not None else icd_catalogue()
        self._chunk_bytes = chunk_bytes
        self._progress = progress
        self.report = ReadReport(source_label(source))

    def __iter__(self) -> Iterator[Frame]:
        self.report = ReadReport(source_label(self._source))
        ids = np.array([lay.msg_id for lay in self._cat.layouts], dtype=np.int64)
        for chunk in scan(self._source, self._cat, self.report, self._chunk_bytes,
                          self._progress):
            if not len(chunk):
                continue
            data = chunk.buf
            ts = chunk.timestamps_us().tolist()
            system = chunk.header_byte(5, 3).tolist()
            msg_id = ids[chunk.layout].tolist()
            first = (chunk.start + TIMESTAMP_BYTES).tolist()
            last = chunk.end.tolist()
            for i in range(len(ts)):
                yield Frame(ts[i], system[i], msg_id[i], data[first[i]:last[i]].tobytes())


@dataclass
class FrameTable:
    """Where every valid frame of an in-memory log is: cheap to keep for a whole flight."""

    blob: bytes
    timestamp_us: np.ndarray   # uint64
    first: np.ndarray          # int64, offset of the frame's magic byte in blob
    end: np.ndarray            # int64, one past its last byte
    src_system: np.ndarray     # uint8
    msg_id: np.ndarray         # int64
    is_v2: np.ndarray          # bool
    report: ReadReport
    stamp_ok: np.ndarray       # bool: the timestamp can be trusted (stamps.py)

    def __len__(self) -> int:
        return len(self.first)

    def raw(self, i: int) -> bytes:
        return self.blob[int(self.first[i]):int(self.end[i])]


def frame_table(blob: bytes, catalogue: Catalogue | None = None,
                gap_limit_us: int = DEFAULT_GAP_LIMIT_US) -> FrameTable:
    """Index the valid frames of a log held in memory, and check their timestamps."""
    cat = catalogue if catalogue is not None else icd_catalogue()
    ids = np.array([lay.msg_id for lay in cat.layouts], dtype=np.int64)
    report = ReadReport("<bytes>")
    parts = []
    for chunk in scan(blob, cat, report):
        parts.append((chunk.timestamps_us(), chunk.start + chunk.base + TIMESTAMP_BYTES,
                      chunk.end + chunk.base, chunk.header_byte(5, 3), ids[chunk.layout],
                      chunk.header_bytes == HEADER_V2_BYTES, chunk.stamp_shared))
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    shared = cols.pop()
    stamp_ok = trusted_stamps(cols[0], shared, gap_limit_us)
    report.damaged_timestamps += int(np.count_nonzero(~stamp_ok & ~shared))
    return FrameTable(bytes(blob), *cols, report=report, stamp_ok=stamp_ok)
