"""Sweep executors (issue 17): scheduling overhead per run, and throughput of 1 and 2 workers.

Prints figures, never pass/fail.  Two measurements:
  1. overhead: N runs of a function that does nothing, on each executor, 1 worker: the wall
     time per run is what the executor itself costs (submit, pickle, result back, record);
     the issue asks for at most 1 s a run;
  2. throughput: the same real sweep (bennu-hover cut to --duration simulated seconds,
     --seeds seeds, through sim.sweep.run_sweep: records, table, aggregate) on 1 worker
     then on 2, for each executor: runs per minute and the ratio (the issue asks >= 1.8x
     on 2 cores, which only an otherwise idle machine can show).
Usage: python bench/bench_sweep_dask.py [--seeds 8] [--duration 120] [--noop 200]
       [--executors local,dask]
"""

import argparse
import tempfile
import time
from pathlib import Path

from sim.executors import DaskExecutor, LocalExecutor
from sim.sweep import run_sweep


def nothing(task: dict) -> dict:
    """A run that costs nothing: what is left of its wall time is the executor's."""
    return {"seed": task["seed"], "outcome": "n/a", "error": None}


def _executor(kind: str, workers: int):
    return LocalExecutor(jobs=workers) if kind == "local" else DaskExecutor(n_workers=workers)


def overhead(kind: str, n: int) -> None:
    with _executor(kind, 1) as ex:
        list(ex.run(nothing, [{"seed": 0}]))  # the worker up and warm before timing
        t0 = time.perf_counter()
        done = sum(1 for _ in ex.run(nothing, [{"seed": s} for s in range(n)]))
        wall_s = time.perf_counter() - t0
    # local: each ex.run starts its process again, so this includes one process start.
    print(f"  {kind:<6} {done} empty runs on 1 worker: {wall_s:.2f} s, "
          f"{1000.0 * wall_s / done:.1f} ms a run"
          + (" (one process start included)" if kind == "local" else ""))


def throughput(kind: str, seeds: list[int], duration_s: float) -> None:
    rates = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            agg = run_sweep("bennu-hover", seeds, Path(tmp) / "sweep", progress=False,
                            overrides={"scenario.duration_s": duration_s},
                            executor=_executor(kind, workers))
            wall_s = time.perf_counter() - t0
        runs_wall = agg["figures"]["wall_duration_s"]
        rates[workers] = len(seeds) / wall_s * 60.0
        print(f"  {kind:<6} {workers} worker(s): {len(seeds)} runs in {wall_s:.1f} s "
              f"({rates[workers]:.2f} runs/min; a run's own wall p50 "
              f"{runs_wall['p50']:.1f} s), errors {len(agg['errors'])}")
    print(f"  {kind:<6} 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=8, help="0: measure the overhead alone")
    ap.add_argument("--duration", type=float, default=120.0, help="simulated s per run")
    ap.add_argument("--noop", type=int, default=200, help="empty runs for the overhead")
    ap.add_argument("--executors", default="local,dask")
    args = ap.parse_args()
    kinds = [k for k in args.executors.split(",") if k]
    print(f"overhead ({args.noop} empty runs):")
    for kind in kinds:
        overhead(kind, args.noop)
    if args.seeds < 1:  # --seeds 0: the overhead alone
        return
    print(f"throughput (bennu-hover, {args.duration:g} s simulated, {args.seeds} seeds):")
    for kind in kinds:
        throughput(kind, list(range(1, args.seeds + 1)), args.duration)


if __name__ == "__main__":
    main()
