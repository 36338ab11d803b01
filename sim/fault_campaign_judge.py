"""The judge of one fault-campaign run (sim.fault_campaign_run flies it): its record, from
what the flight sent (summary figures, downlinked events and mode) and the simulator's
truth (the history's position), never from flight objects.

A record holds the case (kind, phase, seed, transient or permanent), the fault entry and
its time, whether and when the fault was detected (latency from the injection and from
the first moment it could be seen: `exposure`), the monitor and response, SAFE (entered,
longest stretch, distance from the centre while in it), unplanned contacts, escape, the
closest approach, the radius range after the fault, the outcome (sampled), whether the
mission went on (`resumed`), the final mode, and `problems`: what it failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from flightsw.core.modes import Mode
from sim import fault_campaign as fc

SAFE = int(Mode.SAFE)
DESCENT = int(Mode.DESCENT)
SAFE_BAND_M = (500.0, 5000.0)  # the issue: SAFE holds the probe this far from the centre
JUDGE_VERSION = 3  # records of an older judge are judged again from their run's files


def judge(job: dict, summary: dict, out: Path) -> dict:
    """The run's record from what the flight sent (summary figures, events) and the
    simulator's truth (history: position, the downlinked mode)."""
    case = job["case"]
    t0 = job["t_fault_s"]
    entry = job["fault"]
    t_end_fault = t0 + entry.get("duration_s", np.inf)
    fault = (summary.get("faults") or [{}])[0]
    hist = np.load(out / "history.npz")
    t, mode = hist["t_s"], hist["mode"].astype(int)
    radius = np.linalg.norm(hist["pos_i_m"], axis=1)
    events = fc.read_events(out / "events.log")
    after = t >= t0
    exposed = exposure(case["kind"], t0, t_end_fault, job.get("exposed_at_s", t0), t, mode,
                       events)
    detected_at = fault.get("detected_at_s")
    if detected_at is not None and (exposed is None or exposed > detected_at):
        exposed = t0  # seen before the reference said it could be: from the injection
    rec = {
        **case, "t_fault_s": t0, "duration_s": job["duration_s"], "fault": entry,
        "resume_class": job["resume_class"], "window_s": job["window_s"],
        "detected": detected_at is not None, "detected_at_s": detected_at,
        "latency_s": fault.get("detection_latency_s"),
        "exposed_at_s": exposed,
        "latency_from_exposure_s": None if detected_at is None or exposed is None
        else round(detected_at - exposed, 3),
        "monitor": fault.get("monitor"), "response": fault.get("response"),
        "reason": fault.get("reason"), "cleared_at_s": fault.get("cleared_at_s"),
        "safe_at_s": fault.get("safe_at_s"), "recovered": fault.get("recovered"),
        "surface_impacts": summary.get("surface_impacts"),
        "unplanned_contacts": [c for c in summary.get("surface_contacts") or []
                               if not c.get("planned")],
        "escaped": summary.get("escaped"), "min_clearance_m": summary.get("min_clearance_m"),
        "max_radius_m": _num(radius[after].max()) if after.any() else None,
        "min_radius_m": _num(radius[after].min()) if after.any() else None,
        "outcome": summary.get("outcome"), "sampled": summary.get("outcome") == "sampled",
        "final_mode": summary.get("final_mode"),
        "task_trips": (summary.get("fault_protection") or {}).get("trips", {}).get("TASK", 0),
        "error": None, "reproduce": job.get("reproduce"), "judge": JUDGE_VERSION,
        "extended_s": job.get("extended_s"),
    }
    rec |= safe_figures(t, mode, radius, t0)
    rec["resumed"] = resumed(job, rec, events)
    # Not resumed yet, but a descent was under way when the run ended: cut short, not stuck.
    rec["descent_at_end"] = rec["resumed"] is False and rec["final_mode"] == "DESCENT"
    last = [e for e in events if e.source in ("modes", "tag", "safe", "survey")]
    rec["last_event"] = f"{last[-1].t_s:.1f} {last[-1].source}: {last[-1].text}" \
        if last else None
    rec["problems"] = problems(rec, job.get("hold_s"))
    return rec


def _num(x) -> float | None:
    x = float(x)
    return round(x, 3) if np.isfinite(x) else None


def exposure(kind: str, t0: float, t_end: float, planned: float | None, t, mode,
             events: Sequence[fc.Event]) -> float | None:
    """When the fault could first be seen: the injection, or for a device in use only
    now and then its first use while the fault lasts (from the run's downlinked mode and
    events; for a stuck-off thruster or a failed wheel, from the nominal reference: the
    plan's `planned`).  None: never within the run (a latent fault)."""
    def first(ts) -> float | None:
        ts = [x for x in ts if t0 <= x < t_end]
        return min(ts) if ts else None

    if kind == "lidar_loss":  # its ranges are used in the descent only
        return first(t[(mode == DESCENT) & (t >= t0)][:1].tolist() or [])
    if kind == "spectrometer_loss":  # on while the survey scans
        scanning = [e.t_s for e in events if e.source == "survey"
                    and e.text.startswith("at the station: scanning")]
        done = [e.t_s for e in events if e.source == "survey" and e.text.startswith("scan done")]
        start = max([s for s in scanning if s <= t0], default=None)
        if start is not None and not any(start <= d < t0 for d in done):
            return t0
        return first(scanning)
    if kind == "sampler_gas_failure":
        return first(e.t_s for e in events if e.source == "tag"
                     and e.text.startswith("sampler gas fired"))
    if kind in ("thruster_stuck_off", "wheel_failure"):
        return planned
    return t0


def safe_figures(t, mode, radius, t0: float) -> dict:
    """SAFE after the fault: when it began, its longest unbroken stretch, the distance from
    the centre while in it, and the issue's band (500 m .. 5 km): from when SAFE first had
    the probe at 500 m or more (a SAFE that begins near the surface climbs there first),
    the smallest and largest distance; in_band: it got there and never left."""
    safe = (mode == SAFE) & (t >= t0)
    if not safe.any():
        return {"safe_entered_s": None, "safe_held_s": 0.0, "safe_min_radius_m": None,
                "safe_max_radius_m": None, "safe_band_from_s": None,
                "safe_band_min_radius_m": None, "safe_band_max_radius_m": None,
                "safe_in_band": None}
    idx = np.flatnonzero(safe)
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.r_[idx[0], idx[breaks + 1]]
    ends = np.r_[idx[breaks], idx[-1]]
    held = max(float(t[e] - t[s]) for s, e in zip(starts, ends, strict=True))
    up = idx[radius[idx] >= SAFE_BAND_M[0]]
    band = idx[idx >= up[0]] if up.size else idx[:0]
    lo = _num(radius[band].min()) if band.size else None
    hi = _num(radius[band].max()) if band.size else None
    return {"safe_entered_s": float(t[idx[0]]), "safe_held_s": held,
            "safe_min_radius_m": _num(radius[safe].min()),
            "safe_max_radius_m": _num(radius[safe].max()),
            "safe_band_from_s": float(t[up[0]]) if up.size else None,
            "safe_band_min_radius_m": lo, "safe_band_max_radius_m": hi,
            "safe_in_band": bool(band.size) and SAFE_BAND_M[0] <= lo and hi <= SAFE_BAND_M[1]}


def resumed(job: dict, rec: dict, events: Sequence[fc.Event]) -> bool | None:
    """For a fault the mission should ride out: the sample (touch-and-go phases), or the
    phase's milestone reached after the fault (survey phases: the next phase begins)."""
    if job["resume_class"] is None:
        return None
    phase = fc.PHASES[rec["phase"]]
    if phase.milestone is not None:
        return fc.first_event_at(events, phase.milestone, rec["t_fault_s"]) is not None
    return bool(rec["sampled"])


def problems(rec: dict, hold_s: float | None) -> list[str]:
    """What the run failed, each a short phrase (empty: nothing)."""
    out = []
    if rec.get("error"):
        out.append("error")
    if rec.get("surface_impacts"):
        out.append("impact")
    if rec.get("escaped"):
        out.append("escape")
    if rec["kind"] != "task_exception" and rec.get("task_trips"):
        out.append("task exception")
    if not rec["detected"] and rec["exposed_at_s"] is not None:
        out.append("undetected")
    late = rec.get("latency_from_exposure_s")
    if late is not None and ((rec["kind"] in fc.NAV_SENSOR_LOSSES and late > 2.0)
                             or (rec["kind"] in fc.STUCK_THRUSTERS and late > 30.0)):
        out.append("late")
    if rec.get("safe_in_band") is False and rec.get("safe_band_from_s") is not None:
        out.append("SAFE left 500 m..5 km")
    if rec.get("hold") and hold_s is not None:
        if rec["safe_held_s"] < hold_s:
            out.append("SAFE held too short")
        if rec.get("safe_band_from_s") is None:
            out.append("SAFE never at 500 m")
    if rec.get("resumed") is False:
        out.append("not resumed")
    return out
