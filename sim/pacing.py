"""Pacing of a SIL run: simulated time against the wall clock, for people at a ground station.

A SIL run goes as fast as the machine allows (the default: a Monte Carlo wants
that).  An operator at MAVProxy wants the probe to move at the speed of the
mission: `--realtime` holds one simulated second to one wall second, and
`--speedup N` to 1/N wall second (as ArduPilot SITL's --speedup).

The pacer only waits: it never changes what the flight software or the world
computes, so a paced run flies the same flight as an unpaced one (the ground
link's traffic aside).  A frame that starts late (the machine is too slow for
the speed asked) is not made up for by skipping: later frames go as fast as
they can until the run is back on time, and the late frames are counted.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

# Sleep until this close to the deadline, then spin: time.sleep overshoots by up
# to a scheduler tick, which at 10 Hz real time is a visible share of a frame.
_SPIN_S = 0.0005


class PacingError(ValueError):
    """A speed that cannot be flown (one line)."""


def speedup_from_options(realtime: bool, speedup: float | None) -> float | None:
    """The run's speed-up: None as fast as possible, 1.0 real time, N times real time."""
    if realtime and speedup is not None:
        raise PacingError("--realtime and --speedup: give one of them (--realtime is "
                          "--speedup 1)")
    if realtime:
        return 1.0
    if speedup is None:
        return None
    if not (isinstance(speedup, int | float) and math.isfinite(speedup) and speedup > 0):
        raise PacingError(f"--speedup: expected a number > 0, got {speedup}")
    return float(speedup)


class Pacer:
    """Waits until the wall clock has reached `start + sim_time / speedup`."""

    def __init__(self, speedup: float, monotonic_s: Callable[[], float] = time.monotonic,
                 sleep_s: Callable[[float], None] = time.sleep):
        if not (math.isfinite(speedup) and speedup > 0):
            raise PacingError(f"speedup: expected a number > 0, got {speedup}")
        self.speedup = speedup
        self._now = monotonic_s
        self._sleep = sleep_s
        self._start_s: float | None = None
        self.late_frames = 0
        self.max_late_s = 0.0

    def wait_for(self, sim_time_us: int) -> None:
        """Return when the wall clock reaches the time at which `sim_time_us` is due."""
        now = self._now()
        if self._start_s is None:
            self._start_s = now - sim_time_us * 1e-6 / self.speedup
            return
        due = self._start_s + sim_time_us * 1e-6 / self.speedup
        ahead = due - now
        if ahead < 0.0:
            self.late_frames += 1
            self.max_late_s = max(self.max_late_s, -ahead)
            return
        if ahead > _SPIN_S:
            self._sleep(ahead - _SPIN_S)
        while self._now() < due:
            pass

    def stats(self) -> dict:
        return {"speedup": self.speedup, "late_frames": self.late_frames,
                "max_late_s": round(self.max_late_s, 6)}
