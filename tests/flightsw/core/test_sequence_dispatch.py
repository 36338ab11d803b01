"""CommandDispatcher.dispatch, the on-board path of scenario command sequences
(flightsw/core/commands.py).

Pinned here: up to seven parameters are a command (the trailing ones are 0.0); an eighth
is refused with INVALID_PARAM, one COMMAND_ACK for the command's id, and an event that
names the command, the source and the count.
"""

from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog
from flightsw.icd import mavlink

CMD = mavlink.PROBE_CMD_SET_HOVER_POINT


def rig():
    clock = SimClock()
    sent, calls = [], []
    events = EventLog(clock)
    d = CommandDispatcher(None, events, sent.append)
    d.register(CMD, lambda p: calls.append(p) or CommandResult.ACCEPTED)
    return d, sent, calls, events


def test_seven_parameters_are_a_command():
    d, sent, calls, _ = rig()
    assert d.dispatch(CMD, (1, 2, 3, 4, 5, 6, 7)) == CommandResult.ACCEPTED
    assert calls == [(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0)]
    assert d.dispatch(CMD, (1, 2)) == CommandResult.ACCEPTED
    assert calls[-1] == (1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def test_an_eighth_parameter_is_refused_with_one_ack_and_a_named_event():
    d, sent, calls, events = rig()
    assert d.dispatch(CMD, range(9), source="scenario t=5s") == CommandResult.INVALID_PARAM
    assert calls == []
    (ack,) = sent
    assert ack.command == CMD and CommandResult.from_ack(ack) == CommandResult.INVALID_PARAM
    assert events.recent[-1].text == ("PROBE_CMD_SET_HOVER_POINT from scenario t=5s: "
                                      "INVALID_PARAM (9 params, at most 7)")
