"""The closed set of command results (after F Prime's command responses), apart from
the dispatcher so that the mode manager can answer with them without importing it."""

from __future__ import annotations

from enum import IntEnum

from flightsw.icd import mavlink


class CommandResult(IntEnum):
    """Outcome of a command (after F Prime's closed set of command responses)."""

    ACCEPTED = 0
    UNSUPPORTED = 1  # no such command
    INVALID_PARAM = 2  # a parameter is malformed or out of range
    WRONG_MODE = 3  # not allowed in the current mode
    FAILED = 4  # accepted, but execution went wrong
    BUSY = 5  # cannot take it now; may succeed later

    def to_mav_result(self) -> int:
        return _TO_MAV_RESULT[self]

    @classmethod
    def from_ack(cls, ack) -> CommandResult:
        """Our exact result from a received COMMAND_ACK (its result_param2)."""
        return cls(ack.result_param2)


_TO_MAV_RESULT = {
    CommandResult.ACCEPTED: mavlink.MAV_RESULT_ACCEPTED,
    CommandResult.UNSUPPORTED: mavlink.MAV_RESULT_UNSUPPORTED,
    CommandResult.INVALID_PARAM: mavlink.MAV_RESULT_DENIED,
    CommandResult.WRONG_MODE: mavlink.MAV_RESULT_TEMPORARILY_REJECTED,
    CommandResult.FAILED: mavlink.MAV_RESULT_FAILED,
    CommandResult.BUSY: mavlink.MAV_RESULT_TEMPORARILY_REJECTED,
}
