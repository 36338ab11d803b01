"""The judging sections of a run report: the verdict, the outcome table against the
requirements (each with the span of the mission it was judged over), and the run's
events as events.log lists them.  Plain HTML strings; the page around them is
sim.report's."""

from __future__ import annotations

import math
import pathlib
import re
from collections.abc import Mapping, Sequence

import numpy as np

from sim.report_format import as_float, esc, fmt, hms, mode_name
from sim.report_requirements import (
    FAIL,
    NOT_JUDGED,
    PASS,
    Requirement,
    not_judged_reason,
    requirements_for,
)
from sim.report_scheduler import scheduler_rows

#: The events table stops after this many rows (a page must still open); it says so.
MAX_EVENTS = 10_000
EVENTS_LOG = "events.log"
MAX_SPANS = 4  # judged spans named in the outcome table; the rest counted

# MAVLink MAV_SEVERITY: 0 EMERGENCY ... 3 ERROR, 4 WARNING, 5 NOTICE, 6 INFO, 7 DEBUG.
_MAV_WARNING = 4
_SEVERE_WORDS = {
    "warn", "warning", "error", "err", "critical", "crit", "fatal", "alert",
    "emerg", "emergency", "severe", "fault",
}
_SEVERITY_NAMES = {0: "EMERGENCY", 1: "ALERT", 2: "CRITICAL", 3: "ERROR", 4: "WARNING"}
# An events.log line as sim.runner writes it: "<t_s> <SEVERITY> <source>: <text>".
_EVENT_LINE = re.compile(r"^\s*(-?\d+(?:\.\d*)?)\s+([A-Za-z]+)\s+(.*?)\s*$")
_STATUS_WORDS = {PASS: "PASS", FAIL: "FAIL", NOT_JUDGED: "NOT JUDGED"}


def judged_over(req: Requirement, summary: Mapping) -> str:
    """In words, the span of the mission a requirement was judged over, or why not."""
    why = not_judged_reason(req, summary)
    if req.phase in ("hover", "attitude"):
        seconds = as_float(summary.get(f"{req.phase}_judged_s"))
        if not seconds:
            return why or ""
        spans = [w for w in summary.get(f"{req.phase}_judged_windows_s") or []
                 if isinstance(w, Sequence) and len(w) == 2]
        what = "hover hold after settling" if req.phase == "hover" else \
            "HOVER outside planned slews"
        listed = ", ".join(f"{fmt(as_float(a))}–{fmt(as_float(b))}" for a, b in spans[:MAX_SPANS])
        more = f" and {len(spans) - MAX_SPANS} more" if len(spans) > MAX_SPANS else ""
        return f"{fmt(seconds)} s of {what}: t = {listed}{more} s" if spans else \
            f"{fmt(seconds)} s of {what}"
    if why:
        return why
    if req.phase == "contact":
        return f"at contact, t = {fmt(summary.get('contact_t_s'))} s"
    if req.phase == "mass":
        return "spin test after sampling"
    return "the whole run"


def outcome_table(summary: Mapping, status: Mapping[str, str]) -> str:
    rows = []
    reqs = requirements_for(summary)
    by_key = {r.key: r for r in reqs}
    for req in reqs:
        st = status[req.key]
        val = summary.get(req.key)
        rows.append(
            f'<tr class="{st}" id="req-{esc(req.key)}"><td>{esc(req.label)}</td>'
            f'<td class="num">{esc(fmt(val))}</td><td>{esc(req.unit)}</td>'
            f"<td>{esc(req.op)} {esc(fmt(req.limit))}</td>"
            f'<td class="status">{esc(_STATUS_WORDS.get(st, "N/A"))}</td>'
            f'<td class="window">{esc(judged_over(req, summary))}</td></tr>'
        )
    info = [
        ("outcome", "Touch-and-go outcome", ""),
        ("outcome_reason", "Why", ""),
        ("contact_speed_mps", "Contact speed", "m/s"),
        ("sample_mass_true_kg", "Sample mass (truth)", "kg"),
        ("sample_mass_est_kg", "Sample mass (estimated)", "kg"),
        ("backaway_dv_mps", "Back-away delta-v", "m/s"),
        ("hover_error_m_p50", "Hover position error p50 (same window as p99)", "m"),
        ("nav_error_m_p99", "Navigation error p99 (after the initial transient, from t = "
         f"{fmt(summary.get('metrics_from_s'))} s)", "m"),
        ("sim_duration_s", "Simulated duration", "s"),
    ]
    for key, label, unit in info:
        if key in by_key or key not in summary or summary[key] is None:
            continue
        val = summary[key]
        extra = f" ({hms(as_float(val))})" if key.endswith("duration_s") and \
            as_float(val) is not None else ""
        rows.append(
            f"<tr><td>{esc(label)}</td><td class=\"num\">{esc(fmt(val))}{esc(extra)}</td>"
            f"<td>{esc(unit)}</td><td></td><td></td><td></td></tr>"
        )
    if "final_mode" in summary:
        fm = summary["final_mode"]
        rows.append(f"<tr><td>Final mode</td><td class=\"num\">{esc(mode_name(fm))}</td>"
                    "<td></td><td></td><td></td><td></td></tr>")
    sched = scheduler_rows(summary)
    if sched:
        # A task that raised is the flight software's doing; overruns are the host's
        # (the Host section).
        faults = sum(int(as_float(r.get("faults")) or 0) for _, r in sched)
        cls = ' class="bad"' if faults else ""
        rows.append(f"<tr{cls}><td>Flight tasks that raised (all tasks)</td>"
                    f"<td class=\"num\">{esc(fmt(faults))}</td><td></td><td></td><td></td>"
                    "<td></td></tr>")
    head = ("<tr><th>Figure</th><th>Value</th><th>Unit</th><th>Requirement</th>"
            "<th>Status</th><th>Judged over</th></tr>")
    return f'<table class="outcome">{head}{"".join(rows)}</table>'


def _severity_class(sev: object) -> str | None:
    """``"error"``, ``"warning"`` or None (below warning / unknown)."""
    if isinstance(sev, (int, np.integer)) and not isinstance(sev, bool):
        v = int(sev)
        if v < _MAV_WARNING:
            return "error"
        return "warning" if v == _MAV_WARNING else None
    word = str(sev).strip().lower()
    if word.startswith("mav_severity_"):
        word = word[len("mav_severity_"):]
    if word.isdigit():
        return _severity_class(int(word))
    if word not in _SEVERE_WORDS:
        return None
    return "warning" if word in ("warn", "warning") else "error"


def read_events_log(path: pathlib.Path) -> tuple[list[dict], list[int]]:
    """(events, numbers of the lines that are no event) of an events.log.  Raises
    OSError when the file cannot be read."""
    events, bad = [], []
    text = pathlib.Path(path).read_bytes().decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _EVENT_LINE.match(line)
        if m is None or "\ufffd" in line:
            bad.append(number)
            continue
        source, sep, message = m.group(3).partition(": ")
        if not sep:
            source, message = "", m.group(3)
        events.append({"time_s": float(m.group(1)), "severity": m.group(2).upper(),
                       "source": source, "text": message})
    return events, bad


def _event_rows(events: Sequence[Mapping]) -> tuple[str, int, int]:
    """(table rows, warnings, errors or worse) of every event, in the order given."""
    body = []
    n_warn = n_err = 0
    for k, ev in enumerate(events[:MAX_EVENTS], 1):
        cls = _severity_class(ev.get("severity"))
        n_warn += cls == "warning"
        n_err += cls == "error"
        t = as_float(ev.get("time_s"))
        sev = ev.get("severity")
        if isinstance(sev, (int, np.integer)) and int(sev) in _SEVERITY_NAMES:
            sev = f"{_SEVERITY_NAMES[int(sev)]} ({int(sev)})"
        tr = f' class="sev-{cls}"' if cls else ""
        body.append(
            f'<tr{tr}><td class="num">{k}</td>'
            f'<td class="num">{esc("—" if t is None else f"{t:.1f}")}</td>'
            f"<td>{esc(hms(t))}</td><td>{esc(sev)}</td><td>{esc(ev.get('source', ''))}</td>"
            f"<td>{esc(ev.get('text', ''))}</td></tr>")
    for ev in events[MAX_EVENTS:]:  # counted, if not listed
        cls = _severity_class(ev.get("severity"))
        n_warn += cls == "warning"
        n_err += cls == "error"
    return "".join(body), n_warn, n_err


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def events_table(run_dir: pathlib.Path | None, summary: Mapping) -> str:
    """Every event of the run's events.log (time, severity, source, text; warnings and
    worse highlighted) and how many.  Without a readable events.log: one line saying so,
    then the warnings the summary kept, if any."""
    note = ""
    events: list = []
    if run_dir is None:
        note = "No run directory given: events.log not read."
    else:
        path = pathlib.Path(run_dir) / EVENTS_LOG
        try:
            events, bad = read_events_log(path)
        except FileNotFoundError:
            note = f"{path.name} is missing from the run directory: events not listed."
        except OSError as exc:
            note = f"{path.name} could not be read ({exc.strerror or exc}): events not listed."
        else:
            if bad:
                note = (f"{path.name} is damaged: {len(bad)} line(s) are no event "
                        f"(first: line {bad[0]}); the {len(events)} readable events are "
                        "listed.")
            elif not events:
                return (f'<p class="note">{esc(path.name)} is empty: the flight software '
                        "reported no events.</p>")
    if not events:
        kept = summary.get("events")
        if isinstance(kept, Sequence) and not isinstance(kept, (str, bytes)):
            events = [e for e in kept if isinstance(e, Mapping)]
        if events:
            note += f" The summary's {len(events)} warnings and worse are listed instead."
        if not events:
            return f'<p class="note">{esc(note)}</p>'
    events = sorted(events, key=lambda e: (math.inf if as_float(e.get("time_s")) is None
                                          else as_float(e.get("time_s"))))
    rows, n_warn, n_err = _event_rows(events)
    caption = (f"{len(events):,} events: {_count(n_warn, 'warning')}, "
               f"{_count(n_err, 'error')} or worse (highlighted)"
               + (f"; the first {MAX_EVENTS:,} listed" if len(events) > MAX_EVENTS else ""))
    head = ("<tr><th>#</th><th>time [s]</th><th>T+</th><th>severity</th><th>source</th>"
            "<th>text</th></tr>")
    note_html = f'<p class="note">{esc(note.strip())}</p>' if note else ""
    return (f'{note_html}<p>{esc(caption)}</p><table class="events">{head}{rows}</table>')


def verdict(status: Mapping[str, str], summary: Mapping | None = None) -> tuple[str, str]:
    """(css class, sentence) of the run: FAIL if a judged requirement failed (or the
    touch-and-go failed), PASS if every judged one passed, saying how many could not be
    judged; INCOMPLETE when a figure is missing, NOT JUDGED when none could be."""
    summary = summary or {}
    values = list(status.values())
    judged = [v for v in values if v in (PASS, FAIL)]
    n_not = values.count(NOT_JUDGED)
    not_judged = f"; {n_not} not judged (see why below)" if n_not else ""
    if summary.get("outcome") == "failed":
        return FAIL, f"FAIL — touch-and-go failed: {summary.get('outcome_reason', '?')}"
    if FAIL in values:
        n = values.count(FAIL)
        return FAIL, f"FAIL — {n} of {len(judged)} judged requirements not met{not_judged}"
    if len(judged) + n_not < len(values):
        return "na", "INCOMPLETE — some requirement figures are missing"
    if not judged:
        return "na", "NOT JUDGED — the run reached none of its requirements' phases"
    if n_not:
        return PASS, f"PASS — {len(judged)} of {len(judged)} judged requirements met{not_judged}"
    return PASS, "PASS — all requirements met"
