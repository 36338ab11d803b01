"""The judging sections of a run report: the verdict, the outcome table against the
requirements, and the events of warning severity or worse.  Plain HTML strings; the page
around them is sim.report's."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from sim.report_format import as_float, esc, fmt, hms, mode_name
from sim.report_requirements import requirements_for
from sim.report_scheduler import scheduler_rows

#: Events of at least this severity are listed (first ``MAX_EVENTS``).
MAX_EVENTS = 50

# MAVLink MAV_SEVERITY: 0 EMERGENCY ... 3 ERROR, 4 WARNING, 5 NOTICE, 6 INFO, 7 DEBUG.
_MAV_WARNING = 4
_SEVERE_WORDS = {
    "warn", "warning", "error", "err", "critical", "crit", "fatal", "alert",
    "emerg", "emergency", "severe", "fault",
}
_SEVERITY_NAMES = {0: "EMERGENCY", 1: "ALERT", 2: "CRITICAL", 3: "ERROR", 4: "WARNING"}


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
            f'<td class="status">{esc(st.upper() if st != "na" else "N/A")}</td></tr>'
        )
    info = [
        ("outcome", "Touch-and-go outcome", ""),
        ("outcome_reason", "Why", ""),
        ("contact_speed_mps", "Contact speed", "m/s"),
        ("sample_mass_true_kg", "Sample mass (truth)", "kg"),
        ("sample_mass_est_kg", "Sample mass (estimated)", "kg"),
        ("backaway_dv_mps", "Back-away delta-v", "m/s"),
        ("hover_error_m_p50", "Hover position error p50", "m"),
        ("sim_duration_s", "Simulated duration", "s"),
        ("wall_duration_s", "Wall-clock duration", "s"),
        ("messages_logged", "Messages logged", ""),
    ]
    for key, label, unit in info:
        if key in by_key or key not in summary:
            continue
        val = summary[key]
        extra = f" ({hms(as_float(val))})" if key.endswith("duration_s") and \
            as_float(val) is not None else ""
        rows.append(
            f"<tr><td>{esc(label)}</td><td class=\"num\">{esc(fmt(val))}{esc(extra)}</td>"
            f"<td>{esc(unit)}</td><td></td><td></td></tr>"
        )
    if "final_mode" in summary:
        fm = summary["final_mode"]
        rows.append(f"<tr><td>Final mode</td><td class=\"num\">{esc(mode_name(fm))}</td>"
                    "<td></td><td></td><td></td></tr>")
    sched = scheduler_rows(summary)
    if sched:
        over = sum(int(as_float(r.get("overruns")) or 0) for _, r in sched)
        faults = sum(int(as_float(r.get("faults")) or 0) for _, r in sched)
        for label, v in (("Scheduler overruns (all tasks)", over),
                         ("Scheduler faults (all tasks)", faults)):
            cls = ' class="bad"' if v else ""
            rows.append(f"<tr{cls}><td>{esc(label)}</td><td class=\"num\">{esc(fmt(v))}"
                        "</td><td></td><td></td><td></td></tr>")
    head = ("<tr><th>Figure</th><th>Value</th><th>Unit</th><th>Requirement</th>"
            "<th>Status</th></tr>")
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


def events_table(summary: Mapping) -> str:
    events = summary.get("events")
    if not isinstance(events, Sequence) or isinstance(events, (str, bytes)) or not events:
        return '<p class="note">No events in the summary.</p>'
    severe = []
    for i, ev in enumerate(events):
        if not isinstance(ev, Mapping):
            continue
        cls = _severity_class(ev.get("severity"))
        if cls is None:
            continue
        t = as_float(ev.get("time_s"))
        severe.append((math.inf if t is None else t, i, cls, ev))
    if not severe:
        return f'<p class="note">{len(events)} events, none of warning severity or worse.</p>'
    severe.sort(key=lambda e: (e[0], e[1]))
    shown = severe[:MAX_EVENTS]
    head = ("<tr><th>#</th><th>time [s]</th><th>T+</th><th>severity</th><th>source</th>"
            "<th>text</th></tr>")
    body = []
    for k, (t, _, cls, ev) in enumerate(shown, 1):
        tt = None if math.isinf(t) else t
        sev = ev.get("severity")
        if isinstance(sev, (int, np.integer)) and int(sev) in _SEVERITY_NAMES:
            sev = f"{_SEVERITY_NAMES[int(sev)]} ({int(sev)})"
        body.append(
            f'<tr class="sev-{cls}"><td class="num">{k}</td>'
            f'<td class="num">{esc("—" if tt is None else f"{tt:.1f}")}</td>'
            f"<td>{esc(hms(tt))}</td><td>{esc(sev)}</td><td>{esc(ev.get('source', ''))}</td>"
            f"<td>{esc(ev.get('text', ''))}</td></tr>"
        )
    n_err = sum(1 for e in severe if e[2] == "error")
    caption = (f"{len(severe)} warnings/errors ({n_err} errors) of {len(events)} events"
               + (f"; first {MAX_EVENTS} shown" if len(severe) > MAX_EVENTS else ""))
    return (f'<p>{esc(caption)}</p><table class="events">{head}{"".join(body)}</table>')


def verdict(status: Mapping[str, str]) -> tuple[str, str]:
    values = list(status.values())
    if "fail" in values:
        n = values.count("fail")
        return "fail", f"FAIL — {n} of {len(values)} requirements not met"
    if all(v == "pass" for v in values):
        return "pass", "PASS — all requirements met"
    return "na", "INCOMPLETE — some requirement figures are missing"
