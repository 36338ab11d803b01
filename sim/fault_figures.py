"""The judge's figures of faults and survival: what was injected, what the flight software
said about it, and how close the probe came to the surface or to leaving.

Detection is read from what the flight software sent, never from its objects:
- events of source "faultprot" (STATUSTEXT), and of the executive's watchdog over
  fault protection (source "watchdog": a bite is a trip of TASK), of two forms:
      trip <MONITOR>: <reason>; response <RESPONSE>
      clear <MONITOR>
  MONITOR a PROBE_MONITOR name without its prefix (STAR_TRACKER, IMU, ...), RESPONSE one
  of RESPONSES;
- PROBE_FAULT_STATUS: a monitor's `tripped` bit rising counts as a trip (response
  unknown) and falling as a clear, for a trip or clear whose event did not come down.

Per injected fault (summary "faults"):
- monitor: the monitor that should see its kind (sim.scenario_faults.FAULT_KINDS);
- detected_at_s: the first trip of that monitor at or after the fault's t_s (and before
  the next fault for the same monitor, which takes the trips from then on); None if none;
- response: that trip's response; cleared_at_s: the monitor's first clear after it;
- safe_at_s: when the flight (by its HEARTBEAT) was first in SAFE from the detection on;
- recovered: None when not detected; otherwise true when the flight is not in SAFE at
  the end of the run and either the monitor cleared after the trip (the fault went away
  and fault protection saw it go) or the flight never went to SAFE after the detection
  (the mission went on with what remained: redundancy, a backup, a reconfiguration).

Clearance (sim.safety's truth): min_clearance_m is the smallest clearance of the bus
sphere or the sampler head to the surface, leaving out the head while the flight's
reported mode is one of the touch-and-go sequence's (DESCENT, TAG, BACKAWAY: its contact
is planned there); surface_impacts counts every contact of the bus, and every contact of
the head that began outside those modes; escaped is true when the probe went beyond
sim.safety.ESCAPE_RADIUS_M from the body's centre, or ended the run receding from it
faster than the local escape speed (sim/safety.py says why not "positive energy": a
body-fixed hover has it).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from flightsw.core.modes import Mode
from flightsw.icd import mavlink
from sim.scenario_faults import FAULT_KINDS

MONITOR_PREFIX = "PROBE_MONITOR_"
MONITORS = {e.name[len(MONITOR_PREFIX):]: k for k, e in mavlink.enums["PROBE_MONITOR"].items()
            if not e.name.endswith("_ENUM_END")}
MONITOR_NAMES = {k: name for name, k in MONITORS.items()}
RESPONSES = ("LOG", "BACKUP", "RECONFIGURE", "ABORT", "SAFE", "DUMP")
SAFE_PHASES = {k: e.name[len("PROBE_SAFE_PHASE_"):]
               for k, e in mavlink.enums["PROBE_SAFE_PHASE"].items()
               if not e.name.endswith("_ENUM_END")}
# The head's contact is planned in these modes (the touch-and-go sequence's).
SEQUENCE_MODES = frozenset({int(Mode.DESCENT), int(Mode.TAG), int(Mode.BACKAWAY)})
SAFE_MODE = int(Mode.SAFE)
MAX_CONTACTS_LISTED = 20


@dataclass(frozen=True)
class MonitorEvent:
    """A trip or a clear of a fault-protection monitor, as the ground received it."""

    t_s: float
    action: str  # "trip" or "clear"
    monitor: str
    reason: str = ""
    response: str | None = None


def parse_faultprot(t_s: float, text: str) -> MonitorEvent | None:
    """A "faultprot" event's text as a MonitorEvent (None: another kind of event)."""
    action, _, rest = text.strip().partition(" ")
    if action not in ("trip", "clear"):
        return None
    name, _, detail = rest.partition(":")
    name = name.strip().split(" ", 1)[0] if name.strip() else ""
    if name.startswith(MONITOR_PREFIX):
        name = name[len(MONITOR_PREFIX):]
    if name not in MONITORS:
        return None
    if action == "clear":
        return MonitorEvent(t_s, "clear", name, detail.strip())
    reason, sep, response = detail.rpartition("; response ")
    if not sep:
        return MonitorEvent(t_s, "trip", name, detail.strip())
    response = response.strip().split(" ", 1)[0].rstrip(".;")
    return MonitorEvent(t_s, "trip", name, reason.strip(),
                        response if response in RESPONSES else response or None)


def monitor_events(faultprot_events, tripped_changes) -> list[MonitorEvent]:
    """Trips and clears from the events, then from PROBE_FAULT_STATUS's tripped bits for
    a monitor whose event is missing (a status trip within 2 s after an event trip of the
    same monitor is the same trip)."""
    events = [e for ev in faultprot_events
              if (e := parse_faultprot(ev.time_us / 1e6, ev.text)) is not None]
    from_events: dict[tuple[str, str], list[float]] = {}
    for e in events:
        from_events.setdefault((e.action, e.monitor), []).append(e.t_s)
    previous = 0
    for t_us, bits in tripped_changes:
        t_s = t_us / 1e6
        for k, name in MONITOR_NAMES.items():
            rose = bool(bits >> k & 1) and not previous >> k & 1
            fell = not bits >> k & 1 and bool(previous >> k & 1)
            for action, changed in (("trip", rose), ("clear", fell)):
                if changed and not any(t_s - 2.0 <= t <= t_s
                                       for t in from_events.get((action, name), ())):
                    events.append(MonitorEvent(t_s, action, name, "PROBE_FAULT_STATUS"))
        previous = bits
    events.sort(key=lambda e: e.t_s)
    return events


def mode_at(mode_changes, t_s: float) -> int | None:
    """The flight's reported mode at t_s (its last HEARTBEAT change at or before)."""
    k = bisect_right(mode_changes, (round(t_s * 1e6), math.inf))
    return mode_changes[k - 1][1] if k else None


def fault_outcomes(faults: list[dict], events: list[MonitorEvent], mode_changes,
                   final_mode: int | None) -> list[dict]:
    """One entry per injected fault (see the module's docstring)."""
    out = []
    for fault in faults:
        monitor = _monitor(fault)
        t0 = fault["t_s"]
        # The next fault for the same monitor takes the trips from its own t_s on.
        until = min((f["t_s"] for f in faults if f["t_s"] > t0 and _monitor(f) == monitor),
                    default=math.inf)
        trip = next((e for e in events if e.action == "trip" and e.monitor == monitor
                     and t0 <= e.t_s < until), None)
        entry = dict(fault) | {"monitor": monitor, "detected_at_s": None,
                               "detection_latency_s": None, "response": None,
                               "reason": None, "cleared_at_s": None, "safe_at_s": None,
                               "recovered": None}
        if trip is not None:
            cleared = next((e.t_s for e in events if e.action == "clear"
                            and e.monitor == monitor and e.t_s >= trip.t_s), None)
            safe_at = _first_safe(mode_changes, trip.t_s)
            entry.update(detected_at_s=trip.t_s, detection_latency_s=round(trip.t_s - t0, 6),
                         response=trip.response, reason=trip.reason, cleared_at_s=cleared,
                         safe_at_s=safe_at,
                         recovered=final_mode != SAFE_MODE and (cleared is not None
                                                                or safe_at is None))
        out.append(entry)
    return out


def _monitor(fault: dict) -> str | None:
    kind = FAULT_KINDS.get(fault["kind"])
    return None if kind is None else kind.monitor


def _first_safe(mode_changes, t_s: float) -> float | None:
    if mode_at(mode_changes, t_s) == SAFE_MODE:
        return t_s
    return next((t_us / 1e6 for t_us, m in mode_changes
                 if t_us / 1e6 > t_s and m == SAFE_MODE), None)


def clearance_figures(safety: dict | None, clearance: dict | None, mode_changes) -> dict:
    """min_clearance_m, surface_impacts, escaped and the contacts (module docstring)."""
    out = {"min_clearance_m": None, "surface_impacts": None, "escaped": None,
           "max_radius_m": None, "surface_contacts": []}
    if safety is None:
        return out

    def planned(t_s: float) -> bool:
        return mode_at(mode_changes, t_s) in SEQUENCE_MODES

    least = math.inf
    if clearance is not None and len(clearance["t_s"]):
        t = np.asarray(clearance["t_s"], dtype=float)
        bus = np.asarray(clearance["bus_m"], dtype=float)
        head = np.asarray(clearance["head_m"], dtype=float)
        # A second is planned for the head if the mode was a sequence mode at either end.
        ok = np.array([not (planned(s) or planned(s + 1.0)) for s in t], dtype=bool)
        least = min(float(bus.min()), float(head[ok].min()) if ok.any() else math.inf)
    contacts = [("bus", c, False) for c in safety["bus_contacts"]] + \
        [("head", c, planned(c[0])) for c in safety["head_contacts"]]
    contacts.sort(key=lambda c: c[1][0])
    out["surface_contacts"] = [{"part": part, "start_s": c[0], "end_s": c[1],
                                "planned": is_planned}
                               for part, c, is_planned in contacts[:MAX_CONTACTS_LISTED]]
    out["surface_impacts"] = sum(1 for _, _, is_planned in contacts if not is_planned)
    out["min_clearance_m"] = least if math.isfinite(least) else None
    out["max_radius_m"] = safety["max_radius_m"]
    out["escaped"] = bool(safety["max_radius_m"] > safety["escape_radius_m"]
                          or safety["final_radial_speed_mps"] > safety["final_escape_speed_mps"])
    return out


def fault_protection_status(status) -> dict | None:
    """The last PROBE_FAULT_STATUS, named."""
    if status is None:
        return None
    return {"trips": {MONITOR_NAMES[k]: int(n) for k, n in enumerate(status.trips)
                      if n and k in MONITOR_NAMES},
            "tripped": [name for k, name in MONITOR_NAMES.items() if status.tripped >> k & 1],
            "disabled": [name for k, name in MONITOR_NAMES.items()
                         if not status.enabled >> k & 1],
            "safe_phase": SAFE_PHASES.get(int(status.safe_phase), str(status.safe_phase)),
            "thruster_branch": "AB"[int(status.thruster_branch)]
            if int(status.thruster_branch) in (0, 1) else str(status.thruster_branch),
            "wheels_failed": [j for j in range(8) if status.wheels_failed >> j & 1],
            "wheel_speed_max_radps": float(status.wheel_speed_max_radps),
            "dumps": int(status.dumps), "dump_dv_mps": float(status.dump_dv_mps)}


def fault_figures(tele, truth) -> dict:
    """The summary's fault, clearance and actuator figures from the downlink and the
    truth record."""
    events = monitor_events(tele.faultprot_events, tele.tripped_changes)
    out = {"faults": fault_outcomes(truth.faults or [], events, tele.mode_changes, tele.mode),
           "fault_protection": fault_protection_status(tele.fault_status),
           "monitor_trips": sum(1 for e in events if e.action == "trip")}
    out |= clearance_figures(truth.safety, truth.clearance, tele.mode_changes)
    act = truth.actuators or {}
    out["acs_impulse_ns"] = act.get("acs_impulse_ns")
    out["branch_b_impulse_ns"] = act.get("branch_b_impulse_ns")
    return out
