"""The MAVLink checksum (CRC-16/MCRF4XX, "x25") of many frames at once.

pymavlink computes it byte by byte, frame by frame.  A log holds a million
frames, so here it runs down the columns of a (frames x bytes) matrix.  Two
tricks keep the number of numpy calls small:

- 16 bits at a time: with a register exactly as wide as the input word, the
  next register is a function of (register xor word) alone, so one lookup in
  a 65536-entry table does two byte steps.
- one width for frames of different lengths: there are words that take the
  register from its initial value 0xFFFF back to 0xFFFF ("neutral" prefixes,
  of any length >= 2 bytes).  Every frame is right-aligned in a row of a
  common width and the bytes in front of it are replaced by such a prefix, so
  it gets exactly its own checksum.  (MAVLink 2 trims trailing zeros from
  payloads, so one message type comes in many lengths.)
"""

import numpy as np

CRC_INIT = 0xFFFF
_POLY_REFLECTED = 0x8408  # x^16 + x^12 + x^5 + 1, bit-reversed
WIDTH_STEP_BYTES = 16
MIN_PREFIX_BYTES = 2
# The widest row: header after magic (9) + payload (255) + CRC_EXTRA (1), then room for a prefix.
MAX_ROW_BYTES = -(-(9 + 255 + 1 + MIN_PREFIX_BYTES) // WIDTH_STEP_BYTES) * WIDTH_STEP_BYTES


def _byte_table() -> np.ndarray:
    crc = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        crc = np.where(crc & 1, (crc >> 1) ^ _POLY_REFLECTED, crc >> 1)
    return crc.astype(np.uint16)


_T8 = _byte_table()


def _word_table() -> np.ndarray:
    """Register after feeding a little-endian word w to register r, indexed by r ^ w."""
    x = np.arange(65536, dtype=np.uint32)
    r = (x >> 8) ^ _T8[x & 0xFF]       # low byte (its data already folded into x)
    r = (r >> 8) ^ _T8[r & 0xFF]       # high byte (likewise)
    return r.astype(np.uint16)


_T16 = _word_table()


def _neutral_prefixes(width: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of prefix bytes that leave the register at CRC_INIT: for even and odd lengths.

    A prefix of length d is the first d bytes of the row for d's parity.
    """
    inverse = np.empty(65536, dtype=np.uint32)
    inverse[_T16] = np.arange(65536)           # _T16 is a bijection of the register space
    word = CRC_INIT ^ int(inverse[CRC_INIT])   # CRC_INIT --word--> CRC_INIT
    even = np.tile(np.array([word & 0xFF, word >> 8], dtype=np.uint8), width // 2 + 2)
    after_zero = (CRC_INIT >> 8) ^ int(_T8[CRC_INIT & 0xFF])  # register after one 0x00 byte
    back = after_zero ^ int(inverse[CRC_INIT])
    odd = np.concatenate([[0, back & 0xFF, back >> 8], even]).astype(np.uint8)
    return even[:width], odd[:width]


_EVEN, _ODD = _neutral_prefixes(MAX_ROW_BYTES)


def x25_bytes(data: bytes, crc: int = CRC_INIT) -> int:
    """Byte-at-a-time CRC of one buffer (a reference for tests)."""
    for b in data:
        crc = (crc >> 8) ^ int(_T8[(crc ^ b) & 0xFF])
    return crc


def x25_frames(buf: np.ndarray, margin: int, first: np.ndarray, length: np.ndarray,
               extra: np.ndarray) -> np.ndarray:
    """CRC of data[first:first+length] + extra for each frame, where data = buf[margin:].

    `buf` must hold at least MAX_ROW_BYTES bytes before `margin` (any content) and
    the data must extend past each frame.  Returns (n,) uint16.
    """
    out = np.empty(len(first), dtype=np.uint16)
    fed = length + 1  # the CRC_EXTRA byte is fed last
    data_end = first + length
    # Lengths shared by many frames go at their own width; the rest share padded widths.
    by_length = np.bincount(fed)
    common = by_length >= _COMMON_LENGTH_ROWS
    is_common = common[fed]
    for size, sel in _groups(np.where(is_common, fed, 0)):
        if size:
            out[sel] = _x25_exact(buf, margin, data_end[sel], extra[sel], size)
    rest = np.flatnonzero(~is_common)
    if len(rest):
        width_class = (fed[rest] + MIN_PREFIX_BYTES + WIDTH_STEP_BYTES - 1) // WIDTH_STEP_BYTES
        for key, sel in _groups(width_class):
            i = rest[sel]
            out[i] = _x25_padded(buf, margin, data_end[i], fed[i], extra[i],
                                 key * WIDTH_STEP_BYTES)
    return out


# Below this many frames of one length, a padded width saves more numpy calls than it costs.
_COMMON_LENGTH_ROWS = 512


def _groups(keys: np.ndarray):
    """(key, indices) per distinct small non-negative key (a stable radix sort)."""
    keys = keys.astype(np.uint16)
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    for key in np.flatnonzero(counts).tolist():
        yield key, order[bounds[key]:bounds[key + 1]]


def _window(buf, margin, width):
    """Row k: the `width` bytes of data that end just before data[k]."""
    return np.lib.stride_tricks.as_strided(buf[margin - width:], shape=(len(buf) - margin, width),
                                           strides=(1, 1), writeable=False)


def _run(words: np.ndarray) -> np.ndarray:
    crc = np.full(len(words), CRC_INIT, dtype=np.uint16)
    table = _T16
    for j in range(words.shape[1]):
        crc = table[crc ^ words[:, j]]
    return crc


def _x25_exact(buf, margin, data_end, extra, fed):
    """All frames feed `fed` bytes (their covered bytes, then the extra one)."""
    n = len(data_end)
    covered = fed - 1
    if fed % 2 == 0:
        # One gather that takes the byte after the frame's covered bytes too, then that byte
        # is replaced by the extra one.
        rows = _window(buf, margin, fed)[data_end + 1]
        rows[:, covered] = extra
        return _run(rows.view("<u2"))
    rows = _window(buf, margin, covered)[data_end] if covered else np.zeros((n, 0), np.uint8)
    crc = _run(rows.view("<u2"))
    return (crc >> 8) ^ _T8[(crc ^ extra) & 0xFF]


def _x25_padded(buf, margin, data_end, fed, extra, width):
    """Frames of different lengths, right-aligned in rows of `width` behind a neutral prefix."""
    rows = _window(buf, margin, width)[data_end + 1]
    rows[:, width - 1] = extra
    pad = width - fed
    span = int(pad.max())
    prefix = np.where((pad & 1)[:, None] == 1, _ODD[:span], _EVEN[:span])
    np.copyto(rows[:, :span], prefix, where=np.arange(span) < pad[:, None])
    return _run(rows.view("<u2"))
