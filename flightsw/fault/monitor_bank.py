"""The monitors' state: persistence counts, trips, enables; their events and telemetry.

`check(monitor, failing, reason)` is called by fault protection each time a monitor's
check runs.  A check failing `persistence` times in a row trips the monitor: an event
`trip <MONITOR>: <reason>; response <RESPONSE>` (source "faultprot") and the return
value True, once, so the caller runs the response.  A tripped monitor stays tripped
until its check passes again (event `clear <MONITOR>`) or the ground resets it.  A
disabled monitor never trips.  PROBE_FAULT_STATUS carries the masks and counts.
"""

from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.fault.monitor_table import BY_ID, MONITORS, MonitorId, Response

SOURCE = "faultprot"
N_TRIP_SLOTS = 16  # PROBE_FAULT_STATUS.trips


class MonitorBank:
    def __init__(self, events: EventLog, commands: CommandDispatcher | None = None):
        self.events = events
        self.enabled = {spec.monitor: spec.enabled for spec in MONITORS}
        self.count = dict.fromkeys(MonitorId, 0)
        self.tripped = dict.fromkeys(MonitorId, False)
        self.trips = dict.fromkeys(MonitorId, 0)
        self.changed = True  # telemetry is due (a state changed since the last send)
        self.new_trips: list[MonitorId] = []  # since the last take_new_trips()
        if commands is not None:
            commands.register_ground_command("MONITOR_ENABLE", self._cmd_enable)
            commands.register_ground_command("MONITOR_RESET", self._cmd_reset)

    def check(self, monitor: MonitorId, failing: bool, reason: str = "",
              response: Response | None = None) -> bool:
        """One run of a monitor's check; True when it trips now (run the response)."""
        if not self.enabled[monitor]:
            return False
        if not failing:
            if self.count[monitor]:
                self.count[monitor] = 0
                self.changed = True
            if self.tripped[monitor]:
                self.tripped[monitor] = False
                self.changed = True
                self.events.emit(Severity.NOTICE, SOURCE, f"clear {monitor.name}")
            return False
        self.count[monitor] += 1
        if self.count[monitor] == 1:
            self.changed = True  # the failing mask changed; later counts need no status
        spec = BY_ID[monitor]
        if self.tripped[monitor] or self.count[monitor] < spec.persistence:
            return False
        self.tripped[monitor] = True
        self.trips[monitor] += 1
        self.new_trips.append(monitor)
        act = spec.response if response is None else response
        severity = Severity.WARNING if act <= Response.DUMP else Severity.ERROR
        self.events.emit(severity, SOURCE, f"trip {monitor.name}: {reason}; response {act.name}")
        return True

    def take_new_trips(self) -> list[MonitorId]:
        out, self.new_trips = self.new_trips, []
        return out

    def is_tripped(self, monitor: MonitorId) -> bool:
        return self.tripped[monitor]

    def reset(self, monitor: MonitorId) -> None:
        self.count[monitor] = 0
        self.tripped[monitor] = False
        self.changed = True

    # -- commands ----------------------------------------------------------------------
    def _cmd_enable(self, params) -> CommandResult:
        monitor = _monitor(params[0])
        if monitor is None:
            return CommandResult.INVALID_PARAM
        on = params[1] >= 0.5
        self.enabled[monitor] = on
        if not on:
            self.reset(monitor)
        self.changed = True
        self.events.emit(Severity.NOTICE, SOURCE,
                         f"monitor {monitor.name} {'enabled' if on else 'disabled'}")
        return CommandResult.ACCEPTED

    def _cmd_reset(self, params) -> CommandResult:
        monitor = _monitor(params[0])
        if monitor is None:
            return CommandResult.INVALID_PARAM
        self.reset(monitor)
        self.events.emit(Severity.NOTICE, SOURCE, f"monitor {monitor.name} reset")
        return CommandResult.ACCEPTED

    # -- telemetry ---------------------------------------------------------------------
    def masks(self) -> tuple[int, int, int]:
        """(enabled, tripped, failing) bit masks, bit k = monitor k."""
        enabled = tripped = failing = 0
        for m in MonitorId:
            bit = 1 << int(m)
            enabled |= bit if self.enabled[m] else 0
            tripped |= bit if self.tripped[m] else 0
            failing |= bit if self.count[m] else 0
        return enabled, tripped, failing

    def trip_counts(self) -> list[int]:
        out = [0] * N_TRIP_SLOTS
        for m in MonitorId:
            out[int(m)] = min(self.trips[m], 0xFFFF)
        return out


def _monitor(value: float) -> MonitorId | None:
    """The monitor a command names; None for an id no monitor has (INVALID_PARAM)."""
    try:
        return MonitorId(int(value)) if value == int(value) else None
    except (ValueError, OverflowError):
        return None
