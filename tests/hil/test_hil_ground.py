"""The ground station of the HIL rig: the uplink on time, and the way back from a forced SAFE."""

from types import SimpleNamespace

from flightsw.core.modes import Mode
from flightsw.icd import mavlink, new_codec
from hil.ground import RETRY_US, GroundStation

FLIGHT = new_codec(1, 1)
RX = new_codec(0, 0)


def _cmd(t_s, mode):
    return SimpleNamespace(t_s=t_s, name="SET_MODE", args=[mode])


def _ground_message(cmd):
    return ("SET_MODE", cmd.args[0])


def _heartbeat(mode, forced=False):
    status = mavlink.MAV_STATE_CRITICAL if forced else mavlink.MAV_STATE_ACTIVE
    msg = mavlink.MAVLink_heartbeat_message(0, 0, 0, int(mode), status, 3)
    return RX.decode(bytearray(msg.pack(FLIGHT)))


def _station(recovery=True):
    commands = [_cmd(0.0, "STANDBY"), _cmd(5.0, "HOVER")]
    uplink = [(int(c.t_s * 1e6), _ground_message(c)) for c in commands]
    return GroundStation(uplink, commands, _ground_message, recovery=recovery)


def test_uplink_goes_at_its_mission_times():
    g = _station()
    assert g.due(0) == [("SET_MODE", "STANDBY")]
    assert g.due(4_900_000) == []
    assert g.due(5_000_000) == [("SET_MODE", "HOVER")]
    assert g.due(6_000_000) == []


def test_no_recovery_until_the_link_was_seen_interrupted():
    g = _station()
    g.due(6_000_000)
    g.observe([_heartbeat(Mode.SAFE, forced=True)])
    assert g.due(7_000_000) == []


def test_after_an_interruption_a_forced_safe_is_brought_back_to_the_wanted_mode():
    g = _station()
    g.due(6_000_000)
    g.arm_recovery()
    g.observe([_heartbeat(Mode.SAFE, forced=True)])
    assert g.due(7_000_000) == [("SET_MODE", "STANDBY")]
    assert g.due(7_100_000) == []  # waits for STANDBY
    g.observe([_heartbeat(Mode.STANDBY)])
    assert g.due(8_000_000) == [("SET_MODE", "HOVER")]
    g.observe([_heartbeat(Mode.HOVER)])
    assert g.due(9_000_000) == []
    assert [text for _, text in g.commands_sent] == ["SET_MODE STANDBY", "SET_MODE HOVER"]


def test_a_safe_that_was_not_forced_is_left_alone():
    g = _station()
    g.due(6_000_000)
    g.arm_recovery()
    g.observe([_heartbeat(Mode.SAFE, forced=False)])
    assert g.due(7_000_000) == []


def test_retries_are_spaced_and_bounded():
    g = _station()
    g.due(6_000_000)
    g.arm_recovery()
    g.observe([_heartbeat(Mode.SAFE, forced=True)])
    t = 7_000_000
    sent = 0
    for _ in range(200):
        sent += len(g.due(t))
        t += RETRY_US // 4
    assert sent == g.max_attempts


def test_recovery_can_be_switched_off():
    g = _station(recovery=False)
    g.due(6_000_000)
    g.arm_recovery()
    g.observe([_heartbeat(Mode.SAFE, forced=True)])
    assert g.due(7_000_000) == []
