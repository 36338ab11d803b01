"""The uplink side of the ground-command table (flightsw/icd/ground_commands.command_message).

Pinned here: the message a ground station sends for each kind of command, field by
field: PARAM_SET to the probe (system 1, component 1) with the value as given and REAL32
unless another type is named; COMMAND_LONG with the arguments as given, defaults only
for the ones left out, confirmation 0 (a first transmission); an unknown name refused
with the name in the message.
"""

import pytest

from flightsw.icd import mavlink
from flightsw.icd.ground_commands import PROBE_COMPONENT_ID, PROBE_SYSTEM_ID, command_message


def test_set_param_goes_to_the_probe_with_its_value_and_real32_by_default():
    msg = command_message("SET_PARAM", ("TAG_HAZ_MARGIN_M", 2.5))
    assert msg.get_type() == "PARAM_SET"
    assert (msg.target_system, msg.target_component) == (1, 1) == \
        (PROBE_SYSTEM_ID, PROBE_COMPONENT_ID)
    assert msg.param_id == "TAG_HAZ_MARGIN_M" and msg.param_value == 2.5
    assert msg.param_type == mavlink.MAV_PARAM_TYPE_REAL32


def test_set_param_keeps_a_named_type():
    msg = command_message("SET_PARAM", ("FP_ENABLE", 0), param_type=mavlink.MAV_PARAM_TYPE_UINT8)
    assert msg.param_type == mavlink.MAV_PARAM_TYPE_UINT8 and msg.param_value == 0.0
    assert isinstance(msg.param_value, float)


def test_an_argument_given_is_sent_and_not_replaced_by_its_default():
    msg = command_message("START_SURVEY", (30.0,))
    assert msg.param1 == 30.0
    assert command_message("START_SURVEY").param1 == 0.0  # left out: the default


def test_a_command_long_is_a_first_transmission_to_the_probe():
    msg = command_message("CHOOSE_SITE", (2,))
    assert msg.confirmation == 0
    assert (msg.target_system, msg.target_component) == (1, 1)
    assert msg.command == mavlink.PROBE_CMD_CHOOSE_SITE and msg.param1 == 2.0


def test_an_unknown_command_is_refused_by_name():
    with pytest.raises(ValueError, match=r"^unknown ground command 'LAND_NOW'$"):
        command_message("LAND_NOW")
