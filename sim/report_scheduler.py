"""The scheduler section of the run report: the timing plot and the per-task table.

Both read the summary's ``scheduler`` statistics through ``scheduler_rows``, so the
plot and the table list the same tasks in the same order; the page's outcome table
uses it too, for its overrun and fault totals.
"""

from __future__ import annotations

from collections.abc import Mapping

from sim.report_format import as_float, esc, fmt
from sim.report_kit import History, Plot, Skip, axis


def scheduler_rows(summary: Mapping) -> list[tuple[str, Mapping]]:
    sched = summary.get("scheduler")
    if not isinstance(sched, Mapping) or not sched:
        return []
    rows = [(str(k), v if isinstance(v, Mapping) else {}) for k, v in sched.items()]
    return sorted(rows, key=lambda kv: (str(kv[1].get("group", "")), kv[0]))


def plot_scheduler(h: History, summary: Mapping) -> Plot:
    """Host execution time per task (mean, p99, max), with each task's flight budget as
    a grey reference tick: this machine's Python is not the flight processor, so the
    plot informs about the host and judges nothing."""
    rows = scheduler_rows(summary)
    if not rows:
        raise Skip("no `scheduler` statistics in summary")
    labels = []
    for name, r in rows:
        rate = as_float(r.get("rate_hz"))
        labels.append(f"{name} @{rate:g} Hz" if rate is not None else name)
    floor = 0.01  # µs: a task that never ran still gets a bar a log axis can draw
    layout = {
        "height": max(260, 34 * len(rows) + 120), "barmode": "group",
        "margin": {"l": 10, "r": 20, "t": 30, "b": 50}, "plot_bgcolor": "#ffffff",
        "xaxis": axis("host execution time [µs] (log)", type="log"),
        "yaxis": axis("task", autorange="reversed", automargin=True),  # names vary
        "legend": {"orientation": "h", "x": 0.0, "y": 1.0, "yanchor": "bottom"},
    }
    plot = Plot(layout=layout)
    for key, label, color in (("mean_exec_us", "mean", "#9ecae1"),
                              ("p99_exec_us", "p99", "#3182bd"),
                              ("max_exec_us", "max", "#08519c")):
        values = [max(as_float(r.get(key)) or 0.0, floor) for _, r in rows]
        plot.add({"type": "bar", "orientation": "h", "y": labels, "x": values,
                  "name": f"{label} (host)", "marker": {"color": color},
                  "hovertemplate": f"%{{y}}: {label} %{{x:.4g}} µs<extra></extra>"})
    budgets = [as_float(r.get("budget_us")) for _, r in rows]
    if any(b is not None for b in budgets):
        plot.add({"type": "scatter", "mode": "markers", "y": labels,
                  "x": [b if b is not None else None for b in budgets],
                  "name": "flight budget (reference only)",
                  "marker": {"symbol": "line-ns-open", "size": 22, "color": "#777777",
                             "line": {"width": 3}},
                  "hovertemplate": "%{y}: flight budget %{x:.4g} µs<extra></extra>"})
    return plot


#: Said wherever host timings are shown: they judge the laptop, not the probe.
HOST_TIMING_NOTE = ("These are host Python execution times of the flight tasks on the "
                    "machine that ran the simulation: a SIL run on a laptop says nothing "
                    "about the flight processor, so they are not held against the flight "
                    "budgets and no verdict depends on them.")


def scheduler_table(summary: Mapping) -> str:
    """The scheduler's per-task host timings, as information (no budget, no warning)."""
    rows = scheduler_rows(summary)
    if not rows:
        return '<p class="note">No scheduler statistics in the summary.</p>'
    cols = [("group", "group"), ("rate_hz", "rate [Hz]"), ("runs", "runs"),
            ("mean_exec_us", "host mean [µs]"), ("p99_exec_us", "host p99 [µs]"),
            ("max_exec_us", "host max [µs]"), ("overruns", "host overruns"),
            ("faults", "faults (task raised)")]
    head = "<tr><th>task</th>" + "".join(f"<th>{esc(c)}</th>" for _, c in cols) + "</tr>"
    body = []
    for name, r in rows:
        cells = []
        for key, _ in cols:
            v = r.get(key)
            cls = "" if key == "group" else ' class="num"'
            cells.append(f"<td{cls}>{esc(fmt(v) if key != 'group' else (v or ''))}</td>")
        # A task that raised is the flight software's fault, whatever the host: marked.
        tr_cls = ' class="bad"' if (as_float(r.get("faults")) or 0) else ""
        body.append(f"<tr{tr_cls}><td>{esc(name)}</td>{''.join(cells)}</tr>")
    return f'<table class="scheduler">{head}{"".join(body)}</table>'


def host_table(summary: Mapping) -> str:
    """The Host section: how fast and how big the run was on this machine, then the
    per-task host timings; information about the host, never a mission verdict."""
    facts = [("realtime_factor", "Real-time factor (simulated / wall time)", "x"),
             ("sim_duration_s", "Simulated duration", "s"),
             ("wall_duration_s", "Wall-clock duration", "s"),
             ("peak_rss_mb", "Peak memory (resident)", "MB"),
             ("messages_logged", "Messages logged", "")]
    rows = "".join(f"<tr><td>{esc(label)}</td><td class=\"num\">{esc(fmt(summary[key]))}"
                   f"</td><td>{esc(unit)}</td></tr>"
                   for key, label, unit in facts if key in summary)
    table = (f'<table class="host">{rows}</table>' if rows else
             '<p class="note">No host figures in the summary.</p>')
    return (f"{table}\n<p>{esc(HOST_TIMING_NOTE)}</p>\n{scheduler_table(summary)}")
