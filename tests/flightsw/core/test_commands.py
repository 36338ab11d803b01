"""CommandDispatcher: the closed result set, one COMMAND_ACK per command, wire round trips."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import Mode, ModeManager
from flightsw.icd import mavlink, new_codec

GCS_SYSTEM, GCS_COMPONENT = 255, 190
NOT_A_COMMAND = 53199  # in our MAV_CMD block, never registered

EXPECTED_MAV_RESULT = {
    CommandResult.ACCEPTED: mavlink.MAV_RESULT_ACCEPTED,
    CommandResult.UNSUPPORTED: mavlink.MAV_RESULT_UNSUPPORTED,
    CommandResult.INVALID_PARAM: mavlink.MAV_RESULT_DENIED,
    CommandResult.WRONG_MODE: mavlink.MAV_RESULT_TEMPORARILY_REJECTED,
    CommandResult.FAILED: mavlink.MAV_RESULT_FAILED,
    CommandResult.BUSY: mavlink.MAV_RESULT_TEMPORARILY_REJECTED,
}


class Rig:
    def __init__(self, initial=Mode.SAFE):
        self.clock = SimClock()
        self.sent = []
        self.events = EventLog(self.clock)
        self.modes = ModeManager(self.clock, self.events, initial=initial)
        self.dispatcher = CommandDispatcher(self.modes, self.events, self.sent.append)
        self.calls = []

    def acks(self):
        return [m for m in self.sent if m.get_type() == "COMMAND_ACK"]

    def handler(self, result=CommandResult.ACCEPTED):
        def handle(params):
            self.calls.append(params)
            return result
        return handle


def from_ground(command, *params, confirmation=0):
    """A COMMAND_LONG as it arrives from a ground station: packed, then decoded."""
    gcs, flight = new_codec(GCS_SYSTEM, GCS_COMPONENT), new_codec(1, 1)
    params = tuple(params) + (0.0,) * (7 - len(params))
    msg = mavlink.MAVLink_command_long_message(1, 1, command, confirmation, *params)
    return flight.decode(bytearray(msg.pack(gcs)))


def test_unknown_command_is_unsupported_with_one_ack():
    rig = Rig()
    result = rig.dispatcher.dispatch_command_long(from_ground(NOT_A_COMMAND))
    assert result == CommandResult.UNSUPPORTED
    (ack,) = rig.sent
    assert ack.get_type() == "COMMAND_ACK"
    assert ack.command == NOT_A_COMMAND
    assert ack.result == mavlink.MAV_RESULT_UNSUPPORTED
    assert ack.result_param2 == CommandResult.UNSUPPORTED
    assert (ack.target_system, ack.target_component) == (GCS_SYSTEM, GCS_COMPONENT)
    assert rig.events.counts()[Severity.WARNING] == 1


@pytest.mark.parametrize("result", list(CommandResult))
def test_ack_keeps_the_exact_result_across_the_wire(result):
    rig = Rig()
    rig.dispatcher.register(mavlink.PROBE_CMD_SET_HOVER_POINT, rig.handler(result))
    assert rig.dispatcher.dispatch(mavlink.PROBE_CMD_SET_HOVER_POINT, (1.0, 2.0, 3.0)) == result
    (ack,) = rig.sent
    codec = new_codec(1, 1)
    decoded = codec.decode(bytearray(ack.pack(codec)))
    assert decoded.get_type() == "COMMAND_ACK"
    assert decoded.result == EXPECTED_MAV_RESULT[result]
    assert decoded.result_param2 == int(result)
    assert CommandResult.from_ack(decoded) is result
    assert result.to_mav_result() == EXPECTED_MAV_RESULT[result]


def test_nan_and_inf_are_refused_in_used_params_only():
    rig = Rig()
    rig.dispatcher.register(mavlink.PROBE_CMD_SET_HOVER_POINT, rig.handler(),
                            unused_params=(4, 5, 6, 7))
    cmd = mavlink.PROBE_CMD_SET_HOVER_POINT
    assert rig.dispatcher.dispatch(cmd, (0.0, math.nan, 1.0)) == CommandResult.INVALID_PARAM
    assert rig.dispatcher.dispatch(cmd, (math.inf, 0.0, 1.0)) == CommandResult.INVALID_PARAM
    assert rig.calls == []
    nan = math.nan
    result = rig.dispatcher.dispatch_command_long(from_ground(cmd, 1, 2, 3, nan, nan, nan, nan))
    assert result == CommandResult.ACCEPTED
    assert rig.calls[0][:3] == (1.0, 2.0, 3.0)
    assert len(rig.acks()) == 3


def test_wrong_mode_and_validator_refusals_never_reach_the_handler():
    rig = Rig(initial=Mode.STANDBY)
    cmd = mavlink.PROBE_CMD_SET_HOVER_POINT
    rig.dispatcher.register(cmd, rig.handler(), allowed_modes={Mode.HOVER},
                            validate=lambda p: None if p[2] > 0 else "z must be above the surface")
    assert rig.dispatcher.dispatch(cmd, (0, 0, 500)) == CommandResult.WRONG_MODE
    rig.modes.request(Mode.HOVER)
    assert rig.dispatcher.dispatch(cmd, (0, 0, -5)) == CommandResult.INVALID_PARAM
    assert rig.calls == []
    assert "z must be above the surface" in rig.events.recent[-1].text
    assert rig.dispatcher.dispatch(cmd, (0, 0, 500)) == CommandResult.ACCEPTED
    assert rig.calls == [(0.0, 0.0, 500.0, 0.0, 0.0, 0.0, 0.0)]
    assert [a.result_param2 for a in rig.acks()] == [3, 2, 0]


def test_a_handler_that_raises_or_misbehaves_fails_with_an_error_event():
    rig = Rig()

    def broken(params):
        raise ZeroDivisionError("boom")

    rig.dispatcher.register(53150, broken)
    rig.dispatcher.register(53151, lambda params: None)
    assert rig.dispatcher.dispatch(53150) == CommandResult.FAILED
    assert rig.dispatcher.dispatch(53151) == CommandResult.FAILED
    assert [a.result for a in rig.acks()] == [mavlink.MAV_RESULT_FAILED] * 2
    assert rig.events.counts()[Severity.ERROR] == 2
    assert "ZeroDivisionError: boom" in rig.events.recent[0].text


def test_set_mode_command_goes_through_the_mode_manager():
    rig = Rig()
    set_mode = mavlink.MAV_CMD_DO_SET_MODE
    flag = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
    hover, standby = mavlink.PROBE_MODE_HOVER, mavlink.PROBE_MODE_STANDBY
    d = rig.dispatcher
    assert d.dispatch_command_long(from_ground(set_mode, flag, hover)) == CommandResult.WRONG_MODE
    assert rig.modes.current == Mode.SAFE
    assert d.dispatch_command_long(from_ground(set_mode, flag, standby)) == CommandResult.ACCEPTED
    assert rig.modes.current == Mode.STANDBY
    assert "sys255/190" in rig.modes.history[-1].reason
    assert d.dispatch(set_mode, (flag, 1.5)) == CommandResult.INVALID_PARAM
    assert d.dispatch(set_mode, (flag, 77)) == CommandResult.INVALID_PARAM
    assert d.dispatch(set_mode, (math.nan, hover, math.nan)) == CommandResult.ACCEPTED
    assert rig.modes.current == Mode.HOVER
    assert len(rig.acks()) == 5


def test_sequence_commands_take_the_same_path():
    rig = Rig()
    rig.dispatcher.register(mavlink.PROBE_CMD_SET_HOVER_POINT, rig.handler())
    cmd = mavlink.PROBE_CMD_SET_HOVER_POINT
    assert rig.dispatcher.dispatch(cmd, (1, 2, 3, 4, 5, 6, 7, 8)) == CommandResult.INVALID_PARAM
    assert rig.dispatcher.dispatch(cmd, ("x",)) == CommandResult.INVALID_PARAM
    assert rig.dispatcher.dispatch(cmd, (1, 2, 3), source="scenario t=10s") == \
        CommandResult.ACCEPTED
    assert len(rig.acks()) == 3
    assert all((a.target_system, a.target_component) == (0, 0) for a in rig.acks())
    assert "scenario t=10s" in rig.events.recent[-1].text


def test_registration_is_validated():
    rig = Rig()
    with pytest.raises(ValueError, match="already registered"):
        rig.dispatcher.register(mavlink.MAV_CMD_DO_SET_MODE, rig.handler())
    with pytest.raises(ValueError, match="uint16"):
        rig.dispatcher.register(70_000, rig.handler())
    with pytest.raises(ValueError, match="unused_params"):
        rig.dispatcher.register(53150, rig.handler(), unused_params=(0,))
    no_modes = CommandDispatcher(None, None, [].append)
    with pytest.raises(ValueError, match="ModeManager"):
        no_modes.register(53150, rig.handler(), allowed_modes={Mode.HOVER})
    assert mavlink.MAV_CMD_DO_SET_MODE not in no_modes.registered


param_value = st.one_of(st.floats(), st.integers(-10**6, 10**6).map(float))


@given(
    command=st.sampled_from([mavlink.MAV_CMD_DO_SET_MODE, mavlink.PROBE_CMD_SET_HOVER_POINT,
                             NOT_A_COMMAND, 0]),
    params=st.tuples(*[param_value] * 7),
    mode=st.sampled_from(Mode),
    handler_result=st.sampled_from(CommandResult),
)
def test_every_command_gets_exactly_one_consistent_ack(command, params, mode, handler_result):
    rig = Rig(initial=mode)
    rig.dispatcher.register(mavlink.PROBE_CMD_SET_HOVER_POINT, rig.handler(handler_result),
                            allowed_modes={Mode.HOVER}, unused_params=(4, 5, 6, 7))
    msg = mavlink.MAVLink_command_long_message(1, 1, command, 0, *params)
    result = rig.dispatcher.dispatch_command_long(msg)
    (ack,) = rig.sent  # exactly one message, and it is the ack
    assert ack.command == command
    assert ack.result_param2 == result
    assert ack.result == EXPECTED_MAV_RESULT[result]
    if result != CommandResult.ACCEPTED and command == mavlink.MAV_CMD_DO_SET_MODE:
        assert rig.modes.current == mode  # a refused command changed nothing
    if command == mavlink.PROBE_CMD_SET_HOVER_POINT:
        refused_early = (mode != Mode.HOVER
                         or not all(math.isfinite(p) for p in params[:3]))
        assert rig.calls == ([] if refused_early else [tuple(params)])
