"""What the command dispatcher tells the operator (flightsw/core/commands.py).

Pinned here: every refusal's event says why in words the operator reads in events.log
(source "cmd"), each COMMAND_ACK reports progress 0, the source of a command is known to
its handler only while it runs, DO_SET_MODE and ground-table commands take NaN in their
unused parameters (the MAVLink convention), command ids span the whole uint16 range,
and misuse of the registration API is refused with a message naming the problem.
"""

import math

import pytest

from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog
from flightsw.core.modes import Mode, ModeManager
from flightsw.icd import mavlink

CMD = mavlink.PROBE_CMD_SET_HOVER_POINT
NAN = math.nan


class Rig:
    def __init__(self, mode=Mode.HOVER, modes=True):
        self.clock = SimClock()
        self.sent = []
        self.events = EventLog(self.clock)
        self.modes = ModeManager(self.clock, self.events, initial=mode) if modes else None
        self.d = CommandDispatcher(self.modes, self.events, self.sent.append)

    def last(self):
        event = self.events.recent[-1]
        assert event.source == "cmd"
        return event.text


def test_refusals_say_why():
    rig = Rig()
    rig.d.register(CMD, lambda p: CommandResult.ACCEPTED, allowed_modes=[Mode.DESCENT])
    rig.d.register(CMD + 1, lambda p: "yes", validate=lambda p: None)
    rig.d.register(CMD + 2, lambda p: CommandResult.ACCEPTED,
                   validate=lambda p: (_ for _ in ()).throw(ValueError("boom")))
    name = "PROBE_CMD_SET_HOVER_POINT from sequence"
    assert rig.d.dispatch(CMD, ("x",)) == CommandResult.INVALID_PARAM
    assert rig.last() == f"{name}: INVALID_PARAM (non-numeric param)"
    assert rig.d.dispatch(CMD, (1.0, 2.0, NAN)) == CommandResult.INVALID_PARAM
    assert rig.last() == f"{name}: INVALID_PARAM (param3=nan)"
    assert rig.d.dispatch(CMD, ()) == CommandResult.WRONG_MODE
    assert rig.last() == f"{name}: WRONG_MODE (in HOVER)"
    assert rig.d.dispatch(CMD + 1, ()) == CommandResult.FAILED
    assert rig.last().endswith(": FAILED (handler returned 'yes')")
    assert rig.d.dispatch(CMD + 2, ()) == CommandResult.INVALID_PARAM
    assert rig.last().endswith(": INVALID_PARAM (validator raised ValueError: boom)")


def test_every_ack_reports_progress_zero():
    rig = Rig()
    rig.d.register(CMD, lambda p: CommandResult.ACCEPTED)
    rig.d.dispatch(CMD, ())
    rig.d.dispatch(CMD + 7, ())
    assert [a.progress for a in rig.sent] == [0, 0]


def test_the_source_is_known_to_the_handler_only_while_it_runs():
    rig = Rig()
    seen = []
    rig.d.register(CMD, lambda p: seen.append(rig.d.current_source) or CommandResult.ACCEPTED)
    assert rig.d.current_source == ""
    rig.d.dispatch(CMD, (), source="scenario t=3s")
    assert seen == ["scenario t=3s"] and rig.d.current_source == ""


def test_set_mode_takes_nan_in_every_parameter_but_the_mode():
    rig = Rig()
    params = (NAN, float(Mode.STANDBY), NAN, NAN, NAN, NAN, NAN)
    assert rig.d.dispatch(mavlink.MAV_CMD_DO_SET_MODE, params) == CommandResult.ACCEPTED
    assert rig.modes.current == Mode.STANDBY


def test_a_ground_table_command_takes_nan_in_its_unused_parameters():
    rig = Rig()
    calls = []
    rig.d.register_ground_command("START_TAG", lambda p: calls.append(p) or
                                  CommandResult.ACCEPTED)
    assert rig.d.dispatch(mavlink.PROBE_CMD_START_TAG, (NAN,) * 7) == CommandResult.ACCEPTED
    assert len(calls) == 1


@pytest.mark.parametrize("command_id", [0, 0xFFFF])
def test_command_ids_span_the_whole_uint16_range(command_id):
    rig = Rig()
    rig.d.register(command_id, lambda p: CommandResult.ACCEPTED)
    assert rig.d.dispatch(command_id, ()) == CommandResult.ACCEPTED


@pytest.mark.parametrize("command_id", [-1, 0x10000])
def test_command_ids_outside_uint16_are_refused(command_id):
    with pytest.raises(ValueError, match=r"^command_id must fit a uint16 \(0\.\.65535\), got "):
        Rig().d.register(command_id, lambda p: CommandResult.ACCEPTED)


def test_registration_misuse_is_refused_by_name():
    rig = Rig()
    ok = lambda p: CommandResult.ACCEPTED  # noqa: E731
    with pytest.raises(TypeError, match=r"^command_id must be an int, got bool$"):
        rig.d.register(True, ok)
    with pytest.raises(TypeError, match=r"^command_id must be an int, got 'x'$"):
        rig.d.register("x", ok)
    with pytest.raises(TypeError, match=r"^handler must be callable, got None$"):
        rig.d.register(CMD, None)
    with pytest.raises(TypeError, match=r"^validate must be callable or None, got 3$"):
        rig.d.register(CMD, ok, validate=3)
    rig.d.register(CMD, ok)
    with pytest.raises(ValueError,
                       match=r"^command PROBE_CMD_SET_HOVER_POINT is already registered$"):
        rig.d.register(CMD, ok)
    bare = Rig(modes=False)
    with pytest.raises(ValueError, match=r"^command PROBE_CMD_SET_HOVER_POINT restricts modes "
                                         r"but the dispatcher has no ModeManager$"):
        bare.d.register(CMD, ok, allowed_modes=[Mode.HOVER])
    with pytest.raises(TypeError, match=r"^send must be callable, got 5$"):
        CommandDispatcher(None, None, 5)
