"""Scheduler: frame arithmetic, statistics under fake timers, slips, faults, telemetry."""

import gc
import math
import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.core.clock import SimClock, WallClock
from flightsw.core.commands import CommandResult
from flightsw.core.events import EventLog, Severity
from flightsw.core.scheduler import HISTOGRAM_RESOLUTION, RateGroup, Scheduler, Task
from flightsw.icd import new_codec

MS_US = 1_000
US_NS = 1_000


class FakeExecTimer:
    """Nanoseconds that pass only when a fake task says it worked."""

    def __init__(self):
        self.now_ns = 0

    def __call__(self):
        return self.now_ns


def costed(name, costs_ns, timer, budget_us=1_000, wall=None, log=None, keep_runs=True):
    """A task whose n-th run costs costs_ns[n % len] on the exec timer (and, when a
    `wall` SimClock stands for real time, on that clock too); returns it and the list
    of the frame times it ran at."""
    runs = []
    n_runs = [0]

    def run(t_us):
        cost_ns = costs_ns[n_runs[0] % len(costs_ns)]
        n_runs[0] += 1
        if keep_runs:
            runs.append(t_us)
        timer.now_ns += cost_ns
        if wall is not None:
            wall.advance_by_us(cost_ns // US_NS)
        if log is not None:
            log.append((name, t_us))

    return Task(name, run, budget_us), runs


# -- frames and runs -----------------------------------------------------------------

DIVISORS = [1, 2, 3, 4, 5, 10, 20, 50]


@given(
    base_rate_hz=st.sampled_from([1, 2, 5, 8, 10, 20, 50, 100]),
    divisors=st.lists(st.sampled_from(DIVISORS), min_size=1, max_size=4),
    n_frames=st.integers(0, 300),
)
def test_runs_per_task_are_frames_over_divisor(base_rate_hz, divisors, n_frames):
    clock, timer, order = SimClock(), FakeExecTimer(), []
    groups, all_runs = [], {}
    for i, d in enumerate(divisors):
        task, runs = costed(f"t{i}", [0], timer, log=order)
        groups.append(RateGroup(f"g{i}", base_rate_hz / d, [task]))
        all_runs[f"t{i}"] = (d, runs)
    sched = Scheduler(clock, groups, base_rate_hz=base_rate_hz, exec_timer_ns=timer)
    t_end_us = sched.release_us(n_frames)
    assert sched.run_until_us(t_end_us) == n_frames
    period_us = 1_000_000 / base_rate_hz
    for name, (d, runs) in all_runs.items():
        assert len(runs) == math.ceil(n_frames / d)
        if n_frames % d == 0:
            assert len(runs) == n_frames // d
        assert runs == [round(k * period_us) for k in range(0, n_frames, d)]
        assert sched.stats()["tasks"][name]["runs"] == len(runs)
    # Within a frame the faster groups go first, ties in the order given.
    rank = {f"t{i}": (d, i) for i, d in enumerate(divisors)}
    for t_us in sorted({t for _, t in order}):
        names = [n for n, t in order if t == t_us]
        assert names == sorted(names, key=rank.__getitem__)
    assert sched.stats()["frames_skipped"] == 0
    assert all(g["slips"] == 0 for g in sched.stats()["groups"].values())


def test_release_times_are_exact_for_periods_that_are_not_whole_microseconds():
    sched = Scheduler(SimClock(), [RateGroup("g3", 3, [])])
    assert [sched.release_us(k) for k in range(4)] == [0, 333_333, 666_666, 1_000_000]
    assert sched.release_us(3 * 10**7) == 10**13  # a 115-day run: no drift


def test_base_rate_defaults_to_the_fastest_group():
    sched = Scheduler(SimClock(start_us=7), [RateGroup("slow", 0.1, []),
                                             RateGroup("fast", 10, [])])
    assert sched.base_rate_hz == 10
    assert sched.stats()["groups"]["slow"]["divisor"] == 100
    assert sched.release_us(1) == 100_007


@pytest.mark.parametrize(
    ("groups", "base", "match"),
    [
        ([RateGroup("nav", 10, []), RateGroup("odd", 3, [])], None, "'odd' at 3 Hz"),
        ([RateGroup("nav", 10, []), RateGroup("odd", 4, [])], None, "'odd' at 4 Hz"),
        ([RateGroup("nav", 10, [])], 5, "'nav' at 10 Hz"),
        ([RateGroup("a", 1, []), RateGroup("a", 1, [])], None, "named 'a'"),
        ([], None, "at least one"),
    ],
)
def test_bad_group_layouts_are_refused_by_name(groups, base, match):
    with pytest.raises(ValueError, match=match):
        Scheduler(SimClock(), groups, base_rate_hz=base)


def test_bad_tasks_are_refused():
    with pytest.raises(ValueError, match="1-16"):
        Task("a_task_name_too_long", lambda t: None, 100)
    with pytest.raises(ValueError, match="budget"):
        Task("t", lambda t: None, 0)
    with pytest.raises(TypeError, match="budget"):
        Task("t", lambda t: None, 1.5)
    with pytest.raises(ValueError, match="rate_hz"):
        RateGroup("g", 0, [])
    task = Task("t", lambda t: None, 100)
    sched = Scheduler(SimClock(), [RateGroup("g", 1, [task])])
    with pytest.raises(ValueError, match="named 't'"):
        sched.add_task("g", Task("t", lambda t: None, 100))
    with pytest.raises(ValueError, match="no rate group"):
        sched.add_task("nope", Task("u", lambda t: None, 100))


# -- execution-time statistics -------------------------------------------------------

# Costs from 0 ns to 20 ms, spread over orders of magnitude.
cost_ns = st.one_of(st.integers(0, 2_000), st.integers(0, 20_000_000))


@given(
    costs=st.lists(st.lists(cost_ns, min_size=1, max_size=40), min_size=1, max_size=3),
    budgets_us=st.lists(st.integers(1, 20_000), min_size=3, max_size=3),
    n_frames=st.integers(1, 250),
)
def test_overruns_max_mean_and_p99_match_the_costs(costs, budgets_us, n_frames):
    timer = FakeExecTimer()
    tasks = [costed(f"t{i}", c, timer, budget_us=budgets_us[i]) for i, c in enumerate(costs)]
    sched = Scheduler(SimClock(), [RateGroup("g", 10, [t for t, _ in tasks])],
                      exec_timer_ns=timer)
    sched.run_until_us(sched.release_us(n_frames))
    for i, task_costs in enumerate(costs):
        seen = [task_costs[n % len(task_costs)] for n in range(n_frames)]
        s = sched.stats()["tasks"][f"t{i}"]
        assert s["runs"] == n_frames
        assert s["overruns"] == sum(c > budgets_us[i] * US_NS for c in seen)
        assert s["max_exec_us"] == max(seen) / US_NS
        assert s["mean_exec_us"] == pytest.approx(sum(seen) / n_frames / US_NS)
        assert s["last_exec_us"] == seen[-1] / US_NS
        true_p99_ns = sorted(seen)[math.ceil(0.99 * n_frames) - 1]  # nearest rank
        p99_ns = s["p99_exec_us"] * US_NS
        assert true_p99_ns - 1e-6 <= p99_ns <= max(true_p99_ns * HISTOGRAM_RESOLUTION, 1.0)
        assert p99_ns <= max(seen) + 1e-6


def test_an_overrun_is_strictly_longer_than_the_budget():
    timer = FakeExecTimer()
    budget_us = 250
    costs_ns = [budget_us * US_NS, budget_us * US_NS + 1, budget_us * US_NS - 1]
    task, _ = costed("t", costs_ns, timer, budget_us=budget_us)
    sched = Scheduler(SimClock(), [RateGroup("g", 10, [task])], exec_timer_ns=timer)
    sched.run_until_us(sched.release_us(3))
    assert sched.stats()["tasks"]["t"]["overruns"] == 1


def test_a_task_that_raises_is_counted_and_the_others_keep_running():
    clock, timer = SimClock(), FakeExecTimer()
    events = EventLog(clock)
    calls = []

    def flaky(t_us):
        calls.append(t_us)
        if len(calls) % 3 == 0:
            raise RuntimeError("sensor glitch")

    good, good_runs = costed("good", [10], timer)
    sched = Scheduler(clock, [RateGroup("g", 10, [Task("flaky", flaky, 100), good])],
                      exec_timer_ns=timer, events=events)
    sched.run_until_us(3_000_000)  # 30 frames, 10 faults
    stats = sched.stats()["tasks"]
    assert stats["flaky"]["runs"] == 30 and stats["flaky"]["faults"] == 10
    assert len(good_runs) == 30 and stats["good"]["faults"] == 0
    # Reported at the 1st, 2nd, 4th and 8th fault, not every time.
    errors = [e for e in events.recent if e.severity == Severity.ERROR]
    assert len(errors) == 4
    assert "flaky raised RuntimeError: sensor glitch" in errors[0].text


# -- slips -----------------------------------------------------------------------------

def expected_slips(base_rate_hz, divisors, costs_us, t_end_us):
    """Oracle: step through frames one at a time as a wall clock would see them."""
    def release(k):
        return k * 1_000_000 // base_rate_hz

    now, k, slips, runs = 0, 0, [0] * len(divisors), [0] * len(divisors)
    while release(k) < t_end_us:
        now = max(now, release(k))
        for g, d in enumerate(divisors):
            if k % d == 0:
                now += costs_us[g][runs[g] % len(costs_us[g])]
                runs[g] += 1
        k += 1
        while release(k) < now:  # released while we were still busy: skipped
            for g, d in enumerate(divisors):
                slips[g] += k % d == 0
            k += 1
    return slips, runs


@settings(max_examples=150)
@given(
    divisors=st.lists(st.sampled_from([1, 2, 5, 10]), min_size=1, max_size=3),
    costs_us=st.lists(st.lists(st.integers(0, 400_000), min_size=1, max_size=8),
                      min_size=3, max_size=3),
    n_frames=st.integers(1, 80),
)
def test_slips_under_a_wall_clock_match_a_frame_by_frame_oracle(divisors, costs_us, n_frames):
    base_rate_hz = 10
    wall, timer = SimClock(), FakeExecTimer()  # here SimClock time passes while tasks run
    groups, runs = [], []
    for g, d in enumerate(divisors):
        task, task_runs = costed(f"t{g}", [c * US_NS for c in costs_us[g]], timer, wall=wall)
        groups.append(RateGroup(f"g{g}", base_rate_hz / d, [task]))
        runs.append(task_runs)
    sched = Scheduler(wall, groups, base_rate_hz=base_rate_hz, exec_timer_ns=timer)
    t_end_us = n_frames * 100 * MS_US
    sched.run_until_us(t_end_us)
    slips, n_runs = expected_slips(base_rate_hz, divisors, costs_us, t_end_us)
    stats = sched.stats()
    assert [stats["groups"][f"g{g}"]["slips"] for g in range(len(divisors))] == slips
    assert [len(r) for r in runs] == n_runs
    assert stats["frames_run"] + stats["frames_skipped"] == sched.frame
    if all(c <= 100 * MS_US / len(divisors) for row in costs_us for c in row):
        assert slips == [0] * len(divisors)  # the work always fits the frame


def test_one_long_frame_skips_the_frames_it_overlapped():
    wall, timer = SimClock(), FakeExecTimer()
    events = EventLog(wall)
    slow, _ = costed("slow", [250 * MS_US * US_NS] + [0] * 99, timer, wall=wall)
    fast, fast_runs = costed("fast", [0], timer)
    sched = Scheduler(wall, [RateGroup("g10", 10, [fast]), RateGroup("g1", 1, [slow])],
                      exec_timer_ns=timer, events=events, timing_telemetry=True)
    sched.run_until_us(1_000_000)
    # Frame 0 ended at 250 ms: frames 1 (100 ms) and 2 (200 ms) were skipped.
    assert fast_runs == [0] + [k * 100_000 for k in range(3, 10)]
    assert sched.stats()["groups"] == {
        "g10": {"rate_hz": 10.0, "divisor": 1, "slips": 2},
        "g1": {"rate_hz": 1.0, "divisor": 10, "slips": 0},
    }
    assert any("g10 slipped 2" in e.text for e in events.recent)


def test_slips_with_a_real_wall_clock_on_a_fake_time_source():
    fake_ns = [10**9]

    def time_ns():
        fake_ns[0] += 1_000  # every read of the counter takes a microsecond
        return fake_ns[0]

    def sleep_s(duration_s):
        fake_ns[0] += round(duration_s * 1e9)

    clock = WallClock(spin_us=500, time_ns=time_ns, sleep_s=sleep_s)
    calls = []

    def work(t_us):
        calls.append(t_us)
        fake_ns[0] += (350 if len(calls) == 2 else 5) * MS_US * US_NS

    sched = Scheduler(clock, [RateGroup("g", 10, [Task("work", work, 50_000)])],
                      exec_timer_ns=time_ns)
    start_us = sched.release_us(0)  # frame 0 is released when the scheduler is made
    sched.run_until_us(start_us + 1_000_000)
    stats = sched.stats()
    assert stats["groups"]["g"]["slips"] == 3  # frame 1 ran 350 ms: frames 2-4 lost
    assert calls == [start_us + k * 100_000 for k in (0, 1, 5, 6, 7, 8, 9)]
    assert stats["tasks"]["work"]["overruns"] == 1
    assert stats["tasks"]["work"]["max_exec_us"] == pytest.approx(350_000, abs=5)


# -- telemetry and determinism ---------------------------------------------------------

def telemetry_rig(timing_telemetry, exec_timer_ns):
    clock, sent = SimClock(), []
    events = EventLog(clock, send=sent.append)

    def crashes_sometimes(t_us):
        if t_us % 700_000 == 0:
            raise ValueError(f"bad frame at {t_us} us")

    tasks = [Task("busy", lambda t: sum(range(200)), 1), Task("crashy", crashes_sometimes, 1)]
    sched = Scheduler(clock, [RateGroup("fast", 10, tasks), RateGroup("slow", 1, [])],
                      exec_timer_ns=exec_timer_ns, events=events,
                      timing_telemetry=timing_telemetry)
    sched.add_task("slow", sched.telemetry_task(sent.append))
    return sched, sent, events


def test_without_timing_telemetry_the_log_is_byte_identical_between_runs():
    logs = []
    for _ in range(2):
        sched, sent, _ = telemetry_rig(False, exec_timer_ns=time.perf_counter_ns)
        sched.run_until_us(5_000_000)
        codec = new_codec(1, 1)
        logs.append(b"".join(m.pack(codec) for m in sent))
        assert sched.stats()["tasks"]["busy"]["runs"] == 50
    assert logs[0] == logs[1]
    assert all(m.get_type() == "STATUSTEXT" for m in sent)  # only the fault events


def test_timing_telemetry_sends_task_stats_and_overrun_events():
    timer = FakeExecTimer()
    clock = SimClock()
    sent = []
    events = EventLog(clock, send=sent.append)
    busy, _ = costed("busy", [5 * US_NS, 500 * US_NS], timer, budget_us=100)
    sched = Scheduler(clock, [RateGroup("fast", 10, [busy]), RateGroup("slow", 1, [])],
                      exec_timer_ns=timer, events=events, timing_telemetry=True)
    sched.add_task("slow", sched.telemetry_task(sent.append, budget_us=2_000))
    sched.run_until_us(2_000_000)
    codec = new_codec(1, 1)
    decoded = [codec.decode(bytearray(m.pack(codec))) for m in sent]
    stats = [m for m in decoded if m.get_type() == "PROBE_TASK_STATS"]
    assert [(m.time_usec, m.task) for m in stats] == [
        (0, "busy"), (0, "sched_tlm"), (1_000_000, "busy"), (1_000_000, "sched_tlm")]
    last_busy = stats[2]  # fast runs before slow: frames 0..10 are counted at t = 1 s
    assert (last_busy.runs, last_busy.overruns, last_busy.budget_us) == (11, 5, 100)
    assert (last_busy.max_exec_us, last_busy.p99_exec_us) == (500, 500)
    assert last_busy.group_hz == 10.0 and last_busy.group_slips == 0
    overrun_events = [e for e in events.recent if "overran" in e.text]
    assert len(overrun_events) == 4  # the 1st, 2nd, 4th and 8th of 10 (throttled)
    assert all(e.severity == Severity.WARNING for e in overrun_events)

    sched.timing_telemetry = False
    sent.clear()
    sched.run_until_us(4_000_000)
    assert sent == []  # measured values stay on board
    assert sched.stats()["tasks"]["busy"]["overruns"] == 20


def test_reset_stats_zeroes_counters_but_not_time():
    timer = FakeExecTimer()
    task, _ = costed("t", [2_000 * US_NS], timer, budget_us=1_000)
    sched = Scheduler(SimClock(), [RateGroup("g", 10, [task])], exec_timer_ns=timer)
    sched.run_until_us(1_000_000)
    frame = sched.frame
    assert sched.handle_reset_stats_command((0.0,) * 7) == CommandResult.ACCEPTED
    s = sched.stats()["tasks"]["t"]
    assert (s["runs"], s["overruns"], s["max_exec_us"], s["p99_exec_us"]) == (0, 0, 0.0, 0.0)
    assert sched.frame == frame
    sched.run_until_us(2_000_000)
    assert sched.stats()["tasks"]["t"]["runs"] == 10


def test_memory_stays_flat_over_a_long_run():
    timer = FakeExecTimer()
    clock = SimClock()
    events = EventLog(clock, capacity=50)
    tasks = [costed(f"t{i}", [i * 997 + 13, 5_000_000], timer, budget_us=100,
                    keep_runs=False)[0] for i in range(4)]
    tasks.append(Task("boom", lambda t: 1 / 0, 100))
    sched = Scheduler(clock, [RateGroup("g", 100, tasks)], exec_timer_ns=timer, events=events,
                      timing_telemetry=True)
    sched.run_until_us(sched.release_us(2_000))  # warm up: first events, int caches
    gc.collect()
    tracemalloc.start()
    try:
        before_bytes, _ = tracemalloc.get_traced_memory()
        sched.run_until_us(sched.release_us(22_000))
        gc.collect()
        after_bytes, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sched.stats()["tasks"]["t0"]["runs"] == 22_000
    # 20,000 frames of 5 tasks: a list growing by even one pointer per run would be 800 kB.
    assert after_bytes - before_bytes < 20_000
