"""The sweep report: DIR/report.html, one self-contained page (PNGs inline) that a GNC
engineer reads after a Monte Carlo sweep.

    outcomes     every outcome, errors and every flag: count, rate, Wilson 95 % interval
    touchdowns   the touchdown scatter about the target with its 99 % ellipse (touch-and-go
                 sweeps only: a hover or survey sweep has no such section)
    drivers      Spearman's rank correlation of each dispersed input with each key figure
    worst runs   the worst runs with their seeds, and the command that flies each alone
    figures      histograms of every numeric figure of the summaries that varies
    inputs       histograms of the dispersed inputs, and the dispersions as declared

Written at the end of every `prospector sweep` (sim.sweep.finish_sweep) and again from a
sweep directory by `prospector sweep-report DIR` (`write_report_html`), from what the
sweep left there: runs.parquet, aggregate.json, sweep.json and results/.  `build_report`
is the page from those contents, for a table made anywhere.  A section that cannot be
drawn says why in its place; the page is always written.  Figures and inputs are named in
words with their units (sim/sweep_names.py); their keys stay in data- attributes and
tooltips.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sim.report_format import esc, fmt
from sim.sweep_names import label, words_and_unit
from sim.sweep_stats import (
    HOST_FIGURES,
    driver_matrix,
    floats,
    input_columns,
    is_flag,
    key_figures,
    numeric_columns,
    rerun_command,
    varies,
    worst_runs,
)

REPORT_NAME = "report.html"
WORST_COUNT = 10
TOP_DRIVERS = 10
P_SIGNIFICANT = 0.05

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;
  max-width:1150px;padding:16px 24px;color:#222;background:#fafafa}
h1{margin:0 0 4px;font-size:22px} h2{margin:28px 0 8px;font-size:18px;
  border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555;margin-bottom:12px} .meta b{color:#222}
table{border-collapse:collapse;background:#fff;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0} td.num{text-align:right;font-variant-numeric:tabular-nums}
td.rho{text-align:right;font-variant-numeric:tabular-nums;min-width:4em}
td.sig{font-weight:700}
.bar{position:relative;width:220px;height:12px;background:#eee;border-radius:2px}
.bar .rate{position:absolute;left:0;top:0;bottom:0;background:#1f77b4}
.bar .ci{position:absolute;top:4px;height:4px;background:#222;opacity:.55}
figure{margin:14px 0;background:#fff;border:1px solid #e4e4e4;padding:8px}
figure img{max-width:100%;height:auto;display:block}
figcaption{color:#444;margin-bottom:6px}
code{font-size:12px;background:#f3f3f3;padding:1px 4px;word-break:break-all}
.note{color:#888;font-style:italic}
"""


class SweepReportError(Exception):
    """The directory holds no sweep to report on (one line)."""


def write_report_html(out_dir: Path) -> Path:
    """DIR/report.html from the sweep in out_dir; SweepReportError if it holds none."""
    import pandas as pd

    from sim.sweep_store import read_manifest, read_records

    out_dir = Path(out_dir)
    try:
        table = pd.read_parquet(out_dir / "runs.parquet")
        agg = json.loads((out_dir / "aggregate.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SweepReportError(f"{out_dir}: no finished sweep to report on (runs.parquet and "
                               f"aggregate.json: {exc})") from None
    manifest = read_manifest(out_dir) or {}
    records = read_records(out_dir)
    summaries = [records[s].get("summary") for s in sorted(records)]
    reasons = {s: (r.get("summary") or {}).get("outcome_reason") or r.get("error")
               for s, r in records.items()}
    from sim.sweep_figures import touchdown_offsets

    page = build_report(table, agg, manifest, touchdown_offsets(summaries), reasons)
    path = out_dir / REPORT_NAME
    path.write_text(page, encoding="utf-8")
    return path


def build_report(table, aggregate: dict, manifest: dict, touchdowns=None,
                 reasons: dict | None = None) -> str:
    """The page (HTML text) of a runs table (sim.sweep_table's columns), the sweep's
    aggregate.json and sweep.json contents, the touchdown offsets (seed, e1, e2) and each
    seed's outcome reason or error."""
    table = table.copy()
    scenario = str(manifest.get("scenario") or aggregate.get("scenario") or "?")
    sections = [
        ("outcomes", "Outcomes", lambda: _outcomes(aggregate)),
        ("touchdowns", "Touchdowns", lambda: _touchdowns(touchdowns)),
        ("drivers", "Which dispersed inputs drive which outcomes", lambda: _drivers(table)),
        ("worst", "Worst runs", lambda: _worst(table, scenario, manifest, reasons or {})),
        ("figures", "Figures over the runs", lambda: _figures(table)),
        ("inputs", "Dispersed inputs", lambda: _inputs(table, manifest, aggregate)),
    ]
    if not is_touch_and_go(table, touchdowns):
        sections = [s for s in sections if s[0] != "touchdowns"]
    body = []
    for ident, title, make in sections:
        try:
            html = make()
        except Exception as exc:  # a section must not take the page (or the sweep) down
            html = f'<p class="note">Not drawn: {esc(type(exc).__name__)}: {esc(exc)}</p>'
        body.append(f'<section id="{ident}"><h2>{esc(title)}</h2>\n{html}\n</section>')
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Sweep report — {esc(scenario)}</title>
<style>{_CSS}</style></head>
<body>
<h1>Prospector sweep report — {esc(scenario)}</h1>
<div class="meta">{_meta(table, aggregate, manifest)}</div>
{chr(10).join(body)}
</body></html>
"""


TOUCH_AND_GO_OUTCOMES = ("sampled", "waved_off", "failed")


def is_touch_and_go(table, touchdowns=None) -> bool:
    """Whether the sweep flew touch-and-go runs (and so has touchdowns to show): any
    touchdown, a touch-and-go figure in the table, or a touch-and-go outcome."""
    if touchdowns is not None and len(touchdowns) > 0:
        return True
    if "touchdown_miss_m" in table.columns:
        return True
    if "outcome" not in table.columns:
        return False
    outcomes = set(table["outcome"].astype("string").dropna().tolist())
    return bool(outcomes & set(TOUCH_AND_GO_OUTCOMES))


def _meta(table, aggregate: dict, manifest: dict) -> str:
    seeds = sorted(int(s) for s in table["seed"]) if "seed" in table else []
    items = [("runs", len(table)), ("seeds", _ranges(seeds)),
             ("executor", aggregate.get("executor", "—")),
             ("wall time", f"{fmt(aggregate.get('wall_duration_s'))} s")]
    overrides = manifest.get("overrides") or aggregate.get("overrides") or {}
    if overrides:
        items.append(("--set", ", ".join(f"{k}={json.dumps(v)}" for k, v in overrides.items())))
    missing = aggregate.get("missing_seeds") or []
    if missing:
        items.append(("missing seeds", _ranges(missing)))
    return " &nbsp;·&nbsp; ".join(f"{esc(k)} <b>{esc(v)}</b>" for k, v in items)


def _ranges(seeds: list[int]) -> str:
    if not seeds:
        return "—"
    parts, start, prev = [], seeds[0], seeds[0]
    for s in seeds[1:] + [None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if s is not None:
            start = prev = s
    return ",".join(parts)


def _outcomes(aggregate: dict) -> str:
    rates = aggregate.get("rates") or {}
    if not rates:
        return '<p class="note">No rates in aggregate.json.</p>'
    rows = []
    for name, r in rates.items():
        lo, hi = r.get("wilson95") or (0.0, 1.0)
        rate = r.get("rate")
        bar = ("" if rate is None else
               f'<div class="bar"><div class="rate" style="width:{100 * rate:.1f}%"></div>'
               f'<div class="ci" style="left:{100 * lo:.1f}%;width:{100 * (hi - lo):.1f}%">'
               "</div></div>")
        kind = "outcome" if name.startswith("outcome:") else ("errors" if name == "error"
                                                               else "flag")
        words = (name.removeprefix("outcome:").replace("_", " ") if kind == "outcome"
                 else "run ended in an error" if kind == "errors" else label(name))
        rows.append(f'<tr data-rate="{esc(name)}"><td>{esc(words)}</td><td>{kind}</td>'
                    f'<td class="num">{r.get("count")} / {r.get("of")}</td>'
                    f'<td class="num">{_pct(rate)}</td>'
                    f'<td class="num">{_pct(lo)} – {_pct(hi)}</td><td>{bar}</td></tr>')
    return ("<p>Counts over the runs with the Wilson score interval at 95 % (it stays "
            "within 0-100 % and keeps its coverage for few runs and rates near 0 or 1); a "
            "flag counts the runs where it was true.  The bar is the rate, the dark band "
            "its interval.</p><table><tr><th>outcome or flag</th><th>kind</th><th>runs</th>"
            "<th>rate</th><th>95 % interval</th><th></th></tr>" + "".join(rows) + "</table>")


def _pct(value) -> str:
    return "—" if value is None else f"{100.0 * value:.1f} %"


def _touchdowns(points) -> str:
    from sim.sweep_figures import touchdown_image

    if points is None or len(points) == 0:
        return '<p class="note">No touchdown in this sweep: no run reached the surface.</p>'
    uri, ellipse = touchdown_image(np.asarray(points, dtype=float))
    if ellipse is None:
        words = "fewer than three touchdowns: no ellipse"
        attrs = ""
    else:
        c = ellipse["centre_m"]
        words = (f"99 % ellipse: semi-axes {ellipse['semi_major_m']:.3f} m and "
                 f"{ellipse['semi_minor_m']:.3f} m, major axis at "
                 f"{ellipse['angle_deg']:.1f}° from e1, centre ({c[0]:.3f}, {c[1]:.3f}) m")
        attrs = (f' data-semi-major-m="{ellipse["semi_major_m"]:.6g}" data-semi-minor-m='
                 f'"{ellipse["semi_minor_m"]:.6g}" data-angle-deg="{ellipse["angle_deg"]:.6g}"'
                 f' data-centre-m="{c[0]:.6g},{c[1]:.6g}"')
    miss = np.hypot(points[:, 1], points[:, 2])
    return (f'<figure id="touchdown-scatter"{attrs}><figcaption>{len(points)} touchdowns in '
            f"the target's plane; {esc(words)} (chi-square 99 % of two degrees of freedom "
            f"about the mean and covariance); miss p50 {fmt(np.percentile(miss, 50))} m, max "
            f"{fmt(miss.max())} m.  The farthest are labelled with their seeds.</figcaption>"
            f'<img src="{uri}" alt="touchdown scatter with its 99 % ellipse"></figure>')


def _drivers(table) -> str:
    inputs = input_columns(table)
    figures = key_figures(table)
    if not inputs:
        return '<p class="note">No dispersed input in the table (a sweep of a scenario ' \
               'without [dispersions]).</p>'
    if not figures:
        return '<p class="note">No outcome figure varies over the runs.</p>'
    matrix = driver_matrix(table, inputs, figures)
    tested = [c for c in matrix.values() if c.rho is not None]
    bonferroni = P_SIGNIFICANT / max(1, len(tested))

    def strength(i):
        return max((abs(matrix[i, f].rho) for f in figures if matrix[i, f].rho is not None),
                   default=-1.0)

    rows = []
    for i in sorted(inputs, key=lambda i: (-strength(i), i)):
        cells = "".join(_rho_cell(i, f, matrix[i, f], bonferroni) for f in figures)
        rows.append(f'<tr><td title="{esc(i)}">{esc(label(i))}</td>{cells}</tr>')
    head = "".join(f'<th title="{esc(f)}">{esc(label(f))}</th>' for f in figures)
    top = sorted(((abs(c.rho), i, f, c) for (i, f), c in matrix.items()
                  if c.rho is not None and c.p < P_SIGNIFICANT), key=lambda t: -t[0])
    listed = "".join(f"<li><b>{esc(label(i))}</b> → {esc(label(f))}: ρ {c.rho:+.2f} (n {c.n}, p "
                     f"{c.p:.2g}){' **' if c.p < bonferroni else ''}</li>"
                     for _, i, f, c in top[:TOP_DRIVERS])
    strongest = (f"<p>Strongest relations (p &lt; {P_SIGNIFICANT}):</p><ol>{listed}</ol>"
                 if listed else f'<p class="note">No relation at p &lt; {P_SIGNIFICANT} over '
                                f"these runs.</p>")
    return (f"{strongest}<p>Spearman's rank correlation ρ of each dispersed input (rows, "
            "strongest first; a vector input also by its magnitude) with each key figure "
            "(columns), over the runs where both are known: blue when the figure grows with "
            "the input, red when it falls.  * p &lt; 0.05; ** also under Bonferroni's "
            f"correction for the {len(tested)} pairs tested (at 0.05, about one pair in "
            "twenty shows * by chance).  Correlation is not cause: inputs drawn "
            "independently make it a fair first look.</p>"
            f'<table class="drivers"><tr><th>input</th>{head}</tr>{"".join(rows)}</table>')


def _rho_cell(i: str, f: str, c, bonferroni: float) -> str:
    data = f'data-input="{esc(i)}" data-figure="{esc(f)}"'
    if c.rho is None:
        return f'<td class="rho" {data} data-rho="">—</td>'
    alpha = 0.08 + 0.6 * abs(c.rho)
    colour = (33, 102, 172) if c.rho > 0 else (178, 24, 43)
    mark = "**" if c.p < bonferroni else ("*" if c.p < P_SIGNIFICANT else "")
    return (f'<td class="rho{" sig" if mark else ""}" {data} data-rho="{c.rho:.6g}" '
            f'style="background:rgba({colour[0]},{colour[1]},{colour[2]},{alpha:.2f})" '
            f'title="n {c.n}, p {c.p:.2g}">{c.rho:+.2f}{mark}</td>')


def _worst(table, scenario: str, manifest: dict, reasons: dict) -> str:
    figures = key_figures(table)
    primary = figures[0] if figures else None
    worst = worst_runs(table, primary, WORST_COUNT)
    if worst.empty:
        return '<p class="note">No runs.</p>'
    shown = figures[:4]
    head = "".join(f'<th title="{esc(f)}">{esc(label(f))}</th>' for f in shown)
    rows = []
    for rank, (_, row) in enumerate(worst.iterrows(), 1):
        seed = int(row["seed"])
        why = reasons.get(seed) or (row["error"] if "error" in row and row["error"] is not
                                    None and str(row["error"]) != "<NA>" else "")
        values = "".join(f'<td class="num">{esc(fmt(_finite(row.get(f))))}</td>'
                         for f in shown)
        command = rerun_command(scenario, seed, manifest.get("overrides"))
        rows.append(f'<tr data-seed="{seed}"><td class="num">{rank}</td>'
                    f'<td class="num">{seed}</td><td>{esc(row["outcome"])}</td>'
                    f"<td>{esc(why)}</td>{values}<td><code>{esc(command)}</code></td></tr>")
    order = (f"then by {esc(label(primary))}, worst first" if primary else "then by seed")
    return (f"<p>Errors first, then failed runs, then runs waved off, {order}.  Each command "
            "flies that seed again alone with the same settings and the same draws "
            "(<code>--dispersed</code>), giving the same flight log.</p>"
            f"<table class=\"worst\"><tr><th>#</th><th>seed</th><th>outcome</th><th>why</th>"
            f"{head}<th>fly it again alone</th></tr>{''.join(rows)}</table>")


def _finite(value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _figures(table) -> str:
    from sim.sweep_figures import histogram_images

    columns = [c for c in numeric_columns(table) if not is_flag(table[c])]
    first = [f for f in key_figures(table) if f in columns]
    varying = [c for c in columns if varies(table[c])]
    order = first + [c for c in varying if c not in first and c not in HOST_FIGURES] + \
        [c for c in varying if c in HOST_FIGURES and c not in first]
    constant = [c for c in columns if c not in varying and np.isfinite(floats(table[c])).any()]
    if not order:
        return '<p class="note">No numeric figure varies over the runs.</p>'
    images = histogram_images({label(c): floats(table[c]) for c in order})
    fixed = "; ".join(_constant_text(c, table[c]) for c in constant)
    same = f'<p class="note">The same in every run: {esc(fixed)}</p>' if constant else ""
    return (f"<p>{len(order)} figures of the runs' summaries (key figures first, what the "
            "runs cost their host last); red dashed: the median, dotted: the 99th "
            "percentile.  Flags are counted under Outcomes.</p>"
            + "".join(f'<figure><img src="{u}" alt="histograms of the figures"></figure>'
                      for u in images) + same)


def _constant_text(key: str, column) -> str:
    words, unit = words_and_unit(key)
    value = fmt(_finite(column.dropna().iloc[0]))
    return f"{words} = {value}" + (f" {unit}" if unit and unit not in ("count", "1 = yes")
                                   else "")


def _inputs(table, manifest: dict, aggregate: dict) -> str:
    from sim.sweep_figures import histogram_images

    declared = manifest.get("dispersions") or aggregate.get("dispersions") or {}
    def parameters(spec: dict) -> str:
        return ", ".join(f"{p} = {json.dumps(v)}" for p, v in spec.items()
                         if p != "distribution")

    rows = "".join(f"<tr><td>{esc(label(k))}</td><td><code>{esc(k)}</code></td>"
                   f"<td>{esc(spec.get('distribution'))}</td>"
                   f"<td>{esc(parameters(spec))}</td></tr>"
                   for k, spec in sorted(declared.items()))
    table_html = ("<table><tr><th>input [unit]</th><th>scenario key (for --set)</th>"
                  f"<th>distribution</th><th>parameters</th></tr>{rows}</table>" if rows else
                  '<p class="note">No dispersion declared.</p>')
    inputs = [c for c in input_columns(table) if varies(table[c])]
    images = histogram_images({label(c): floats(table[c]) for c in inputs}, color="#2ca02c") \
        if inputs else []
    return ("<p>The dispersions as declared in the scenario's [dispersions] (each drawn "
            "from its own stream of the seed), and what the runs drew.</p>" + table_html
            + "".join(f'<figure><img src="{u}" alt="histograms of the dispersed inputs">'
                      "</figure>" for u in images))
