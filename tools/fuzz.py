"""make fuzz: structure-aware fuzzing of every reader and entry point (tests/fuzz/fuzzing.py).

    .venv/bin/python tools/fuzz.py --inputs 1000000 [--jobs 1] [--seed S]
        [--targets tlog,stream] [--results FILE]

Case i of target T is made from a random.Random seeded with (S, T, i) by the
same generators `make test` drives through hypothesis, so a run is the same
for the same seed and any case of it can be made again.  The cases run in
long-lived worker processes (--jobs, one by default), in batches interleaved
over the targets so that a run stopped early still has each target's share.
A worker runs each case in process under SIGALRM (the target's time limit: a
hang); a case stuck where no signal reaches it is ended by faulthandler at
twice the limit plus 30 s, the worker dies, and this process saves that case
as a hang and starts another worker.  Every failure (traceback, broken
invariant, hang) is saved under tests/fuzz/cases/<target>/, where `make test`
replays it.

Progress every --progress seconds on stderr; SIGINT or SIGTERM stops the run
after the batches under way (a second one at once) and the table of what was
done is printed all the same.  --results appends the table to a file
(bench/RESULTS.md).  Exit status 1 when anything failed.
"""

import argparse
import faulthandler
import multiprocessing as mp
import os
import resource
import shlex
import signal
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from multiprocessing.connection import wait
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fuzz"))

import fuzzing  # noqa: E402

# Share of the inputs per target: the log readers and the link the most (they take
# damaged bytes from outside); scenarios and configs are typed by people.
WEIGHTS = {"tlog": 0.20, "stream": 0.40, "scenario": 0.12, "config": 0.13, "ground": 0.15}
BATCH = {"tlog": 200, "stream": 1000, "scenario": 1000, "config": 500, "ground": 500}
RECYCLE_CASES = 50_000  # a worker is replaced after this many cases (memory stays flat)
WATCHDOG_FACTOR, WATCHDOG_EXTRA_S = 2.0, 30.0  # faulthandler ends a case at 2 x limit + 30 s
ENTRY_POINTS = {
    "tlog": "read_columns (1 in 8 in small chunks), frame_table, log info (text or --json "
            "in turn, both formats in process), export (1 in 10), replay (1 in 25)",
    "stream": "FrameReader, SerialBus on loop:// (1 in 10)",
    "scenario": "load_scenario",
    "config": "replay's load_recording, short replay (1 valid in 20)",
    "ground": "GroundLink (udpin on 127.0.0.1, real datagrams) -> UplinkGuard"}


# --------------------------------------------------------------------------- worker


def _worker(conn, state, seed: int) -> None:
    """Run batches (target, first case, count) sent on conn; answer with their tallies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    names = list(fuzzing.TARGETS)
    ws = fuzzing.Workspace()
    try:
        while True:
            task = conn.recv()
            if task is None:
                return
            target, first, count = task
            tally, failures = fuzzing.Tally(), []
            state[0] = names.index(target)
            watchdog_s = WATCHDOG_FACTOR * fuzzing.TIME_LIMIT_S[target] + WATCHDOG_EXTRA_S
            for i in range(first, first + count):
                state[1] = i
                cpu0 = time.process_time()
                try:
                    case = fuzzing.random_case(target, seed, i)
                except Exception as exc:  # the generator failed: say so, go on
                    tally.harness_errors += 1
                    failures.append((i, f"harness error while generating: {exc!r}"))
                    continue
                faulthandler.dump_traceback_later(watchdog_s, exit=True, file=sys.__stderr__)
                problem = fuzzing.run_case(target, case, i, tally, ws=ws)
                faulthandler.cancel_dump_traceback_later()
                tally.cpu_seconds += time.process_time() - cpu0
                if problem is not None:
                    failures.append((i, problem))
            state[1] = -1
            conn.send((asdict(tally), failures))
    finally:
        ws.close()


class Worker:
    def __init__(self, ctx, seed: int):
        self.conn, child = ctx.Pipe()
        self.state = ctx.RawArray("q", 2)
        self.state[1] = -1
        self.proc = ctx.Process(target=_worker, args=(child, self.state, seed), daemon=True)
        self.proc.start()
        child.close()
        self.task = None
        self.cases = 0

    def give(self, task) -> None:
        self.task = task
        self.conn.send(task)

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


# --------------------------------------------------------------------------- plan


def plan(inputs: int, names: list[str]) -> tuple[dict, list]:
    """(inputs per target, batches in the order to run them): each target's batches
    spread over the run in proportion to its share."""
    weight = sum(WEIGHTS[n] for n in names)
    quota = {n: max(1, round(inputs * WEIGHTS[n] / weight)) for n in names}
    keyed = []
    for n in names:
        for first in range(0, quota[n], BATCH[n]):
            count = min(BATCH[n], quota[n] - first)
            keyed.append(((first + count) / quota[n], n, first, count))
    keyed.sort(key=lambda k: (k[0], names.index(k[1])))
    return quota, [(n, first, count) for _, n, first, count in keyed]


# --------------------------------------------------------------------------- report


def table(tallies: dict, wall_s: float, cpu_s: float) -> str:
    lines = ["| target | entry points | inputs | tracebacks | hangs | CPU s | inputs/CPU s |",
             "|---|---|---|---|---|---|---|"]
    for name, t in tallies.items():
        rate = t.inputs / t.cpu_seconds if t.cpu_seconds else 0.0
        lines.append(f"| {name} | {ENTRY_POINTS[name]} | {t.inputs:,} | {t.tracebacks} | "
                     f"{t.hangs} | {t.cpu_seconds:,.0f} | {rate:,.0f} |")
    total = sum(t.inputs for t in tallies.values())
    lines.append(f"| all | | {total:,} | {sum(t.tracebacks for t in tallies.values())} | "
                 f"{sum(t.hangs for t in tallies.values())} | {cpu_s:,.0f} "
                 f"({wall_s:,.0f} wall) | {total / cpu_s if cpu_s else 0:,.0f} |")
    return "\n".join(lines)


def _cpu_now() -> float:
    """CPU seconds of this process and of its finished workers."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


# --------------------------------------------------------------------------- run


def run(inputs: int, names: list[str], jobs: int, seed: int, progress_s: float,
        quiet: bool, recycle: int = RECYCLE_CASES) -> tuple[dict, float, float, bool]:
    """(tallies, wall s, CPU s, stopped early)."""
    quota, tasks = plan(inputs, names)
    tasks.reverse()  # popped from the end
    tallies = {n: fuzzing.Tally() for n in names}
    ctx = mp.get_context("fork")
    stop = {"asked": 0}

    def on_signal(signum, frame):
        stop["asked"] += 1
        print(f"fuzz: {signal.Signals(signum).name}: stopping after the batches under way"
              if stop["asked"] == 1 else "fuzz: stopping now", file=sys.stderr, flush=True)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    wall0, cpu0 = time.perf_counter(), _cpu_now()
    next_progress = wall0 + progress_s
    workers: list[Worker] = []
    try:
        workers = [Worker(ctx, seed) for _ in range(min(jobs, len(tasks)))]
        while True:
            if stop["asked"] > 1:
                break
            for w in workers:
                if w.task is None and tasks and not stop["asked"]:
                    w.give(tasks.pop())
            busy = [w for w in workers if w.task is not None]
            if not busy:
                break
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                         timeout=max(0.1, next_progress - time.perf_counter()))
            for w in list(busy):
                if w.conn in ready:
                    try:
                        tally, failures = w.conn.recv()
                    except (EOFError, OSError):
                        tally = None
                    if tally is not None:
                        _take(tallies[w.task[0]], tally, failures, w.task[0])
                        w.cases += w.task[2]
                        w.task = None
                        if w.cases >= recycle and tasks:
                            w.stop()
                            workers[workers.index(w)] = Worker(ctx, seed)
                        continue
                if w.proc.sentinel in ready or not w.proc.is_alive():
                    w.proc.join()
                    _lost_worker(w, tallies, tasks, seed)
                    workers[workers.index(w)] = Worker(ctx, seed)
            if time.perf_counter() >= next_progress:
                next_progress += progress_s
                if not quiet:
                    _progress(tallies, quota, workers, wall0)
    finally:
        for w in workers:
            if stop["asked"] > 1 and w.proc.is_alive():
                w.proc.terminate()
            w.stop()
        for s, handler in old.items():
            signal.signal(s, handler)
    done = sum(t.inputs for t in tallies.values())
    return tallies, time.perf_counter() - wall0, _cpu_now() - cpu0, done < sum(quota.values())


def _take(total: "fuzzing.Tally", tally: dict, failures: list, target: str) -> None:
    total.add(fuzzing.Tally(**tally))
    for i, problem in failures:
        last = problem.strip().splitlines()[-1] if problem.strip() else problem
        print(f"  {target} case {i}: {last}", file=sys.stderr, flush=True)


def _lost_worker(w: Worker, tallies: dict, tasks: list, seed: int) -> None:
    """A worker died in a case (faulthandler's watchdog, or a crash): save that case,
    count it, give the rest of its batch to the next worker.  The cases it had finished
    in that batch are run again (their tallies died with it)."""
    target, first, count = w.task
    i = w.state[1] if w.state[1] >= first else first
    code = w.proc.exitcode
    fuzzing.remove_workspaces_of(w.proc.pid)
    kind = "hang" if code == 1 else f"crash (exit status {code})"
    tally = tallies[target]
    tally.inputs += 1
    if code == 1:
        tally.hangs += 1
    else:
        tally.tracebacks += 1
    path = fuzzing.save_case(target, fuzzing.random_case(target, seed, i), i)
    tally.saved.append(fuzzing.shown(path))
    print(f"  {target} case {i}: {kind}: the worker died; saved {path}", file=sys.stderr,
          flush=True)
    if i + 1 < first + count:
        tasks.append((target, i + 1, first + count - i - 1))
    if i > first:
        tasks.append((target, first, i - first))
    w.task = None


def _progress(tallies: dict, quota: dict, workers: list, wall0: float) -> None:
    wall = time.perf_counter() - wall0
    done = sum(t.inputs for t in tallies.values())
    parts = ", ".join(f"{n} {t.inputs:,}/{quota[n]:,} ({t.tracebacks} tb, {t.hangs} hang)"
                      for n, t in tallies.items())
    in_cases = sum(t.cpu_seconds for t in tallies.values())
    rss = ", ".join(f"{_rss_mb(w.proc.pid):.0f}" for w in workers)
    print(f"fuzz {datetime.now().strftime('%H:%M:%S')}: {done:,} inputs in {wall:,.0f} s "
          f"({done / wall if wall else 0:,.0f}/s wall, {done / in_cases if in_cases else 0:,.0f}"
          f"/CPU s): {parts}; worker RSS {rss} MB", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--targets", default=",".join(fuzzing.TARGETS))
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the run (default: from the clock, printed)")
    parser.add_argument("--progress", type=float, default=60.0,
                        help="seconds between progress lines (default 60)")
    parser.add_argument("--results", default=None, help="append the table to this file")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    names = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in names if t not in fuzzing.TARGETS]
    if unknown or args.inputs < 1 or args.jobs < 1 or not names:
        parser.error(f"--targets: known {', '.join(fuzzing.TARGETS)}; --inputs >= 1; "
                     "--jobs >= 1")
    seed = args.seed if args.seed is not None else time.time_ns() % 10**9
    command = "tools/fuzz.py " + shlex.join(
        (argv if argv is not None else sys.argv[1:]) + ([] if args.seed is not None
                                                        else ["--seed", str(seed)]))
    print(f"fuzz: {command}", file=sys.stderr, flush=True)
    fuzzing.warm_up()  # seeds parsed and code imported once, before the workers fork
    tallies, wall_s, cpu_s, stopped = run(args.inputs, names, args.jobs, seed, args.progress,
                                          args.quiet)
    text = table(tallies, wall_s, cpu_s)
    print(text)
    if stopped:
        print(f"stopped early: {sum(t.inputs for t in tallies.values()):,} of "
              f"{args.inputs:,} inputs")
    saved = [p for t in tallies.values() for p in t.saved]
    for path in saved:
        print(f"saved: {path}")
    if args.results:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
        with open(args.results, "a", encoding="utf-8") as out:
            early = (f", stopped early: {sum(t.inputs for t in tallies.values()):,} of "
                     f"{args.inputs:,} inputs" if stopped else "")
            out.write(f"\n## Fuzzing (issue 21) — `{command}`, {stamp}, {args.jobs} "
                      f"worker(s){early}\n\n{text}\n")
    return 1 if saved or any(t.tracebacks or t.hangs for t in tallies.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
