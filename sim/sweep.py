"""Monte Carlo sweeps: one scenario over many seeds, in parallel processes.

Each seed is a complete run in DIR/seed-NNN (flight log, summary, events);
DIR/aggregate.json holds, for every numeric summary figure, its percentiles
over the seeds, and the count of each outcome; DIR/sweep.html shows the
touchdown scatter about the target with its 99% ellipse.  A seed whose run
raises is recorded with outcome "error" and its message: the sweep goes on.
"""

import json
import math
import multiprocessing
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from flightsw.run_dir import check_out_dir
from sim.runner import prepare_run_dir, run_scenario
from sim.scenario import load_scenario

PERCENTILES = (1, 5, 50, 95, 99)


class SeedSpecError(ValueError):
    """A --seeds value that is not a list or range of non-negative integers."""


def parse_seeds(text: str) -> list[int]:
    """'1-50', '1,3,7' or '4' (and mixes such as '1-3,9') to a sorted list of seeds."""
    seeds: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if lo > hi or lo < 0:
                    raise ValueError
                seeds.update(range(lo, hi + 1))
            else:
                value = int(part)
                if value < 0:
                    raise ValueError
                seeds.add(value)
        except ValueError:
            raise SeedSpecError(f"--seeds: expected seeds like 1-50 or 1,3,7 (non-negative "
                                f"integers), got {text!r}") from None
    return sorted(seeds)  # never empty: each part adds a seed or raises


def run_one_seed(job: tuple) -> dict:
    scenario, seed, seed_dir, overrides, force = job
    try:
        sc = load_scenario(scenario, {**overrides, "scenario.seed": seed})
        # force: the seed's directory holds the earlier sweep's run of this seed (run_sweep
        # checked it is ours and cleared it; the marker left in it must not stop the run).
        summary = run_scenario(sc, Path(seed_dir), force=force, write_report=False,
                               progress=False)
    except Exception as exc:  # one broken seed must not end the sweep; it is reported
        return {"seed": seed, "outcome": "error", "error": f"{type(exc).__name__}: {exc}"}
    summary["seed"] = seed
    return summary


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
              overrides: dict | None = None) -> dict:
    out_dir = Path(out_dir)
    overrides = dict(overrides or {})
    # A bad scenario or override fails here, once, before any process starts; so does a
    # target the simulator would refuse.
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
    # Every directory is checked before any is touched (flightsw/run_dir.py).
    # Without force a sweep directory that holds anything is refused here, so a seed directory
    # already there means force: each must then be a run of ours.
    check_out_dir(out_dir, force, "sweep")
    existing = [d for d in (out_dir / f"seed-{s:04d}" for s in seeds) if d.exists()]
    for d in existing:
        check_out_dir(d, force, "run")
    prepare_run_dir(out_dir, force, kind="sweep")
    jobs = jobs or os.cpu_count() or 1
    work = [(scenario, s, str(out_dir / f"seed-{s:04d}"), overrides, force) for s in seeds]
    if force:
        for _, _, d, _, _ in work:
            prepare_run_dir(Path(d), force=True)
    start = time.perf_counter()
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm
        bar = tqdm(total=len(work), unit="run", desc="sweep", file=sys.stderr)
    summaries = []
    # spawn: each worker starts clean (no inherited state from the parent process).
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes=min(jobs, len(work))) as pool:
        for summary in pool.imap_unordered(run_one_seed, work):
            summaries.append(summary)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    summaries.sort(key=lambda s: s["seed"])
    agg = aggregate(summaries)
    agg.update({"scenario": scenario, "seeds": seeds, "jobs": jobs, "overrides": overrides,
                "wall_duration_s": round(time.perf_counter() - start, 2)})
    (out_dir / "aggregate.json").write_text(json.dumps(agg, indent=2, sort_keys=True) + "\n")
    from sim.report_tag import write_sweep_report
    write_sweep_report(out_dir, summaries, agg)
    return agg
