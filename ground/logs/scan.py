"""Find every valid MAVLink frame of a .tlog, vectorised, resynchronising after damage.

A .tlog is a sequence of [8-byte big-endian timestamp, MAVLink frame].  The
classic reader walks it frame by frame and trusts each length byte; one
corrupted length byte then swallows the good frames behind it.  Here every
byte position whose 9th byte is a MAVLink magic is a candidate, each
candidate is checked on its own (header, known id, checksum with CRC_EXTRA),
and the valid ones are taken in order, skipping those that overlap a frame
already taken.  That is what a byte-at-a-time resynchronising reader would
return (take the first valid frame at or after the current position, jump to
its end), without a Python step per byte or per frame.  Two refinements:

- a record may begin up to 8 bytes before the previous one ends: its frame is
  whole but its timestamp lost bytes (it is returned, and counted as a
  damaged timestamp), rather than losing the frame;
- where two valid candidates overlap further, the one followed directly by
  another record wins over one that is not: a damaged frame that passes the
  16-bit checksum by chance (1 in 65536) does not swallow the good one after it.

The file is read in chunks (with an overlap of two largest records) so that
memory stays flat whatever the log's size.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ground.logs.crc import x25_frames
from ground.logs.layout import Catalogue

TIMESTAMP_BYTES = 8
MAGIC_V1, MAGIC_V2 = 0xFE, 0xFD
HEADER_V1_BYTES, HEADER_V2_BYTES = 6, 10
CRC_BYTES, SIGNATURE_BYTES = 2, 13
IFLAG_SIGNED = 0x01
MAX_RECORD_BYTES = TIMESTAMP_BYTES + HEADER_V2_BYTES + 255 + CRC_BYTES + SIGNATURE_BYTES
# Read past a chunk's end so that a frame starting in it, and the header of the
# frame after that, are complete.
OVERLAP_BYTES = 2 * MAX_RECORD_BYTES
# Zeros after the data: fixed-width row views may run past the last frame.
PAD_BYTES = 512
# Room before the data: checksum rows reach back in front of a frame (crc.py).
MARGIN_BYTES = 512
DEFAULT_CHUNK_BYTES = 4 << 20
REGIONS_KEPT = 20

Source = str | PathLike | bytes | bytearray | memoryview


class LogFileError(Exception):
    """The log cannot be read at all (missing, a directory, no permission); one line."""


@dataclass
class ReadReport:
    """What a read found: good frames, and what it had to skip."""

    source: str
    bytes_total: int = 0
    frames: int = 0
    frames_v1: int = 0
    frames_signed: int = 0
    unknown_frames: dict[int, int] = field(default_factory=dict)  # msg id -> count
    unknown_bytes: int = 0           # records of those frames (timestamp included)
    # Frames whose timestamp lost bytes and so begins inside the record before (the frame
    # itself is whole; its timestamp is not to be trusted), and the bytes they share.
    damaged_timestamps: int = 0
    shared_bytes: int = 0
    damaged_bytes: int = 0
    damaged_regions: int = 0
    regions: list[tuple[int, int]] = field(default_factory=list)  # first (offset, length)s
    tail_incomplete_bytes: int = 0   # a last frame cut short (a killed recorder)

    @property
    def unknown_frame_count(self) -> int:
        return sum(self.unknown_frames.values())

    @property
    def clean(self) -> bool:
        return self.damaged_bytes == 0 and not self.unknown_frames and not self.damaged_timestamps

    def describe(self) -> str:
        """One line: what was read and what was skipped."""
        text = f"{self.frames} frames in {self.bytes_total} bytes"
        if self.damaged_bytes:
            text += (f"; skipped {self.damaged_bytes} damaged bytes in "
                     f"{self.damaged_regions} region(s)")
            if self.tail_incomplete_bytes:
                text += f" (incl. an incomplete last frame of {self.tail_incomplete_bytes} bytes)"
        if self.damaged_timestamps:
            text += f"; {self.damaged_timestamps} frame(s) with a damaged timestamp"
        if self.unknown_frames:
            ids = ", ".join(f"{i}" for i in sorted(self.unknown_frames)[:8])
            more = ", ..." if len(self.unknown_frames) > 8 else ""
            text += (f"; {self.unknown_frame_count} frames of message ids this ICD does not "
                     f"know ({ids}{more})")
        return text

    def _skip(self, start: int, stop: int, at_eof: bool) -> None:
        if stop <= start:
            return
        self.damaged_bytes += stop - start
        self.damaged_regions += 1
        if len(self.regions) < REGIONS_KEPT:
            self.regions.append((start, stop - start))
        if at_eof:
            self.tail_incomplete_bytes = stop - start


@dataclass
class ChunkFrames:
    """The valid frames that start in one chunk.  Positions are relative to `buf`."""

    buf: np.ndarray          # the chunk's bytes, zero padded; reused by the next chunk
    base: int                # file offset of buf[0]
    start: np.ndarray        # int64, where each record (its timestamp) starts
    end: np.ndarray          # int64, one past the record's last byte
    header_bytes: np.ndarray  # int64, 10 (MAVLink 2) or 6 (MAVLink 1)
    payload_bytes: np.ndarray  # int64, the payload length on the wire
    layout: np.ndarray       # int32, index into the catalogue's layouts
    # True where the record begins inside the one before: its timestamp lost bytes
    stamp_shared: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.start)

    def rows(self, offsets: np.ndarray, width: int) -> np.ndarray:
        """(n, width) copy of the bytes at each offset (a fixed-width window per row)."""
        buf = self.buf
        view = as_strided(buf, shape=(len(buf) - width + 1, width), strides=(1, 1),
                          writeable=False)
        return view[offsets]

    def timestamps_us(self, sel=slice(None)) -> np.ndarray:
        return self.rows(self.start[sel], TIMESTAMP_BYTES).view(">u8").reshape(-1).astype(
            np.uint64)

    def header_byte(self, v2_index: int, v1_index: int, sel=slice(None)) -> np.ndarray:
        """One header byte of each frame (seq, system, component ...), uint8."""
        magic_at = self.start[sel] + TIMESTAMP_BYTES
        idx = np.where(self.header_bytes[sel] == HEADER_V2_BYTES, v2_index, v1_index)
        return self.buf[magic_at + idx]


def source_label(source: Source) -> str:
    """How messages name the source: its path, or <bytes>."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    return str(source)


def iter_chunks(source: Source, chunk_bytes: int):
    """(base, store, data_len, stop, eof): candidates are the positions below `stop`.

    The chunk's data is store[MARGIN_BYTES:MARGIN_BYTES + data_len], zeros after it.
    Bytes in memory are cut into chunks exactly like a file (one code path to test).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = np.frombuffer(source, dtype=np.uint8)

        def read_at(base: int, out: memoryview) -> int:
            piece = data[base: base + len(out)]
            np.frombuffer(out, dtype=np.uint8)[: len(piece)] = piece
            return len(piece)

        yield from _cut(read_at, chunk_bytes, len(data))
        return
    path = Path(source)
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below, across yields)
    except FileNotFoundError:
        raise LogFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LogFileError(f"{path}: is a directory, expected a .tlog file") from None
    except OSError as exc:
        raise LogFileError(f"{path}: cannot read: {exc.strerror}") from None

    def read_file_at(base: int, out: memoryview) -> int:
        handle.seek(base)
        return handle.readinto(out)

    with handle:
        yield from _cut(read_file_at, chunk_bytes, None)


def _cut(read_at, chunk_bytes: int, size: int | None):
    want = chunk_bytes + OVERLAP_BYTES
    if size is not None:
        want = min(want, size)  # a small log in memory: one buffer of its size
    store = np.zeros(MARGIN_BYTES + want + PAD_BYTES, dtype=np.uint8)
    window = memoryview(store)[MARGIN_BYTES: MARGIN_BYTES + want]
    base = 0
    while True:
        got = read_at(base, window)
        store[MARGIN_BYTES + got: MARGIN_BYTES + got + PAD_BYTES] = 0
        eof = got < want or (size is not None and base + got >= size)
        yield base, store, got, (got if eof else chunk_bytes), eof
        if eof:
            return
        base += chunk_bytes


@dataclass
class _Candidates:
    start: np.ndarray
    end: np.ndarray
    header_bytes: np.ndarray
    payload_bytes: np.ndarray
    msg_id: np.ndarray
    layout: np.ndarray


def _candidates(buf: np.ndarray, data_len: int, cat: Catalogue) -> _Candidates:
    """Every position whose record would be structurally whole, with its id and layout."""
    if data_len < TIMESTAMP_BYTES + HEADER_V1_BYTES + CRC_BYTES:
        empty = np.zeros(0, dtype=np.int64)
        return _Candidates(empty, empty, empty, empty, empty, empty.astype(np.int32))
    magic = buf[TIMESTAMP_BYTES:data_len]
    start = np.flatnonzero((magic - np.uint8(MAGIC_V2)) <= 1)  # 0xFD or 0xFE, uint8 wraps
    m = start + TIMESTAMP_BYTES
    is_v2 = buf[m] == MAGIC_V2
    length = buf[m + 1].astype(np.int64)
    # MAVLink 2: magic len incompat compat seq sys comp id0 id1 id2; MAVLink 1: magic len seq
    # sys comp id.  Reading a few bytes past data_len only touches the zero pad.
    flags = np.where(is_v2, buf[m + 2], 0)
    msg_id = np.where(
        is_v2,
        buf[m + 7].astype(np.int64) | (buf[m + 8].astype(np.int64) << 8)
        | (buf[m + 9].astype(np.int64) << 16),
        buf[m + 5].astype(np.int64))
    header = np.where(is_v2, HEADER_V2_BYTES, HEADER_V1_BYTES)
    end = m + header + length + CRC_BYTES + np.where(flags & IFLAG_SIGNED, SIGNATURE_BYTES, 0)
    ok = ((flags & (0xFF ^ IFLAG_SIGNED)) == 0) & (end <= data_len)
    layout = cat.lookup(msg_id[ok])
    start, end, header, length, msg_id = start[ok], end[ok], header[ok], length[ok], msg_id[ok]
    # MAVLink 1 frames carry at most the message's fields (no trimming, no extensions); this
    # rejects most stray 0xFE bytes before their checksum is computed.
    v1_too_long = (header == HEADER_V1_BYTES) & (layout >= 0) & (
        length > cat.payload_size[np.maximum(layout, 0)])
    layout[v1_too_long] = -1
    return _Candidates(start, end, header, length, msg_id, layout)


def _checksums_ok(store: np.ndarray, c: _Candidates, cat: Catalogue) -> np.ndarray:
    """True where the frame's checksum (over header after magic, payload, CRC_EXTRA) holds."""
    buf = store[MARGIN_BYTES:]
    ok = np.zeros(len(c.start), dtype=bool)
    known = np.flatnonzero(c.layout >= 0)
    if not len(known):
        return ok
    first = c.start[known] + TIMESTAMP_BYTES + 1
    covered = c.header_bytes[known] - 1 + c.payload_bytes[known]
    crc_at = first + covered
    stored = buf[crc_at].astype(np.uint16) | (buf[crc_at + 1].astype(np.uint16) << 8)
    extra = cat.crc_extra[c.layout[known]]
    ok[known] = x25_frames(store, MARGIN_BYTES, first, covered, extra) == stored
    return ok


def groups_of(keys: np.ndarray):
    """(key, indices) for each distinct small non-negative integer key, indices in order.

    (np.unique hashes in numpy 2.3+, which is slower than a stable radix sort here.)
    """
    keys = keys.astype(np.uint16)
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    for key in np.flatnonzero(counts).tolist():
        yield key, order[bounds[key]:bounds[key + 1]]


def _chained(end: np.ndarray, starts: np.ndarray, data_len: int, eof: bool) -> np.ndarray:
    """True where a record of `starts` (sorted) begins right at `end`, or the data ends there."""
    at = np.minimum(np.searchsorted(starts, end), max(len(starts) - 1, 0))
    chained = starts[at] == end if len(starts) else np.zeros(len(end), dtype=bool)
    if eof:
        return chained | (end == data_len)
    # Near the end of a chunk the next record may not be in the buffer: give the benefit.
    return chained | (end > data_len - MAX_RECORD_BYTES)


def _take_in_order(start, end, chained_of, carry_end: int, reach_back: int = 0) -> np.ndarray:
    """Indices of the records a resynchronising reader takes (see module doc).

    A record may begin up to `reach_back` bytes before the previous one ends: its
    timestamp then shares bytes with that record (a byte of it was lost) while its
    frame is whole.  `chained_of()` gives the `_chained` flags, only when records overlap.
    """
    n = len(start)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if start[0] + reach_back >= carry_end and (
            n == 1 or bool(np.all(start[1:] + reach_back >= end[:-1]))):
        return np.arange(n)
    chained = chained_of()
    taken: list[int] = []
    last_end = carry_end
    for i in range(n):
        s = int(start[i]) + reach_back
        if s >= last_end:
            taken.append(i)
            last_end = int(end[i])
        elif taken and not chained[taken[-1]] and chained[i]:
            # The one taken leads nowhere, this one is followed by a frame: a damaged frame
            # passed its checksum by chance.  (Never across a chunk: `taken` is this chunk's.)
            prev_end = int(end[taken[-2]]) if len(taken) > 1 else carry_end
            if s >= prev_end:
                taken[-1] = i
                last_end = int(end[i])
    return np.asarray(taken, dtype=np.int64)


def scan(source: Source, cat: Catalogue, report: ReadReport,
         chunk_bytes: int = DEFAULT_CHUNK_BYTES,
         progress: Callable[[int], None] | None = None) -> Iterator[ChunkFrames]:
    """Yield the valid frames chunk by chunk; fill `report` with what was skipped.

    Never raises on the content; LogFileError when the file cannot be opened.
    """
    if chunk_bytes < OVERLAP_BYTES:
        raise ValueError(f"chunk_bytes must be >= {OVERLAP_BYTES}, got {chunk_bytes}")
    covered_to = 0  # file offset up to which bytes are accounted for
    for base, store, data_len, stop, eof in iter_chunks(source, chunk_bytes):
        buf = store[MARGIN_BYTES:]
        report.bytes_total = base + data_len
        cand = _candidates(buf, data_len, cat)
        valid = _checksums_ok(store, cand, cat)
        carry = covered_to - base
        v_start, v_end = cand.start[valid], cand.end[valid]
        in_chunk = v_start < stop
        def chained_of(in_chunk=in_chunk, v_end=v_end, cand=cand, data_len=data_len, eof=eof):
            return _chained(v_end[in_chunk], cand.start, data_len, eof)

        taken = np.flatnonzero(in_chunk)[
            _take_in_order(v_start[in_chunk], v_end[in_chunk], chained_of, carry,
                           reach_back=TIMESTAMP_BYTES)]
        t_start, t_end = v_start[taken], v_end[taken]
        frames = ChunkFrames(buf, base, t_start, t_end,
                             cand.header_bytes[valid][taken], cand.payload_bytes[valid][taken],
                             cand.layout[valid][taken].astype(np.int32),
                             t_start < np.concatenate([[carry], t_end[:-1]]))
        # The first valid frame of the next chunk, already in this buffer (the overlap).
        next_valid = int(v_start[~in_chunk].min()) if not in_chunk.all() else None
        unknown_start, unknown_end, unknown_id = _unknown_frames(cand, frames, stop, data_len,
                                                                 eof, carry, next_valid)
        covered_to = _account(report, base, frames.start, frames.end, unknown_start,
                              unknown_end, covered_to, stop, eof, data_len)
        for mid in unknown_id.tolist():
            report.unknown_frames[mid] = report.unknown_frames.get(mid, 0) + 1
        report.unknown_bytes += int(np.sum(unknown_end - unknown_start))
        report.frames += len(frames)
        if len(frames):
            hdr = frames.header_bytes
            report.frames_v1 += int(np.count_nonzero(hdr == HEADER_V1_BYTES))
            signed_at = frames.start + TIMESTAMP_BYTES + 2
            report.frames_signed += int(np.count_nonzero(
                (hdr == HEADER_V2_BYTES) & ((buf[signed_at] & IFLAG_SIGNED) != 0)))
        if progress is not None:
            progress(base + min(stop, data_len))
        yield frames


def _unknown_frames(cand: _Candidates, frames: ChunkFrames, stop: int, data_len: int,
                    eof: bool, carry: int, next_valid: int | None = None):
    """Records of ids the ICD does not know, that lie in the gaps between valid frames.

    Their checksum cannot be checked (no CRC_EXTRA), so a candidate counts only
    when it chains: another candidate starts where it ends, or the data ends there.
    After this chunk's last frame, the gap ends at `next_valid`, the first valid
    frame beginning in the next chunk: an unknown frame over it would make the next
    chunk begin after it and lose it (read in one piece, that frame is taken and the
    unknown one refused).
    """
    u = np.flatnonzero((cand.layout < 0) & (cand.start < stop) & (cand.start >= carry))
    if not len(u):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    u_start, u_end, u_id = cand.start[u], cand.end[u], cand.msg_id[u]
    if len(frames):
        # Must lie wholly between two taken frames.
        k = np.searchsorted(frames.start, u_start, side="right")
        prev_end = np.where(k > 0, frames.end[np.maximum(k - 1, 0)], carry)
        after_last = np.iinfo(np.int64).max if next_valid is None else next_valid
        next_start = np.where(k < len(frames), frames.start[np.minimum(k, len(frames) - 1)],
                              after_last)
        inside = (u_start >= prev_end) & (u_end <= next_start)
        u_start, u_end, u_id = u_start[inside], u_end[inside], u_id[inside]
    elif next_valid is not None:
        inside = u_end <= next_valid
        u_start, u_end, u_id = u_start[inside], u_end[inside], u_id[inside]
    keep = _chained(u_end, cand.start, data_len, eof)
    u_start, u_end, u_id = u_start[keep], u_end[keep], u_id[keep]
    taken = _take_in_order(u_start, u_end, lambda: np.ones(len(u_start), dtype=bool), carry)
    return u_start[taken], u_end[taken], u_id[taken]


def _account(report: ReadReport, base: int, start, end, u_start, u_end, covered_to: int,
             stop: int, eof: bool, data_len: int) -> int:
    """Add the bytes no frame covers (between covered_to and this chunk's records) to report."""
    if len(u_start):
        s = np.concatenate([start, u_start])
        order = np.argsort(s, kind="stable")
        s, e = s[order], np.concatenate([end, u_end])[order]
    else:
        s, e = start, end
    s = s + base
    e = e + base
    if len(s):
        prev = np.concatenate([[covered_to], e[:-1]])
        shared = np.flatnonzero(s < prev)  # a timestamp reaching into the record before
        if len(shared):
            report.damaged_timestamps += len(shared)
            report.shared_bytes += int(np.sum(prev[shared] - s[shared]))
        gaps = np.flatnonzero(s > prev)
        for g in gaps[: REGIONS_KEPT + 1].tolist():
            report._skip(int(prev[g]), int(s[g]), at_eof=False)
        if len(gaps) > REGIONS_KEPT + 1:
            rest = gaps[REGIONS_KEPT + 1:]
            report.damaged_bytes += int(np.sum(s[rest] - prev[rest]))
            report.damaged_regions += len(rest)
        covered_to = max(covered_to, int(e[-1]))
    if eof:
        report._skip(covered_to, base + data_len, at_eof=True)
        covered_to = max(covered_to, base + data_len)
    return covered_to
