"""Run report: one self-contained HTML page with interactive plots, for a flight engineer.

``write_report(out_dir, history, summary)`` writes ``out_dir/report.html`` and returns
its path.  The page holds everything it needs: plotly.js inlined once, the plots as
data, the run's arrays as base64 typed data, and the small script that draws them and
down-samples long series for display (sim/report_assets/report.js).  It opens offline,
from any directory, with no server.  Links at the top go to flight.tlog, summary.json
and events.log, which sit beside it.

``history`` holds 1 Hz mission-time series that all share one length N; any key may be
absent or damaged, in which case its plot (or panel) is replaced by a note and one line
at the top says what is missing.  ``write_run_dir_report(run_dir)`` makes the page from
a run directory's own files (history.npz, summary.json), whatever state they are in.

This module assembles the page: which plots, in which order, with which caption, and
the HTML around them.  The plots live by topic (sim.report_gnc, sim.report_scheduler,
sim.report_tag, sim.report_prospect) on a shared kit (sim.report_kit, sim.
report_timeplot); the verdict, outcome and events sections are sim.report_sections'.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
import pathlib
from collections.abc import Mapping

import numpy as np

from sim.report_faults import faults_table
from sim.report_format import esc, hms
from sim.report_gnc import (
    plot_altitude_mode,
    plot_attitude,
    plot_navigation,
    plot_position,
    plot_thrusters,
    plot_wheels,
)
from sim.report_kit import MODE_COLORS, History, PlotSpec, Skip
from sim.report_prospect import PROSPECT_PLOTS
from sim.report_requirements import (
    REQUIREMENTS,
    Requirement,
    requirement_status,
)
from sim.report_scheduler import host_table, plot_scheduler
from sim.report_sections import events_table, outcome_table, read_events_log, verdict
from sim.report_tag import TAG_PLOTS
from sim.report_timeplot import MODE_OPACITY, mode_name, modes_present
from sim.run_files import read_history, read_json_object

__all__ = ["REQUIREMENTS", "Requirement", "requirement_status", "write_report",
           "write_run_dir_report"]

REPORT_NAME = "report.html"
#: The run's files the page links to (relative: they sit beside report.html).
LINKED_FILES = (("flight.tlog", "flight log (MAVLink .tlog)"), ("summary.json", "summary"),
                ("events.log", "events"))

# ----------------------------------------------------------------------------- plots

# Every run gets these; a touch-and-go run adds TAG_PLOTS, a prospecting run PROSPECT_PLOTS.
PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec("position-error", "Hover position error",
             "Coloured: the samples the hover figures are judged over (holding a hover "
             "point once settled: the spans the outcome table names); grey is not judged "
             "(settling, moving to a new point, descent, other modes). It should stay "
             "under the red 1 m line; a one-sided body-fixed component means a bias the "
             "controller is not removing.",
             plot_position),
    PlotSpec("navigation-error", "Navigation error",
             "The red error should stay mostly inside the dark 1σ band and almost never "
             "leave the light 3σ band; persistently outside means an overconfident filter, "
             "far inside a pessimistic one. The y range is set by the settled part (the "
             "start-up prior is off the top: zoom out, or switch to log).",
             plot_navigation),
    PlotSpec("pointing-error", "Pointing error",
             "Coloured: the samples the pointing figure is judged over (HOVER outside the "
             "planned slews: the spans the outcome table names); it should stay below "
             "the red 0.1° line.  Grey is not judged (slews, survey pointing from target "
             "to target, the touch-and-go, spin tests). Log scale.",
             plot_attitude),
    PlotSpec("thrusters", "Thruster use",
             "Δv should climb in shallow steps; a steady ramp means fighting a "
             "disturbance or a wrong model. Below, each thruster's on-time per sample "
             "(maximum per pixel); the legend gives each one's total.",
             plot_thrusters),
    PlotSpec("wheel-speeds", "Reaction wheels",
             "Speeds should stay bounded and well inside the dark dashed saturation "
             "lines; a steady drift is accumulated momentum that will need a desaturation.",
             plot_wheels),
    PlotSpec("altitude-mode", "Altitude and mode",
             "Altitude should hold steady in HOVER; any drop into SAFE should line up with "
             "an event on the strip below. Injected faults are marked on the mode panel: "
             "red cross where injected, orange triangle where detected (hover: the "
             "response), green diamond where the monitor cleared.",
             plot_altitude_mode),
    PlotSpec("host-timing", "Host task timing (information about this machine)",
             "Execution time of each task on the host running the simulation, in Python; "
             "the grey ticks are the flight budgets, for reference only: a run on a "
             "laptop says nothing about the flight processor's timing.",
             plot_scheduler),
)

# ----------------------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;
  max-width:1150px;padding:16px 24px;color:#222;background:#fafafa}
h1{margin:0 0 4px;font-size:22px} h2{margin:28px 0 8px;font-size:18px;
  border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555;margin-bottom:12px} .meta b{color:#222}
.verdict{display:inline-block;padding:6px 14px;border-radius:4px;font-weight:600;
  font-size:16px;margin:8px 0}
.verdict.pass{background:#d7f0d7;color:#1b5e20} .verdict.fail{background:#f8d0d0;color:#8b0000}
.verdict.na{background:#eee;color:#555}
table{border-collapse:collapse;background:#fff;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.pass td.status{background:#d7f0d7;color:#1b5e20;font-weight:600}
tr.fail td.status{background:#f8d0d0;color:#8b0000;font-weight:600}
tr.na td.status,tr.not_judged td.status{background:#eee;color:#666}
tr.bad td{background:#fdecec}
tr.sev-error td{background:#fdecec} tr.sev-warning td{background:#fff7e0}
figure{margin:14px 0;background:#fff;border:1px solid #e4e4e4;padding:8px}
.plot{width:100%;min-height:120px}
.links a{margin-right:14px} .links .missing{color:#999;margin-right:14px}
.modekey{position:sticky;top:0;z-index:5;background:#fafafa;padding:5px 0;
  border-bottom:1px solid #ddd;font-size:13px}
.chip{margin-left:10px;white-space:nowrap} .chip i{display:inline-block;width:14px;
  height:12px;margin-right:4px;vertical-align:-1px;border:1px solid #999}
.problems{background:#fff4e0;border:1px solid #f0c36d;padding:6px 10px;margin:8px 0}
figcaption{color:#444;margin-bottom:6px} figcaption b{color:#222}
.note{color:#888;font-style:italic}
"""


# ----------------------------------------------------------------------------- run files

def events_for_plots(path: pathlib.Path) -> list[tuple[float, str, str, str]]:
    """Every event of an events.log as the time plots' strip marks it (time, severity,
    source, text), read as the Events table reads it (sim.report_sections): lines that are
    no event are left out (a damaged log still gives what it can)."""
    try:
        events, _ = read_events_log(path)
    except OSError:
        return []
    return [(e["time_s"], e["severity"], e["source"], e["text"]) for e in events
            if math.isfinite(e["time_s"])]


def summary_events(summary: Mapping) -> list[tuple[float, str, str, str]]:
    """The summary's events (warnings and worse), for a run without an events.log."""
    events = summary.get("events")
    if not isinstance(events, list):
        return []
    out = []
    for e in events:
        if not isinstance(e, Mapping):
            continue
        try:
            t = float(e.get("time_s"))
        except (TypeError, ValueError):
            continue
        if math.isfinite(t):
            out.append((t, str(e.get("severity", "")).upper(), str(e.get("source", "")),
                        str(e.get("text", ""))))
    return out


# ----------------------------------------------------------------------------- page data


#: plotly.js's cartesian bundle (scatter, bar, heatmap: all the page draws), fetched by
#: tools/fetch_plotly_bundle.py (make); without it the full bundle of the plotly package.
CARTESIAN_BUNDLE = "plotly-cartesian.min.js"


@functools.cache
def page_asset(name: str) -> str:
    """The text of a file the page inlines: plotly.min.js or one of sim/report_assets."""
    if name == "plotly.min.js":
        # The cartesian bundle is a third of the full one: a browser opened for the page
        # compiles it ~0.75 s sooner (bench/RESULTS.md, the run report).
        cartesian = importlib.resources.files("sim") / "report_assets" / CARTESIAN_BUNDLE
        if cartesian.is_file():
            return cartesian.read_text(encoding="utf-8")
        return (importlib.resources.files("plotly") / "package_data" / name).read_text(
            encoding="utf-8")
    return (importlib.resources.files("sim") / "report_assets" / name).read_text(
        encoding="utf-8")


def _plain(value):
    """JSON-ready: numpy scalars to Python, NaN and inf to null (JSON has neither)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _script_json(data) -> str:
    """JSON safe inside a <script> element: no "<", ">" or "&" left to close it early."""
    text = json.dumps(_plain(data), separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _links_html(out_dir: pathlib.Path) -> str:
    parts = []
    for name, what in LINKED_FILES:
        if (out_dir / name).is_file():
            parts.append(f'<a href="{esc(name)}" title="{esc(what)}">{esc(name)}</a>')
        else:
            parts.append(f'<span class="missing">{esc(name)} (not in this run directory)'
                         "</span>")
    return '<div class="links">Run files: ' + "".join(parts) + "</div>"


def _mode_key_html(h: History) -> str:
    """The flight modes' colours as the time plots shade them, once for the page."""
    modes = modes_present(h)
    if not modes:
        return ""
    chips = "".join(
        f'<span class="chip"><i style="background:{MODE_COLORS.get(m, "#bbbbbb")};'
        f'opacity:{min(1.0, 3 * MODE_OPACITY):g}"></i>{esc(mode_name(m))}</span>'
        for m in modes)
    return f'<div class="modekey">Flight modes (shaded behind the time plots): {chips}</div>'


def _render_plots(specs, h: History, summary: Mapping):
    """(figure HTML per spec, plots as data by element id, data problems met)."""
    sections, plots, problems = [], {}, []
    for spec in specs:
        h.notes = []
        try:
            plot = spec.render(h, summary)
        except Skip as exc:
            note = f"Not plotted: {exc}."
            problems.extend(h.notes or [str(exc)])
        except Exception as exc:  # a report must not take the run down
            note = f"Plot failed: {type(exc).__name__}: {exc}"
        else:
            note = ""
            problems.extend(h.notes)
        head = f'<figure id="{esc(spec.slug)}"><figcaption><b>{esc(spec.title)}.</b> '
        if note:
            sections.append(f'{head}<span class="note">{esc(note)}</span></figcaption></figure>')
            continue
        partial = (f' <span class="note">Partial: {esc("; ".join(h.notes))}.</span>'
                   if h.notes else "")
        div_id = f"plot-{spec.slug}"
        plots[div_id] = plot.as_json()
        sections.append(f"{head}What to look for: {esc(spec.look_for)}{partial}</figcaption>"
                        f'<div class="plot" id="{esc(div_id)}"></div></figure>')
    return sections, plots, list(dict.fromkeys(problems))


# ----------------------------------------------------------------------------- the page


def write_report(out_dir: pathlib.Path, history: Mapping[str, np.ndarray],
                 summary: Mapping, *, problems: tuple[str, ...] = ()) -> pathlib.Path:
    """Write ``out_dir/report.html`` (one self-contained file); return its path.

    Missing or malformed history keys skip their plot (or panel) with a note, and one
    line at the top lists what is missing; ``problems`` adds lines of the caller's (a
    history file that could not be read).  The report is still written.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summary if isinstance(summary, Mapping) else {}
    h = History(history or {})
    h.events = events_for_plots(out_dir / "events.log") or summary_events(summary)
    h.flight_config = read_json_object(out_dir / "flight_config.json")[0] or {}

    extra = (TAG_PLOTS if "outcome" in summary else ()) + \
        (PROSPECT_PLOTS if "survey_coverage" in summary else ())
    sections, plots, data_problems = _render_plots(PLOTS + extra, h, summary)
    if not h.n:
        data_problems = ["no time history: plots left out, figures from the summary only"]
    all_problems = [*problems, *data_problems]
    problems_html = (f'<p class="problems"><b>Missing from this run\'s data:</b> '
                     f'{esc("; ".join(all_problems))}.</p>' if all_problems else "")

    status = requirement_status(summary)
    v_cls, v_text = verdict(status, summary)
    scenario = summary.get("scenario", "unknown scenario")
    meta = [("scenario", scenario), ("seed", summary.get("seed", "—")),
            ("samples", f"{h.n:,}"), ("mission span", hms(h.duration_s) if h.n else "—")]
    faults_html = (f"<h2>Faults and survival</h2>\n{faults_table(summary)}\n"
                   if "faults" in summary else "")
    meta_html = " &nbsp;·&nbsp; ".join(f"{esc(k)} <b>{esc(v)}</b>" for k, v in meta)
    payload = {"arrays": h.store.arrays, "plots": plots}
    scripts = ""
    if plots:  # a page without plots needs no plotting library
        scripts = (f"<script>{page_asset('plotly.min.js')}</script>\n"
                   f'<script type="application/json" id="report-data">{_script_json(payload)}'
                   f"</script>\n<script>{page_asset('report.js')}</script>")
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Run report — {esc(scenario)} (seed {esc(summary.get("seed", "—"))})</title>
<style>{_CSS}</style></head>
<body>
<h1>Prospector run report — {esc(scenario)}</h1>
<div class="meta">{meta_html}</div>
{_links_html(out_dir)}
{problems_html}<div class="verdict {v_cls}">{esc(v_text)}</div>
<h2>Outcome</h2>
{outcome_table(summary, status)}
<h2>Plots</h2>
{_mode_key_html(h)}
<p class="note">Drag to zoom, double-click to see the whole run; hover for values.
Coloured bands behind the time plots are the flight modes; the strip under each is the
run's events (hover for the text).</p>
{chr(10).join(sections)}
{faults_html}<h2>Events</h2>
{events_table(out_dir, summary)}
<h2>Host</h2>
{host_table(summary)}
{scripts}
</body></html>
"""
    out = out_dir / REPORT_NAME
    out.write_text(doc, encoding="utf-8")
    return out


def write_run_dir_report(run_dir: pathlib.Path) -> tuple[pathlib.Path, list[str]]:
    """Make ``run_dir/report.html`` from the run directory's own history.npz and
    summary.json, reporting what is there when either is missing or damaged; return the
    page's path and what was missing or damaged, in words (empty when nothing was)."""
    run_dir = pathlib.Path(run_dir)
    history, history_note = read_history(run_dir / "history.npz")
    summary, summary_note = read_json_object(run_dir / "summary.json")
    problems = [note for note in (history_note, summary_note) if note]
    out = write_report(run_dir, history or {}, summary or {}, problems=tuple(problems))
    return out, problems
