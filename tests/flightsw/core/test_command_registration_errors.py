"""Programming errors in wiring the command dispatcher (flightsw/core/commands.py) are
refused at start-up with a named error, and a command whose parameters are not numbers is
INVALID_PARAM with the reason in its event, never a crash of the bus task."""

import pytest

from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog
from flightsw.core.modes import Mode, ModeManager
from flightsw.icd import mavlink

CMD = 31010  # a free command id for these tests


def dispatcher():
    events = EventLog(SimClock())
    acks = []
    return CommandDispatcher(None, events, acks.append), events, acks


def test_a_dispatcher_needs_somewhere_to_send_its_acks():
    with pytest.raises(TypeError, match="^send must be callable, got None$"):
        CommandDispatcher(None, None, None)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"handler": "not a function"}, TypeError, "handler must be callable, got 'not a function'"),
    ({"validate": 3}, TypeError, "validate must be callable or None, got 3"),
    ({"command_id": True}, TypeError, "command_id must be an int, got bool"),
    ({"command_id": 2.5}, TypeError, "command_id must be an int, got 2.5"),
    ({"command_id": 70000}, ValueError, "command_id must fit a uint16 (0..65535), got 70000"),
    ({"command_id": -1}, ValueError, "command_id must fit a uint16 (0..65535), got -1"),
])
def test_a_bad_registration_is_refused_by_name(kwargs, error, message):
    d, _, _ = dispatcher()
    args = {"command_id": CMD, "handler": lambda p: CommandResult.ACCEPTED, **kwargs}
    with pytest.raises(error) as info:
        d.register(**args)
    assert str(info.value) == message
    assert d.registered == frozenset()  # nothing half-registered


def test_a_parameter_that_is_not_a_number_is_invalid_and_never_reaches_the_handler():
    d, events, acks = dispatcher()
    calls = []
    d.register(CMD, lambda p: calls.append(p) or CommandResult.ACCEPTED)
    assert d.dispatch(CMD, ("north",), source="script") == CommandResult.INVALID_PARAM
    assert calls == [] and len(acks) == 1
    assert events.recent[-1].text.endswith("from script: INVALID_PARAM (non-numeric param)")


def test_a_validator_that_raises_has_said_no():
    """A validator's own exception is a refusal with its reason, the handler not run."""
    d, events, _ = dispatcher()
    calls = []
    d.register(CMD, lambda p: calls.append(p) or CommandResult.ACCEPTED,
               validate=lambda p: 1 / 0)
    assert d.dispatch(CMD, (1.0,)) == CommandResult.INVALID_PARAM
    assert calls == []
    assert events.recent[-1].text.endswith(
        "INVALID_PARAM (validator raised ZeroDivisionError: division by zero)")


@pytest.mark.parametrize("mode", [Mode.SURVEY, Mode.DESCENT, Mode.MASS_MEASURE])
def test_set_mode_refuses_a_mode_that_has_its_own_command(mode):
    """DO_SET_MODE cannot skip a mode's own checks: SURVEY, DESCENT, MASS_MEASURE are
    entered by START_SURVEY, START_TAG, MEASURE_MASS; the mode is unchanged."""
    clock = SimClock()
    events = EventLog(clock)
    modes = ModeManager(clock, events, initial=Mode.HOVER)
    d = CommandDispatcher(modes, events, lambda msg: None)
    result = d.dispatch(mavlink.MAV_CMD_DO_SET_MODE, (1.0, float(mode)))
    assert result == CommandResult.INVALID_PARAM and modes.current == Mode.HOVER
    assert events.recent[-1].text.endswith(
        f"(mode {mode.name} is entered by its own command, not by DO_SET_MODE)")
