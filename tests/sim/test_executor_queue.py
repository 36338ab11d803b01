"""What the executor seam (sim/executors.py) does for the fault campaign, the same on local
processes and on a Dask LocalCluster (127.0.0.1, closed by each test): tasks start in the
queue's order and a task put first starts next; no task starts after the deadline (those
not started stay in the queue); Ctrl-C lets the runs in flight end and yields them, starts
nothing more and raises KeyboardInterrupt again.  The run function only sleeps."""

import os
import signal
import threading
import time
from pathlib import Path

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


@pytest.fixture(autouse=True)
def _ctrl_c_raises():
    # A suite started in the background of a non-interactive shell inherits SIGINT
    # ignored: these tests need Ctrl-C to be the KeyboardInterrupt it is at a terminal.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _interrupt_when_started(tasks: list[dict]) -> threading.Event:
    """Ctrl-C to this process (SIGINT) once every one of these runs is under way (its
    started_file made); the worker processes ignore it.  Set the event to call it off.
    Not after a delay: a Ctrl-C that comes while a worker is being started is not seen
    (the parent ignores SIGINT for that moment, so that the child inherits it ignored),
    and on a loaded machine a start takes seconds."""
    cancel = threading.Event()

    def watch():
        while not cancel.is_set():
            if all(Path(t["started_file"]).exists() for t in tasks):
                os.kill(os.getpid(), signal.SIGINT)
                return
            cancel.wait(0.02)

    threading.Thread(target=watch, daemon=True).start()
    return cancel


def _started(tasks: list[dict], folder: Path) -> list[dict]:
    return [dict(t, started_file=str(folder / f"{t['name']}.started")) for t in tasks]


@pytest.mark.parametrize("kind", ["local", "dask"])
def test_ctrl_c_lets_the_runs_in_flight_end_and_starts_nothing_more(kind, capsys, tmp_path):
    with _executor(kind, 2) as ex:
        tasks = _started(_tasks("abc", sleep_s=2.0), tmp_path)
        queue = TaskQueue(tasks)
        got = []
        cancel = _interrupt_when_started(tasks[:2])
        try:
            with pytest.raises(KeyboardInterrupt):
                for task, result in ex.run(sweep_helpers.sleeps, queue):
                    got.append((task["name"], result["ran"]))
        finally:
            cancel.set()
        assert sorted(got) == [("a", True), ("b", True)]
        assert [t["name"] for t in queue.left()] == ["c"]
        assert "waiting for the 2 runs in flight" in capsys.readouterr().err


def test_ctrl_c_abandons_the_runs_in_flight_when_asked(tmp_path):
    with LocalExecutor(jobs=1) as ex:
        # An hour-long run in flight: the test ends only if it is abandoned, not awaited
        # (no clock is read: a wait would show as a test that does not end).
        tasks = _started(_tasks("ab", sleep_s=3600.0), tmp_path)
        queue = TaskQueue(tasks)
        cancel = _interrupt_when_started(tasks[:1])
        try:
            with pytest.raises(KeyboardInterrupt):
                list(ex.run(sweep_helpers.sleeps, queue, on_interrupt=ABANDON))
        finally:
            cancel.set()
        assert [t["name"] for t in queue.left()] == ["b"]
