"""Flying the fault campaign (sim.fault_campaign is its plan): the nominal references, one
process per run, the judge's record of each run, and the campaign's files.

DIR/reference/<scenario>-seed-NNNN  nominal runs the phases are found in
DIR/runs/<phase>/<kind>-<persistence>-seed-NNNN  one run each (record.json: its record)
DIR/plan.json      every planned run: its fault entry, duration and overrides
DIR/campaign.json  every run's record, the table and the issue's numbers
DIR/campaign.md    the same for people (sim.fault_campaign_table)

A run that raises is recorded with its error and the campaign goes on.  The records are
rewritten as each run ends, so a campaign stopped early (Ctrl-C, --max-wall-min) keeps what
it flew; --resume flies only the runs without a record for the same plan.  A run's
flight.tlog, truth.npz and flight_config.json are deleted once judged unless it failed a
check (or --keep-logs): its summary, events and history stay.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from flightsw.run_dir import check_out_dir
from sim import fault_campaign as fc
from sim.executors import TaskQueue, make_executor
from sim.fault_campaign_judge import JUDGE_VERSION, judge
from sim.fault_campaign_table import campaign_tables, write_markdown

PRUNED = ("flight.tlog", "truth.npz", "flight_config.json")


# -- workers (top level: spawned processes import them) ------------------------------------
def fly(job: dict) -> dict:
    """One run (reference or campaign), in a worker: its record, or its error."""
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    start = time.perf_counter()
    out = Path(job["dir"])
    try:
        sc = load_scenario(job["scenario"], job["overrides"])
        params = job.get("params_file")
        summary = run_scenario(sc, out, force=True, write_report=False, progress=False,
                               params_file=None if params is None else Path(params))
    except Exception as exc:  # recorded; the campaign goes on
        error = f"{type(exc).__name__}: {exc}"
        out_rec = {"name": job["name"], "error": error,
                   "wall_s": round(time.perf_counter() - start, 1)}
        if not job.get("reference"):
            out_rec |= _bare_record(job, error)
        return out_rec
    if job.get("reference"):
        return {"name": job["name"], "reference": True,
                "wall_s": round(time.perf_counter() - start, 1)}
    try:
        record = judge(job, summary, out)
    except Exception as exc:  # the judge's own failure is an error of the run too
        record = {"error": f"judging: {type(exc).__name__}: {exc}"}
    record |= {"name": job["name"], "wall_s": round(time.perf_counter() - start, 1)}
    if not job.get("keep_logs") and not record.get("problems"):
        for name in PRUNED:
            (out / name).unlink(missing_ok=True)
    (out / "record.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return record


# -- the campaign --------------------------------------------------------------------------
def campaign_result(job: dict, result: dict) -> dict:
    """A run's result as the campaign records it: a run whose worker died twice (killed,
    out of memory; sim.executors retries once) is the run's error."""
    if not result.get("worker_died"):
        return result
    out = {"name": job["name"], "error": f"worker: {result['error']}"}
    return out if job.get("reference") else out | _bare_record(job, out["error"])


# A run cut short where the mission was still under way is flown once more, longer: a
# retried descent not yet at its contact, a survey resumed after SAFE still on its way,
# or a probe receding at the end (escaped by its speed, still within sim.safety's escape
# radius: leaving, or a climb not yet over).
EXTEND_DESCENT_S = 1800.0
EXTEND_RECEDING_S = 7200.0
EXTEND_SURVEY_S = 6000.0  # a survey resumed after SAFE: back to the station or site
ESCAPE_RADIUS_M = 20_000.0  # sim.safety.ESCAPE_RADIUS_M


def extension(job: dict, rec: dict) -> dict | None:
    """The job flown again longer, if its record says it was cut short (once only)."""
    if job.get("extended_s") or rec.get("error") or rec.get("extended_s"):
        return None
    if rec.get("descent_at_end"):
        ext, why = EXTEND_DESCENT_S, "a descent was under way at the end"
    elif rec.get("escaped") and (rec.get("max_radius_m") or 0.0) < ESCAPE_RADIUS_M:
        ext, why = EXTEND_RECEDING_S, "receding at the end, within the escape radius"
    elif rec.get("resumed") is False and rec.get("final_mode") == "SURVEY":
        ext, why = EXTEND_SURVEY_S, "a survey resumed after SAFE was under way at the end"
    else:
        return None
    duration = job["duration_s"] + ext
    ov = job["overrides"] | {"scenario.duration_s": duration}
    case = fc.Case(**{k: job["case"][k] for k in ("kind", "phase", "seed", "persistence",
                                                   "hold")})
    params = job.get("params_file")
    return job | {"duration_s": duration, "overrides": ov, "extended_s": ext, "why": why,
                  "reproduce": reproducer(case, ov, None if params is None else Path(params))}


def _bare_record(job: dict, error: str) -> dict:
    return {**job["case"], "t_fault_s": job["t_fault_s"], "duration_s": job["duration_s"],
            "fault": job["fault"], "resume_class": job["resume_class"],
            "window_s": job["window_s"], "error": error, "detected": False,
            "exposed_at_s": None, "problems": ["error"], "name": job["name"],
            "reproduce": job.get("reproduce")}


def run_campaign(out_dir: Path, *, kinds: Sequence[str], phases: Sequence[str],
                 seeds: Sequence[int], what: str = "matrix", jobs: int | None = None,
                 force: bool = False, resume: bool = False, persistence: str = "alternate",
                 transient_s: float = 300.0, post_s: float = 1800.0, pick: str = "active",
                 hold: Sequence[tuple[str, str]] = fc.DEFAULT_HOLD_CASES,
                 hold_s: float = 86400.0, overrides: dict | None = None,
                 max_wall_s: float | None = None, keep_logs: bool = False,
                 dry_run: bool = False, progress: bool = True, cluster: str | None = None,
                 executor=None) -> dict:
    """Plan, fly and judge the campaign in `out_dir`; returns campaign.json's content.

    The runs go through the executor seam (sim.executors): `jobs` local processes, or
    `cluster` 'local:N' / 'tcp://HOST:PORT' on Dask (the campaign directory must then be
    on a file system every worker shares, at the same path), or an `executor` object.  A
    run's record is the same whichever executor flew it (but its wall_s).  Ctrl-C: no run
    starts, those in flight end and are recorded, campaign.json is written, and the
    KeyboardInterrupt goes on up (--resume continues)."""
    from sim.runner import prepare_run_dir

    out_dir = Path(out_dir)
    overrides = dict(overrides or {})
    check_options(transient_s, post_s, hold_s, max_wall_s)
    cases, refused = fc.matrix_cases(kinds, phases, seeds, persistence) \
        if what in ("matrix", "all") else ([], [])
    if what in ("hold", "all"):  # first: the longest runs, and a budget must not cut them
        cases = fc.hold_cases(hold, seeds[0]) + cases
    scenarios = check_scenarios({c.scenario for c in cases}, overrides)
    check_out_dir(out_dir, force or resume, "sweep")
    if executor is None:
        executor = make_executor(cluster, jobs or os.cpu_count() or 1)
    with executor as ex:  # a cluster that cannot be reached fails here, nothing written
        prepare_run_dir(out_dir, force or resume, kind="sweep")
        start = time.monotonic()
        say = (lambda text: print(text, file=sys.stderr, flush=True)) if progress else \
            (lambda text: None)
        refs = references(out_dir, cases, seeds, overrides, ex, resume, say)
        plan = [plan_job(c, refs, scenarios, overrides, out_dir, transient_s=transient_s,
                         post_s=post_s, pick=pick, hold_s=hold_s, keep_logs=keep_logs)
                for c in cases]
        (out_dir / "plan.json").write_text(json.dumps(plan, indent=1, sort_keys=True) + "\n")
        meta = {"code": code_version(), "kinds": list(kinds), "phases": list(phases),
                "seeds": list(seeds), "what": what,
                "persistence": persistence, "transient_s": transient_s, "post_s": post_s,
                "pick": pick, "hold_cases": [list(h) for h in hold], "hold_s": hold_s,
                "overrides": overrides, "survey_overrides": fc.SURVEY_PARAMS,
                "jobs": ex.slots(), "executor": ex.describe(),
                "refused_cells": [list(r) for r in refused],
                "planned_runs": len(plan), "planned_sim_s": sum(j["duration_s"] for j in plan)}
        if dry_run:
            return meta | {"runs": [], "dry_run": True}
        deadline = None if max_wall_s is None else start + max_wall_s
        return _fly_plan(ex, plan, meta, out_dir, resume, start, deadline, say)


def _fly_plan(ex, plan: list[dict], meta: dict, out_dir: Path, resume: bool, start: float,
              deadline: float | None, say) -> dict:
    """Fly the planned runs not already recorded (--resume), in order, while the wall
    budget lasts; campaign.json and campaign.md rewritten as each run ends."""
    records: dict[str, dict] = {}
    queue = TaskQueue()
    for job in reversed(plan):  # put_first, last to first: the plan's order
        old = _earlier_record(job) if resume else None
        if old is None:
            queue.put_first(job)
        else:
            records[job["name"]] = old
    for job in plan:
        if job["name"] in records and (longer := extension(job, records[job["name"]])):
            queue.put_first(longer)
    say(f"fault campaign: {len(plan)} runs planned ({meta['planned_sim_s']:.0f} s simulated),"
        f" {len(records)} kept from before, {len(queue)} to fly on {meta['executor']}")

    def write(final: bool = False) -> dict:
        runs = [records[j["name"]] if j["name"] in records else
                {**j["case"], "name": j["name"], "not_run": True} for j in plan]
        data = meta | {"wall_s": round(time.monotonic() - start, 1), "finished": final,
                       "runs": runs} | campaign_tables(runs, meta)
        (out_dir / "campaign.json").write_text(json.dumps(data, indent=1, sort_keys=True)
                                               + "\n")
        write_markdown(out_dir / "campaign.md", data)
        return data

    try:
        for job, result in ex.run(fly, queue, deadline=deadline):
            result = campaign_result(job, result)
            records[job["name"]] = result
            say(f"[{len(records)}/{len(plan)}] {job['name']}: {_one_line(result)}")
            if (longer := extension(job, result)) is not None:
                say(f"  flown again {longer['extended_s']:.0f} s longer: {longer['why']}")
                queue.put_first(longer)
            write()
    except KeyboardInterrupt:
        write()  # what was flown, for --resume
        raise
    left = queue.left()
    data = write(final=not left)
    if left:
        say(f"fault campaign: wall budget spent; {len(left)} runs not flown")
    return data


def code_version() -> str | None:
    """The commit of the code flown (the checkout this module is in), '+dirty' when the
    flight software or the simulator differ from it; None outside a git checkout."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, text=True,
                              capture_output=True, timeout=30, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "flightsw", "sim"],
                               cwd=root, text=True, capture_output=True, timeout=30,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def check_options(transient_s: float, post_s: float, hold_s: float, max_wall_s) -> None:
    if not 0.0 < transient_s <= 600.0:
        raise fc.CampaignError(f"--transient-s: expected a duration in (0, 600] s (a sensor "
                               f"back within 10 minutes), got {transient_s:g}")
    if not post_s >= 60.0:
        raise fc.CampaignError(f"--post-s: expected at least 60 s after the fault, "
                               f"got {post_s:g}")
    if not hold_s >= 3600.0:
        raise fc.CampaignError(f"--hold-s: expected at least 3600 s of SAFE, got {hold_s:g}")
    if max_wall_s is not None and not max_wall_s > 0.0:
        raise fc.CampaignError(f"--max-wall-min: expected a budget > 0, got {max_wall_s / 60:g}")


def check_scenarios(names, overrides: dict) -> dict:
    """Each scenario the campaign flies, loaded once with the overrides (a bad --set is
    one line here, before any process starts)."""
    from sim.scenario import load_scenario

    return {name: load_scenario(name, fc.SCENARIOS[name].overrides | overrides)
            for name in sorted(names)}


def references(out_dir: Path, cases, seeds, overrides: dict, ex, resume: bool, say) -> dict:
    """The nominal reference of each (scenario, seed) the cases need: its events and the
    history columns the plan reads.  Flown on the executor `ex` unless --resume finds it
    already there."""
    need = set()
    for c in cases:
        plan = fc.SCENARIOS[c.scenario]
        need.add((c.scenario, c.seed if plan.reference_per_seed else seeds[0]))
    work = []
    for scen, seed in sorted(need):
        d = out_dir / "reference" / f"{scen}-seed-{seed:04d}"
        ov = fc.SCENARIOS[scen].overrides | overrides | {
            "scenario.seed": seed, "scenario.duration_s": fc.SCENARIOS[scen].reference_s}
        if resume and _same_json(d / "reference.json", ov) and (d / "events.log").exists():
            continue
        if d.exists():
            check_out_dir(d, True, "run")
        work.append({"name": f"reference {scen} seed {seed}", "dir": str(d), "scenario": scen,
                     "overrides": ov, "reference": True})
    if work:
        say(f"fault campaign: {len(work)} nominal reference runs")
        failed = []

        for job, result in ex.run(fly, work):
            result = campaign_result(job, result)
            if result.get("error"):
                failed.append(f"{job['name']}: {result['error']}")
            else:
                (Path(job["dir"]) / "reference.json").write_text(
                    json.dumps(job["overrides"], sort_keys=True) + "\n")
            say(f"  {job['name']}: {result.get('error') or 'done'} "
                f"({result.get('wall_s', '?')} s)")
        if failed:
            raise fc.CampaignError(f"nominal reference run failed: {failed[0]}")
    refs = {}
    for scen, seed in need:
        d = out_dir / "reference" / f"{scen}-seed-{seed:04d}"
        try:
            with np.load(d / "history.npz") as h:
                hist = {k: h[k] for k in ("t_s", "thruster_on_s", "wheel_speed_radps")}
            events = fc.read_events(d / "events.log")
        except FileNotFoundError:  # flown by a worker on another machine
            raise fc.CampaignError(
                f"{d}: the reference run's files are not on this machine; on a cluster the "
                f"campaign directory must be on a file system every worker shares, at the "
                f"same path") from None
        refs[(scen, seed)] = (events, hist)
    return refs


def plan_job(case: fc.Case, refs: dict, scenarios: dict, overrides: dict, out_dir: Path, *,
             transient_s: float, post_s: float, pick: str, hold_s: float,
             keep_logs: bool) -> dict:
    """The run of `case`: its fault entry, duration and overrides."""
    phase = fc.PHASES[case.phase]
    plan = fc.SCENARIOS[case.scenario]
    ref_seed = case.seed if plan.reference_per_seed else min(s for (n, s) in refs
                                                            if n == case.scenario)
    events, hist = refs[(case.scenario, ref_seed)]
    window = fc.find_window(events, phase)
    t_s = fc.fault_time(case, window)
    sc = scenarios[case.scenario]
    slots = 7 if sc.spacecraft.thrusters.backaway_force_n > 0.0 else 6
    device = fc.pick_device(case, t_s, pick, hist, slots, sc.spacecraft.wheels.count)
    entry = fc.fault_entry(case, t_s, transient_s, device)
    duration = fc.run_duration(case, t_s, entry, events, post_s, hold_s)
    resume_class = case.resume_class
    if case.kind == "thruster_stuck_off" and device == 6:
        resume_class = None  # the back-away thruster has no second branch
    ov = plan.overrides | overrides | {
        "scenario.seed": case.seed, "scenario.duration_s": duration, "faults": [entry]}
    run_dir = out_dir / "runs" / case.name
    params_file = None
    if resume_class is not None:
        # The mission may go on by itself after this fault: SAFE may end by itself.  A
        # parameter file, as a scenario's [params] take numbers only and this is a bool.
        params_file = run_dir.parent / f"{run_dir.name}.params.txt"
        params_file.parent.mkdir(parents=True, exist_ok=True)
        params_file.write_text("SAFE_AUTO_EXIT = true\n")
    if case.kind == "sampler_gas_failure" and case.persistence == "permanent":
        # FIRE_GAS does nothing while the fault lasts, whichever bottle: flown to the
        # contact (where it shows) with SAFE's exit on, but no sample is expected.
        resume_class = None
    if case.hold:  # no ground command after the fault
        ov["commands"] = commands_before(sc.source, t_s)
    return {"name": case.name, "case": _case_dict(case),
            "reproduce": reproducer(case, ov, params_file), "dir": str(run_dir),
            "params_file": None if params_file is None else str(params_file),
            "scenario": case.scenario, "overrides": ov, "fault": entry, "t_fault_s": t_s,
            "window_s": list(window), "duration_s": duration, "resume_class": resume_class,
            "exposed_at_s": planned_exposure(case.kind, t_s, entry, device, hist),
            "hold_s": hold_s if case.hold else None, "keep_logs": keep_logs}


def commands_before(source: str, t_s: float) -> list[dict]:
    """The scenario file's [[commands]] (as written: integer arguments stay integers)
    before t_s."""
    import tomllib

    with open(source, "rb") as f:
        commands = tomllib.load(f).get("commands", [])
    return [c for c in commands if c.get("t_s", 0.0) < t_s]


def _case_dict(case: fc.Case) -> dict:
    return {"kind": case.kind, "phase": case.phase, "seed": case.seed,
            "persistence": case.persistence, "hold": case.hold, "scenario": case.scenario}


def planned_exposure(kind: str, t_s: float, entry: dict, device, hist: dict) -> float | None:
    """A stuck-off thruster is seen when it is next commanded, a failed wheel while it
    turns: when the nominal reference does either (None: not in the next 600 s / slower
    than fc.MIN_WHEEL_RADPS)."""
    t = hist["t_s"]
    k = fc._index_at(t, t_s)
    if kind == "thruster_stuck_off":
        end = t_s + float(entry.get("duration_s", 600.0))
        kk = fc._index_at(t, end)
        fired = np.flatnonzero(hist["thruster_on_s"][k:kk, device] > 0.0)
        return float(t[k + fired[0]]) if fired.size else None
    if kind == "wheel_failure":
        k = min(k, len(t) - 1)
        return t_s if abs(float(hist["wheel_speed_radps"][k][device])) >= fc.MIN_WHEEL_RADPS \
            else None
    return t_s


def _same_json(path: Path, value) -> bool:
    try:
        return json.loads(path.read_text()) == json.loads(json.dumps(value, sort_keys=True))
    except (OSError, ValueError):
        return False


def _earlier_record(job: dict) -> dict | None:
    """The record a previous campaign left for the same run (same fault, same length);
    judged again from the run's files if an older judge wrote it."""
    out = Path(job["dir"])
    try:
        rec = json.loads((out / "record.json").read_text())
    except (OSError, ValueError):
        return None
    same = rec.get("fault") == json.loads(json.dumps(job["fault"])) and \
        rec.get("duration_s") == job["duration_s"] + (rec.get("extended_s") or 0.0)
    if not same or rec.get("error"):
        return None
    if rec.get("judge") == JUDGE_VERSION:
        return rec
    try:
        summary = json.loads((out / "summary.json").read_text())
        flown = job | {"duration_s": rec["duration_s"], "extended_s": rec.get("extended_s")}
        new = judge(flown, summary, out) | {"name": job["name"], "wall_s": rec.get("wall_s")}
    except (OSError, ValueError, KeyError):
        return None  # flown again
    (out / "record.json").write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
    return new


def _one_line(rec: dict) -> str:
    if rec.get("error"):
        return f"ERROR {rec['error']}"
    det = f"detected +{rec['latency_s']:.1f} s {rec['response']}" if rec["detected"] else \
        ("latent" if rec["exposed_at_s"] is None else "UNDETECTED")
    res = "" if rec["resumed"] is None else (", resumed" if rec["resumed"] else
                                             ", not resumed")
    bad = f" [{', '.join(rec['problems'])}]" if rec["problems"] else ""
    return f"{det}{res}, final {rec['final_mode']} ({rec['wall_s']:.0f} s){bad}"


def toml_inline(value) -> str:
    """A value as inline TOML (for a --set on the command line)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={toml_inline(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(toml_inline(v) for v in value) + "]"


def reproducer(case: fc.Case, overrides: dict, params_file: Path | None) -> str:
    """The prospector run command that flies this run again, alone."""
    sets = " ".join(f"--set '{k}={toml_inline(v)}'" for k, v in overrides.items()
                    if k not in ("scenario.seed", "scenario.duration_s"))
    params = "" if params_file is None else f" --params {params_file}"
    return (f"prospector run --scenario {case.scenario} --seed {case.seed} --duration "
            f"{overrides['scenario.duration_s']:g} {sets}{params} --out runs/repro")
