"""Numpy layouts of the ICD's messages, built from mavgen's generated classes.

Each generated class says all a decoder needs: `unpacker.format` is the wire
layout (little-endian, fields in wire order), `ordered_fieldnames` names those
fields in that order, `fieldnames` is the XML order that pymavlink's attributes
follow, `crc_extra` seeds the checksum.  A numpy dtype with explicit offsets
then decodes a whole column of payloads with one view, and the values are the
ones struct.unpack gives pymavlink, because both read the same bytes.

pymavlink's conventions kept here: an array of length 1 is a scalar, a char
array is one bytes value with trailing NULs stripped (numpy's 'S' does that on
access), a payload shorter than the struct (MAVLink 2 trims trailing zeros) is
zero-padded, a longer one (a newer dialect's extensions) is cut.
"""

import re
from dataclasses import dataclass
from types import ModuleType

import numpy as np

# struct format character -> numpy scalar type (always little-endian on the wire)
_NUMPY_OF_STRUCT = {
    "B": "u1", "b": "i1", "H": "<u2", "h": "<i2", "I": "<u4", "i": "<i4",
    "Q": "<u8", "q": "<i8", "f": "<f4", "d": "<f8",
}
_TOKEN = re.compile(r"(\d*)([a-zA-Z?])")


@dataclass(frozen=True)
class MessageLayout:
    msg_id: int
    name: str
    crc_extra: int
    payload_size_bytes: int      # the full (untrimmed) payload
    dtype: np.dtype              # payload fields, XML order, wire offsets; itemsize = payload size
    fields: tuple[str, ...]      # XML order, as pymavlink's attributes


def layout_of(cls) -> MessageLayout:
    """The numpy layout of one mavgen message class."""
    fmt = cls.unpacker.format
    if isinstance(fmt, bytes):
        fmt = fmt.decode()
    if fmt[:1] in "<>=!@":
        fmt = fmt[1:]
    tokens = _TOKEN.findall(fmt)
    if len(tokens) != len(cls.ordered_fieldnames):
        raise ValueError(f"{cls.msgname}: format {fmt!r} does not match its "
                         f"{len(cls.ordered_fieldnames)} fields")
    offsets, formats = {}, {}
    offset = 0
    for name, (count_text, char) in zip(cls.ordered_fieldnames, tokens, strict=True):
        count = int(count_text) if count_text else 1
        if char in "sc":
            np_type, size = f"S{count}", count
        else:
            base = np.dtype(_NUMPY_OF_STRUCT[char])
            np_type = base if count == 1 else (base, (count,))
            size = base.itemsize * count
        offsets[name], formats[name] = offset, np_type
        offset += size
    if offset != cls.unpacker.size:
        raise ValueError(f"{cls.msgname}: layout is {offset} bytes, struct says "
                         f"{cls.unpacker.size}")
    names = list(cls.fieldnames)
    dtype = np.dtype({"names": names, "formats": [formats[n] for n in names],
                      "offsets": [offsets[n] for n in names], "itemsize": offset})
    return MessageLayout(cls.id, cls.msgname, cls.crc_extra, offset, dtype, tuple(names))


class Catalogue:
    """Every message of a generated dialect module, and a dense id -> index table."""

    def __init__(self, dialect: ModuleType):
        self.layouts = [layout_of(cls) for _, cls in sorted(dialect.mavlink_map.items())]
        self.by_name = {lay.name: lay for lay in self.layouts}
        max_id = max(lay.msg_id for lay in self.layouts)
        # msg id -> index into layouts, -1 for unknown ids (ids are at most 24 bits; ours
        # stop near 53100, so a dense table is small)
        self.index_of_id = np.full(max_id + 1, -1, dtype=np.int32)
        for i, lay in enumerate(self.layouts):
            self.index_of_id[lay.msg_id] = i
        self.crc_extra = np.array([lay.crc_extra for lay in self.layouts], dtype=np.uint8)
        self.payload_size = np.array([lay.payload_size_bytes for lay in self.layouts],
                                     dtype=np.int64)

    def lookup(self, msg_ids: np.ndarray) -> np.ndarray:
        """Layout index of each id, -1 where the dialect does not know it."""
        ids = msg_ids.astype(np.int64)
        inside = ids < len(self.index_of_id)
        out = np.full(len(ids), -1, dtype=np.int32)
        out[inside] = self.index_of_id[ids[inside]]
        return out


_DEFAULT = None


def icd_catalogue() -> Catalogue:
    """The catalogue of our own ICD (built once: about 230 messages, a few ms)."""
    global _DEFAULT
    if _DEFAULT is None:
        from flightsw.icd import mavlink
        _DEFAULT = Catalogue(mavlink)
    return _DEFAULT
