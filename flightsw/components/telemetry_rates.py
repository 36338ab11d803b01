"""The rate table of the flight's periodic telemetry, set by MAV_CMD_SET_MESSAGE_INTERVAL.

Each periodic message (by MAVLink message id) has a producer that sends it, a
default interval and the interval now in force.  The telemetry task calls
`run(t_us)` every `task_period_us`; a message is sent when its interval has
elapsed.  Because the task runs at a fixed period, an interval is honoured in
whole task periods: a shorter one is raised to the period (and reported so by
GET_MESSAGE_INTERVAL), a longer one rounded to the nearest multiple.

SET_MESSAGE_INTERVAL (MAVLink common.xml semantics): param1 the message id,
param2 the interval in us, -1 to stop the message, 0 for its default.  A message
id not in the table is refused (INVALID_PARAM, a DENIED ack) and changes
nothing.  GET_MESSAGE_INTERVAL answers MESSAGE_INTERVAL with the interval in
force, -1 when stopped, 0 for a message the table does not have (the spec's "not
available").  Some producers send a companion message with theirs (the
navigation state brings PROBE_NAV_BIAS): it follows its leader's rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flightsw.core.command_result import CommandResult
from flightsw.icd import mavlink

INTERVAL_DISABLED_US = -1
INTERVAL_DEFAULT_US = 0
INTERVAL_MAX_US = 3600 * 1_000_000  # an hour: beyond that, stop it
N_MSG_ID_MAX = 0xFFFFFF  # MAVLink 2 message ids are 24 bits


@dataclass
class _Stream:
    producer: Callable[[int], None]
    default_interval_us: int
    interval_us: int  # in force; INTERVAL_DISABLED_US when stopped
    next_due_us: int | None = None


class TelemetryRates:
    def __init__(self, commands, send: Callable[[object], None], task_period_us: int):
        if task_period_us <= 0:
            raise ValueError(f"task_period_us must be positive, got {task_period_us}")
        self.send = send
        self.task_period_us = int(task_period_us)
        self._streams: dict[int, _Stream] = {}
        commands.register(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, self._cmd_set,
                          validate=self._validate_set, unused_params=(3, 4, 5, 6, 7))
        commands.register(mavlink.MAV_CMD_GET_MESSAGE_INTERVAL, self._cmd_get,
                          validate=_validate_msg_id, unused_params=(2, 3, 4, 5, 6, 7))

    def add(self, msg_id: int, producer: Callable[[int], None], default_interval_us: int) -> None:
        """`producer(t_us)` sends message `msg_id`, by default every `default_interval_us`."""
        if msg_id in self._streams:
            raise ValueError(f"message {msg_id} already has a rate")
        interval = self._granted(default_interval_us)
        self._streams[msg_id] = _Stream(producer, interval, interval)

    def interval_us(self, msg_id: int) -> int:
        """The interval in force: -1 stopped, 0 not in the table."""
        stream = self._streams.get(msg_id)
        return INTERVAL_DEFAULT_US if stream is None else stream.interval_us

    def producer(self, msg_id: int) -> Callable[[int], None] | None:
        stream = self._streams.get(msg_id)
        return None if stream is None else stream.producer

    def run(self, t_us: int) -> None:
        """Send every message whose interval has elapsed (call once per task period)."""
        half_period = self.task_period_us // 2  # a late task still counts as on time
        for stream in self._streams.values():
            if stream.interval_us == INTERVAL_DISABLED_US:
                continue
            if stream.next_due_us is None or t_us + half_period >= stream.next_due_us:
                stream.producer(t_us)
                stream.next_due_us = t_us + stream.interval_us

    def _granted(self, interval_us: int) -> int:
        periods = max(1, round(interval_us / self.task_period_us))
        return periods * self.task_period_us

    # -- commands -------------------------------------------------------------------
    def _validate_set(self, params) -> str | None:
        reason = _validate_msg_id(params)
        if reason is not None:
            return reason
        if int(params[0]) not in self._streams:
            return f"message {int(params[0])} has no rate on board"
        interval = params[1]
        if interval != int(interval) or not -1 <= interval <= INTERVAL_MAX_US:
            return f"interval {interval} us: expected -1, 0 or 1..{INTERVAL_MAX_US} us"
        return None

    def _cmd_set(self, params):
        stream = self._streams[int(params[0])]
        interval = int(params[1])
        if interval == INTERVAL_DISABLED_US:
            stream.interval_us = INTERVAL_DISABLED_US
        else:
            new = stream.default_interval_us if interval == INTERVAL_DEFAULT_US else \
                self._granted(interval)
            stream.interval_us = new
        stream.next_due_us = None  # the new rate starts with the next run
        return CommandResult.ACCEPTED

    def _cmd_get(self, params):
        msg_id = int(params[0])
        self.send(mavlink.MAVLink_message_interval_message(msg_id, self.interval_us(msg_id)))
        return CommandResult.ACCEPTED


def _validate_msg_id(params) -> str | None:
    msg_id = params[0]
    if msg_id != int(msg_id) or not 0 <= msg_id <= N_MSG_ID_MAX:
        return f"message id {msg_id}: expected an integer 0..{N_MSG_ID_MAX}"
    return None
