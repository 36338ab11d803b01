"""Where the runs of a sweep execute: local processes or a Dask cluster, behind one seam.

An executor takes a pure run function (top level, importable by name: `fn(task) -> dict`)
and a list of tasks (plain picklable dicts) and yields `(task, result)` pairs as runs
finish, in whatever order they finish.  Whoever runs it, a task gives the same result: the
run function sees nothing of its executor (no worker id, no wall clock in its identity).

  LocalExecutor(jobs)      a pool of spawned processes on this machine (what sweeps did
                           before issue 17); `--jobs N`.
  DaskExecutor(address)    `local:N`: a Dask LocalCluster of N single-threaded worker
                           processes listening on 127.0.0.1 only (dashboard off);
                           `tcp://HOST:PORT`: the scheduler of an existing cluster.

Failures, the same on both:
  * a run function that raises is the run function's business: the sweep's own (sim.sweep)
    catches everything and returns an error record, so the sweep goes on;
  * a worker process that dies (killed, out of memory) loses the runs it had in flight;
    each is run once more elsewhere, and a second death is recorded as the run's error
    (`worker_died`), never a lost run.  On Dask this is the scheduler's own accounting
    (`distributed.scheduler.allowed-failures` = 1 and `worker-saturation` = 1.0 for the
    clusters we start; a scheduler we only connect to keeps its own settings, 3 retries
    by default).
Before any run, each Dask worker reports its project version and ICD fingerprint
(flightsw.icd.icd_fingerprint); a worker that differs from this process refuses the sweep
(EnvironmentMismatch), since its runs could not be compared with anyone's.
"""

from __future__ import annotations

import multiprocessing
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

CONNECT_TIMEOUT_S = 4.0  # within the 10 s for an unreachable scheduler, imports included
RETRIES_AFTER_WORKER_DEATH = 1
_LOCAL_CLUSTER = re.compile(r"local:(\d+)")
_TCP_ADDRESS = re.compile(r"tcp://[A-Za-z0-9.\-\[\]:]+:\d{1,5}")


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


class LocalExecutor:
    """Spawned processes of this machine: each starts clean (nothing inherited)."""

    name = "local"

    def __init__(self, jobs: int | None = None):
        import os
        self.jobs = jobs or os.cpu_count() or 1

    def describe(self) -> str:
        return f"{self.jobs} local processes"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def run(self, fn: Callable[[dict], dict], tasks: list[dict]) -> Iterator[tuple[dict, dict]]:
        # One single-process pool per slot, not one pool of `jobs` processes: a process that
        # dies breaks its whole pool, and only a pool of one tells whose run killed it (the
        # other runs in flight go on untouched).  Each slot's process lives on between runs.
        ctx = multiprocessing.get_context("spawn")
        queue = deque(enumerate(tasks))
        slots: list[ProcessPoolExecutor | None] = [None] * min(self.jobs, len(tasks))
        running: dict = {}
        deaths: dict[int, int] = {}
        try:
            while queue or running:
                busy = {slot for slot, _, _ in running.values()}
                for slot in range(len(slots)):
                    if queue and slot not in busy:
                        if slots[slot] is None:
                            slots[slot] = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
                        i, task = queue.popleft()
                        running[slots[slot].submit(fn, task)] = (slot, i, task)
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    slot, i, task = running.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool as exc:  # this run's process died
                        slots[slot].shutdown(wait=False)
                        slots[slot] = None
                        deaths[i] = deaths.get(i, 0) + 1
                        if deaths[i] > RETRIES_AFTER_WORKER_DEATH:
                            yield task, worker_died_record(task, repr(exc))
                        else:
                            queue.append((i, task))  # once more, in a new process
                        continue
                    yield task, result
        finally:
            for ex in slots:
                if ex is not None:
                    ex.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """A Dask cluster: one we start on 127.0.0.1 (n_workers) or one at `address`."""

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
        self.client = self.cluster = None
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
                    f"--cluster: worker {address} runs version {env['version']} ICD "
                    f"{env['icd_fingerprint']}, this sweep version {here['version']} ICD "
                    f"{here['icd_fingerprint']}; install the same on every worker")

    def run(self, fn: Callable[[dict], dict], tasks: list[dict]) -> Iterator[tuple[dict, dict]]:
        from dask.distributed import as_completed
        from distributed import KilledWorker

        here = worker_environment()
        # pure=False: the same task twice (a --force rerun) must run, not hit a cache.
        futures = {self.client.submit(checked_run, fn, task, here, pure=False,
                                      key=f"run-{task.get('seed')}-{i}"): task
                   for i, task in enumerate(tasks)}
        try:
            for fut in as_completed(futures):
                task = futures.pop(fut)
                try:
                    result = fut.result()
                except KilledWorker as exc:
                    result = worker_died_record(task, f"KilledWorker: {exc}")
                if result.get("environment_mismatch"):
                    raise EnvironmentMismatch(result["error"])
                yield task, result
        finally:
            for fut in futures:  # runs not yet done when the sweep stops (Ctrl-C, mismatch)
                fut.cancel()


def checked_run(fn: Callable[[dict], dict], task: dict, expected: dict) -> dict:
    """On the worker: refuse to run under another version or ICD (a worker that joined the
    cluster after the start-up check), else the run function's result."""
    env = worker_environment()
    if env != expected:
        return {"seed": task.get("seed"), "outcome": "error", "environment_mismatch": True,
                "error": f"--cluster: a worker runs version {env['version']} ICD "
                         f"{env['icd_fingerprint']}, this sweep version {expected['version']} "
                         f"ICD {expected['icd_fingerprint']}; install the same on every worker"}
    return fn(task)
