"""Flight modes and the rules for moving between them.

`Mode` mirrors the ICD's PROBE_MODE enum (its values travel in
HEARTBEAT.custom_mode). Adding a mode later (DESCENT, TAG, SURVEY, ...) means
adding the PROBE_MODE entry to the ICD, a member here, its row in
`DEFAULT_TRANSITIONS` and, if it is not an "active" mode, its row in
`_SYSTEM_STATUS_BY_MODE`; the ModeManager itself does not change.

SAFE is reachable from every mode, always, whatever a transition table says:
fault protection must never find the way to SAFE closed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from flightsw.core.command_result import CommandResult
from flightsw.core.events import Severity
from flightsw.icd import mavlink

if TYPE_CHECKING:
    from flightsw.core.clock import Clock
    from flightsw.core.events import EventLog


class Mode(IntEnum):
    SAFE = mavlink.PROBE_MODE_SAFE
    STANDBY = mavlink.PROBE_MODE_STANDBY
    HOVER = mavlink.PROBE_MODE_HOVER
    MASS_MEASURE = mavlink.PROBE_MODE_MASS_MEASURE
    DESCENT = mavlink.PROBE_MODE_DESCENT
    TAG = mavlink.PROBE_MODE_TAG
    BACKAWAY = mavlink.PROBE_MODE_BACKAWAY
    SURVEY = mavlink.PROBE_MODE_SURVEY


# Modes the ground may select with MAV_CMD_DO_SET_MODE.  The others are entered
# by their own commands (START_TAG, MEASURE_MASS), which check preconditions,
# or by the sequence itself.
GROUND_SELECTABLE = frozenset({Mode.SAFE, Mode.STANDBY, Mode.HOVER})

# mode -> modes it may go to (SAFE is added to every row regardless).
DEFAULT_TRANSITIONS: Mapping[Mode, frozenset[Mode]] = {
    Mode.SAFE: frozenset({Mode.STANDBY}),
    Mode.STANDBY: frozenset({Mode.HOVER}),
    Mode.HOVER: frozenset({Mode.STANDBY, Mode.MASS_MEASURE, Mode.DESCENT, Mode.SURVEY}),
    Mode.SURVEY: frozenset({Mode.HOVER}),
    Mode.MASS_MEASURE: frozenset({Mode.HOVER}),
    Mode.DESCENT: frozenset({Mode.TAG, Mode.BACKAWAY}),
    Mode.TAG: frozenset({Mode.BACKAWAY}),
    Mode.BACKAWAY: frozenset({Mode.HOVER}),
}

# HEARTBEAT.system_status per mode; modes not listed report ACTIVE. SAFE
# entered by force_safe (a fault) reports CRITICAL instead, so a ground
# station tells "parked safely" from "fell back to safe".
_SYSTEM_STATUS_BY_MODE: Mapping[Mode, int] = {
    Mode.SAFE: mavlink.MAV_STATE_STANDBY,
    Mode.STANDBY: mavlink.MAV_STATE_STANDBY,
}

MAV_TYPE_PROBE = getattr(mavlink, "MAV_TYPE_SPACECRAFT_ORBITER", mavlink.MAV_TYPE_GENERIC)
_MAVLINK_VERSION = 3  # the value the HEARTBEAT spec fixes for mavlink_version


@dataclass(frozen=True)
class ModeChange:
    time_us: int
    old: Mode
    new: Mode
    reason: str
    forced: bool


class ModeManager:
    """Holds the current mode and applies the transition table.

    `transitions` maps each mode to the modes it may request; `history_len`
    bounds the kept history of changes.
    """

    def __init__(
        self,
        clock: Clock,
        events: EventLog | None,
        initial: Mode = Mode.SAFE,
        transitions: Mapping[Mode, Iterable[Mode]] = DEFAULT_TRANSITIONS,
        history_len: int = 64,
    ) -> None:
        if history_len < 1:
            raise ValueError(f"history_len must be >= 1, got {history_len}")
        self._clock = clock
        self._events = events
        self._current = Mode(initial)
        self._transitions: dict[Mode, frozenset[Mode]] = {}
        for source, targets in transitions.items():
            if not isinstance(source, Mode):
                raise ValueError(f"transition table key {source!r} is not a Mode")
            targets = frozenset(targets)
            bad = [t for t in targets if not isinstance(t, Mode)]
            if bad:
                raise ValueError(f"transitions from {source.name} name non-modes {bad!r}")
            self._transitions[source] = targets
        for mode in Mode:  # the way to SAFE is never closed
            self._transitions[mode] = self._transitions.get(mode, frozenset()) | {Mode.SAFE}
        self._history: deque[ModeChange] = deque(maxlen=history_len)
        self._listeners: list[Callable[[Mode, Mode], None]] = []
        self._entered_us = clock.now_us()
        self._forced = False

    @property
    def current(self) -> Mode:
        return self._current

    @property
    def history(self) -> list[ModeChange]:
        """Recent mode changes, oldest first (bounded)."""
        return list(self._history)

    @property
    def forced(self) -> bool:
        """True when fault protection forced the current mode (SAFE)."""
        return self._forced

    @property
    def entered_us(self) -> int:
        """Mission time the current mode was entered (construction for the initial one)."""
        return self._entered_us

    def allowed_from(self, mode: Mode) -> frozenset[Mode]:
        return self._transitions[Mode(mode)]

    def add_listener(self, on_change: Callable[[Mode, Mode], None]) -> None:
        """Call `on_change(old, new)` after every mode change."""
        if not callable(on_change):
            raise TypeError(f"on_change must be callable, got {on_change!r}")
        self._listeners.append(on_change)

    def request(self, mode: int, reason: str = "") -> CommandResult:
        """Ask for `mode` (a Mode or its PROBE_MODE number).

        ACCEPTED when it is the current mode (no change, no event) or an
        allowed transition; WRONG_MODE when the table forbids it, with nothing
        changed; INVALID_PARAM for a number that is not a mode.
        """
        try:
            target = Mode(mode)
        except ValueError:
            return CommandResult.INVALID_PARAM
        if target == self._current:
            return CommandResult.ACCEPTED
        if target not in self._transitions[self._current]:
            return CommandResult.WRONG_MODE
        self._change(target, reason, forced=False)
        return CommandResult.ACCEPTED

    def force_safe(self, reason: str) -> None:
        """Go to SAFE now (fault protection). Already in SAFE: nothing happens."""
        if self._current != Mode.SAFE:
            self._change(Mode.SAFE, reason, forced=True)

    def heartbeat_message(self):
        """HEARTBEAT announcing the current mode in custom_mode."""
        if self._current == Mode.SAFE and self._forced:
            status = mavlink.MAV_STATE_CRITICAL
        else:
            status = _SYSTEM_STATUS_BY_MODE.get(self._current, mavlink.MAV_STATE_ACTIVE)
        return mavlink.MAVLink_heartbeat_message(
            MAV_TYPE_PROBE,
            mavlink.MAV_AUTOPILOT_GENERIC,
            mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED,
            int(self._current),
            status,
            _MAVLINK_VERSION,
        )

    def _change(self, new: Mode, reason: str, forced: bool) -> None:
        old = self._current
        now_us = self._clock.now_us()
        self._current = new
        self._forced = forced
        self._entered_us = now_us
        self._history.append(ModeChange(now_us, old, new, reason, forced))
        if self._events is not None:
            text = f"{old.name} -> {new.name}" + (f" ({reason})" if reason else "")
            severity = Severity.CRITICAL if forced else Severity.NOTICE
            self._events.emit(severity, "modes", text)
        # Listeners run after the change is complete, so one that raises
        # cannot leave the mode half-changed.
        for listener in self._listeners:
            listener(old, new)
