"""The interface control document: our MAVLink 2 dialect and its generated code.

`mavlink` is the module mavgen generated from prospector.xml; all framing,
packing and CRC come from it.
"""

import zlib

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


def icd_fingerprint() -> int:
    """A 32-bit fingerprint of every message's id, name and CRC_EXTRA.

    Two builds with the same fingerprint frame and pack every message alike;
    replay compares it with the one recorded in the log.
    """
    parts = []
    for msg_id in sorted(mavlink.mavlink_map):
        cls = mavlink.mavlink_map[msg_id]
        parts.append(f"{msg_id}:{cls.msgname}:{cls.crc_extra}")
    return zlib.crc32(";".join(parts).encode())


def new_codec(system_id: int, component_id: int) -> "mavlink.MAVLink":
    """A MAVLink 2 packer/parser with no file attached."""
    codec = mavlink.MAVLink(None, srcSystem=system_id, srcComponent=component_id)
    codec.robust_parsing = True
    return codec
