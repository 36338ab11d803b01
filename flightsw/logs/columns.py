"""A whole .tlog as numpy columns: one structured array per message type.

    log = read_columns("runs/x/flight.tlog")
    imu = log["HIGHRES_IMU"]
    imu.timestamp_us            # uint64, microseconds since the Unix epoch (the .tlog stamp)
    imu["xacc"], imu.data       # a field, or all of them (names as pymavlink's attributes)
    log.report.describe()       # what was skipped, if anything

Values are exactly pymavlink's: the payload bytes are viewed through a dtype
built from the generated class (see layout.py).  Frames are found by the
resynchronising scanner (scan.py), so damage costs only the damaged frames.
Memory: the decoded arrays, plus one chunk of the file and the per-chunk
pieces of the type being joined.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from flightsw.logs.layout import Catalogue, MessageLayout, icd_catalogue
from flightsw.logs.scan import (
    DEFAULT_CHUNK_BYTES,
    HEADER_V2_BYTES,
    TIMESTAMP_BYTES,
    ChunkFrames,
    ReadReport,
    Source,
    groups_of,
    scan,
    source_label,
)

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
                                      self.seq, self.data))

    def where(self, mask: np.ndarray) -> "MessageColumns":
        """The rows where mask is True (e.g. log["HEARTBEAT"].where(hb.src_system == 1))."""
        return MessageColumns(self.name, self.msg_id, self.timestamp_us[mask],
                              self.src_system[mask], self.src_component[mask], self.seq[mask],
                              self.data[mask])


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


class _Pieces:
    """Per-chunk arrays of one type, joined once at the end."""

    def __init__(self, layout: MessageLayout):
        self.layout = layout
        self.parts: list[tuple[np.ndarray, ...]] = []

    def join(self) -> MessageColumns:
        cols = [np.concatenate(col) for col in zip(*self.parts, strict=True)]
        self.parts.clear()
        ts, sysid, comp, seq, data = cols
        return MessageColumns(self.layout.name, self.layout.msg_id, ts, sysid, comp, seq, data)


def _record_dtype(layout: MessageLayout, header_bytes: int) -> np.dtype:
    """The whole record (timestamp, header, payload) as one structured type, for one gather."""
    key = (layout.msg_id, header_bytes)
    dtype = _RECORD_DTYPES.get(key)
    if dtype is None:
        v2 = header_bytes == HEADER_V2_BYTES
        at = TIMESTAMP_BYTES
        dtype = np.dtype({
            "names": ["timestamp", "seq", "system", "component", "payload"],
            "formats": [">u8", "u1", "u1", "u1", layout.dtype],
            "offsets": [0, at + (_SEQ[0] if v2 else _SEQ[1]), at + (_SYSTEM[0] if v2 else _SYSTEM[1]),
                        at + (_COMPONENT[0] if v2 else _COMPONENT[1]), at + header_bytes],
            "itemsize": at + header_bytes + layout.payload_size_bytes})
        _RECORD_DTYPES[key] = dtype
    return dtype


_RECORD_DTYPES: dict[tuple[int, int], np.dtype] = {}


def decode_chunk(frames: ChunkFrames, layout: MessageLayout, sel: np.ndarray):
    """(timestamps, system, component, seq, payload records) of the selected frames."""
    header = frames.header_bytes[sel]
    if header[0] == header[-1] and np.all(header == header[0]):
        return _decode_rows(frames, layout, sel, int(header[0]))
    # MAVLink 1 and 2 frames of one type in one chunk (rare): decode apart, merge in order.
    v2 = header == HEADER_V2_BYTES
    a, b = _decode_rows(frames, layout, sel[v2], HEADER_V2_BYTES), _decode_rows(
        frames, layout, sel[~v2], HEADER_V1_BYTES)
    order = np.argsort(np.concatenate([frames.start[sel[v2]], frames.start[sel[~v2]]]),
                       kind="stable")
    return tuple(np.concatenate([x, y])[order] for x, y in zip(a, b, strict=True))


def _decode_rows(frames: ChunkFrames, layout: MessageLayout, sel: np.ndarray, header: int):
    size = layout.payload_size_bytes
    record = _record_dtype(layout, header)
    rows = frames.rows(frames.start[sel], record.itemsize)
    length = frames.payload_bytes[sel]
    if np.any(length < size):
        # MAVLink 2 trims trailing zero bytes; the window read what follows instead.
        tail = rows[:, TIMESTAMP_BYTES + header:]
        np.copyto(tail, 0, where=np.arange(size) >= length[:, None])
    rec = rows.view(record).reshape(-1)
    return (rec["timestamp"].astype(np.uint64), rec["system"].copy(), rec["component"].copy(),
            rec["seq"].copy(), rec["payload"].copy())


def read_columns(source: Source, types: Iterable[str] | None = None,
                 catalogue: Catalogue | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                 progress: Callable[[int], None] | None = None) -> ColumnLog:
    """Decode a whole log (a path or bytes); only `types` (names) if given.

    Never raises on the content (see report); LogFileError if it cannot be opened.
    """
    cat = catalogue if catalogue is not None else icd_catalogue()
    wanted = None
    if types is not None:
        wanted = set(types)
        unknown = sorted(wanted - set(cat.by_name))
        if unknown:
            raise KeyError(f"message types not in the ICD: {', '.join(unknown)}")
    report = ReadReport(source_label(source))
    pieces: dict[int, _Pieces] = {}
    for frames in scan(source, cat, report, chunk_bytes, progress):
        if not len(frames):
            continue
        for kind, sel in groups_of(frames.layout):
            layout = cat.layouts[kind]
            if wanted is not None and layout.name not in wanted:
                continue
            if kind not in pieces:
                pieces[kind] = _Pieces(layout)
            pieces[kind].parts.append(decode_chunk(frames, layout, sel))
    messages = {}
    for kind in list(pieces):
        messages[cat.layouts[kind].name] = pieces.pop(kind).join()
    return ColumnLog(messages, report)
