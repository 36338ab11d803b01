"""Rate-group scheduler: a cyclic executive over minor frames.

Groups run at integer divisions of a base rate (the fastest group's, unless
given). Every minor frame the scheduler runs, fastest group first and tasks
in the order given, each group that is due; a task receives the frame's
nominal release time in microseconds, so the same inputs give the same
outputs however late the frame actually started.

Frame k is released at `start_us + floor(k * 1e6 / base_rate_hz)`, computed
with exact rationals: a 3 Hz period of 333333.3 us neither drifts nor
accumulates rounding, and the frame times are identical on every run.

Statistics (fixed memory, however long the run):

- per task: runs, overruns (execution time > budget), faults (the task
  raised; the scheduler counts it, reports it and keeps running), last, max,
  mean and p99 execution time. The p99 comes from a log-spaced histogram
  whose bins are 2**(1/16) (about 4.4 %) wide: the reported p99 lies between
  the true nearest-rank p99 and that times HISTOGRAM_RESOLUTION.
- per group: cycle slips. After a frame's work the scheduler compares the
  clock with the next release; if the clock is already past it, the frames
  whose release has passed are skipped (not run late, which would only push
  the lateness onwards) and each group counts one slip for every release of
  its own that was skipped. Under a SimClock time does not move while tasks
  run, so there are no slips; under a wall clock there are when the work
  does not fit the frame.

Determinism and `timing_telemetry`: execution times are measured with a
real timer (`exec_timer_ns`) even under a SimClock, so they differ from run
to run. With `timing_telemetry=False` (the default, for SIL and replay)
nothing measured leaves the scheduler: no PROBE_TASK_STATS messages and no
overrun or slip events, and the flight log stays byte-identical between runs
of the same scenario; `stats()` still works. Set it True for HIL and wall
clock runs. Task faults are always reported: they depend only on the inputs.

The executive's watchdog (`set_watchdog`, flightsw/core/watchdog.py) is looked at
after every frame, outside every task: a task that stops running cannot stop it.

Events are throttled: a task's overruns or faults and a group's slips are
reported at the 1st, 2nd, 4th, 8th, ... occurrence, so a task that overruns
every cycle cannot flood the downlink.
"""

from __future__ import annotations

import dataclasses
import math
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from flightsw.core.commands import CommandResult
from flightsw.core.events import Severity
from flightsw.icd import mavlink

if TYPE_CHECKING:
    from flightsw.core.clock import Clock
    from flightsw.core.events import EventLog

US_PER_S = 1_000_000
NS_PER_US = 1_000
TASK_NAME_MAX_LEN = 16  # PROBE_TASK_STATS.task is char[16]
_UINT32_MAX = 2**32 - 1

HISTOGRAM_BINS_PER_OCTAVE = 16
HISTOGRAM_RESOLUTION = 2 ** (1 / HISTOGRAM_BINS_PER_OCTAVE)
# Bin edges from 1 ns to 2**40 ns (about 18 minutes); longer runs land in the
# last bin, whose p99 is then bounded by the exact maximum.
_HISTOGRAM_OCTAVES = 40
_EDGES_NS = tuple(
    2 ** (i / HISTOGRAM_BINS_PER_OCTAVE)
    for i in range(_HISTOGRAM_OCTAVES * HISTOGRAM_BINS_PER_OCTAVE + 1)
)


@dataclass(frozen=True)
class Task:
    """A unit of periodic work: `run(t_frame_us)` with a time budget."""

    name: str
    run: Callable[[int], None]
    budget_us: int

    def __post_init__(self) -> None:
        if (
            not isinstance(self.name, str)
            or not 1 <= len(self.name) <= TASK_NAME_MAX_LEN
            or not (self.name.isascii() and self.name.isprintable())
        ):
            raise ValueError(
                f"task name {self.name!r} must be 1-{TASK_NAME_MAX_LEN} printable ASCII "
                "characters (PROBE_TASK_STATS.task)"
            )
        if not callable(self.run):
            raise TypeError(f"task {self.name}: run must be callable, got {self.run!r}")
        if isinstance(self.budget_us, bool) or not isinstance(self.budget_us, int):
            raise TypeError(f"task {self.name}: budget_us must be an int, got {self.budget_us!r}")
        if not 0 < self.budget_us <= _UINT32_MAX:
            raise ValueError(f"task {self.name}: budget_us must be in 1..{_UINT32_MAX}, "
                             f"got {self.budget_us}")


@dataclass(frozen=True)
class RateGroup:
    name: str
    rate_hz: float
    tasks: Sequence[Task] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"rate group name must be a non-empty str, got {self.name!r}")
        _rate_fraction(self.rate_hz, f"rate group {self.name!r}")
        object.__setattr__(self, "tasks", tuple(self.tasks))
        for task in self.tasks:
            if not isinstance(task, Task):
                raise TypeError(f"rate group {self.name!r}: {task!r} is not a Task")


def _rate_fraction(rate_hz: object, what: str) -> Fraction:
    """The rate as an exact rational, so divisibility is decided exactly (0.1 Hz is 1/10)."""
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, int | float | Fraction):
        raise TypeError(f"{what}: rate_hz must be a number, got {rate_hz!r}")
    if not (math.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError(f"{what}: rate_hz must be finite and > 0, got {rate_hz!r}")
    return Fraction(rate_hz).limit_denominator(US_PER_S)


class ExecTimeHistogram:
    """Counts of execution times in log-spaced bins: fixed memory, bounded error."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # counts[b] holds times in [_EDGES_NS[b-1], _EDGES_NS[b]); b = 0 is [0, 1 ns).
        self._counts = [0] * (len(_EDGES_NS) + 1)
        self.count = 0
        self.total_ns = 0
        self.max_ns = 0

    def record(self, exec_ns: int) -> None:
        self._counts[bisect_right(_EDGES_NS, exec_ns)] += 1
        self.count += 1
        self.total_ns += exec_ns
        self.max_ns = max(self.max_ns, exec_ns)

    def quantile_ns(self, q: float) -> float:
        """Upper bound of the nearest-rank q-quantile, never above the exact maximum."""
        if not 0 < q <= 1:
            raise ValueError(f"q must be in (0, 1], got {q}")
        if self.count == 0:
            return 0.0
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for b, n in enumerate(self._counts):
            seen += n
            if seen >= rank:
                upper = _EDGES_NS[b] if b < len(_EDGES_NS) else math.inf
                return float(min(upper, self.max_ns))
        raise AssertionError("histogram counts do not add up")  # pragma: no cover


class _TaskStats:
    def __init__(self, task: Task, group: _Group) -> None:
        self.task = task
        self.group = group
        self.hist = ExecTimeHistogram()
        self.reset()

    def reset(self) -> None:
        self.hist.reset()
        self.runs = 0
        self.overruns = 0
        self.faults = 0
        self.last_exec_ns = 0


class _Group:
    def __init__(self, group: RateGroup, rate: Fraction, divisor: int) -> None:
        self.name = group.name
        self.rate = rate
        self.divisor = divisor
        self.tasks: list[_TaskStats] = []
        self.slips = 0


def _crossed_power_of_two(old: int, new: int) -> bool:
    """True when some 2**m lies in (old, new]: the throttle for repeated events."""
    return new.bit_length() > old.bit_length()


class Scheduler:
    """Runs rate groups of tasks frame by frame against a Clock."""

    def __init__(
        self,
        clock: Clock,
        groups: Iterable[RateGroup],
        base_rate_hz: float | None = None,
        exec_timer_ns: Callable[[], int] = time.perf_counter_ns,
        *,
        events: EventLog | None = None,
        timing_telemetry: bool = False,
        start_us: int | None = None,
    ) -> None:
        groups = list(groups)
        if not groups:
            raise ValueError("a scheduler needs at least one rate group")
        for group in groups:
            if not isinstance(group, RateGroup):
                raise TypeError(f"{group!r} is not a RateGroup")
        rates = [_rate_fraction(g.rate_hz, f"rate group {g.name!r}") for g in groups]
        if base_rate_hz is None:
            base = max(rates)
        else:
            base = _rate_fraction(base_rate_hz, "base rate")
        self._clock = clock
        self._exec_timer_ns = exec_timer_ns
        self._events = events
        self.timing_telemetry = bool(timing_telemetry)
        self._base = base
        self._groups: list[_Group] = []
        self._tasks: dict[str, _TaskStats] = {}
        self._unhooked: dict[str, Callable[[int], None]] = {}  # set_task_fault's originals
        self._watchdog: Callable[[int], None] | None = None
        # Fastest first; sorted() is stable, so equal rates keep the given order.
        for group, rate in sorted(zip(groups, rates, strict=True), key=lambda gr: -gr[1]):
            if any(g.name == group.name for g in self._groups):
                raise ValueError(f"two rate groups are named {group.name!r}")
            frames = base / rate
            if frames.denominator != 1:
                raise ValueError(
                    f"rate group {group.name!r} at {group.rate_hz} Hz does not divide the base "
                    f"rate {float(base):g} Hz into a whole number of frames "
                    f"(base/rate = {float(frames):.6g})"
                )
            g = _Group(group, rate, int(frames))
            self._groups.append(g)
            for task in group.tasks:
                self._add(g, task)
        self._start_us = clock.now_us() if start_us is None else int(start_us)
        self._frame = 0
        self._frames_run = 0
        self._frames_skipped = 0

    # -- configuration ---------------------------------------------------------

    def add_task(self, group_name: str, task: Task) -> None:
        """Append `task` to a group (e.g. the telemetry task, made after the scheduler)."""
        for g in self._groups:
            if g.name == group_name:
                self._add(g, task)
                return
        raise ValueError(f"no rate group named {group_name!r}")

    def set_task_fault(self, name: str, active: Callable[[int], bool] | None) -> None:
        """Host-side fault injection, not a flight function: while `active(t_frame_us)`
        is true, task `name` raises RuntimeError instead of running, and the scheduler
        counts and reports it as it does any task fault.  None takes the hook away."""
        stats = self._tasks.get(name)
        if stats is None:
            raise ValueError(f"no task named {name!r}; tasks: {', '.join(self._tasks)}")
        original = self._unhooked.pop(name, stats.task.run)
        if active is None:
            stats.task = dataclasses.replace(stats.task, run=original)
            return
        self._unhooked[name] = original

        def run(t_frame_us: int) -> None:
            if active(t_frame_us):
                raise RuntimeError(f"injected fault in task {name}")
            original(t_frame_us)

        stats.task = dataclasses.replace(stats.task, run=run)

    def set_watchdog(self, check: Callable[[int], None] | None) -> None:
        """Call `check(t_frame_us)` after every frame's tasks (None: no watchdog).  What
        it raises is reported as an event; the frames go on."""
        if check is not None and not callable(check):
            raise TypeError(f"check must be callable, got {check!r}")
        self._watchdog = check

    def _add(self, group: _Group, task: Task) -> None:
        if not isinstance(task, Task):
            raise TypeError(f"{task!r} is not a Task")
        if task.name in self._tasks:
            raise ValueError(f"two tasks are named {task.name!r}")
        stats = _TaskStats(task, group)
        group.tasks.append(stats)
        self._tasks[task.name] = stats

    @property
    def base_rate_hz(self) -> float:
        return float(self._base)

    @property
    def frame(self) -> int:
        """Index of the next frame to run."""
        return self._frame

    def release_us(self, frame: int) -> int:
        """Mission time at which `frame` is released (exact, no accumulation)."""
        return self._start_us + frame * US_PER_S * self._base.denominator // self._base.numerator

    @property
    def next_release_us(self) -> int:
        return self.release_us(self._frame)

    # -- running ---------------------------------------------------------------

    def run_frame(self) -> None:
        """Run the groups due in the current frame, then move to the next frame."""
        frame = self._frame
        t_frame_us = self.release_us(frame)
        for group in self._groups:
            if frame % group.divisor == 0:
                for stats in group.tasks:
                    self._run_task(stats, t_frame_us)
        if self._watchdog is not None:
            try:
                self._watchdog(t_frame_us)
            except Exception as exc:  # the executive must outlive its watchdog
                self._emit(Severity.CRITICAL, f"watchdog raised {type(exc).__name__}: {exc}")
        self._frames_run += 1
        self._frame = frame + 1
        now_us = self._clock.now_us()
        if now_us > self.release_us(self._frame):
            self._skip_to(self._first_frame_released_at_or_after(now_us))

    def run_until_us(self, t_end_us: int) -> int:
        """Run every frame released before `t_end_us`, sleeping until each; return frames run."""
        frames_before = self._frames_run
        while self.release_us(self._frame) < t_end_us:
            self._clock.sleep_until_us(self.release_us(self._frame))
            self.run_frame()
        return self._frames_run - frames_before

    def _first_frame_released_at_or_after(self, t_us: int) -> int:
        # Smallest k with start + floor(k * 1e6 * den / num) >= t, i.e. k * 1e6 * den
        # >= (t - start) * num since the right side is an integer.
        num, den = self._base.numerator, self._base.denominator
        return -(-(t_us - self._start_us) * num // (US_PER_S * den))

    def _skip_to(self, frame: int) -> None:
        first, last = self._frame, frame - 1  # skipped frames, inclusive
        self._frames_skipped += frame - first
        for group in self._groups:
            d = group.divisor
            missed = last // d - (first - 1) // d  # releases of this group skipped
            if missed:
                old = group.slips
                group.slips += missed
                if self.timing_telemetry and _crossed_power_of_two(old, group.slips):
                    self._emit(Severity.WARNING, f"group {group.name} slipped {missed} frame(s),"
                               f" {group.slips} in all")
        self._frame = frame

    def _run_task(self, stats: _TaskStats, t_frame_us: int) -> None:
        task = stats.task
        fault = None
        t0_ns = self._exec_timer_ns()
        try:
            task.run(t_frame_us)
        except Exception as exc:  # a faulty task must not stop the others
            # Keep only the text: holding the exception would keep its traceback
            # (and a reference cycle through this frame) alive.
            fault = f"{type(exc).__name__}: {exc}"
        exec_ns = max(0, self._exec_timer_ns() - t0_ns)
        stats.runs += 1
        stats.last_exec_ns = exec_ns
        stats.hist.record(exec_ns)
        if exec_ns > task.budget_us * NS_PER_US:
            stats.overruns += 1
            if self.timing_telemetry and _crossed_power_of_two(stats.overruns - 1,
                                                                stats.overruns):
                self._emit(Severity.WARNING, f"task {task.name} overran: {exec_ns / 1e3:.0f} us"
                           f" > {task.budget_us} us budget, {stats.overruns} overruns in all")
        if fault is not None:
            stats.faults += 1
            if _crossed_power_of_two(stats.faults - 1, stats.faults):
                self._emit(Severity.ERROR,
                           f"task {task.name} raised {fault} ({stats.faults} faults in all)")

    def _emit(self, severity: Severity, text: str) -> None:
        if self._events is not None:
            self._events.emit(severity, "sched", text)

    # -- statistics and telemetry ----------------------------------------------

    def tasks_by_group(self) -> list[tuple[str, float, Task]]:
        """(group name, group rate in Hz, task) of every task, in run order."""
        return [(g.name, float(g.rate), s.task) for g in self._groups for s in g.tasks]

    def task_counts(self) -> dict[str, tuple[int, int]]:
        """{task name: (runs, faults)}, in run order: cheap enough for every second
        (fault protection's health check)."""
        return {name: (s.runs, s.faults) for name, s in self._tasks.items()}

    def stats(self) -> dict:
        """Plain-dict statistics: {"tasks": {name: {...}}, "groups": {name: {...}}, ...}."""
        tasks = {}
        for name, s in self._tasks.items():
            h = s.hist
            tasks[name] = {
                "group": s.group.name,
                "rate_hz": float(s.group.rate),
                "runs": s.runs,
                "overruns": s.overruns,
                "faults": s.faults,
                "budget_us": s.task.budget_us,
                "max_exec_us": h.max_ns / NS_PER_US,
                "p99_exec_us": h.quantile_ns(0.99) / NS_PER_US,
                "mean_exec_us": h.total_ns / h.count / NS_PER_US if h.count else 0.0,
                "last_exec_us": s.last_exec_ns / NS_PER_US,
            }
        groups = {
            g.name: {"rate_hz": float(g.rate), "divisor": g.divisor, "slips": g.slips}
            for g in self._groups
        }
        return {
            "tasks": tasks,
            "groups": groups,
            "frames_run": self._frames_run,
            "frames_skipped": self._frames_skipped,
        }

    def reset_stats(self) -> None:
        """Zero every task's and group's statistics (not the frame counter)."""
        for s in self._tasks.values():
            s.reset()
        for g in self._groups:
            g.slips = 0
        self._frames_run = 0
        self._frames_skipped = 0

    def handle_reset_stats_command(self, params: tuple[float, ...]) -> CommandResult:
        """Command handler for PROBE_CMD_RESET_SCHED_STATS (register with all params unused)."""
        self.reset_stats()
        return CommandResult.ACCEPTED

    def task_stats_messages(self, t_us: int) -> list:
        """One PROBE_TASK_STATS per task, in scheduling order."""
        msgs = []
        for g in self._groups:
            for s in g.tasks:
                msgs.append(
                    mavlink.MAVLink_probe_task_stats_message(
                        t_us,
                        s.task.name.encode("ascii"),
                        float(g.rate),
                        min(s.runs, _UINT32_MAX),
                        min(s.overruns, _UINT32_MAX),
                        s.task.budget_us,
                        _ceil_us(s.hist.max_ns),
                        _ceil_us(s.hist.quantile_ns(0.99)),
                        min(g.slips, _UINT32_MAX),
                    )
                )
        return msgs

    def telemetry_task(
        self, send: Callable[[object], None], name: str = "sched_tlm", budget_us: int = 5_000
    ) -> Task:
        """A Task sending PROBE_TASK_STATS for every task; put it in a slow group.

        It sends nothing while `timing_telemetry` is False (see module doc).
        """
        if not callable(send):
            raise TypeError(f"send must be callable, got {send!r}")

        def run(t_us: int) -> None:
            if self.timing_telemetry:
                for msg in self.task_stats_messages(t_us):
                    send(msg)

        return Task(name, run, budget_us)


def _ceil_us(t_ns: float) -> int:
    return min(math.ceil(t_ns / NS_PER_US), _UINT32_MAX)
