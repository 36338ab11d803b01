"""The fault campaign's table and the issue's numbers (issue 15), from the runs' records
(sim.fault_campaign_run.judge), and campaign.md.

Each number is measured over the flown runs and set against what the issue asks:
  runs                   at least 200, every SIL kind at every phase
  unplanned contacts     0 (the judge's surface_impacts: bus, or head outside the sequence)
  escapes                0
  unhandled exceptions   0 (runs that raised; a flight task's exception where none was
                         injected, seen as a TASK trip)
  faults detected        all that could be seen: a fault of a device not used while it
                         lasted (an altimeter outside a descent, a thruster never commanded)
                         is latent, listed apart
  sensor-loss latency    <= 2 s for the navigation sensors, from the first moment the loss
                         could be seen (the spectrometer, 30 s by FP_SPEC_STALE_S, apart)
  stuck-thruster latency <= 30 s
  SAFE hold              the hold runs: SAFE for hold_s, 500 m .. 5 km from the centre
  resumed                >= 90 % after a transient fault or a loss redundancy covers
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sim import fault_campaign as fc

RESUME_GOAL = 0.9
MIN_RUNS = 200


def _flown(runs):
    return [r for r in runs if not r.get("not_run")]


def cell_summary(runs: list[dict]) -> dict:
    """One (kind, phase) cell: counts and worst figures over its flown runs."""
    flown = _flown(runs)
    ok = [r for r in flown if not r.get("error")]
    exposed = [r for r in ok if r.get("exposed_at_s") is not None]
    lat = [r["latency_from_exposure_s"] for r in ok
           if r.get("latency_from_exposure_s") is not None]
    res = [r for r in ok if r.get("resume_class") in ("transient", "redundancy", "backup")]
    return {
        "runs": len(flown), "not_run": len(runs) - len(flown),
        "errors": sum(1 for r in flown if r.get("error")),
        "detected": sum(1 for r in exposed if r["detected"]), "exposed": len(exposed),
        "latent": sum(1 for r in ok if r.get("exposed_at_s") is None and not r["detected"]),
        "max_latency_s": max(lat) if lat else None,
        "responses": dict(Counter(r["response"] for r in ok if r.get("response"))),
        "resumed": sum(1 for r in res if r.get("resumed")), "resume_runs": len(res),
        "safe": sum(1 for r in ok if r.get("safe_entered_s") is not None),
        "impacts": sum(r.get("surface_impacts") or 0 for r in ok),
        "escapes": sum(1 for r in ok if r.get("escaped")),
        "problems": sorted({p for r in flown for p in r.get("problems", [])}),
    }


def campaign_tables(runs: list[dict], meta: dict) -> dict:
    """The table by kind and phase, the counts and the issue's numbers."""
    matrix = [r for r in runs if not r.get("hold")]
    holds = [r for r in runs if r.get("hold")]
    cells = {}
    for r in matrix:
        cells.setdefault(r["kind"], {}).setdefault(r["phase"], []).append(r)
    table = {k: {p: cell_summary(rs) for p, rs in by_phase.items()}
             for k, by_phase in cells.items()}
    return {"table": table, "counts": counts(matrix),
            "numbers": issue_numbers(matrix, holds, meta)}


def counts(matrix: list[dict]) -> dict:
    flown = _flown(matrix)
    return {"runs": len(flown), "not_run": len(matrix) - len(flown),
            "by_kind": dict(Counter(r["kind"] for r in flown)),
            "by_phase": dict(Counter(r["phase"] for r in flown)),
            "by_persistence": dict(Counter(r["persistence"] for r in flown))}


def _number(name: str, measured, required: str, passed: bool | None, note: str = "") -> dict:
    return {"name": name, "measured": measured, "required": required, "pass": passed,
            "note": note}


def issue_numbers(matrix: list[dict], holds: list[dict], meta: dict) -> list[dict]:
    """The issue's numbers; those no run measured (a hold-only campaign has no matrix)
    have pass None."""
    out = _matrix_numbers(matrix, holds, meta) if _flown(matrix) else []
    out.append(_hold_number(holds, meta))
    return out


def _matrix_numbers(matrix: list[dict], holds: list[dict], meta: dict) -> list[dict]:
    flown = _flown(matrix)
    every = flown + _flown(holds)
    ok = [r for r in flown if not r.get("error")]
    kinds, phases = meta.get("kinds", []), meta.get("phases", [])
    refused = {tuple(c) for c in meta.get("refused_cells", [])}
    want = {(k, p) for k in kinds for p in phases} - refused
    covered = {(r["kind"], r["phase"]) for r in flown}
    all_kinds = set(kinds) == set(fc.CAMPAIGN_KINDS) and set(phases) == set(fc.PHASES)
    out = [_number("runs, every SIL kind at every phase",
                   f"{len(flown)} runs; {len(covered & want)}/{len(want)} cells",
                   f">= {MIN_RUNS} runs, all kinds x all phases",
                   len(flown) >= MIN_RUNS and want <= covered and all_kinds,
                   f"{len(refused)} cells no scenario can fly: "
                   f"{', '.join(f'{k}@{p}' for k, p in sorted(refused))}" if refused else "")]
    impacts = sum(r.get("surface_impacts") or 0 for r in every)
    out.append(_number("unplanned surface contacts", impacts, "0", impacts == 0,
                       _names(r for r in every if r.get("surface_impacts"))))
    esc = [r for r in every if r.get("escaped")]
    out.append(_number("escapes", len(esc), "0", not esc, _names(esc)))
    errors = [r for r in every if r.get("error")]
    tasks = [r for r in every if r["kind"] != "task_exception" and r.get("task_trips")]
    out.append(_number("unhandled exceptions", len(errors) + len(tasks), "0",
                       not errors and not tasks,
                       f"{len(errors)} runs raised, {len(tasks)} runs with a flight task's "
                       f"exception not injected" + _names(errors + tasks, ": ")))
    exposed = [r for r in ok if r.get("exposed_at_s") is not None]
    missed = [r for r in exposed if not r["detected"]]
    latent = [r for r in ok if r.get("exposed_at_s") is None and not r["detected"]]
    detected = sum(1 for r in ok if r["detected"])
    out.append(_number("faults detected", f"{len(exposed) - len(missed)}/{len(exposed)} that "
                       f"could be seen", "all", not missed,
                       f"strictly {detected}/{len(ok)}; {len(latent)} latent: the device not "
                       f"exercised while the fault lasted" + _names(latent, " (")
                       + (")" if latent else "") + _names(missed, "; missed: ")))
    for name, kinds_, limit in (("navigation-sensor loss detected within", fc.NAV_SENSOR_LOSSES,
                                 2.0),
                                ("stuck thruster detected within", fc.STUCK_THRUSTERS, 30.0)):
        lat = [r for r in ok if r["kind"] in kinds_ and r.get("latency_from_exposure_s")
               is not None]
        worst = max((r["latency_from_exposure_s"] for r in lat), default=None)
        slow = [r for r in lat if r["latency_from_exposure_s"] > limit]
        out.append(_number(f"{name} {limit:g} s",
                           f"max {worst:.2f} s over {len(lat)}" if worst is not None else
                           "none detected", f"<= {limit:g} s",
                           bool(lat) and not slow, _names(slow)))
    spec = [r["latency_from_exposure_s"] for r in ok if r["kind"] == "spectrometer_loss"
            and r.get("latency_from_exposure_s") is not None]
    if spec:
        out.append(_number("spectrometer loss detected within (FP_SPEC_STALE_S)",
                           f"max {max(spec):.1f} s over {len(spec)}", "(not a navigation "
                           "sensor: FP_SPEC_STALE_S = 30 s)", None))
    reached = [r for r in ok if r.get("safe_band_from_s") is not None]
    band = [r for r in reached if not r.get("safe_in_band")]
    climbing = [r for r in ok if r.get("safe_entered_s") is not None
                and r.get("safe_band_from_s") is None]
    out.append(_number("matrix runs in SAFE within 500 m .. 5 km",
                       f"{len(reached) - len(band)}/{len(reached)} stayed once there",
                       "all", not band,
                       f"{len(climbing)} more still below 500 m at the end (SAFE from near the "
                       f"surface, climbing)" + _names(band, "; left the band: ")))
    res = [r for r in ok if r.get("resume_class") in ("transient", "redundancy")]
    n_res = sum(1 for r in res if r.get("resumed"))
    frac = n_res / len(res) if res else None
    backup = [r for r in ok if r.get("resume_class") == "backup"]
    under_way = [r for r in res if r.get("descent_at_end")]
    out.append(_number("resumed and sampled after a transient fault or a covered loss",
                       f"{n_res}/{len(res)} ({frac:.0%})" if res else "no runs",
                       f">= {RESUME_GOAL:.0%}", frac is not None and frac >= RESUME_GOAL,
                       "survey phases: the next phase reached; backups (gyro bias, next gas "
                       f"bottle): {sum(1 for r in backup if r.get('resumed'))}/{len(backup)}"
                       + (f"; {len(under_way)} not resumed were descending when the run "
                          f"ended" + _names(under_way) if under_way else "")))
    return out


def _hold_number(holds: list[dict], meta: dict) -> dict:
    hold_s = meta.get("hold_s", 86400.0)
    errors = [r for r in _flown(holds) if r.get("error")]
    flown = [r for r in _flown(holds) if not r.get("error")]
    if errors and not flown:
        return _number(f"SAFE holds 500 m .. 5 km for {hold_s / 3600:g} h", f"{len(errors)} "
                       f"hold runs raised", f">= {hold_s:g} s, 500 .. 5000 m", False,
                       _names(errors))
    if not flown:
        return _number(f"SAFE holds 500 m .. 5 km for {hold_s / 3600:g} h", "no hold runs",
                       f">= {hold_s:g} s, 500 .. 5000 m", None)
    held = min(r["safe_held_s"] for r in flown)
    lo = min((r["safe_band_min_radius_m"] for r in flown
              if r.get("safe_band_min_radius_m") is not None), default=None)
    hi = max((r["safe_band_max_radius_m"] for r in flown
              if r.get("safe_band_max_radius_m") is not None), default=None)
    bad = errors + [r for r in flown if r["safe_held_s"] < hold_s or not r.get("safe_in_band")]
    return _number(f"SAFE holds 500 m .. 5 km for {hold_s / 3600:g} h, no ground command",
                   f"{len(flown) + len(errors) - len(bad)}/{len(flown) + len(errors)} hold "
                   f"runs; shortest {held:.0f} s; radius once at 500 m {_fmt(lo)} .. "
                   f"{_fmt(hi)} m", f">= {hold_s:g} s, 500 .. 5000 m",
                   not bad and len(flown) == len(holds), _names(bad))


def _fmt(x, digits=0) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _names(runs, lead: str = ": ") -> str:
    names = [r.get("name", "?") for r in runs]
    if not names:
        return ""
    more = f" and {len(names) - 8} more" if len(names) > 8 else ""
    return lead + ", ".join(names[:8]) + more


# -- campaign.md ---------------------------------------------------------------------------
RESP_SHORT = {"BACKUP": "BK", "SAFE": "SF", "ABORT": "AB", "RECONFIGURE": "RC", "LOG": "LG",
              "DUMP": "DP"}


def cell_text(c: dict | None) -> str:
    """A cell: detected/exposed, worst latency, responses, resumed/expected, flags."""
    if c is None:
        return "-"
    if c["runs"] == 0:
        return f"not run ({c['not_run']})"
    parts = [f"{c['detected']}/{c['exposed']}"]
    if c["latent"]:
        parts[-1] += f"+{c['latent']}L"
    if c["max_latency_s"] is not None:
        parts.append(f"{c['max_latency_s']:.1f}s")
    if c["responses"]:
        parts.append("".join(RESP_SHORT.get(k, k[:2]) for k in sorted(c["responses"])))
    if c["resume_runs"]:
        parts.append(f"r{c['resumed']}/{c['resume_runs']}")
    flags = [f"**{p.upper()}**" for p in c["problems"] if p != "not resumed"]
    return " ".join(parts + flags)


def write_markdown(path: Path, data: dict) -> None:
    runs = data["runs"]
    phases = [p for p in fc.PHASES if p in data.get("phases", fc.PHASES)]
    kinds = [k for k in fc.CAMPAIGN_KINDS if k in data.get("kinds", fc.CAMPAIGN_KINDS)]
    c = data["counts"]
    lines = ["# Fault campaign (issue 15)", "",
             f"{c['runs']} matrix runs flown ({c['not_run']} not run), "
             f"{sum(1 for r in runs if r.get('hold') and not r.get('not_run'))} SAFE-hold runs; "
             f"seeds {data['seeds']}, persistence {data['persistence']} (transient "
             f"{data['transient_s']:g} s), post-fault window {data['post_s']:g} s, devices "
             f"{data['pick']}; code {data.get('code') or 'unknown'}; wall "
             f"{data['wall_s'] / 60:.1f} min"
             + ("" if data.get("finished") else " (unfinished)") + ".", "",
             "## The issue's numbers", "", "| number | measured | required | pass |",
             "|---|---|---|---|"]
    for n in data["numbers"]:
        verdict = "n/a" if n["pass"] is None else ("PASS" if n["pass"] else "**FAIL**")
        note = f" ({n['note']})" if n["note"] else ""
        lines.append(f"| {n['name']} | {n['measured']}{note} | {n['required']} | {verdict} |")
    lines += ["", "## Outcomes by kind and phase", "",
              "Cell: faults detected / faults that could be seen (+N latent: never exercised "
              "while it lasted), worst detection latency from then, the responses (BK backup, "
              "RC reconfigure, AB abort, SF SAFE, LG log, DP dump), resumed r/n for the runs "
              "that should ride the fault out (sampled; survey phases: next phase reached), "
              "and any **PROBLEM**.", "",
              "| kind | " + " | ".join(phases) + " |", "|---" * (len(phases) + 1) + "|"]
    for k in kinds:
        row = data["table"].get(k, {})
        lines.append(f"| {k} | " + " | ".join(cell_text(row.get(p)) for p in phases) + " |")
    if c["runs"]:
        lines += ["", "Runs per kind: " + ", ".join(f"{k} {n}" for k, n in
                                                    c["by_kind"].items()),
                  "", "Runs per phase: " + ", ".join(f"{p} {n}" for p, n in
                                                     c["by_phase"].items()),
                  "", "Runs by persistence: " + ", ".join(f"{p} {n}" for p, n in
                                                         c["by_persistence"].items())]
    holds = [r for r in runs if r.get("hold") and not r.get("not_run")]
    if holds:
        lines += ["", "## SAFE hold runs", "",
                  "| run | fault at | SAFE from | SAFE held | radius in SAFE | at 500 m from "
                  "| radius from then | problems |", "|---|---|---|---|---|---|---|---|"]
        for r in holds:
            lines.append(f"| {r['name']} | {_fmt(r.get('t_fault_s'), 1)} s | "
                         f"{_fmt(r.get('safe_entered_s'))} s | {_fmt(r.get('safe_held_s'))} s "
                         f"| {_fmt(r.get('safe_min_radius_m'))} .. "
                         f"{_fmt(r.get('safe_max_radius_m'))} m | "
                         f"{_fmt(r.get('safe_band_from_s'))} s | "
                         f"{_fmt(r.get('safe_band_min_radius_m'))} .. "
                         f"{_fmt(r.get('safe_band_max_radius_m'))} m | "
                         f"{', '.join(r.get('problems') or []) or '-'} |")
    bad = [r for r in runs if r.get("problems")]
    if bad:
        lines += ["", "## Runs with a problem (reproducers)", "",
                  "| run | problems | fault | detected | response | final mode, last event "
                  "| reproduce |", "|---|---|---|---|---|---|---|"]
        for r in bad:
            det = "-" if not r.get("detected") else f"+{r.get('latency_s')} s"
            fault = ", ".join(f"{k}={v}" for k, v in (r.get("fault") or {}).items())
            lines.append(f"| {r['name']} | {', '.join(r['problems'])} | {fault} | {det} | "
                         f"{r.get('response') or '-'} | {r.get('final_mode') or '-'}; "
                         f"{r.get('last_event') or '-'} | `{r.get('reproduce', '')}` |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
