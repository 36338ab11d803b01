"""The scheduler section of the run report: the timing plot and the per-task table.

Both read the summary's ``scheduler`` statistics through ``scheduler_rows``, so the
plot and the table list the same tasks in the same order; the page's outcome table
uses it too, for its overrun and fault totals.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from sim.report_format import as_float, esc, fmt
from sim.report_kit import History, Skip, mpl_text, new_figure


def scheduler_rows(summary: Mapping) -> list[tuple[str, Mapping]]:
    sched = summary.get("scheduler")
    if not isinstance(sched, Mapping) or not sched:
        return []
    rows = [(str(k), v if isinstance(v, Mapping) else {}) for k, v in sched.items()]
    return sorted(rows, key=lambda kv: (str(kv[1].get("group", "")), kv[0]))


def plot_scheduler(h: History, summary: Mapping) -> Figure:
    rows = scheduler_rows(summary)
    if not rows:
        raise Skip("no `scheduler` statistics in summary")
    labels = []
    for name, r in rows:
        bad = (as_float(r.get("overruns")) or 0) + (as_float(r.get("faults")) or 0)
        rate = as_float(r.get("rate_hz"))
        rate_s = f" @{rate:g} Hz" if rate is not None else ""
        labels.append(mpl_text(f"{'⚠ ' if bad else ''}{name}{rate_s}"))
    n = len(rows)
    left = min(4.0, 0.3 + 0.065 * max(len(lb) for lb in labels))
    fig = new_figure(height=max(2.6, 0.42 * n + 1.5), left=left, top=0.75)
    ax = fig.subplots()
    fig.suptitle("Scheduler: execution time per task against budget")
    y = np.arange(n)
    floor = 0.01
    series = [("mean_exec_us", "mean", "#9ecae1"), ("p99_exec_us", "p99", "#3182bd"),
              ("max_exec_us", "max", "#08519c")]
    hgt = 0.26
    vals = {}
    for j, (key, label, color) in enumerate(series):
        v = np.array([as_float(r.get(key)) or 0.0 for _, r in rows])
        vals[key] = v = np.maximum(v, floor)
        ax.barh(y + (j - 1) * hgt, v - floor, height=hgt, color=color, label=label,
                left=floor)
    budgets = np.array([as_float(r.get("budget_us")) or np.nan for _, r in rows])
    ok = np.isfinite(budgets) & (budgets > 0)
    if ok.any():
        ax.vlines(budgets[ok], y[ok] - 0.45, y[ok] + 0.45, color="#d62728", lw=2,
                  label="budget", zorder=3)
    for i in range(n):
        mx = vals["max_exec_us"][i]
        txt = f"{fmt(mx)} µs" + (f" ({100 * mx / budgets[i]:.0f} %)" if ok[i] else "")
        over = ok[i] and mx > budgets[i]
        ax.text(max(mx, budgets[i] if ok[i] else mx) * 1.15, y[i] + hgt, txt, va="center",
                fontsize=7, color="#d62728" if over else "#333333")
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    everything = np.concatenate([*vals.values(), budgets[ok]])
    ax.set_xlim(max(float(everything.min()) / 2, floor), float(everything.max()) * 6)
    ax.set_xlabel("execution time [µs] (log)")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=4, fontsize=8, frameon=False)
    ax.grid(alpha=0.3, axis="x", which="both")
    return fig


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
