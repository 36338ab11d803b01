"""Run report: one self-contained HTML page with PNG plots, for a flight engineer.

``write_report(out_dir, history, summary)`` writes ``out_dir/report.html`` and
the plots under ``out_dir/report/`` (fixed file names, relative ``img src``) and
returns the HTML path.

``history`` holds 1 Hz mission-time series that all share one length N; any key
may be absent, in which case its plot (or panel) is replaced by a note.

This module assembles the page: which plots, in which order, with which caption,
and the HTML around them.  The plots live by topic (sim.report_gnc,
sim.report_scheduler, sim.report_tag, sim.report_prospect) on a shared plotting
kit (sim.report_kit); the requirements judged are in sim.report_requirements.
"""

from __future__ import annotations

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
from sim.report_kit import History, PlotSpec, Skip, save_plot
from sim.report_prospect import PROSPECT_PLOTS
from sim.report_requirements import (
    REQUIREMENTS,
    Requirement,
    requirement_status,
)
from sim.report_scheduler import host_table, plot_scheduler
from sim.report_sections import events_table, outcome_table, verdict
from sim.report_tag import TAG_PLOTS

__all__ = ["REQUIREMENTS", "Requirement", "requirement_status", "write_report"]

REPORT_NAME = "report.html"
PLOT_DIR = "report"

# ----------------------------------------------------------------------------- plots

# Every run gets these; a touch-and-go run adds TAG_PLOTS, a prospecting run PROSPECT_PLOTS.
PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec("01_position_error.png", "Position error",
             "The error should settle well under the 1 m line and stay there; a growing "
             "or one-sided body-fixed component means a bias the controller is not removing.",
             plot_position),
    PlotSpec("02_navigation_error.png", "Navigation error",
             "The red error should stay mostly under the solid 1σ line and almost never "
             "cross the dashed 3σ line; persistently above means an overconfident filter, "
             "far below a pessimistic one.",
             plot_navigation),
    PlotSpec("03_attitude_error.png", "Pointing error",
             "Everything below the red 0.1° line; spikes that coincide with thruster "
             "firings or mode changes point at disturbance rejection.",
             plot_attitude),
    PlotSpec("04_thrusters.png", "Thruster use",
             "Opposite-facing thrusters should be used about equally; a ramp in Δv "
             "rather than a shallow slope means fighting a disturbance or a wrong model.",
             plot_thrusters),
    PlotSpec("05_wheel_speeds.png", "Reaction wheels",
             "Speeds should stay bounded and away from saturation; a steady drift is "
             "accumulated momentum that will need a desaturation.",
             plot_wheels),
    PlotSpec("06_scheduler.png", "Scheduler timing",
             "Dark bars (max) should end left of the red budget tick (the figure right of "
             "each row is max and its share of budget); ⚠ marks overruns or faults.",
             plot_scheduler),
    PlotSpec("07_altitude_mode.png", "Altitude and mode",
             "Altitude should hold steady in HOVER; any drop into SAFE should line up "
             "with an entry in the events table below.  Injected faults are marked on the "
             "mode strip: red dashed where injected, an orange triangle (with the response) "
             "where detected, a green diamond where the monitor cleared, a grey cross for "
             "one never detected.",
             plot_altitude_mode),
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
figure img{max-width:100%;height:auto;display:block}
figcaption{color:#444;margin-bottom:6px} figcaption b{color:#222}
.note{color:#888;font-style:italic}
"""


def write_report(out_dir: pathlib.Path, history: Mapping[str, np.ndarray],
                 summary: Mapping) -> pathlib.Path:
    """Write ``out_dir/report.html`` and its PNGs under ``out_dir/report/``; return the HTML path.

    Missing or malformed history keys skip their plot (or panel) with a note; the
    report is still written.
    """
    out_dir = pathlib.Path(out_dir)
    plot_dir = out_dir / PLOT_DIR
    plot_dir.mkdir(parents=True, exist_ok=True)
    summary = summary or {}
    h = History(history or {})

    sections = []
    extra = (TAG_PLOTS if "outcome" in summary else ()) + \
        (PROSPECT_PLOTS if "survey_coverage" in summary else ())
    for spec in PLOTS + extra:
        path = plot_dir / spec.file
        h.notes = []
        try:
            save_plot(spec, h, summary, path)
        except Skip as exc:
            note = f"Not plotted: {exc}."
        except Exception as exc:  # a report must not take the run down
            note = f"Plot failed: {type(exc).__name__}: {exc}"
        else:
            note = ""
        head = f'<figure id="{esc(path.stem)}"><figcaption><b>{esc(spec.title)}.</b> '
        if note:
            path.unlink(missing_ok=True)  # no stale image from an earlier run
            sections.append(f'{head}<span class="note">{esc(note)}</span></figcaption></figure>')
            continue
        partial = (f' <span class="note">Partial: {esc("; ".join(h.notes))}.</span>'
                   if h.notes else "")
        src = f"{PLOT_DIR}/{spec.file}"
        sections.append(
            f"{head}What to look for: {esc(spec.look_for)}{partial}</figcaption>"
            f'<a href="{esc(src)}"><img src="{esc(src)}" alt="{esc(spec.title)}"></a>'
            "</figure>"
        )

    plots_html = "\n".join(sections)
    status = requirement_status(summary)
    v_cls, v_text = verdict(status, summary)
    scenario = summary.get("scenario", "unknown scenario")
    meta = [("scenario", scenario), ("seed", summary.get("seed", "—")),
            ("samples", f"{h.n:,}"), ("mission span", hms(h.duration_s) if h.n else "—")]
    faults_html = (f"<h2>Faults and survival</h2>\n{faults_table(summary)}\n"
                   if "faults" in summary else "")
    meta_html = " &nbsp;·&nbsp; ".join(f"{esc(k)} <b>{esc(v)}</b>" for k, v in meta)
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Run report — {esc(scenario)} (seed {esc(summary.get("seed", "—"))})</title>
<style>{_CSS}</style></head>
<body>
<h1>Prospector run report — {esc(scenario)}</h1>
<div class="meta">{meta_html}</div>
<div class="verdict {v_cls}">{esc(v_text)}</div>
<h2>Outcome</h2>
{outcome_table(summary, status)}
<h2>Plots</h2>
{plots_html}
{faults_html}<h2>Events</h2>
{events_table(out_dir, summary)}
<h2>Host</h2>
{host_table(summary)}
</body></html>
"""
    out = out_dir / REPORT_NAME
    out.write_text(doc, encoding="utf-8")
    return out
