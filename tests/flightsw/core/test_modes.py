"""ModeManager: transition rules (stateful property test), events, HEARTBEAT."""

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from flightsw.core.clock import SimClock
from flightsw.core.commands import CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.modes import DEFAULT_TRANSITIONS, Mode, ModeManager
from flightsw.icd import mavlink, new_codec

HISTORY_LEN = 8

# The rules as the brief states them, written out independently of the table.
ALLOWED = {
    (Mode.SAFE, Mode.STANDBY),
    (Mode.STANDBY, Mode.HOVER),
    (Mode.HOVER, Mode.STANDBY),
    # The touch-and-go sequence (issue 3): hover -> descent -> contact -> back-away
    # -> hover; a descent may be waved off straight to back-away; the mass
    # measurement starts and ends in hover.
    (Mode.HOVER, Mode.MASS_MEASURE),
    (Mode.MASS_MEASURE, Mode.HOVER),
    # The spectral survey (issue 4) starts in hover and ends in hover at safe-home.
    (Mode.HOVER, Mode.SURVEY),
    (Mode.SURVEY, Mode.HOVER),
    (Mode.HOVER, Mode.DESCENT),
    (Mode.DESCENT, Mode.TAG),
    (Mode.DESCENT, Mode.BACKAWAY),
    (Mode.TAG, Mode.BACKAWAY),
    (Mode.BACKAWAY, Mode.HOVER),
} | {(m, Mode.SAFE) for m in Mode}


def test_modes_are_the_icd_probe_modes():
    for mode in Mode:
        assert mode == getattr(mavlink, f"PROBE_MODE_{mode.name}")
    assert set(DEFAULT_TRANSITIONS) == set(Mode)


class ModeManagerMachine(RuleBasedStateMachine):
    @initialize(initial=st.sampled_from(Mode))
    def start(self, initial):
        self.clock = SimClock()
        self.events = EventLog(self.clock)
        self.manager = ModeManager(self.clock, self.events, initial=initial,
                                   history_len=HISTORY_LEN)
        self.changes = []
        self.manager.add_listener(lambda old, new: self.changes.append((old, new)))
        self.model_mode = initial
        self.model_changes = []

    @rule(dt_us=st.integers(min_value=0, max_value=10**6))
    def time_passes(self, dt_us):
        self.clock.advance_by_us(dt_us)

    @rule(wanted=st.sampled_from(Mode), reason=st.text(max_size=20))
    def request(self, wanted, reason):
        before = (self.manager.current, self.manager.history, self.events.total)
        result = self.manager.request(wanted, reason)
        if wanted == self.model_mode:
            assert result == CommandResult.ACCEPTED
            assert (self.manager.current, self.manager.history, self.events.total) == before
        elif (self.model_mode, wanted) in ALLOWED:
            assert result == CommandResult.ACCEPTED
            self.model_changes.append((self.model_mode, wanted))
            self.model_mode = wanted
            assert self.manager.history[-1].reason == reason
            assert self.manager.entered_us == self.clock.now_us()
        else:
            assert result == CommandResult.WRONG_MODE
            assert (self.manager.current, self.manager.history, self.events.total) == before

    @rule()
    def safe_is_always_reachable(self):
        assert self.manager.request(Mode.SAFE, "test") == CommandResult.ACCEPTED
        if self.model_mode != Mode.SAFE:
            self.model_changes.append((self.model_mode, Mode.SAFE))
        self.model_mode = Mode.SAFE

    @rule(reason=st.text(min_size=1, max_size=20))
    def force_safe(self, reason):
        n_critical = self.events.counts()[Severity.CRITICAL]
        self.manager.force_safe(reason)
        if self.model_mode != Mode.SAFE:
            self.model_changes.append((self.model_mode, Mode.SAFE))
            assert self.events.counts()[Severity.CRITICAL] == n_critical + 1
            assert self.manager.history[-1].forced
        self.model_mode = Mode.SAFE

    @rule(number=st.integers().filter(lambda n: n not in set(Mode)))
    def not_a_mode(self, number):
        before = (self.manager.current, self.manager.history)
        assert self.manager.request(number, "bad") == CommandResult.INVALID_PARAM
        assert (self.manager.current, self.manager.history) == before

    @invariant()
    def matches_the_model(self):
        assert self.manager.current == self.model_mode
        assert self.changes == self.model_changes
        history = self.manager.history
        assert len(history) == min(HISTORY_LEN, len(self.model_changes))
        expected = self.model_changes[-HISTORY_LEN:] if self.model_changes else []
        assert [(c.old, c.new) for c in history] == expected

    @invariant()
    def heartbeat_carries_the_mode(self):
        hb = self.manager.heartbeat_message()
        assert hb.custom_mode == int(self.model_mode)


ModeManagerMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30,
                                                deadline=None)
TestModeManagerMachine = ModeManagerMachine.TestCase


def test_a_mode_change_emits_an_event_at_mission_time():
    clock = SimClock(start_us=42_000_000)
    events = EventLog(clock)
    manager = ModeManager(clock, events)
    assert manager.request(Mode.STANDBY, "nav converged") == CommandResult.ACCEPTED
    (event,) = events.recent
    assert event.time_us == 42_000_000 and event.source == "modes"
    assert "SAFE -> STANDBY" in event.text and "nav converged" in event.text


def test_safe_cannot_be_closed_by_a_table():
    manager = ModeManager(SimClock(), None, initial=Mode.HOVER, transitions={})
    assert manager.allowed_from(Mode.HOVER) == {Mode.SAFE}
    assert manager.request(Mode.STANDBY) == CommandResult.WRONG_MODE
    assert manager.request(Mode.SAFE) == CommandResult.ACCEPTED


def test_transition_table_is_validated():
    with pytest.raises(ValueError, match="not a Mode"):
        ModeManager(SimClock(), None, transitions={1: {Mode.SAFE}})
    with pytest.raises(ValueError, match="non-modes"):
        ModeManager(SimClock(), None, transitions={Mode.SAFE: {7}})


def test_heartbeat_fields_and_wire_round_trip():
    manager = ModeManager(SimClock(), None)
    manager.request(Mode.STANDBY)
    manager.request(Mode.HOVER)
    codec = new_codec(1, 1)
    hb = codec.decode(bytearray(manager.heartbeat_message().pack(codec)))
    assert hb.get_type() == "HEARTBEAT"
    assert hb.type == mavlink.MAV_TYPE_SPACECRAFT_ORBITER
    assert hb.autopilot == mavlink.MAV_AUTOPILOT_GENERIC
    assert hb.base_mode & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
    assert hb.custom_mode == mavlink.PROBE_MODE_HOVER
    assert hb.system_status == mavlink.MAV_STATE_ACTIVE
    manager.force_safe("star tracker lost")
    assert manager.heartbeat_message().system_status == mavlink.MAV_STATE_CRITICAL
    manager.request(Mode.STANDBY)
    manager.request(Mode.SAFE, "end of pass")
    assert manager.heartbeat_message().system_status == mavlink.MAV_STATE_STANDBY
