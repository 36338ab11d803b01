"""The interface control document: our MAVLink 2 dialect and its generated code.

`mavlink` is the module mavgen generated from prospector.xml; all framing,
packing and CRC come from it.
"""

import hashlib
import json

from flightsw.icd.generated import prospector as mavlink

# Our own message ids live in this block (see prospector.xml).
PROBE_MSG_ID_FIRST = 53000
PROBE_MSG_ID_LAST = 53099

FLIGHT_SYSTEM_ID = 1
FLIGHT_COMPONENT_ID = 1  # MAV_COMP_ID_AUTOPILOT1
WORLD_SYSTEM_ID = 2  # the devices' side of the bus: simulator or devboard
WORLD_COMPONENT_ID = 1
GROUND_SYSTEM_ID = 255  # the ground station, as MAVLink ground stations use
GROUND_COMPONENT_ID = 190  # MAV_COMP_ID_MISSIONPLANNER


def normalised_dialect(dialect=None) -> str:
    """The whole dialect as its generated module holds it, as canonical JSON.

    Every message (id, name, CRC_EXTRA, fields in XML and in wire order, their
    types, array lengths, units, enums and display hints, extensions included)
    and every enum (each entry's name and value).  Descriptions are left out: they
    change no byte and no meaning a program reads.
    """
    dialect = mavlink if dialect is None else dialect
    messages = []
    for msg_id in sorted(dialect.mavlink_map):
        cls = dialect.mavlink_map[msg_id]
        fmt = cls.unpacker.format
        messages.append([msg_id, cls.msgname, cls.crc_extra, list(cls.fieldnames),
                         list(cls.ordered_fieldnames), list(cls.fieldtypes),
                         list(cls.array_lengths), fmt.decode() if isinstance(fmt, bytes) else fmt,
                         sorted(cls.fieldunits_by_name.items()),
                         sorted(cls.fieldenums_by_name.items()),
                         sorted(cls.fielddisplays_by_name.items())])
    enums = [[name, sorted([int(value), entry.name] for value, entry in entries.items())]
             for name, entries in sorted(dialect.enums.items())]
    return json.dumps({"messages": messages, "enums": enums}, separators=(",", ":"))


def icd_fingerprint(dialect=None) -> int:
    """A 32-bit hash (SHA-256, first 4 bytes) of the whole normalised dialect.

    Two builds with the same fingerprint frame, pack and name every message,
    field and enum value alike; replay compares it with the one recorded in the
    run directory and refuses a log of another ICD.  (Until issue 21 it covered
    ids, names and CRC_EXTRA only: an enum value could change unnoticed.)
    """
    digest = hashlib.sha256(normalised_dialect(dialect).encode()).digest()
    return int.from_bytes(digest[:4], "big")


def new_codec(system_id: int, component_id: int) -> "mavlink.MAVLink":
    """A MAVLink 2 packer/parser with no file attached."""
    codec = mavlink.MAVLink(None, srcSystem=system_id, srcComponent=component_id)
    codec.robust_parsing = True
    return codec
