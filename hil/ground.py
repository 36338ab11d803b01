"""The ground station's part in a HIL run.

It sends the scenario's uplink (parameter overrides at t = 0, then the command
sequence) at the mission times the SIL runner would, and, once the rig has
seen the link to the board interrupted, runs the recovery procedure: while
the flight software reports a fault-forced SAFE (HEARTBEAT custom_mode SAFE,
system_status CRITICAL) and the scenario wants it elsewhere, command STANDBY
and then the wanted mode, retrying at most `max_attempts` times.
"""

from __future__ import annotations

from types import SimpleNamespace

from flightsw.core.modes import Mode
from flightsw.icd import FLIGHT_SYSTEM_ID, mavlink

RETRY_US = 10_000_000


class GroundStation:
    def __init__(self, uplink: list[tuple[int, object]], scenario_commands, ground_message,
                 recovery: bool = True, max_attempts: int = 5):
        self._uplink = sorted(uplink, key=lambda item: item[0])
        self._next = 0
        self._ground_message = ground_message
        # The mode the scenario wants at each time: from its SET_MODE commands.
        self._mode_plan = [(int(round(c.t_s * 1e6)), Mode[str(c.args[0])])
                           for c in scenario_commands if c.name == "SET_MODE"]
        self.recovery = recovery
        self.max_attempts = max_attempts
        self.armed = False
        self.attempts = 0
        self.commands_sent: list[tuple[float, str]] = []
        self._last_attempt_us: int | None = None
        self._flight_mode: Mode | None = None
        self._flight_forced = False
        self._pending_mode: Mode | None = None

    def arm_recovery(self) -> None:
        """The link was interrupted: from now on, bring the probe back if it fell to SAFE."""
        self.armed = self.recovery

    def wanted_mode(self, t_us: int) -> Mode:
        mode = Mode.SAFE
        for t, m in self._mode_plan:
            if t <= t_us:
                mode = m
        return mode

    def observe(self, msgs) -> None:
        """Flight telemetry that came back over the stimulus link."""
        for msg in msgs:
            if msg.get_type() == "HEARTBEAT" and msg.get_srcSystem() == FLIGHT_SYSTEM_ID:
                try:
                    self._flight_mode = Mode(msg.custom_mode)
                except ValueError:
                    continue
                self._flight_forced = msg.system_status == mavlink.MAV_STATE_CRITICAL

    def due(self, t_us: int) -> list:
        """Messages to uplink now."""
        out = []
        while self._next < len(self._uplink) and self._uplink[self._next][0] <= t_us:
            out.append(self._uplink[self._next][1])
            self._next += 1
        if self.armed:
            out += self._recovery(t_us)
        return out

    def _recovery(self, t_us: int) -> list:
        wanted = self.wanted_mode(t_us)
        mode = self._flight_mode
        if mode is None or wanted == Mode.SAFE:
            return []
        if self._pending_mode is not None and t_us - self._last_attempt_us >= RETRY_US:
            self._pending_mode = None  # the procedure stalled: start again
        if self._pending_mode is not None:
            if mode == Mode.STANDBY and self._pending_mode != Mode.STANDBY:
                target, self._pending_mode = self._pending_mode, None
                return [self._set_mode(t_us, target)]
            if mode == self._pending_mode:
                self._pending_mode = None
            return []
        if mode != Mode.SAFE or not self._flight_forced or self.attempts >= self.max_attempts:
            return []
        if self._last_attempt_us is not None and t_us - self._last_attempt_us < RETRY_US:
            return []
        self.attempts += 1
        self._last_attempt_us = t_us
        self._pending_mode = wanted
        return [self._set_mode(t_us, Mode.STANDBY)]

    def _set_mode(self, t_us: int, mode: Mode):
        self.commands_sent.append((t_us / 1e6, f"SET_MODE {mode.name}"))
        return self._ground_message(SimpleNamespace(name="SET_MODE", args=[mode.name]))
