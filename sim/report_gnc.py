"""Guidance, navigation and control plots every run's report carries.

Where the probe was against its target, what the filter believed against the truth,
how the instrument pointed, what the thrusters and wheels spent, and which mode the
flight software was in at what altitude.  Each is a render function for a
``report_kit.PlotSpec`` returning an interactive ``Plot``; the page (sim.report) decides
their order and captions.  Error plots judge only the samples ``judged_mask`` (sim.
report_windows: the judge's spans from the summary) lets through: the rest is drawn grey,
and the y range is taken from the judged part so a planned descent does not flatten the
errors that matter.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping

import numpy as np

from sim.report_format import MODE_NAMES, as_float, hms
from sim.report_kit import (
    COLORS,
    LIMIT_COLOR,
    REQUIREMENT_COLOR,
    History,
    Plot,
    Skip,
    finite,
    percentile,
)
from sim.report_requirements import ATTITUDE_REQ_DEG, HOVER_REQ_M
from sim.report_timeplot import Row, empty_row_note, hline, mode_name, series, time_plot, yref
from sim.report_windows import judged_mask

NOT_JUDGED_COLOR = "#b0b0b0"
# The summary's word on why a figure was not judged (sim/phase_windows.window_keys).
NOT_JUDGED_REASON = {"hover": "hover_not_judged_reason",
                     "pointing": "attitude_not_judged_reason"}


def _mode_or_none(h: History) -> np.ndarray | None:
    try:
        return h.get("mode")
    except Skip:
        h.notes.pop()  # judged windows fall back to every sample; not a data problem here
        return None


def _judged_and_not(plot: Plot, h: History, summary: Mapping, row: int, key: str,
                    y: np.ndarray, kind: str, name: str, color: str) -> np.ndarray:
    """Draw ``y`` in colour where ``kind`` is judged and grey elsewhere; return the mask."""
    mask = judged_mask(kind, h.t, _mode_or_none(h), summary)
    if not mask.any():  # say why, rather than leave a legend entry with nothing drawn
        reason = summary.get(NOT_JUDGED_REASON[kind]) or "no sample in a judged span"
        plot.layout["annotations"].append({
            "xref": "paper", "yref": "paper", "x": 0.0, "y": 1.0, "xanchor": "left",
            "yanchor": "bottom", "showarrow": False, "font": {"color": "#555555"},
            "text": html.escape(f"Not judged in this run: {reason}")})
    if mask.all():
        series(plot, h, row, key, y, name, color)
        return mask
    series(plot, h, row, key, y, name, color, mask=(f"judged.{kind}", mask, True))
    series(plot, h, row, key, None, "not judged (settling, moving, slewing, other modes)",
           NOT_JUDGED_COLOR,
           width=1.0, mask=(f"judged.{kind}", mask, False))
    return mask


def _upper(values: np.ndarray, *floors: float, q: float = 99.9, pad: float = 1.25) -> float:
    """Top of a y range: the q-th percentile of the values (not a lone start-up spike),
    at least each floor, with room above."""
    top = percentile(np.abs(values), q) if finite(values).size else None
    return pad * max([top or 0.0, *floors, 1e-9])


def plot_position(h: History, summary: Mapping) -> Plot:
    notes = []
    try:
        err = h.get("hover_err_m")
    except Skip as exc:
        err, notes = None, [str(exc)]
    try:
        comp = h.get("pos_err_bf_m", cols=3, min_cols=3)[:, :3]
    except Skip as exc:
        comp = None
        notes.append(str(exc))
    if err is None and comp is None:
        raise Skip("; ".join(notes))
    plot = time_plot(h, [Row("distance to hover point [m]"), Row("component [m]")])
    if err is not None:
        mask = _judged_and_not(plot, h, summary, 0, "hover_err_m", err, "hover",
                               "|r − r_target|", COLORS[0])
        judged = err[mask]
        p99 = percentile(judged, 99)
        if p99 is not None:
            hline(plot, h, 0, p99, f"p99 over judged samples = {p99:.3g} m", "#9467bd", "dash")
        hline(plot, h, 0, HOVER_REQ_M, f"requirement p99 ≤ {HOVER_REQ_M:g} m",
              REQUIREMENT_COLOR)
        plot.layout["yaxis"]["range"] = [0, _upper(judged, HOVER_REQ_M)]
    else:
        empty_row_note(plot, 0, notes[0])
    if comp is not None:
        mask = judged_mask("hover", h.t, _mode_or_none(h), summary)
        for i, name in enumerate("xyz"):  # judged samples only: a descent is no error
            series(plot, h, 1, f"pos_err_bf_m.{name}", comp[:, i], f"{name} (body-fixed)",
                   COLORS[i], mask=("judged.hover", mask, True))
        top = _upper(comp[mask], HOVER_REQ_M)
        plot.layout["yaxis2"]["range"] = [-top, top]
        if not mask.any():  # say why the panel is empty rather than show bare axes
            empty_row_note(plot, 1, "components are drawn over judged hover samples only; "
                                    "this run has none")
    else:
        empty_row_note(plot, 1, notes[-1])
    return plot


def settled(sigma: np.ndarray) -> np.ndarray:
    """Samples after the filter's start-up transient: from the first time its sigma is
    within 3x of its median over the run (the t = 0 prior is far above that)."""
    f = np.isfinite(sigma)
    if not f.any():
        return f
    med = float(np.median(np.abs(sigma[f])))
    ok = f & (np.abs(sigma) <= 3 * med)
    first = int(np.argmax(ok)) if ok.any() else 0
    out = np.zeros(len(sigma), dtype=bool)
    out[first:] = True
    return out


def plot_navigation(h: History, summary: Mapping) -> Plot:
    err = h.get("nav_err_m")
    try:
        sigma = np.abs(h.get("nav_sigma_m"))
        sigma_note = ""
    except Skip as exc:
        sigma, sigma_note = None, str(exc)
    plot = time_plot(h, [Row("position error [m]", height_px=320)])
    signed = bool(np.any(finite(err) < 0))
    if sigma is not None:
        # Bands first so the error line is drawn over them.
        # Four band edges from the one sigma array (scaled in the page).
        below = -1.0 if signed else 0.0
        band = {"line": {"width": 0}, "hoverinfo": "skip"}
        h.store.ref("nav_sigma_m", sigma)
        for k, alpha in ((3, 0.12), (1, 0.30)):
            series(plot, h, 0, "nav_sigma_m", None, f"{k}σ lower", "#1f4e8c", how="min",
                   scale=below * k, showlegend=False, **band)
            series(plot, h, 0, "nav_sigma_m", None, f"{k}σ (filter)", "#1f4e8c", how="max",
                   scale=float(k), fill="tonexty", fillcolor=f"rgba(31,119,180,{alpha})",
                   **band)
        ok = np.isfinite(err) & np.isfinite(sigma) & (sigma > 0)
        if ok.any():
            in1 = float(np.mean(np.abs(err[ok]) <= sigma[ok]) * 100)
            out3 = float(np.mean(np.abs(err[ok]) > 3 * sigma[ok]) * 100)
            plot.layout["annotations"].append({
                "xref": "paper", "yref": "paper", "x": 0.0, "y": 1.0, "xanchor": "left",
                "yanchor": "bottom", "showarrow": False, "font": {"size": 12},
                "text": f"within 1σ: {in1:.1f} %   outside 3σ: {out3:.2f} %"})
    series(plot, h, 0, "nav_err_m", err, "navigation error (estimate − truth)", "#d62728")
    # Scale to the settled part: the t = 0 prior (hundreds of metres) would flatten the rest.
    keep = settled(sigma) if sigma is not None else np.ones(h.n, dtype=bool)
    top = _upper(np.concatenate([err[keep], 3 * sigma[keep]]) if sigma is not None
                 else err[keep], q=99.5)
    plot.layout["yaxis"]["range"] = [-top if signed else 0.0, top]
    plot.layout["updatemenus"] = [_log_toggle(linear_range=plot.layout["yaxis"]["range"])]
    if sigma_note:
        empty_row_note(plot, 0, sigma_note)
    return plot


def _log_toggle(linear_range: list[float]) -> dict:
    """Buttons that switch the top panel between the scaled linear view and log."""
    return {"type": "buttons", "direction": "right", "x": 1.0, "y": 1.0, "xanchor": "right",
            "yanchor": "bottom", "pad": {"t": 0, "b": 2}, "showactive": True,
            "font": {"size": 11},
            "buttons": [
                {"label": "linear", "method": "relayout",
                 "args": [{"yaxis.type": "linear", "yaxis.range": linear_range}]},
                {"label": "log", "method": "relayout",
                 "args": [{"yaxis.type": "log", "yaxis.autorange": True}]}]}


def plot_attitude(h: History, summary: Mapping) -> Plot:
    err = np.abs(h.get("att_err_deg"))
    positive = np.where(err > 0, err, np.nan)  # zero has no place on a log axis
    f = finite(positive)
    lo = min(float(np.percentile(f, 1)) / 3 if f.size else 1.0, ATTITUDE_REQ_DEG / 10)
    hi = max(float(f.max()) if f.size else 0.0, ATTITUDE_REQ_DEG * 2)
    plot = time_plot(h, [Row("pointing error [deg] (log)", height_px=300, log=True,
                             y_range=(max(lo, 1e-9), hi * 2))])
    mask = _judged_and_not(plot, h, summary, 0, "att_err_deg", positive, "pointing",
                           "boresight pointing error", COLORS[0])
    p99 = percentile(err[mask], 99)
    if p99 is not None and p99 > 0:
        hline(plot, h, 0, p99, f"p99 over judged samples = {p99:.3g} deg", "#9467bd", "dash")
    hline(plot, h, 0, ATTITUDE_REQ_DEG, f"requirement ≤ {ATTITUDE_REQ_DEG:g} deg",
          REQUIREMENT_COLOR)
    return plot


def plot_thrusters(h: History, summary: Mapping) -> Plot:
    notes = []
    try:
        on = h.get("thruster_on_s", cols=8)
    except Skip as exc:
        on, notes = None, [str(exc)]
    try:
        dv = h.get("dv_cum_mps")
    except Skip as exc:
        dv = None
        notes.append(str(exc))
    if on is None and dv is None:
        raise Skip("; ".join(notes))
    plot = time_plot(h, [Row("cumulative Δv [m/s]"), Row("on-time per sample [s]")])
    if dv is not None:
        series(plot, h, 0, "dv_cum_mps", dv, "cumulative Δv", "#ff7f0e", width=1.6)
        f = finite(dv)
        if f.size:
            plot.layout["annotations"].append({
                "xref": "paper", "yref": "paper", "x": 0.0, "y": 1.0, "xanchor": "left",
                "yanchor": "bottom", "showarrow": False,
                "text": f"total Δv {f[-1]:.4g} m/s over {hms(h.duration_s)}"})
    else:
        empty_row_note(plot, 0, notes[0])
    if on is not None:
        totals = np.nansum(on, axis=0)
        for i in range(on.shape[1]):
            name = f"T{i + 1}: {totals[i]:.4g} s" if totals[i] > 0 else f"T{i + 1}: unused"
            series(plot, h, 1, f"thruster_on_s.{i}", on[:, i], name,
                   COLORS[i % len(COLORS)], how="max", width=1.0,
                   visible=True if totals[i] > 0 else "legendonly")
    else:
        empty_row_note(plot, 1, notes[-1])
    return plot


def wheel_limit_radps(summary: Mapping, flight_config: Mapping | None) -> float | None:
    """The wheels' saturation speed: the summary's figure, else the flight configuration's."""
    v = as_float(summary.get("wheel_max_speed_radps"))
    if v is None and isinstance(flight_config, Mapping):
        vehicle = (flight_config.get("flight_config") or {}).get("vehicle") or {}
        v = as_float(vehicle.get("wheel_max_speed_radps")) if isinstance(vehicle, Mapping) \
            else None
    return v


def plot_wheels(h: History, summary: Mapping) -> Plot:
    w = h.get("wheel_speed_radps", cols=4)
    limit = wheel_limit_radps(summary, h.flight_config)
    plot = time_plot(h, [Row("wheel speed [rad/s]", height_px=300)])
    for i in range(w.shape[1]):
        series(plot, h, 0, f"wheel_speed_radps.{i}", w[:, i], f"RW{i + 1}",
               COLORS[i % len(COLORS)])
    rpm = 60.0 / (2 * math.pi)
    if limit is not None:
        for sign in (1, -1):
            hline(plot, h, 0, sign * limit,
                  f"saturation ±{limit:g} rad/s ({limit * rpm:,.0f} rpm)" if sign > 0 else
                  "saturation (negative)", LIMIT_COLOR, "dash")
        peak = float(np.nanmax(np.abs(w))) if finite(w).size else 0.0
        plot.layout["annotations"].append({
            "xref": "paper", "yref": "paper", "x": 0.0, "y": 1.0, "xanchor": "left",
            "yanchor": "bottom", "showarrow": False,
            "text": f"fastest wheel {peak:.4g} rad/s = {100 * peak / limit:.0f} % of saturation"})
        top = 1.1 * max(limit, 1e-9)
        plot.layout["yaxis"]["range"] = [-top, top]
    return plot


def plot_altitude_mode(h: History, summary: Mapping) -> Plot:
    notes = []
    try:
        alt = h.get("altitude_m")
    except Skip as exc:
        alt, notes = None, [str(exc)]
    try:
        mode_f = h.get("mode")
    except Skip as exc:
        mode_f = None
        notes.append(str(exc))
    if alt is None and mode_f is None:
        raise Skip("; ".join(notes))
    alt_log = alt is not None and _spans_decades(alt)
    plot = time_plot(h, [Row("altitude above surface [m]" + (" (log)" if alt_log else ""),
                             height_px=280, log=alt_log),
                         Row("flight mode", height_px=150)], left_px=140)
    if alt is not None:
        series(plot, h, 0, "altitude_m", np.where(alt > 0, alt, np.nan) if alt_log else alt,
               "altitude", "#8c564b", width=1.4)
    else:
        empty_row_note(plot, 0, notes[0])
    if mode_f is not None:
        mode = np.where(np.isfinite(mode_f), mode_f, -1).astype(int)
        rows = sorted(set(MODE_NAMES) | set(np.unique(mode).tolist()))
        row_of = {m: i for i, m in enumerate(rows)}
        idx = np.vectorize(row_of.get, otypes=[float])(mode)
        i = series(plot, h, 1, "mode.row", idx, "flight mode", "#333333", width=1.6,
                   hoverinfo="skip")
        plot.data[i]["line"]["shape"] = "hv"  # a mode holds until the next change
        plot.layout["yaxis2"].update({"tickmode": "array", "tickvals": list(range(len(rows))),
                                      "ticktext": [mode_name(m) for m in rows],
                                      "range": [-0.6, len(rows) - 0.4], "fixedrange": True})
        _mark_faults(plot, h, summary)
    else:
        empty_row_note(plot, 1, notes[-1])
    return plot


def _spans_decades(y: np.ndarray) -> bool:
    f = finite(y)
    f = f[f > 0]
    return bool(f.size and f.max() / max(np.percentile(f, 1), 1e-9) > 300)


def _mark_faults(plot: Plot, h: History, summary: Mapping) -> None:
    """Injected faults on the mode panel: where injected, detected (with the response)
    and cleared, each with its hover text."""
    from sim.report_faults import fault_list

    marks = {"injected": ([], [], "x-thin-open", "#d62728"),
             "detected": ([], [], "triangle-down", "#ff7f0e"),
             "cleared": ([], [], "diamond", "#2ca02c")}
    top = len(set(MODE_NAMES)) - 0.5
    for f in fault_list(summary):
        kind = str(f.get("kind", "?"))
        for name, key in (("injected", "t_s"), ("detected", "detected_at_s"),
                          ("cleared", "cleared_at_s")):
            t = as_float(f.get(key))
            if t is not None:
                xs, texts = marks[name][0], marks[name][1]
                xs.append(t / h.t_scale)
                texts.append(f"{kind} {name} at T+{hms(t)}" +
                             (f" → {f.get('response')}" if name == "detected" else ""))
    for name, (xs, texts, symbol, color) in marks.items():
        if xs:
            plot.add({"type": "scatter", "mode": "markers", "x": xs, "y": [top] * len(xs),
                      "yaxis": yref(1), "name": f"fault {name}", "text": texts,
                      "hovertemplate": "%{text}<extra></extra>",
                      "marker": {"symbol": symbol, "size": 11, "color": color,
                                 "line": {"width": 2, "color": color}}})

