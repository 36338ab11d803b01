"""The operator's `probe ...` words and the status text, without a ground station."""

from __future__ import annotations

import math

import pytest

from flightsw.core.modes import Mode
from flightsw.icd import mavlink
from flightsw.icd.ground_commands import command_message
from ground.probe_console import (
    MONITOR_NAMES,
    LoadSigningKey,
    ProbeUsageError,
    SendCommand,
    ShowFaults,
    ShowStatus,
    fault_lines,
    parse_probe_words,
    selectable_mode_numbers,
    status_lines,
)


@pytest.mark.parametrize("line, action", [
    ("status", ShowStatus()),
    ("survey", SendCommand("START_SURVEY", (0.0,))),
    ("survey 600", SendCommand("START_SURVEY", (600.0,))),
    ("site 2", SendCommand("CHOOSE_SITE", (2.0,))),
    ("tag", SendCommand("START_TAG", ())),
    ("waveoff", SendCommand("WAVE_OFF", ())),
    ("mass baseline", SendCommand("MEASURE_MASS", (0.0,))),
    ("mass after", SendCommand("MEASURE_MASS", (1.0,))),
    ("hover 0 0 1000", SendCommand("SET_HOVER_POINT", (0.0, 0.0, 1000.0))),
    ("dump", SendCommand("DUMP_MOMENTUM", ())),
    ("faults", ShowFaults()),
    ("faults disable lidar", SendCommand("MONITOR_ENABLE", (3.0, 0.0))),
    ("faults enable 3", SendCommand("MONITOR_ENABLE", (3.0, 1.0))),
    ("faults reset GYRO_BIAS", SendCommand("MONITOR_RESET", (15.0,))),
    ("key /tmp/probe.key", LoadSigningKey("/tmp/probe.key")),
    ("cmd reset_sched_stats", SendCommand("RESET_SCHED_STATS", ())),
])
def test_operator_words_become_table_commands(line, action):
    assert parse_probe_words(line.split()) == action


def test_every_command_parsed_builds_its_table_message():
    msg = command_message(*_as_call(parse_probe_words(["site", "3"])))
    assert msg.command == mavlink.PROBE_CMD_CHOOSE_SITE and msg.param1 == 3.0


def _as_call(action: SendCommand):
    return action.name, action.args


@pytest.mark.parametrize("line, match", [
    ("", "usage: probe status"),
    ("fly", "usage: probe status"),
    ("site", "CHOOSE_SITE: expected RANK, got 0"),
    ("site 11", "CHOOSE_SITE: rank must be an integer 1..10, got 11.0"),
    ("site two", "CHOOSE_SITE rank: expected a number, got 'two'"),
    ("site nan", "expected a finite number"),
    ("survey -5", "START_SURVEY: scan duration must be >= 0 s"),
    ("hover 0 0 10", "hover point radius 10.0 m outside"),
    ("tag now", "START_TAG: expected no arguments, got 1"),
    ("mass twice", "mass: expected baseline"),
    ("faults disable warp_core", "monitor 'warp_core': expected one of STAR_TRACKER"),
    ("faults disable 99", "monitor '99'"),
    ("faults explode imu", "faults: expected nothing"),
    ("cmd SET_PARAM HOV_ZETA 1", "command 'SET_PARAM': expected one of"),
    ("cmd SET_MODE 2", "command 'SET_MODE'"),
])
def test_bad_words_are_one_line_refusals(line, match):
    with pytest.raises(ProbeUsageError) as refused:
        parse_probe_words(line.split())
    assert match in str(refused.value) and "\n" not in str(refused.value)


def test_mode_names_for_mavproxy_are_the_ground_selectable_ones():
    assert selectable_mode_numbers() == {"SAFE": 0, "STANDBY": 1, "HOVER": 2}
    assert all(Mode[name] == number for name, number in selectable_mode_numbers().items())


def test_monitor_names_cover_the_icd_enum():
    assert MONITOR_NAMES[0] == "STAR_TRACKER" and MONITOR_NAMES[15] == "GYRO_BIAS"
    assert len(MONITOR_NAMES) == 16


def heartbeat(mode: Mode):
    return mavlink.MAVLink_heartbeat_message(
        mavlink.MAV_TYPE_SPACECRAFT_ORBITER, mavlink.MAV_AUTOPILOT_GENERIC,
        mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, int(mode), mavlink.MAV_STATE_ACTIVE, 3)


def fault_status(enabled=0xFFFF, tripped=0):
    trips = [0] * 16
    trips[3] = 2
    return mavlink.MAVLink_probe_fault_status_message(
        0, enabled, tripped, 0, trips, 0, mavlink.PROBE_SAFE_PHASE_NONE, 1, 0, 0.0, 4, 0.0)


def test_status_before_any_telemetry_says_so():
    lines = status_lines({})
    assert lines[0].startswith("mode") and "no HEARTBEAT" in lines[0]
    assert any("no PROBE_FAULT_STATUS" in line for line in lines)


def test_status_names_mode_survey_faults_mass_and_link():
    latest = {
        "HEARTBEAT": heartbeat(Mode.SURVEY),
        "PROBE_SURVEY_STATUS": mavlink.MAVLink_probe_survey_status_message(
            0, mavlink.PROBE_SURVEY_STATE_SCANNING, 0.5, 20, 40, 7, 300, [0] * 7),
        "PROBE_FAULT_STATUS": fault_status(enabled=0xFFFF & ~(1 << 14), tripped=1 << 3),
        "PROBE_MASS_ESTIMATE": mavlink.MAVLink_probe_mass_estimate_message(
            0, 1, 812.5, 0.3, 0.061, 0.004),
        "PROBE_LINK_STATUS": mavlink.MAVLink_probe_link_status_message(
            0, 100, 1, 2, 3, 4, 5, 0.5, 0, 1, 0),
    }
    text = "\n".join(status_lines(latest))
    assert "SURVEY (ACTIVE)" in text
    assert "SCANNING, coverage 50 % (20/40 sites), 300 spectra" in text
    assert "tripped: LIDAR; disabled: LINK" in text
    assert "after sampling" in text and "sample 61 +- 4 g" in text
    assert "signing on, 100 frames admitted, 15 rejected" in text


def test_baseline_mass_has_no_sample():
    latest = {"PROBE_MASS_ESTIMATE": mavlink.MAVLink_probe_mass_estimate_message(
        0, 0, 812.5, 0.3, math.nan, math.nan)}
    assert any(line.startswith("mass      baseline") and "sample" not in line
               for line in status_lines(latest))


def test_fault_table_has_a_row_per_monitor():
    lines = fault_lines(fault_status(enabled=0xFFFF & ~(1 << 3), tripped=1 << 3))
    assert len(lines) == 1 + 16 + 1
    lidar = lines[1 + 3].split()
    assert lidar == ["3", "LIDAR", "-", "yes", "-", "2"]
    assert lines[-1] == "SAFE phase NONE, thruster branch B, momentum dumps 4"
    assert fault_lines(None) == ["no PROBE_FAULT_STATUS received yet"]
