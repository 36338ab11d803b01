"""Mission time: the only source of time flight code may use.

Mission time is integer microseconds. Integers keep simulated runs
deterministic: a float accumulated frame after frame drifts differently with
the order of additions, an integer does not.

- `SimClock`: time moves only when the runner (or the scheduler's sleep)
  moves it, so a run goes as fast as the machine allows.
- `WallClock`: time is the elapsed time since construction of a monotonic
  counter. Sleeping uses `time.sleep` until `spin_us` before the deadline and
  busy-waits the rest, because OS sleeps overshoot by up to a millisecond or
  more while a spin hits the deadline within microseconds.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

US_PER_S = 1_000_000
NS_PER_US = 1_000


@runtime_checkable
class Clock(Protocol):
    def now_us(self) -> int:
        """Mission time, integer microseconds."""
        ...

    def now_s(self) -> float:
        """Mission time in seconds, for display and physics; never accumulate it."""
        ...

    def sleep_until_us(self, t_us: int) -> int | None:
        """Return no earlier than mission time `t_us`.

        Implementations may return the lateness in microseconds; callers must
        not depend on it (a lockstep clock may return None).
        """
        ...


def _as_int_us(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an int number of microseconds, got bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{what} must be an int number of microseconds, got {type(value).__name__} {value!r}"
        ) from None


class SimClock:
    """Simulated mission time, moved forward only by explicit calls."""

    def __init__(self, start_us: int = 0) -> None:
        self._now_us = _as_int_us(start_us, "start_us")

    def now_us(self) -> int:
        return self._now_us

    def now_s(self) -> float:
        return self._now_us / US_PER_S

    def advance_to_us(self, t_us: int) -> None:
        t_us = _as_int_us(t_us, "t_us")
        if t_us < self._now_us:
            raise ValueError(
                f"SimClock cannot go backwards: now {self._now_us} us, asked {t_us} us"
            )
        self._now_us = t_us

    def advance_by_us(self, dt_us: int) -> None:
        dt_us = _as_int_us(dt_us, "dt_us")
        if dt_us < 0:
            raise ValueError(f"SimClock cannot go backwards: dt_us={dt_us}")
        self._now_us += dt_us

    def sleep_until_us(self, t_us: int) -> int:
        """Jump to `t_us` if it is ahead; return the lateness (0 unless `t_us` is past)."""
        t_us = _as_int_us(t_us, "t_us")
        if t_us > self._now_us:
            self._now_us = t_us
        return self._now_us - t_us


class WallClock:
    """Real time since construction, from a monotonic nanosecond counter.

    `time_ns` and `sleep_s` are injectable so tests can drive the clock with a
    fake time source instead of waiting.
    """

    def __init__(
        self,
        spin_us: int = 500,
        time_ns: Callable[[], int] = time.perf_counter_ns,
        sleep_s: Callable[[float], None] = time.sleep,
        start_us: int = 0,
    ) -> None:
        spin_us = _as_int_us(spin_us, "spin_us")
        if spin_us < 0:
            raise ValueError(f"spin_us must be >= 0, got {spin_us}")
        self._spin_us = spin_us
        self._time_ns = time_ns
        self._sleep_s = sleep_s
        self._start_us = _as_int_us(start_us, "start_us")
        self._epoch_ns = time_ns()

    def now_us(self) -> int:
        return self._start_us + (self._time_ns() - self._epoch_ns) // NS_PER_US

    def now_s(self) -> float:
        return self.now_us() / US_PER_S

    def sleep_until_us(self, t_us: int) -> int:
        """Sleep, then spin, until `t_us`; return how late we woke, in microseconds."""
        t_us = _as_int_us(t_us, "t_us")
        remaining_us = t_us - self.now_us()
        if remaining_us > self._spin_us:
            self._sleep_s((remaining_us - self._spin_us) / US_PER_S)
        now_us = self.now_us()
        while now_us < t_us:
            now_us = self.now_us()
        return now_us - t_us
