"""A whole .tlog as numpy columns: one structured array per message type.

    log = read_columns("runs/x/flight.tlog")
    imu = log["HIGHRES_IMU"]
    imu.timestamp_us            # uint64, microseconds since the Unix epoch (the .tlog stamp)
    imu["xacc"], imu.data       # a field, or all of them (names as pymavlink's attributes)
    imu.timestamp_ok            # bool: False where the stamp is damaged (stamps.py)
    log.report.describe()       # what was skipped, if anything

Values are exactly pymavlink's: the payload bytes are viewed through a dtype
built from the generated class (see layout.py).  Frames are found by the
resynchronising scanner (scan.py), so damage costs only the damaged frames.
Memory: the decoded arrays, one chunk of the file, and 17 bytes per frame
between the two passes (where the frame is, its stamp, whether to trust it).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ground.logs.layout import Catalogue, MessageLayout, icd_catalogue
from ground.logs.scan import (
    DEFAULT_CHUNK_BYTES,
    HEADER_V2_BYTES,
    MARGIN_BYTES,
    TIMESTAMP_BYTES,
    ReadReport,
    Source,
    groups_of,
    iter_chunks,
    scan,
    source_label,
)
from ground.logs.stamps import DEFAULT_GAP_LIMIT_US, trusted_stamps

# Header byte positions after the magic: MAVLink 2, MAVLink 1
_SEQ, _SYSTEM, _COMPONENT = (4, 2), (5, 3), (6, 4)


@dataclass
class MessageColumns:
    """Every message of one type, in log order."""

    name: str
    msg_id: int
    timestamp_us: np.ndarray   # uint64, from the .tlog record
    src_system: np.ndarray     # uint8
    src_component: np.ndarray  # uint8
    seq: np.ndarray            # uint8
    data: np.ndarray           # structured, one field per message field (XML order);
    #                            char fields as their raw bytes (item access gives str)
    timestamp_ok: np.ndarray | None = None  # bool; False: a damaged stamp (None: all fine)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, name: str) -> np.ndarray:
        """A field's column; char fields as str, cut and decoded as pymavlink does."""
        column = self.data[name]
        if column.dtype.kind == "S":
            return text_of(column)
        return column

    @property
    def fields(self) -> tuple[str, ...]:
        return self.data.dtype.names

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.timestamp_us, self.src_system, self.src_component,
                                      self.seq, self.data, self.stamp_ok))

    @property
    def stamp_ok(self) -> np.ndarray:
        """Bool per row: its timestamp can be trusted (see ground.logs.stamps)."""
        if self.timestamp_ok is None:
            return np.ones(len(self.data), dtype=bool)
        return self.timestamp_ok

    def where(self, mask: np.ndarray) -> "MessageColumns":
        """The rows where mask is True (e.g. log["HEARTBEAT"].where(hb.src_system == 1))."""
        ok = None if self.timestamp_ok is None else self.timestamp_ok[mask]
        return MessageColumns(self.name, self.msg_id, self.timestamp_us[mask],
                              self.src_system[mask], self.src_component[mask], self.seq[mask],
                              self.data[mask], ok)


def text_of(raw: np.ndarray) -> np.ndarray:
    """pymavlink's reading of a char field: up to the first NUL, ASCII, bad bytes replaced."""
    # (numpy's string functions see b"\x00" as empty: text fields are few, a loop will do)
    texts = [b.split(b"\x00", 1)[0].decode("ascii", "replace") for b in raw.ravel().tolist()]
    return np.array(texts, dtype=f"U{max(raw.dtype.itemsize, 1)}").reshape(raw.shape)


@dataclass
class ColumnLog:
    messages: dict[str, MessageColumns]   # by message name
    report: ReadReport

    def __getitem__(self, name: str) -> MessageColumns:
        return self.messages[name]

    def __contains__(self, name: str) -> bool:
        return name in self.messages

    @property
    def nbytes(self) -> int:
        return sum(m.nbytes for m in self.messages.values())

    def counts(self) -> dict[str, int]:
        return {name: len(m) for name, m in self.messages.items()}


@dataclass
class _ChunkIndex:
    """Where the frames of one chunk are (pass 1), compactly, for the decoding pass."""

    base: int
    start: np.ndarray         # int32, record start in the chunk
    header_bytes: np.ndarray  # uint8
    payload_bytes: np.ndarray  # uint8
    layout: np.ndarray        # int16
    stamp_ok: np.ndarray | None = None  # bool, set once the whole log's stamps are known


class _Output:
    """The arrays of one message type, allocated once its count is known, filled in order."""

    def __init__(self, layout: MessageLayout, count: int):
        self.layout = layout
        self.filled = 0
        self.timestamp_be = np.empty(count, dtype=">u8")
        self.system = np.empty(count, dtype=np.uint8)
        self.component = np.empty(count, dtype=np.uint8)
        self.seq = np.empty(count, dtype=np.uint8)
        self.data = np.empty(count, dtype=layout.dtype)
        self.stamp_ok = np.empty(count, dtype=bool)

    def fill(self, buf: np.ndarray, start: np.ndarray, header: np.ndarray,
             length: np.ndarray, stamp_ok: np.ndarray) -> None:
        """Gather the frames at `start` (relative to buf) straight into the output arrays."""
        lo, n = self.filled, len(start)
        hi = lo + n
        size = self.layout.payload_size_bytes
        payload = self.data.view(np.uint8).reshape(-1, size)[lo:hi]
        # (np.take(..., out=) would first copy the whole strided window: index, then copy.)
        payload[...] = _window(buf, size)[start + TIMESTAMP_BYTES + header]
        if np.any(length < size):
            # MAVLink 2 trims trailing zero bytes; the window read what follows instead.
            np.copyto(payload, 0, where=np.arange(size) >= length[:, None])
        stamps = self.timestamp_be.view(np.uint8).reshape(-1, TIMESTAMP_BYTES)[lo:hi]
        stamps[...] = _window(buf, TIMESTAMP_BYTES)[start]
        self.stamp_ok[lo:hi] = stamp_ok
        magic_at = start + TIMESTAMP_BYTES
        v1 = header != HEADER_V2_BYTES
        for out, (v2_at, v1_at) in ((self.system, _SYSTEM), (self.component, _COMPONENT),
                                     (self.seq, _SEQ)):
            at = magic_at + (np.where(v1, v1_at, v2_at) if v1.any() else v2_at)
            np.take(buf, at, out=out[lo:hi], mode="clip")  # 1-d: no copy of buf
        self.filled = hi

    def columns(self) -> MessageColumns:
        lay = self.layout
        stamps, self.timestamp_be = self.timestamp_be.astype(np.uint64), None  # free as we go
        return MessageColumns(lay.name, lay.msg_id, stamps, self.system, self.component,
                              self.seq, self.data, self.stamp_ok)


def _window(buf: np.ndarray, width: int) -> np.ndarray:
    return as_strided(buf, shape=(len(buf) - width + 1, width), strides=(1, 1), writeable=False)


def read_columns(source: Source, types: Iterable[str] | None = None,
                 catalogue: Catalogue | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                 progress: Callable[[int], None] | None = None,
                 gap_limit_us: int = DEFAULT_GAP_LIMIT_US) -> ColumnLog:
    """Decode a whole log (a path or bytes); only `types` (names) if given.

    Two passes over the file: the first finds and checks every frame (scan.py)
    and counts them per type, the second gathers each type's bytes straight into
    arrays allocated at their final size (no pieces to join: memory stays near
    the size of the result).  Timestamps are checked over the whole log between
    the passes (stamps.py): a damaged one is counted in the report and flagged
    in `timestamp_ok`, its frame kept.  Never raises on the content (see report);
    LogFileError if the file cannot be opened.
    """
    cat = catalogue if catalogue is not None else icd_catalogue()
    wanted = None
    if types is not None:
        wanted = set(types)
        unknown = sorted(wanted - set(cat.by_name))
        if unknown:
            raise KeyError(f"message types not in the ICD: {', '.join(unknown)}")
    report = ReadReport(source_label(source))
    index: list[_ChunkIndex] = []
    counts = np.zeros(len(cat.layouts), dtype=np.int64)
    stamps, shared = [], []
    for frames in scan(source, cat, report, chunk_bytes, progress):
        index.append(_ChunkIndex(frames.base, frames.start.astype(np.int32),
                                 frames.header_bytes.astype(np.uint8),
                                 frames.payload_bytes.astype(np.uint8),
                                 frames.layout.astype(np.int16)))
        counts += np.bincount(frames.layout, minlength=len(cat.layouts))
        stamps.append(frames.timestamps_us())
        shared.append(frames.stamp_shared)
    _check_stamps(report, index, stamps, shared, gap_limit_us)
    outputs = {kind: _Output(cat.layouts[kind], int(counts[kind]))
               for kind in np.flatnonzero(counts).tolist()
               if wanted is None or cat.layouts[kind].name in wanted}
    if outputs:
        chunks = iter_chunks(source, chunk_bytes)
        for entry, (base, store, *_rest) in zip(index, chunks, strict=False):
            if base != entry.base or not len(entry.start):
                continue
            buf = store[MARGIN_BYTES:]
            for kind, sel in groups_of(entry.layout):
                out = outputs.get(kind)
                if out is not None:
                    out.fill(buf, entry.start[sel].astype(np.int64),
                             entry.header_bytes[sel].astype(np.int64), entry.payload_bytes[sel],
                             entry.stamp_ok[sel])
    messages = {cat.layouts[kind].name: outputs[kind].columns() for kind in list(outputs)}
    return ColumnLog(messages, report)


def _check_stamps(report: ReadReport, index: list[_ChunkIndex], stamps: list, shared: list,
                  gap_limit_us: int) -> None:
    """Give each chunk its stamp_ok flags; count the damaged stamps the scan did not see."""
    if not index:
        return
    all_shared = np.concatenate(shared)
    ok = trusted_stamps(np.concatenate(stamps), all_shared, gap_limit_us)
    report.damaged_timestamps += int(np.count_nonzero(~ok & ~all_shared))
    at = 0
    for entry in index:
        entry.stamp_ok = ok[at:at + len(entry.start)]
        at += len(entry.start)
