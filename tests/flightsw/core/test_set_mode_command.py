"""MAV_CMD_DO_SET_MODE's check of its mode number (flightsw/core/commands.py).

Pinned here: any mode number that is a whole number >= 0 passes the format check, SAFE
(0) included; a mode the ground may not select (the ones entered by their own command)
is refused with INVALID_PARAM before the mode manager sees it, and the refusal names
the mode; a number that is no mode at all is INVALID_PARAM too.
"""

import pytest

from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog
from flightsw.core.modes import GROUND_SELECTABLE, Mode, ModeManager
from flightsw.icd import mavlink

SET_MODE = mavlink.MAV_CMD_DO_SET_MODE
FLAG = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED


def rig(initial):
    clock = SimClock()
    events = EventLog(clock)
    modes = ModeManager(clock, events, initial=initial)
    return CommandDispatcher(modes, events, lambda m: None), modes, events


def test_safe_is_mode_number_zero_and_may_be_commanded():
    d, modes, _ = rig(Mode.HOVER)
    assert int(Mode.SAFE) == 0
    assert d.dispatch(SET_MODE, (FLAG, 0.0)) == CommandResult.ACCEPTED
    assert modes.current == Mode.SAFE


@pytest.mark.parametrize("mode", sorted(set(Mode) - GROUND_SELECTABLE))
def test_modes_with_their_own_command_are_refused_and_named(mode):
    """From HOVER, where the mode manager itself would allow DESCENT, SURVEY and
    MASS_MEASURE: the refusal comes from the command's check."""
    d, modes, events = rig(Mode.HOVER)
    assert d.dispatch(SET_MODE, (FLAG, float(mode))) == CommandResult.INVALID_PARAM
    assert modes.current == Mode.HOVER
    assert events.recent[-1].text == (
        f"MAV_CMD_DO_SET_MODE from sequence: INVALID_PARAM (mode {mode.name} is entered by "
        "its own command, not by DO_SET_MODE)")


@pytest.mark.parametrize("number", [-1.0, 0.5, 2.25])
def test_negative_or_fractional_numbers_are_no_mode(number):
    d, modes, events = rig(Mode.HOVER)
    assert d.dispatch(SET_MODE, (FLAG, number)) == CommandResult.INVALID_PARAM
    assert events.recent[-1].text.endswith(f"(custom mode {number} is not a mode number)")
    assert modes.current == Mode.HOVER


def test_a_whole_number_that_is_no_mode_goes_to_the_mode_manager_and_is_refused_there():
    d, modes, events = rig(Mode.HOVER)
    assert d.dispatch(SET_MODE, (FLAG, 42.0)) == CommandResult.INVALID_PARAM
    assert events.recent[-1].text == "MAV_CMD_DO_SET_MODE from sequence: INVALID_PARAM"
    assert modes.current == Mode.HOVER
