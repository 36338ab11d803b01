"""The watchdog's minimal way to SAFE (flightsw/fault/watchdog_safe.py), with the real
mode manager and SAFE sequence of an assembled flight software and a stand-in
touch-and-go sequence (its wave-off backs away, as the real one's does).

Pinned: outside the touch-and-go SAFE is forced at once and its sequence started; in a
descent the wave-off comes first (once), SAFE once back in HOVER; in contact or backing
away nothing is done until HOVER; a mode listener that raises does not keep the SAFE
sequence from starting.
"""

import pytest

from flightsw.app import FlightSoftware
from flightsw.components.safe_mode import SafePhase
from flightsw.core.clock import SimClock
from flightsw.core.modes import Mode, ModeManager
from flightsw.fault.watchdog_safe import minimal_safe
from tests.flightsw.test_app import CONFIG, MockBus

PATH = {Mode.STANDBY: (Mode.STANDBY,), Mode.HOVER: (Mode.STANDBY, Mode.HOVER),
        Mode.DESCENT: (Mode.STANDBY, Mode.HOVER, Mode.DESCENT),
        Mode.TAG: (Mode.STANDBY, Mode.HOVER, Mode.DESCENT, Mode.TAG),
        Mode.BACKAWAY: (Mode.STANDBY, Mode.HOVER, Mode.DESCENT, Mode.BACKAWAY)}


class FakeTag:
    def __init__(self, modes):
        self.modes = modes
        self.waveoffs = []

    def wave_off(self, reason, to_start_height=False):
        self.waveoffs.append(reason)
        self.modes.request(Mode.BACKAWAY, "back away")


def flight_in(mode):
    fsw = FlightSoftware(CONFIG, MockBus(), SimClock(1_000_000))
    for m in PATH[mode]:
        assert fsw.modes.request(m, "test") == 0
    tag = FakeTag(fsw.modes)
    return fsw, tag, minimal_safe(fsw.modes, fsw.safe_mode, tag, fsw.clock)


@pytest.mark.parametrize("mode", [Mode.STANDBY, Mode.HOVER])
def test_outside_the_touch_and_go_safe_is_forced_at_once(mode):
    fsw, tag, safe = flight_in(mode)
    assert safe(1_000_000, "fault_prot silent") is True
    change = fsw.modes.history[-1]
    assert change.new == Mode.SAFE and change.forced
    assert change.reason == "watchdog: fault_prot silent"
    assert fsw.safe_mode.phase == SafePhase.DAMP and tag.waveoffs == []


def test_a_descent_waves_off_first_and_safes_back_in_hover():
    fsw, tag, safe = flight_in(Mode.DESCENT)
    assert safe(1_000_000, "silent") is False
    assert tag.waveoffs == ["watchdog: silent"] and fsw.modes.current == Mode.BACKAWAY
    assert safe(1_100_000, "silent") is False  # backing away: let it finish
    assert fsw.modes.request(Mode.HOVER, "back-away done") == 0
    assert safe(1_200_000, "silent") is True
    assert fsw.modes.current == Mode.SAFE and tag.waveoffs == ["watchdog: silent"]


@pytest.mark.parametrize("mode", [Mode.TAG, Mode.BACKAWAY])
def test_in_contact_or_backing_away_nothing_is_done(mode):
    fsw, tag, safe = flight_in(mode)
    for k in range(5):
        assert safe(1_000_000 + k, "silent") is False
    assert fsw.modes.current == mode and tag.waveoffs == []


def test_a_raising_mode_listener_does_not_keep_the_safe_sequence_from_starting():
    fsw = FlightSoftware(CONFIG, MockBus(), SimClock(1_000_000))
    modes = ModeManager(fsw.clock, fsw.events, initial=Mode.STANDBY)

    def broken(old, new):
        raise RuntimeError("listener")

    modes.add_listener(broken)
    safe = minimal_safe(modes, fsw.safe_mode, FakeTag(modes), fsw.clock)
    with pytest.raises(RuntimeError, match="listener"):
        safe(1_000_000, "silent")
    assert modes.current == Mode.SAFE and fsw.safe_mode.phase == SafePhase.DAMP
