"""Health of the link to the devboard, judged by the flight software.

The monitor looks only at what crosses the Bus and is recorded in the flight
log: the board's HEARTBEATs and the sequence numbers of the board's messages,
taken at the scheduler's frame times.  A replay of the log therefore reaches
the same verdicts at the same mission times as the flight did.

- WAITING until the first board heartbeat (the flight software boots in SAFE).
- OK -> LOST when no heartbeat arrived for `timeout_us`: a CRITICAL event and
  `force_safe(reason)`.  With heartbeats every 100 ms, a 300 ms timeout and a
  10 Hz check, a link that dies is declared lost 0.3-0.4 s later.
- A heartbeat reporting MAV_STATE_BOOT after the board was up: the board was
  reset (its device registers and actuator outputs with it): same handling.
- LOST -> OK once heartbeats have arrived without a gap for `restore_us`:
  a NOTICE event.  The way back from SAFE is the ground's (or a sequence's)
  decision, as for any other fault; the monitor only says the link is back.
- Heartbeats lost (gaps in the heartbeat stream's sequence numbers) over
  each `window_us`: above `degraded_fraction` a WARNING event (at most one
  per window).  Only the heartbeat stream is judged: the monitor sees all of
  it, whereas it sees only some of the board's device messages.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from flightsw.core.events import EventLog, Severity
from flightsw.core.scheduler import Task
from flightsw.hal.bus import BusPort
from flightsw.icd import WORLD_SYSTEM_ID, mavlink

BOARD_COMPONENT_ID = mavlink.MAV_COMP_ID_PERIPHERAL


class LinkState(Enum):
    WAITING = "waiting"
    OK = "ok"
    LOST = "lost"


class LinkMonitor:
    def __init__(
        self,
        port: BusPort,
        events: EventLog,
        force_safe: Callable[[str], None],
        *,
        board_system_id: int = WORLD_SYSTEM_ID,
        board_component_id: int = BOARD_COMPONENT_ID,
        timeout_us: int = 300_000,
        restore_us: int = 1_000_000,
        window_us: int = 1_000_000,
        degraded_fraction: float = 0.2,
    ):
        if not 0 < timeout_us < restore_us:
            raise ValueError(f"need 0 < timeout_us < restore_us, got {timeout_us}, {restore_us}")
        if not 0.0 < degraded_fraction < 1.0:
            raise ValueError(f"degraded_fraction must be in (0, 1), got {degraded_fraction}")
        self._events = events
        self._force_safe = force_safe
        self.board = (board_system_id, board_component_id)
        self.timeout_us = timeout_us
        self.restore_us = restore_us
        self.window_us = window_us
        self.degraded_fraction = degraded_fraction
        self.state = LinkState.WAITING
        self._heard = False
        self._booting = False
        self._board_up = False
        self._last_heard_us: int | None = None
        self._healthy_since_us: int | None = None
        self._lost_at_us: int | None = None
        self._last_seq: int | None = None
        self._window_start_us: int | None = None
        self._window_received = 0
        self._window_lost = 0
        # Figures for the summary.
        self.heartbeats = 0
        self.heartbeats_lost = 0
        self.losses = 0
        self.resets = 0
        self.restorations = 0
        self.degraded_windows = 0
        self.loss_times_us: list[int] = []
        port.subscribe("HEARTBEAT", self._on_heartbeat)

    # -- inputs, as routed by the BusPort ------------------------------------------------------
    def _on_heartbeat(self, msg) -> None:
        key = (msg.get_srcSystem(), msg.get_srcComponent())
        if key != self.board:
            return
        if msg.system_status == mavlink.MAV_STATE_BOOT:
            self._booting = True
            self._last_seq = None  # a board that boots starts its sequence afresh
        self._count_sequence(msg.get_seq())
        self._heard = True
        self.heartbeats += 1

    def _count_sequence(self, seq: int) -> None:
        self._window_received += 1
        if self._last_seq is not None:
            gap = (seq - self._last_seq - 1) & 0xFF
            self.heartbeats_lost += gap
            self._window_lost += gap
        self._last_seq = seq

    # -- the task ------------------------------------------------------------------------------
    def task(self, name: str = "link_mon", budget_us: int = 300) -> Task:
        """The monitor as a scheduler task; put it in the fastest group."""
        return Task(name, self.run, budget_us)

    def run(self, t_us: int) -> None:
        heard, booting = self._heard, self._booting
        self._heard = self._booting = False
        if heard:
            self._last_heard_us = t_us
        if booting and self._board_up:
            self._board_up = False
            self.resets += 1
            self._last_seq = None
            self._declare_lost(t_us, "board reset")
        elif heard and not booting:
            self._board_up = True
        if self.state is LinkState.WAITING:
            if heard:
                # Silent while all is well: a healthy HIL flight emits what a SIL one does.
                self.state = LinkState.OK
        elif self.state is LinkState.OK:
            if t_us - self._last_heard_us > self.timeout_us:
                silent_ms = (t_us - self._last_heard_us) / 1000
                self._declare_lost(t_us, "link to board lost "
                                   f"(no heartbeat for {silent_ms:.0f} ms)")
        elif self.state is LinkState.LOST:
            self._check_restored(t_us, heard)
        self._check_window(t_us)

    def _declare_lost(self, t_us: int, reason: str) -> None:
        if self.state is LinkState.LOST:
            self._events.emit(Severity.CRITICAL, "link", reason)
            self._healthy_since_us = None
            return
        self.state = LinkState.LOST
        self._last_seq = None  # the sequence restarts or jumps across an outage
        self.losses += 1
        self.loss_times_us.append(t_us)
        self._lost_at_us = t_us
        self._healthy_since_us = None
        self._events.emit(Severity.CRITICAL, "link", reason)
        self._force_safe(reason)

    def _check_restored(self, t_us: int, heard: bool) -> None:
        recent = self._last_heard_us is not None and t_us - self._last_heard_us <= self.timeout_us
        if not recent:
            self._healthy_since_us = None
            return
        if self._healthy_since_us is None:
            self._healthy_since_us = t_us
        elif t_us - self._healthy_since_us >= self.restore_us and self._board_up:
            self.state = LinkState.OK
            self.restorations += 1
            down_s = (t_us - self._lost_at_us) / 1e6
            self._events.emit(Severity.NOTICE, "link",
                              f"link to board restored after {down_s:.1f} s; "
                              "staying in SAFE until commanded")

    def _check_window(self, t_us: int) -> None:
        if self._window_start_us is None:
            self._window_start_us = t_us
            return
        if t_us - self._window_start_us < self.window_us:
            return
        total = self._window_received + self._window_lost
        if total and self._window_lost / total > self.degraded_fraction:
            self.degraded_windows += 1
            self._events.emit(Severity.WARNING, "link",
                              f"link degraded: {self._window_lost} of {total} heartbeats lost")
        self._window_start_us = t_us
        self._window_received = self._window_lost = 0

    def summary(self) -> dict:
        return {"state": self.state.value, "heartbeats": self.heartbeats,
                "heartbeats_lost": self.heartbeats_lost,
                "losses": self.losses, "board_resets": self.resets,
                "restorations": self.restorations, "degraded_windows": self.degraded_windows,
                "loss_times_s": [t / 1e6 for t in self.loss_times_us]}
