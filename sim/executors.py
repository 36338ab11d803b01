"""Where the runs of a sweep execute: local processes or a Dask cluster, behind one seam.

Every sweep of the project goes through it: `prospector sweep` (sim.sweep), the survey
sweep (prospector.survey_sweep) and the fault campaign (sim.fault_campaign_run).

An executor takes a pure run function (top level, importable by name: `fn(task) -> dict`)
and its tasks (plain picklable dicts, a list or a TaskQueue) and yields `(task, result)`
pairs as runs finish, in whatever order they finish.  Whoever runs it, a task gives the
same result: the run function sees nothing of its executor (no worker id, no wall clock in
its identity).

  LocalExecutor(jobs)      a pool of spawned processes on this machine (what sweeps did
                           before issue 17); `--jobs N`.
  DaskExecutor(address)    `local:N`: a Dask LocalCluster of N single-threaded worker
                           processes listening on 127.0.0.1 only (dashboard off);
                           `tcp://HOST:PORT`: the scheduler of an existing cluster;
                           or a Dask client of the caller's.

Both start tasks in the queue's order, no more at once than there are worker slots, so:
  * the caller may put a task first while runs go on (TaskQueue.put_first: the fault
    campaign flies a run cut short again, longer, next);
  * `deadline` (time.monotonic()): no task starts at or after it; those not started stay
    in the queue (the fault campaign's --max-wall-min);
  * Ctrl-C (KeyboardInterrupt): with on_interrupt=FINISH (the default) nothing more
    starts, the runs in flight are waited for and their results yielded, then
    KeyboardInterrupt is raised again; a second Ctrl-C abandons them.  With ABANDON the
    runs in flight are abandoned at once (the survey sweep, whose results go to one file
    at the end).  The worker processes we start ignore SIGINT, so the terminal's Ctrl-C
    reaches the process that decides, not the runs.

Failures, the same on both:
  * a run function that raises is the run function's business: each sweep's own catches
    everything and returns an error record, so the sweep goes on;
  * a worker process that dies (killed, out of memory) loses the run it was flying; the
    run is started once more elsewhere, and a second death gives the run the result
    worker_died_record() (`worker_died`: True, `error`), never a lost run.  On Dask this
    is the scheduler's own accounting (`distributed.scheduler.allowed-failures` = 1 for
    the clusters we start; a scheduler we only connect to keeps its own, 3 by default).
Before any run, each Dask worker reports its project version and ICD fingerprint
(flightsw.icd.icd_fingerprint), and each run checks them again on the worker that flies
it; a worker that differs from this process refuses the sweep (EnvironmentMismatch, one
line naming the worker and what differs), since its runs could not be compared with anyone's.
"""

from __future__ import annotations

import multiprocessing
import re
import signal
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

CONNECT_TIMEOUT_S = 4.0  # within the 10 s for an unreachable scheduler, imports included
RETRIES_AFTER_WORKER_DEATH = 1
FINISH, ABANDON = "finish", "abandon"  # what Ctrl-C does to the runs in flight
_LOCAL_CLUSTER = re.compile(r"local:(\d+)")
_TCP_ADDRESS = re.compile(r"tcp://[A-Za-z0-9.\-\[\]:]+:\d{1,5}")
_ENVIRONMENT_NAMES = {"version": "project version", "icd_fingerprint": "ICD fingerprint"}


class ExecutorError(Exception):
    """The executor cannot be used (bad --cluster, unreachable scheduler); one line."""


class EnvironmentMismatch(ExecutorError):
    """A worker runs another project version or ICD than this process; one line."""


def worker_environment() -> dict:
    """What must match between this process and every worker: project version and ICD."""
    from importlib.metadata import PackageNotFoundError, version

    from flightsw.icd import icd_fingerprint

    try:
        project = version("prospector")
    except PackageNotFoundError:  # a source tree run without installing it
        project = "not installed"
    return {"version": project, "icd_fingerprint": f"{icd_fingerprint():08x}"}


def environment_difference(worker: dict, here: dict) -> str:
    """What differs between a worker's environment and ours, in words ('' if nothing)."""
    return "; ".join(f"{_ENVIRONMENT_NAMES.get(key, key)} {worker.get(key)}, here "
                     f"{here.get(key)}" for key in sorted(here.keys() | worker.keys())
                     if worker.get(key) != here.get(key))


def worker_died_record(task: dict, detail: str) -> dict:
    """The result of a run whose worker died twice: an error, with the task's seed."""
    return {"seed": task.get("seed"), "outcome": "error", "worker_died": True,
            "error": f"worker died twice running this seed ({detail})"}


def parse_cluster(text: str) -> tuple[str, int | str]:
    """'local:N' -> ('local', N); 'tcp://host:port' -> ('tcp', text); else ExecutorError."""
    m = _LOCAL_CLUSTER.fullmatch(text.strip())
    if m:
        n = int(m.group(1))
        if not 1 <= n <= 256:
            raise ExecutorError(f"--cluster {text}: expected local:N with 1 <= N <= 256 "
                                f"worker processes")
        return "local", n
    if _TCP_ADDRESS.fullmatch(text.strip()):
        port = int(text.rsplit(":", 1)[1])
        if 1 <= port <= 65535:
            return "tcp", text.strip()
    raise ExecutorError(f"--cluster: expected local:N (a Dask LocalCluster of N processes) "
                        f"or tcp://HOST:PORT (a Dask scheduler), got {text!r}")


def make_executor(cluster: str | None, jobs: int | None):
    """The executor a sweep asked for: local processes unless `cluster` names Dask."""
    if cluster is None:
        return LocalExecutor(jobs)
    kind, where = parse_cluster(cluster)
    return DaskExecutor(n_workers=where) if kind == "local" else DaskExecutor(address=where)


class TaskQueue:
    """The tasks of a sweep in the order they are to start.  While runs go on the caller
    may put a task first (it starts next); what was not started when the executor stopped
    (deadline, Ctrl-C) is still here."""

    def __init__(self, tasks: Iterable[dict] = ()):
        self._tasks = deque(tasks)

    def put_first(self, task: dict) -> None:
        self._tasks.appendleft(task)

    def take(self) -> dict:
        return self._tasks.popleft()

    def left(self) -> list[dict]:
        return list(self._tasks)

    def __len__(self) -> int:
        return len(self._tasks)


def _queue(tasks) -> TaskQueue:
    return tasks if isinstance(tasks, TaskQueue) else TaskQueue(tasks)


def _may_start(deadline: float | None) -> bool:
    return deadline is None or time.monotonic() < deadline


def _check_policy(on_interrupt: str) -> None:
    if on_interrupt not in (FINISH, ABANDON):
        raise ValueError(f"on_interrupt: expected {FINISH!r} or {ABANDON!r}, "
                         f"got {on_interrupt!r}")


def _say_waiting(n: int) -> None:
    print(f"prospector: stopping: waiting for the {n} run{'s' if n != 1 else ''} in flight "
          f"to end (Ctrl-C again abandons them)", file=sys.stderr, flush=True)


def ignore_sigint() -> None:
    """In a worker process: Ctrl-C at the terminal is for the process that started it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _children_ignore_sigint():
    """Processes started inside ignore SIGINT from their first instruction: an ignored
    signal stays ignored across exec, and Python then installs no KeyboardInterrupt
    handler; the initializer (ignore_sigint) alone would leave their start-up exposed.
    This process ignores a Ctrl-C only for the few milliseconds of a process start."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield  # signals are the main thread's; a handler not set from Python stays
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class LocalExecutor:
    """Spawned processes of this machine: each starts clean (nothing inherited)."""

    name = "local"

    def __init__(self, jobs: int | None = None):
        import os
        self.jobs = jobs or os.cpu_count() or 1

    def describe(self) -> str:
        return f"{self.jobs} local processes"

    def slots(self) -> int:
        return self.jobs

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def run(self, fn: Callable[[dict], dict], tasks, *, deadline: float | None = None,
            on_interrupt: str = FINISH) -> Iterator[tuple[dict, dict]]:
        # One single-process pool per slot, not one pool of `jobs` processes: a process that
        # dies breaks its whole pool, and only a pool of one tells whose run killed it (the
        # other runs in flight go on untouched).  Each slot's process lives on between runs.
        _check_policy(on_interrupt)
        ctx = multiprocessing.get_context("spawn")
        queue = _queue(tasks)
        slots: list[ProcessPoolExecutor | None] = [None] * self.jobs
        running: dict = {}  # future -> (slot, task)
        deaths: dict[int, int] = {}  # id(task) -> deaths so far
        interrupted = abandon = False
        try:
            while True:
                busy = {slot for slot, _ in running.values()}
                for slot in range(len(slots)):
                    if interrupted or not queue or not _may_start(deadline):
                        break
                    if slot in busy:
                        continue
                    if slots[slot] is None:
                        slots[slot] = ProcessPoolExecutor(max_workers=1, mp_context=ctx,
                                                          initializer=ignore_sigint)
                    task = queue.take()
                    with _children_ignore_sigint():  # the slot's process may start here
                        running[slots[slot].submit(fn, task)] = (slot, task)
                if not running:
                    break
                try:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt:
                    if interrupted or on_interrupt == ABANDON:
                        abandon = True
                        raise
                    interrupted = True
                    _say_waiting(len(running))
                    continue
                for fut in done:
                    slot, task = running.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool as exc:  # this run's process died
                        slots[slot].shutdown(wait=False)
                        slots[slot] = None
                        deaths[id(task)] = deaths.get(id(task), 0) + 1
                        if deaths[id(task)] <= RETRIES_AFTER_WORKER_DEATH:
                            queue.put_first(task)  # once more, in a new process, next
                            continue
                        result = worker_died_record(task, repr(exc))
                    deaths.pop(id(task), None)
                    yield task, result
            if interrupted:
                raise KeyboardInterrupt
        finally:
            _close_slots(slots, running, finish=on_interrupt == FINISH and not abandon)


def _close_slots(slots: list, running: dict, finish: bool) -> None:
    """Shut the slots' processes down: after the runs in flight end (finish), or at once
    (their processes ignore SIGINT, so they are terminated)."""
    if finish and running:
        _say_waiting(len(running))
    try:
        for pool in slots:
            if pool is not None:
                if not finish:
                    # ProcessPoolExecutor has no public way to stop a running call before
                    # Python 3.14 (terminate_workers); its processes are in _processes.
                    for process in list(getattr(pool, "_processes", {}).values()):
                        process.terminate()
                pool.shutdown(wait=True, cancel_futures=True)
    except KeyboardInterrupt:
        if finish:  # Ctrl-C again while waiting: abandon what is left
            _close_slots(slots, {}, finish=False)
        raise


class DaskExecutor:
    """A Dask cluster: one we start on 127.0.0.1 (n_workers), one at `address`, or the
    caller's own client (never closed here)."""

    name = "dask"

    def __init__(self, n_workers: int | None = None, address: str | None = None,
                 client=None):
        if (n_workers is None) == (address is None) and client is None:
            raise ValueError("DaskExecutor: give n_workers or address (or a client)")
        self.n_workers, self.address = n_workers, address
        self.client, self.cluster, self._own_client = client, None, client is None

    def describe(self) -> str:
        if self.n_workers is not None:
            return f"Dask LocalCluster of {self.n_workers} processes"
        return f"Dask cluster at {self.address or self.client.scheduler.address}"

    def slots(self) -> int:
        """Worker threads of the cluster now (at least 1: a run waits for a worker)."""
        return max(1, sum(self.client.nthreads().values()))

    def __enter__(self):
        import dask
        from dask.distributed import Client, LocalCluster

        if self.client is None:
            if self.n_workers is not None:
                # Scheduler-side: a run whose worker dies is run once more, then reported;
                # and a worker holds only the run it is flying (saturation 1.0: no run
                # queued on it), so its death is charged to that run alone.
                with dask.config.set({"distributed.scheduler.allowed-failures":
                                      RETRIES_AFTER_WORKER_DEATH,
                                      "distributed.scheduler.worker-saturation": 1.0}):
                    self.cluster = LocalCluster(
                        n_workers=self.n_workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address=None)
                self.client = Client(self.cluster)
                # Our workers leave Ctrl-C to this process (and so do those the nanny
                # starts again after a death: a plugin runs on every worker that joins).
                self.client.register_worker_callbacks(setup=_worker_ignores_sigint)
            else:
                try:
                    self.client = Client(self.address, timeout=CONNECT_TIMEOUT_S)
                except (OSError, TimeoutError) as exc:
                    raise ExecutorError(f"--cluster {self.address}: no Dask scheduler "
                                        f"answered within {CONNECT_TIMEOUT_S:.0f} s "
                                        f"({type(exc).__name__})") from None
        try:
            self.check_workers()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self._own_client and self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        if self._own_client:
            self.client = None
        self.cluster = None
        return False

    def check_workers(self) -> None:
        """Every worker's version and ICD fingerprint equal ours, or EnvironmentMismatch."""
        here = worker_environment()
        if self.n_workers is not None:
            self.client.wait_for_workers(self.n_workers, timeout=60)
        seen = self.client.run(worker_environment)
        if not seen:
            raise ExecutorError(f"{self.describe()}: no workers")
        for address, env in sorted(seen.items()):
            if env != here:
                raise EnvironmentMismatch(
                    f"--cluster: worker {address} differs from this machine: "
                    f"{environment_difference(env, here)}; install the same project on "
                    f"every worker")

    def run(self, fn: Callable[[dict], dict], tasks, *, deadline: float | None = None,
            on_interrupt: str = FINISH) -> Iterator[tuple[dict, dict]]:
        from distributed import KilledWorker
        from distributed import wait as wait_any

        _check_policy(on_interrupt)
        queue = _queue(tasks)
        here = worker_environment()
        token = uuid.uuid4().hex[:8]  # keys unique even on a client that ran other sweeps
        running: dict = {}  # future -> task
        started = 0
        interrupted = abandon = False
        try:
            while True:
                if not interrupted and queue and _may_start(deadline):
                    for _ in range(self.slots() - len(running)):
                        if not queue:
                            break
                        task = queue.take()
                        started += 1
                        label = task.get("seed", task.get("name", ""))
                        # pure=False: the same task twice (a --force rerun) must run.
                        running[self.client.submit(
                            checked_run, fn, task, here, pure=False,
                            key=f"run-{label}-{started}-{token}")] = task
                if not running:
                    break
                try:
                    done, _ = wait_any(list(running), return_when="FIRST_COMPLETED")
                except KeyboardInterrupt:
                    if interrupted or on_interrupt == ABANDON:
                        abandon = True
                        raise
                    interrupted = True
                    _say_waiting(len(running))
                    continue
                for fut in done:
                    task = running.pop(fut)
                    try:
                        result = fut.result()
                    except KilledWorker as exc:
                        result = worker_died_record(task, f"KilledWorker: {exc}")
                    if result.get("environment_mismatch"):
                        abandon = True
                        raise EnvironmentMismatch(result["error"])
                    yield task, result
            if interrupted:
                raise KeyboardInterrupt
        finally:
            self._stop(running, finish=on_interrupt == FINISH and not abandon)

    def _stop(self, running: dict, finish: bool) -> None:
        """Runs still in flight when the sweep stops: waited for (finish), else cancelled
        (a run already on a worker goes on there; its result is dropped)."""
        from distributed import wait as wait_all

        try:
            if finish and running:
                _say_waiting(len(running))
                wait_all(list(running))
        finally:
            for fut in running:
                fut.cancel()


def _worker_ignores_sigint() -> None:
    """On each Dask worker of a cluster we start, as it joins (see ignore_sigint)."""
    try:
        ignore_sigint()
    except ValueError:  # not the main thread: the worker keeps Dask's own handling
        pass


def checked_run(fn: Callable[[dict], dict], task: dict, expected: dict) -> dict:
    """On the worker: refuse to run under another version or ICD (a worker that joined the
    cluster after the start-up check), else the run function's result."""
    env = worker_environment()
    if env != expected:
        return {"seed": task.get("seed"), "outcome": "error", "environment_mismatch": True,
                "error": f"--cluster: a worker differs from this machine: "
                         f"{environment_difference(env, expected)}; install the same "
                         f"project on every worker"}
    return fn(task)
