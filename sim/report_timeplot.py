"""Time plots of the run report: rows of series over mission time sharing one x axis,
the flight mode shaded behind them and the run's events on a strip underneath.

Every time plot is built here so that every one has the same furniture: the mode
spans (from the history's ``mode`` column) as coloured bands behind all rows with one
legend entry per mode, the events as markers on a thin bottom row whose hover gives
the time, severity, source and text, units on every axis, and requirement or limit
lines as legend entries (a legend never overlaps its own labels).  The mode colours are
keyed once for the page (``modes_present``), in a bar that stays in view.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.report_format import MODE_NAMES, hms
from sim.report_kit import MODE_COLORS, History, Plot, Skip, axis, time_label

#: More mode changes than this and the bands would be a smear (and slow): the plots
#: then leave them out and say so; the altitude and mode plot still shows every change.
MAX_MODE_BANDS = 400
#: At most this many events on a strip (the earliest errors and warnings first).
MAX_STRIP_EVENTS = 3000
EVENTS_ROW_PX = 46
MODE_OPACITY = 0.14
GAP_PX = 14
SEVERITY_COLORS = {"EMERGENCY": "#8b0000", "ALERT": "#8b0000", "CRITICAL": "#b30000",
                   "ERROR": "#d62728", "WARNING": "#ff7f0e", "NOTICE": "#1f77b4",
                   "INFO": "#7f7f7f", "DEBUG": "#c7c7c7"}
SEVERITY_RANK = {name: i for i, name in enumerate(SEVERITY_COLORS)}


@dataclass(frozen=True)
class Row:
    """One panel of a time plot: its y-axis title (with unit), height in pixels, axis
    type ("linear" or "log") and optional fixed range."""

    ylabel: str
    height_px: int = 260
    log: bool = False
    y_range: tuple[float, float] | None = None


def mode_spans(h: History) -> list[tuple[int, float, float]]:
    """(mode, start, end) in the plot's time unit, one per stretch of constant mode;
    empty when the history has no usable ``mode`` column."""
    try:
        mode_f = h.get("mode")
    except Skip:
        h.notes.pop()  # the bands are furniture: their absence is not the plot's data problem
        return []
    mode = np.where(np.isfinite(mode_f), mode_f, -1).astype(int)
    change = np.flatnonzero(np.diff(mode) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(mode)]])
    t = h.tx
    t_end = t[-1] + h.dt / h.t_scale
    return [(int(mode[s]), float(t[s]), float(t[e]) if e < len(t) else float(t_end))
            for s, e in zip(starts, ends, strict=True)]


def mode_name(m: int) -> str:
    return MODE_NAMES.get(m, "no mode" if m < 0 else f"mode {m}")


def time_plot(h: History, rows: Sequence[Row], *, events: bool = True,
              left_px: int = 84) -> Plot:
    """An empty time plot: ``rows`` top to bottom (y axes y, y2, ...), the events strip
    under them, mode bands behind all; add traces with ``row=k`` via ``yref``.
    ``left_px``: the left margin, room for the widest tick labels and the axis title."""
    heights = [r.height_px for r in rows] + ([EVENTS_ROW_PX] if events else [])
    total = sum(heights) + GAP_PX * (len(heights) - 1)
    layout: dict = {
        "height": total + 110, "margin": {"l": left_px, "r": 20, "t": 16, "b": 56},
        "hovermode": "x", "plot_bgcolor": "#ffffff", "paper_bgcolor": "#ffffff",
        "legend": {"orientation": "v", "x": 1.01, "y": 1.0, "font": {"size": 11}},
        "shapes": [], "annotations": [], "uirevision": "keep",
        "xaxis": axis(time_label(h), anchor=f"y{_suffix(len(heights) - 1)}",
                      showspikes=True, spikemode="across", spikethickness=1),
    }
    top = 1.0
    for i, height in enumerate(heights):
        frac = height / total
        bottom = max(0.0, top - frac)
        key = f"yaxis{_suffix(i)}"
        if i < len(rows):
            r = rows[i]
            ax = axis(r.ylabel, domain=[bottom, top], anchor="x", type="log" if r.log else
                      "linear")
            if r.y_range is not None:
                ax["range"] = list(np.log10(r.y_range)) if r.log else list(r.y_range)
        else:  # the events strip: one row of markers, no numbers on its axis
            ax = {"domain": [bottom, top], "anchor": "x", "range": [-1, 1], "fixedrange": True,
                  "showticklabels": False, "showgrid": False, "zeroline": False,
                  "title": {"text": "events", "standoff": 6}}
        layout[key] = ax
        top = bottom - GAP_PX / total
    plot = Plot(layout=layout)
    _shade_modes(plot, h)
    if events:
        _event_strip(plot, h, len(heights) - 1)
    return plot


def _suffix(i: int) -> str:
    return "" if i == 0 else str(i + 1)


def yref(row: int) -> str:
    """The trace attribute ``yaxis`` of panel ``row`` (0 = top)."""
    return f"y{_suffix(row)}"


def _shade_modes(plot: Plot, h: History) -> None:
    spans = mode_spans(h)
    if not spans:
        return
    if len(spans) > MAX_MODE_BANDS:
        plot.layout["annotations"].append({
            "xref": "paper", "yref": "paper", "x": 0.0, "y": 1.0, "xanchor": "left",
            "yanchor": "bottom", "showarrow": False, "font": {"size": 11, "color": "#b30000"},
            "text": f"mode changed {len(spans) - 1:,} times: bands left out "
                    "(see the altitude and mode plot)"})
        return
    for m, t0, t1 in spans:
        plot.layout["shapes"].append({
            "type": "rect", "xref": "x", "yref": "paper", "x0": t0, "x1": t1, "y0": 0,
            "y1": 1, "fillcolor": MODE_COLORS.get(m, "#bbbbbb"), "opacity": MODE_OPACITY,
            "line": {"width": 0}, "layer": "below", "name": f"mode {mode_name(m)}"})


def modes_present(h: History) -> list[int]:
    """The modes of the run in order of first appearance (for the page's colour key:
    one key for every plot, rather than seven legend entries in each, which would
    also cost a third of the page's drawing time)."""
    notes = list(h.notes)
    seen = list(dict.fromkeys(m for m, _, _ in mode_spans(h)))
    h.notes = notes
    return seen


def _event_strip(plot: Plot, h: History, row: int) -> None:
    events = sorted(h.events, key=lambda e: (SEVERITY_RANK.get(e[1], 99), e[0]))
    events = sorted(events[:MAX_STRIP_EVENTS], key=lambda e: e[0])
    by_sev: dict[str, list] = {}
    for ev in events:
        by_sev.setdefault(ev[1], []).append(ev)
    for sev in sorted(by_sev, key=lambda s: SEVERITY_RANK.get(s, 99)):
        evs = by_sev[sev]
        # Plotly reads a few tags in hover text: the run's words are escaped to stay text.
        text = [html.escape(f"T+{hms(t)} ({t:.1f} s) {s} {src}: {txt}", quote=False)
                for t, s, src, txt in evs]
        plot.add({"type": "scatter", "mode": "markers", "yaxis": yref(row),
                  "x": [round(t / h.t_scale, 6) for t, *_ in evs], "y": [0.0] * len(evs),
                  "name": f"event {sev.lower()} ({len(evs)})", "legendgroup": "events",
                  "marker": {"symbol": "line-ns-open", "size": 16, "line": {"width": 2},
                             "color": SEVERITY_COLORS.get(sev, "#7f7f7f")},
                  "text": text, "hovertemplate": "%{text}<extra></extra>"})


def hline(plot: Plot, h: History, row: int, value: float, name: str, color: str,
          dash: str = "dot") -> None:
    """A horizontal requirement or limit line across the whole run, named in the legend."""
    x0 = float(h.tx[0]) if h.n else 0.0
    x1 = float(h.tx[-1]) if h.n else 1.0
    plot.add({"type": "scatter", "mode": "lines", "x": [x0, x1], "y": [value, value],
              "yaxis": yref(row), "name": name, "line": {"color": color, "dash": dash,
                                                         "width": 1.6},
              "hoverinfo": "name"})


def series(plot: Plot, h: History, row: int, key: str, values: np.ndarray | None, name: str,
           color: str, *, how: str = "minmax", width: float = 1.2, scale: float = 1.0,
           mask: tuple[str, np.ndarray, bool] | None = None, **extra) -> int:
    """A long series on panel ``row``, down-sampled in the page; ``key`` names its array
    (``values`` None: an array already stored under ``key``).  ``mask`` is (name, boolean
    array, which value to draw)."""
    mask_ref = h.store.ref(mask[0], mask[1]) if mask is not None else None
    return plot.add_series({"type": "scatter", "mode": "lines", "name": name,
                            "yaxis": yref(row), "line": {"color": color, "width": width},
                            **extra}, h.time_ref(),
                           h.store.ref(key, values if values is not None else []), how=how,
                           scale=scale, mask_ref=mask_ref, keep=mask[2] if mask else True)


def empty_row_note(plot: Plot, row: int, note: str) -> None:
    """Say in the panel why it has nothing to show."""
    plot.layout["annotations"].append({
        "xref": "x domain", "yref": f"{yref(row)} domain", "x": 0.5, "y": 0.5,
        "showarrow": False, "text": html.escape(note), "font": {"color": "#888888"}})
