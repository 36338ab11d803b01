"""The ground-command table: one definition of every command, its limits and modes,
seen identically by the flight dispatcher, the scenario loader, the uplink and the docs."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog
from flightsw.core.modes import Mode, ModeManager
from flightsw.icd import GROUND_COMPONENT_ID, GROUND_SYSTEM_ID, mavlink, new_codec
from flightsw.icd.ground_commands import BY_ID, BY_NAME, GROUND_COMMANDS, command_message


def test_every_table_command_with_an_id_is_registered_by_the_flight_software():
    """The components register exactly the table's COMMAND_LONG commands (plus the
    dispatcher's own SET_MODE and the standard protocol commands a ground station uses:
    message requests and rates): no other command exists on board."""
    from flightsw.app import FlightSoftware
    from flightsw.components.ground_services import PROTOCOL_COMMANDS
    from tests.flightsw.test_app import CONFIG, MockBus
    fsw = FlightSoftware(CONFIG, MockBus(), SimClock())
    assert fsw.commands.registered == frozenset(BY_ID) | PROTOCOL_COMMANDS


def _dispatcher_in_hover():
    clock = SimClock()
    sent = []
    events = EventLog(clock, sent.append)
    modes = ModeManager(clock, events, initial=Mode.SAFE)
    modes.request(Mode.STANDBY, "test")
    modes.request(Mode.HOVER, "test")
    return CommandDispatcher(modes, events, sent.append), modes, sent


@given(rank=st.floats(allow_nan=False, allow_infinity=False, min_value=-5, max_value=20))
def test_choose_site_rank_limits_come_from_the_table(rank):
    """CHOOSE_SITE takes an integer rank 1..MAX_SITE_RANK; anything else is refused
    before the handler runs (the handler would count the call)."""
    d, modes, sent = _dispatcher_in_hover()
    calls = []
    d.register_ground_command("CHOOSE_SITE", lambda p: calls.append(p) or
                              CommandResult.ACCEPTED)
    msg = command_message("CHOOSE_SITE", (rank,))
    codec = new_codec(GROUND_SYSTEM_ID, GROUND_COMPONENT_ID)
    result = d.dispatch_command_long(new_codec(1, 1).decode(bytearray(msg.pack(codec))))
    ok = rank == int(rank) and 1 <= rank <= 10
    assert (result == CommandResult.ACCEPTED) == ok
    assert len(calls) == (1 if ok else 0)


def test_allowed_modes_come_from_the_table():
    d, modes, sent = _dispatcher_in_hover()
    d.register_ground_command("WAVE_OFF", lambda p: CommandResult.ACCEPTED)
    assert BY_NAME["WAVE_OFF"].allowed_modes == ("DESCENT",)
    msg = command_message("WAVE_OFF")
    codec = new_codec(GROUND_SYSTEM_ID, GROUND_COMPONENT_ID)
    result = d.dispatch_command_long(new_codec(1, 1).decode(bytearray(msg.pack(codec))))
    assert result == CommandResult.WRONG_MODE  # in HOVER, not DESCENT


@pytest.mark.parametrize("cmd", [c for c in GROUND_COMMANDS if c.name != "SET_PARAM"],
                         ids=lambda c: c.name)
def test_the_uplink_fills_defaults_and_leaves_unused_parameters_zero(cmd):
    args = {"SET_MODE": ("HOVER",), "SET_HOVER_POINT": (1000.0, 0.0, 0.0)}.get(
        cmd.name, tuple(1.0 for a in cmd.args if a.default is None))
    msg = command_message(cmd.name, args)
    params = [getattr(msg, f"param{i}") for i in range(1, 8)]
    assert msg.command == cmd.command_id
    used = 2 if cmd.name == "SET_MODE" else len(cmd.args)
    assert params[used:] == [0.0] * (7 - used)
    if cmd.name == "START_SURVEY":
        assert params[0] == 0.0  # the default scan duration: PRS_MAX_SCAN_S on board
    assert all(math.isfinite(p) for p in params)


def test_set_param_is_a_param_set_message():
    msg = command_message("SET_PARAM", ("HOV_BW_RADPS", 0.05),
                          param_type=mavlink.MAV_PARAM_TYPE_REAL32)
    assert msg.get_type() == "PARAM_SET" and msg.param_id == "HOV_BW_RADPS"


def test_the_scenario_loader_takes_its_vocabulary_from_the_table():
    from sim import scenario
    assert scenario.COMMAND_NAMES == tuple(BY_NAME)
