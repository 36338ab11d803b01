"""The executive's watchdog over fault protection: who watches the watcher.

Fault protection watches every task; nothing in it can see fault protection itself
stop.  As on a flight computer whose health task must stroke a hardware watchdog (F
Prime's Health component strokes it only while every component answers; cFS's Health
and Safety application services it each cycle), fault protection's 1 Hz task pets this
watchdog at the end of every complete run, and the scheduler, outside every task,
looks at it after every frame (`check`).  Time is the frames' release times: the
Clock's, never a wall clock.

Silent for more than `timeout_s` (mission time since the last pet):

1. a trip event, then `restart`: fault protection starts again from its initial state
   (a fault of its state is cured by that);
2. silent `timeout_s` again after the restart: a second trip event, then `safe`, the
   minimal way to SAFE (flightsw/fault/watchdog_safe.py), asked every frame until it
   says SAFE is under way (a back-away is let finish first);
3. a pet again, at any stage: fault protection answers, a clear event, and the
   watchdog is armed as at start.

Events (source "watchdog") use fault protection's forms, so the ground reads them as it
reads the monitors': `trip TASK: <reason>; response RESTART|SAFE` and `clear TASK
(...)`.  `bites` and `restarts` count since start (SYS_STATUS errors_count1 and 2).
A response that raises is reported and never stops the executive: the next stage
follows at its time.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

from flightsw.core.events import EventLog, Severity

SOURCE = "watchdog"
US_PER_S = 1_000_000


class Stage(IntEnum):
    ARMED = 0
    RESTARTED = 1  # bitten once: fault protection restarted
    SAFING = 2  # bitten again: SAFE asked for, not yet under way
    SAFE = 3  # SAFE under way; nothing more until fault protection answers


class Watchdog:
    def __init__(self, events: EventLog, timeout_s: float, restart: Callable[[int], None],
                 safe: Callable[[int, str], bool], watched: str = "fault_prot"):
        if not timeout_s > 0.0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
        if not callable(restart) or not callable(safe):
            raise TypeError("restart and safe must be callable")
        self.events = events
        self.timeout_us = round(timeout_s * US_PER_S)
        self.restart = restart
        self.safe = safe
        self.watched = watched
        self.stage = Stage.ARMED
        self.bites = 0
        self.restarts = 0
        self._last_pet_us: int | None = None  # the timer runs from the first look
        self._petted = False  # since the last look
        self._reason = ""

    def pet(self, t_us: int) -> None:
        """The watched task completed a run at t_us."""
        self._last_pet_us = t_us
        self._petted = True

    def check(self, t_us: int) -> None:
        """After every frame, from the executive: bite if the petting has stopped."""
        if self._last_pet_us is None:
            self._last_pet_us = t_us
        if self._petted:
            self._petted = False
            if self.stage != Stage.ARMED:
                self.stage = Stage.ARMED
                self.events.emit(Severity.NOTICE, SOURCE,
                                 f"clear TASK ({self.watched} answering again)")
            return
        if self.stage == Stage.SAFING:
            self._ask_safe(t_us)
            return
        silent_us = t_us - self._last_pet_us
        if self.stage == Stage.SAFE or silent_us <= self.timeout_us:
            return
        self.bites += 1
        silent = f"{self.watched} silent for {silent_us / US_PER_S:.1f} s"
        if self.stage == Stage.ARMED:
            self.stage = Stage.RESTARTED
            self._last_pet_us = t_us  # its timeout again from the restart
            self.events.emit(Severity.ERROR, SOURCE, f"trip TASK: {silent}; response RESTART")
            self.restarts += 1
            self._guarded(lambda: self.restart(t_us), "restart")
        else:
            self.stage = Stage.SAFING
            self._reason = f"{self.watched} silent after its restart"
            self.events.emit(Severity.CRITICAL, SOURCE,
                             f"trip TASK: {silent} after its restart; response SAFE")
            self._ask_safe(t_us)

    def _ask_safe(self, t_us: int) -> None:
        ok, done = self._guarded(lambda: self.safe(t_us, self._reason), "SAFE")
        if done or not ok:
            self.stage = Stage.SAFE  # under way, or nothing more this watchdog can do

    def _guarded(self, action: Callable[[], object], what: str) -> tuple[bool, object]:
        """(True, what the action returned), or (False, None) when it raised."""
        try:
            return True, action()
        except Exception as exc:  # the executive goes on whatever a response does
            self.events.emit(Severity.CRITICAL, SOURCE,
                             f"{what} raised {type(exc).__name__}: {exc}")
            return False, None
