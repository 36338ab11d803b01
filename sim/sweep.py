"""Monte Carlo sweeps: one scenario over many seeds, on local processes or a Dask cluster.

Each seed is a complete run in DIR/seed-NNNN (flight log, summary, events), flown by the
pure run function `fly_seed` on whichever executor the sweep was given (sim.executors);
its record (outcome, error, dispersed inputs, summary, flight log digest) is stored in
DIR/results/ the moment it comes back (sim.sweep_store), so `--resume` can continue a
sweep that died.  At the end, from every stored record: DIR/runs.parquet and runs.csv
(one row per run, sim.sweep_table), DIR/aggregate.json (percentiles of every numeric
figure, outcome counts, rates with Wilson 95 % intervals), DIR/sweep.html (outcomes, the
touchdown scatter of a touch-and-go sweep, the figures in words with units; sim.sweep_page)
and DIR/report.html (sim.sweep_report).  A seed whose run raises is
recorded with outcome "error" and its message: the sweep goes on.
"""

import hashlib
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from flightsw.run_dir import RunDirError, check_out_dir
from sim.runner import prepare_run_dir, run_scenario
from sim.scenario import load_scenario

PERCENTILES = (1, 5, 50, 95, 99)
MAX_SEEDS = 100_000  # per sweep: a typo such as 1-10000000 is refused, not planned


class SeedSpecError(ValueError):
    """A --seeds value that is not a list or range of non-negative integers."""


def parse_seeds(text: str) -> list[int]:
    """'1-50', '1,3,7' or '4' (and mixes such as '1-3,9') to a sorted list of seeds."""
    from sim.scenario import MAX_SEED

    seeds: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if lo > hi or lo < 0 or hi > MAX_SEED:
                    raise ValueError
                if hi - lo + 1 + len(seeds) > MAX_SEEDS:
                    raise SeedSpecError(f"--seeds: at most {MAX_SEEDS} seeds in one sweep, "
                                        f"got {text!r}")
                seeds.update(range(lo, hi + 1))
            else:
                value = int(part)
                if value < 0 or value > MAX_SEED:
                    raise ValueError
                seeds.add(value)
        except SeedSpecError:
            raise
        except ValueError:
            raise SeedSpecError(f"--seeds: expected seeds like 1-50 or 1,3,7 (non-negative "
                                f"integers), got {text!r}") from None
    return sorted(seeds)  # never empty: each part adds a seed or raises


def fly_seed(task: dict) -> dict:
    """One seed of a sweep, anywhere (a local process or a Dask worker): its record.

    Pure in what matters: the record depends only on the task (scenario, seed, settings),
    never on the executor.  Whatever goes wrong is the run's error, and the sweep goes on.
    """
    seed = task["seed"]
    dispersed: dict = {}
    try:
        sc = load_scenario(task["scenario"], {**task["overrides"], "scenario.seed": seed},
                           dispersed=True)
        dispersed = dict(sc.dispersed)
        run_dir = Path(task["run_dir"])
        # force: the driver checked the seed's directory is ours (an earlier or interrupted
        # run of this seed); run_scenario still refuses anything not written by prospector.
        summary = run_scenario(sc, run_dir, force=True, write_report=False, progress=False)
        digest = hashlib.sha256((run_dir / "flight.tlog").read_bytes()).hexdigest()
    except Exception as exc:  # one broken seed must not end the sweep; it is recorded
        return {"seed": seed, "outcome": "error", "error": f"{type(exc).__name__}: {exc}",
                "dispersed": dispersed, "summary": None, "flight_log_sha256": None}
    summary["seed"] = seed
    return {"seed": seed, "outcome": summary.get("outcome", "n/a"), "error": None,
            "dispersed": dispersed, "summary": summary, "flight_log_sha256": digest}


def numeric_leaves(summary: dict) -> dict[str, float]:
    out = {}
    for key, value in summary.items():
        if key in ("seed", "pid"):
            continue
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and math.isfinite(value):
            out[key] = float(value)
        elif key == "waveoffs" and isinstance(value, dict):
            out["waveoffs_count"] = float(value.get("count", 0))
    return out


def aggregate(summaries: list[dict]) -> dict:
    values: dict[str, list[float]] = {}
    for s in summaries:
        for key, v in numeric_leaves(s).items():
            values.setdefault(key, []).append(v)
    figures = {}
    for key, vals in sorted(values.items()):
        arr = np.asarray(vals)
        figures[key] = {"n": int(arr.size), "min": float(arr.min()), "max": float(arr.max()),
                        "mean": float(arr.mean())}
        figures[key].update({f"p{q}": float(np.percentile(arr, q)) for q in PERCENTILES})
    reasons = Counter(r for s in summaries for r in s.get("waveoffs", {}).get("reasons", []))
    return {
        "runs": len(summaries),
        "outcomes": dict(Counter(s.get("outcome", "n/a") for s in summaries)),
        "errors": {str(s["seed"]): s["error"] for s in summaries if "error" in s},
        "failed_seeds": sorted(s["seed"] for s in summaries if s.get("outcome") == "failed"),
        "waveoff_reasons": dict(reasons),
        "figures": figures,
    }


def run_sweep(scenario: str, seeds: list[int], out_dir: Path, jobs: int | None = None,
              force: bool = False, progress: bool | None = None,
              overrides: dict | None = None, cluster: str | None = None,
              resume: bool = False, executor=None) -> dict:
    """Fly `scenario` once per seed into out_dir; the aggregate (also in aggregate.json).

    `cluster`: None (local processes, `jobs` of them), 'local:N' or 'tcp://HOST:PORT'
    (sim.executors); or pass an `executor` object.  `resume`: continue the sweep in
    out_dir (same scenario, settings and dispersions), skipping seeds already recorded.
    Raises RunDirError, RunConfigError, ScenarioError, ResumeError, ExecutorError (one
    line each) before any run when the sweep cannot start.  Ctrl-C: the runs in flight end
    and are recorded, then KeyboardInterrupt (a second one abandons them; sim.executors).
    The Python API for users is prospector.sweep.run_sweep (it returns the table).
    """
    from sim.executors import make_executor
    from sim.sweep_store import (
        check_resumable,
        clear_records,
        manifest,
        read_records,
        seed_dir,
        write_manifest,
        write_record,
    )

    out_dir = Path(out_dir)
    overrides = dict(overrides or {})
    if resume and force:
        raise ValueError("--resume: keeps the runs already flown; --force replaces them "
                         "(not both)")
    if not seeds:
        raise SeedSpecError("--seeds: no seed to fly")
    sc = _check_whole_sweep(scenario, seeds, overrides)
    declared = dict(sc.dispersions.declared)
    wanted = manifest(scenario, sc.source, overrides, declared, list(seeds))
    # Every directory is checked before any is touched (flightsw/run_dir.py).  Without force
    # (or resume) a sweep directory that holds anything is refused here, so a seed directory
    # already there is an earlier run of ours: each must carry our marker.
    if resume:
        if not out_dir.is_dir():
            raise RunDirError(f"{out_dir}: --resume: no sweep to resume here (no such "
                              f"directory)")
        check_out_dir(out_dir, True, "sweep")
        old = check_resumable(out_dir, wanted)
        wanted["seeds"] = sorted(set(old.get("seeds", [])) | set(seeds))
    else:
        check_out_dir(out_dir, force, "sweep")
    for d in (seed_dir(out_dir, s) for s in seeds):
        if d.exists():
            check_out_dir(d, True, "run")
    executor = executor if executor is not None else make_executor(cluster, jobs)
    start = time.perf_counter()
    with executor as ex:  # a cluster that cannot be reached fails here, nothing written
        if resume:
            done = read_records(out_dir)
        else:
            prepare_run_dir(out_dir, force, kind="sweep")
            clear_records(out_dir)
            done = {}
        write_manifest(out_dir, wanted)
        todo = [s for s in seeds if s not in done]
        tasks = [{"scenario": scenario, "seed": s, "overrides": overrides,
                  "run_dir": str(seed_dir(out_dir, s).resolve())} for s in todo]
        bar = _bar(len(tasks), progress)
        for _task, record in ex.run(fly_seed, tasks) if tasks else ():
            write_record(out_dir, record | {"executor": ex.name})
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        workers = ex.describe()
        n_workers = getattr(ex, "jobs", None) or _dask_workers(ex)
    return finish_sweep(out_dir, wanted, time.perf_counter() - start, workers, n_workers,
                        skipped=len(seeds) - len(todo))


def finish_sweep(out_dir: Path, wanted: dict, wall_s: float, workers: str, n_workers,
                 skipped: int = 0) -> dict:
    """The sweep's tables, aggregate.json and page from every record stored in out_dir."""
    from sim.sweep_page import write_sweep_page
    from sim.sweep_store import read_records
    from sim.sweep_table import rates, write_tables

    stored = read_records(out_dir)
    records = [stored[s] for s in wanted["seeds"] if s in stored]
    summaries = [r["summary"] if r.get("summary") else
                 {"seed": r["seed"], "outcome": r.get("outcome", "error"),
                  "error": r.get("error") or "no result"} for r in records]
    write_tables(out_dir, records)
    agg = aggregate(summaries)
    agg.update({"scenario": wanted["scenario"], "seeds": wanted["seeds"], "jobs": n_workers,
                "executor": workers, "overrides": wanted["overrides"],
                "dispersions": wanted["dispersions"], "rates": rates(records),
                "missing_seeds": [s for s in wanted["seeds"] if s not in stored],
                "skipped_already_done": skipped, "wall_duration_s": round(wall_s, 2)})
    (out_dir / "aggregate.json").write_text(json.dumps(agg, indent=2, sort_keys=True) + "\n")
    write_sweep_page(out_dir, summaries, agg)  # sweep.html: fits the scenario, names in words
    from sim.sweep_report import write_report_html
    write_report_html(out_dir)  # DIR/report.html: the sweep report (sim/sweep_report.py)
    return agg


def _check_whole_sweep(scenario: str, seeds: list[int], overrides: dict):
    """A bad scenario, override or dispersion fails here, once, before any process starts;
    so does a target the simulator would refuse."""
    from sim.runner import RunConfigError
    from sim.scenario_faults import sil_refusal
    from sim.site import SiteError
    from sim.world import World

    sc = load_scenario(scenario, overrides)
    if (refused := sil_refusal(sc)) is not None:
        raise RunConfigError(refused)
    try:
        World(sc)
    except SiteError as exc:
        raise RunConfigError(str(exc)) from None
    if sc.dispersions.declared:
        # Each seed's draw is checked against the scenario's rules and the flight
        # software's parameter limits (a few ms a seed), so a bad draw stops the sweep here.
        from sim.runner import parameter_overrides
        for s in seeds:
            parameter_overrides(load_scenario(scenario, {**overrides, "scenario.seed": s},
                                              dispersed=True), None)
    return sc


def _bar(total: int, progress: bool | None):
    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="run", desc="sweep", file=sys.stderr)


def _dask_workers(ex) -> int | None:
    client = getattr(ex, "client", None)
    if client is None:
        return None
    return len(client.scheduler_info().get("workers", {}))
