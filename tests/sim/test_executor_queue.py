"""What the executor seam (sim/executors.py) does for the fault campaign, the same on local
processes and on a Dask LocalCluster (127.0.0.1, closed by each test): tasks start in the
queue's order and a task put first starts next; no task starts after the deadline (those
not started stay in the queue); Ctrl-C lets the runs in flight end and yields them, starts
nothing more and raises KeyboardInterrupt again.  The run function only sleeps."""

import os
import signal
import threading
import time

import pytest
import sweep_helpers

from sim.executors import ABANDON, DaskExecutor, LocalExecutor, TaskQueue

pytestmark = pytest.mark.slow


def _executor(kind: str, n: int):
    return LocalExecutor(jobs=n) if kind == "local" else DaskExecutor(n_workers=n)


def _tasks(names, sleep_s: float = 0.0) -> list[dict]:
    return [{"name": name, "sleep_s": sleep_s} for name in names]


@pytest.mark.parametrize("kind", ["local", "dask"])
def test_tasks_start_in_order_a_task_put_first_starts_next_and_a_deadline_stops_starts(kind):
    with _executor(kind, 1) as ex:
        assert ex.slots() == 1
        queue = TaskQueue(_tasks("abc"))
        order = []
        for task, result in ex.run(sweep_helpers.sleeps, queue):
            assert result["ran"] and result["name"] == task["name"]
            order.append(task["name"])
            if task["name"] == "a":
                queue.put_first({"name": "a-again"})
        assert order == ["a", "a-again", "b", "c"] and len(queue) == 0
        # Past the deadline nothing starts; a run started before it ends and is yielded.
        queue = TaskQueue(_tasks("de"))
        assert list(ex.run(sweep_helpers.sleeps, queue, deadline=time.monotonic())) == []
        assert [t["name"] for t in queue.left()] == ["d", "e"]
        queue = TaskQueue(_tasks("fgh", sleep_s=1.5))
        done = [t["name"] for t, _ in ex.run(sweep_helpers.sleeps, queue,
                                             deadline=time.monotonic() + 1.0)]
        assert done == ["f"] and [t["name"] for t in queue.left()] == ["g", "h"]


def _interrupt_after(delay_s: float) -> threading.Timer:
    """Ctrl-C to this process (SIGINT) in delay_s; the worker processes ignore it."""
    timer = threading.Timer(delay_s, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.mark.parametrize("kind", ["local", "dask"])
def test_ctrl_c_lets_the_runs_in_flight_end_and_starts_nothing_more(kind, capsys):
    with _executor(kind, 2) as ex:
        queue = TaskQueue(_tasks("abc", sleep_s=2.0))
        got = []
        timer = _interrupt_after(0.5)
        try:
            with pytest.raises(KeyboardInterrupt):
                for task, result in ex.run(sweep_helpers.sleeps, queue):
                    got.append((task["name"], result["ran"]))
        finally:
            timer.cancel()
        assert sorted(got) == [("a", True), ("b", True)]
        assert [t["name"] for t in queue.left()] == ["c"]
        assert "waiting for the 2 runs in flight" in capsys.readouterr().err


def test_ctrl_c_abandons_the_runs_in_flight_when_asked():
    with LocalExecutor(jobs=1) as ex:
        # An hour-long run in flight: the test ends only if it is abandoned, not awaited
        # (no clock is read: a wait would show as a test that does not end).
        queue = TaskQueue(_tasks("ab", sleep_s=3600.0))
        timer = _interrupt_after(0.5)
        try:
            with pytest.raises(KeyboardInterrupt):
                list(ex.run(sweep_helpers.sleeps, queue, on_interrupt=ABANDON))
        finally:
            timer.cancel()
        assert [t["name"] for t in queue.left()] == ["b"]
