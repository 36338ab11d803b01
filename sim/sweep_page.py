"""DIR/sweep.html: the one-glance page of a sweep, written with aggregate.json.

The outcomes, the touchdown scatter (touch-and-go sweeps only: a hover or survey sweep
has no touchdowns to draw) and the aggregate's figures, each named in words with its
unit; report.html beside it has the whole study (sim/sweep_report.py).  One file: the
scatter is inline.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.report_format import esc
from sim.sweep_names import label

PAGE_NAME = "sweep.html"


def sweep_page(summaries: list[dict], agg: dict) -> str:
    """The page's HTML text from the runs' summaries and the sweep's aggregate."""
    from sim.sweep_figures import touchdown_image, touchdown_offsets

    scenario = str(agg.get("scenario", "?"))
    outcomes = agg.get("outcomes") or {}
    touch_and_go = any(s.get("outcome") in ("sampled", "waved_off", "failed")
                       or "touchdown_miss_m" in s for s in summaries if s)
    parts = [f"<h1>Sweep: {esc(scenario)}, {agg.get('runs', len(summaries))} runs</h1>",
             '<p>The whole study (drivers, worst runs, histograms): '
             '<a href="report.html">report.html</a>.</p>',
             "<h2>Outcomes</h2>", _outcomes(outcomes, agg.get("waveoff_reasons") or {})]
    if touch_and_go:
        points = touchdown_offsets(summaries)
        parts.append("<h2>Touchdowns</h2>")
        if len(points):
            uri, _ = touchdown_image(points)
            parts.append(f'<figure id="touchdown-scatter"><img src="{uri}" '
                         f'alt="touchdown points about the target, in its plane"></figure>')
        else:
            parts.append('<p class="note">No run reached the surface.</p>')
    parts += ["<h2>Figures over the runs</h2>", _figures(agg.get("figures") or {})]
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Sweep {esc(scenario)}</title><style>body{{font:14px sans-serif;"
            "max-width:1000px;margin:auto}table{border-collapse:collapse}th,td{border:1px "
            "solid #ccc;padding:3px 6px}td.num{text-align:right}.note{color:#888}</style>"
            f"</head><body>{''.join(parts)}</body></html>\n")


def _outcomes(outcomes: dict, reasons: dict) -> str:
    if not outcomes:
        return '<p class="note">No outcome recorded.</p>'
    rows = "".join(f"<tr><td>{esc(str(name).replace('_', ' '))}</td>"
                   f'<td class="num">{count}</td></tr>' for name, count in outcomes.items())
    text = f"<table><tr><th>outcome</th><th>runs</th></tr>{rows}</table>"
    if reasons:
        text += f"<p>Wave-off reasons: {esc(json.dumps(reasons))}</p>"
    return text


def _figures(figures: dict) -> str:
    if not figures:
        return '<p class="note">No numeric figure in the summaries.</p>'
    rows = "".join(
        f'<tr><td title="{esc(key)}">{esc(label(key))}</td>'
        + "".join(f'<td class="num">{v.get(q, float("nan")):.4g}</td>'
                  for q in ("p50", "p99", "min", "max"))
        + f'<td class="num">{v.get("n")}</td></tr>' for key, v in figures.items())
    return ("<table><tr><th>figure [unit]</th><th>median</th><th>99th percentile</th>"
            f"<th>minimum</th><th>maximum</th><th>runs</th></tr>{rows}</table>")


def write_sweep_page(out_dir: Path, summaries: list[dict], agg: dict) -> Path:
    path = Path(out_dir) / PAGE_NAME
    path.write_text(sweep_page(summaries, agg), encoding="utf-8")
    return path
