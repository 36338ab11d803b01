"""MAVLink 2 frames out of a byte stream that may carry garbage.

pymavlink's parser trusts the length byte after anything that looks like a
frame marker: garbage holding a 0xFD makes it wait for, and then swallow, up
to 280 bytes (valid frames included) before the checksum fails; a message id
it does not know comes back unchecked.  On a serial line that means one burst
of noise can cost a dozen good frames.

`FrameReader` drives the same generated parser (every bit of framing and CRC
checking is mavgen's) and only chooses where it starts:

- a candidate frame that fails (checksum, unknown id, MAVLink 1, bad flags)
  is dropped one byte at a time: parsing restarts on the byte after its
  marker, so a valid frame that began inside it is still found;
- while the parser waits for the rest of a long candidate, each later marker
  in the waiting bytes is tried with a fresh parser; if a complete valid frame
  starts there, the candidate was garbage and is skipped at once.

So a valid frame that follows garbage is delivered as soon as its last byte
has arrived: resynchronisation within one frame.  Work is bounded: `feed`
parses at most `max_work_bytes` bytes per call (re-parsed bytes included) and
keeps the rest for the next call, so a flood cannot starve the caller.  So is
memory: the bytes waiting (`backlog`) never exceed `max_backlog_bytes`; when
more arrive than can be parsed (garbage full of frame markers parses at tens
of kB/s), the oldest waiting bytes are dropped and counted (`bytes_dropped`):
what is received last is the freshest.
"""

from collections.abc import Callable

from flightsw.icd import mavlink

_MARKER_V2 = mavlink.PROTOCOL_MARKER_V2
_MARKER_V1 = mavlink.PROTOCOL_MARKER_V1
_BAD_PREFIX = "Bad prefix"
MAX_FRAME_LEN = 280  # MAVLink 2: 10 header + 255 payload + 2 CRC + 13 signature


def _parser() -> "mavlink.MAVLink":
    codec = mavlink.MAVLink(None, srcSystem=0, srcComponent=0)
    codec.robust_parsing = True
    return codec


_KNOWN_IDS = frozenset(mavlink.mavlink_map)
_HEADER_LEN = 10


def _hopeless(buf, k: int) -> bool:
    """A MAVLink 2 header at buf[k:k+10] that no valid frame has: flags other than signed,
    or a message id the dialect does not know (decided without a checksum)."""
    return bool(buf[k + 2] & 0xFE) or (
        buf[k + 7] | (buf[k + 8] << 8) | (buf[k + 9] << 16)) not in _KNOWN_IDS


def _is_valid(msg) -> bool:
    """A frame the dialect knows, MAVLink 2, checksum verified by the parser."""
    if isinstance(msg, mavlink.MAVLink_bad_data | mavlink.MAVLink_unknown):
        return False
    return msg.get_msgbuf()[0] == _MARKER_V2


class FrameReader:
    """Incremental, resynchronising frame reader; see the module doc.

    `feed(data)` returns the valid messages completed so far, in stream
    order.  Counters: `frames_ok`, `bytes_in`, `bytes_skipped` (garbage and
    failed candidates, each byte counted once), `bytes_dropped` (never parsed:
    the backlog was full), `bad_candidates`.
    """

    def __init__(self, max_work_bytes: int = 8192, parser_factory: Callable = _parser,
                 max_backlog_bytes: int = 1 << 20):
        if not isinstance(max_work_bytes, int) or max_work_bytes < MAX_FRAME_LEN:
            raise ValueError(f"max_work_bytes must be an int >= {MAX_FRAME_LEN}, "
                             f"got {max_work_bytes!r}")
        if not isinstance(max_backlog_bytes, int) or max_backlog_bytes < max_work_bytes:
            raise ValueError(f"max_backlog_bytes must be an int >= max_work_bytes "
                             f"({max_work_bytes}), got {max_backlog_bytes!r}")
        self.max_work_bytes = max_work_bytes
        self.max_backlog_bytes = max_backlog_bytes
        self._new_parser = parser_factory
        self._codec = parser_factory()
        self._window = bytearray()   # fed to the parser, not yet returned by it
        self._pending = bytearray()  # received, not yet fed (work budget, or re-parse)
        self._probed_len = 0         # window length at the last probe (probe once per growth)
        self._scan_from = 1          # later markers before this are in _waiting or _dead
        self._waiting: list[tuple[int, int]] = []  # (marker, end of its frame) in _window
        # Stream offset of _window[0], and the offsets of markers whose candidate frame is
        # complete and invalid: each is tried once, not again after every restart (garbage
        # dense in markers would otherwise cost a full re-probe per byte).
        self._window_at = 0
        self._dead: set[int] = set()
        self.frames_ok = 0
        self.bytes_in = 0
        self.bytes_skipped = 0
        self.bytes_dropped = 0
        self.bad_candidates = 0

    @property
    def backlog(self) -> int:
        """Bytes received but not parsed yet (left over by the work budget)."""
        return len(self._pending)

    @property
    def partial(self) -> int:
        """Bytes of a frame still being received."""
        return len(self._window)

    def feed(self, data: bytes = b"") -> list:
        """Add received bytes; return the valid messages completed, oldest first."""
        if data:
            self._pending += data
            self.bytes_in += len(data)
            excess = len(self._pending) - self.max_backlog_bytes
            if excess > 0:
                del self._pending[:excess]
                self.bytes_dropped += excess
                self._dead.clear()  # offsets after the window no longer line up
        out: list = []
        budget = self.max_work_bytes
        while self._pending and budget > 0:
            pending = self._pending
            if not self._window and pending[0] == _MARKER_V2 and (
                    self._window_at in self._dead
                    or (len(pending) >= _HEADER_LEN and _hopeless(pending, 0))):
                del pending[:1]  # a candidate already known to fail
                self._window_at += 1
                self.bytes_skipped += 1
                budget -= 1
                continue
            n = min(len(self._pending), budget, 512)
            if not self._window and pending[0] != _MARKER_V2:
                # Garbage up to the next marker alone: that marker then starts a chunk and
                # its header is checked above before the parser waits on it.
                k = pending.find(_MARKER_V2, 1, n)
                n = k if k > 0 else n
            chunk = bytes(self._pending[:n])
            del self._pending[:n]
            budget -= n
            self._parse(chunk, out)
            if not self._pending and self._window:
                budget -= self._probe_later_markers()
        if len(self._dead) > 4 * MAX_FRAME_LEN:  # forget markers behind us (long clean runs)
            self._dead = {at for at in self._dead if at >= self._window_at}
        return out

    def reset(self) -> None:
        """Forget everything buffered (the link was re-opened)."""
        self.bytes_skipped += len(self._window) + len(self._pending)
        self._codec = self._new_parser()
        self._window.clear()
        self._pending.clear()
        self._probed_len = 0
        self._scan_from, self._waiting = 1, []
        self._dead.clear()

    # -- internals --------------------------------------------------------------------------
    def _parse(self, chunk: bytes, out: list) -> None:
        self._window += chunk
        msg = self._codec.parse_char(chunk)
        while msg is not None:
            if not self._take(msg, out):
                return  # restarted: the rest is back in _pending
            msg = self._codec.parse_char(b"")

    def _take(self, msg, out: list) -> bool:
        """Account for one parser output; False when parsing restarts."""
        n = len(msg.get_msgbuf())
        if _is_valid(msg):
            del self._window[:n]
            self._window_at += n
            self._probed_len = 0
            self._scan_from, self._waiting = 1, []
            self.frames_ok += 1
            out.append(msg)
            return True
        if isinstance(msg, mavlink.MAVLink_bad_data) and msg.reason == _BAD_PREFIX:
            del self._window[:n]  # a run of bytes that are no frame marker
            self._window_at += n
            self._probed_len = 0
            self._scan_from, self._waiting = 1, []
            self.bytes_skipped += n
            return True
        # A failed candidate: give up its marker only, parse again after it.
        self._restart_after(1)
        return False

    def _restart_after(self, skip: int) -> None:
        self.bad_candidates += 1
        self.bytes_skipped += skip
        rest = self._window[skip:]
        self._codec = self._new_parser()
        self._window = bytearray()
        self._window_at += skip
        self._probed_len = 0
        self._scan_from, self._waiting = 1, []
        self._pending[:0] = rest
        if len(self._dead) > 4 * MAX_FRAME_LEN:  # forget markers behind us
            self._dead = {at for at in self._dead if at >= self._window_at}

    def _probe_later_markers(self) -> int:
        """The parser waits on a candidate: does a valid frame start at a later marker?

        Each later marker is tried once, when its frame is complete (its length is in
        its header): markers are found as the window grows, not searched again.
        Returns the bytes of work done.  Restarts at that marker if so.
        """
        window = self._window
        if len(window) <= self._probed_len:
            return 0
        self._probed_len = len(window)
        k = self._scan_from
        while True:  # new markers: note where their frame ends
            k = window.find(_MARKER_V2, max(k, 1))
            if k < 0:
                self._scan_from = len(window)
                break
            if len(window) - k < _HEADER_LEN:
                self._scan_from = k  # header not complete: look again at the next growth
                break
            if _hopeless(window, k):
                self._dead.add(self._window_at + k)
            elif self._window_at + k not in self._dead:
                # MAVLink 2: 10 header bytes, the payload, 2 of checksum, 13 if signed.
                size = 12 + window[k + 1] + (13 if window[k + 2] & 0x01 else 0)
                self._waiting.append((k, k + size))
            k += 1
        due = [(k, end) for k, end in self._waiting if end <= len(window)]
        if not due:
            return 0
        self._waiting = [(k, end) for k, end in self._waiting if end > len(window)]
        work = 0
        for k, end in sorted(due):
            first = self._new_parser().parse_char(bytes(window[k:end]))
            work += end - k
            if first is not None and _is_valid(first):
                self._restart_after(k)
                return work
            self._dead.add(self._window_at + k)
        return work
