"""Guidance, navigation and control plots every run's report carries.

Where the probe was against its target, what the filter believed against the truth,
how the instrument pointed, what the thrusters and wheels spent, and which mode the
flight software was in at what altitude.  Each is a render function for a
``report_kit.PlotSpec``; the page (sim.report) decides their order and captions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from sim.report_faults import fault_list, mark_faults
from sim.report_format import MODE_NAMES, as_float, hms
from sim.report_kit import (
    COLORS,
    MODE_COLORS,
    History,
    Skip,
    bin_max,
    finite,
    line,
    mpl_text,
    new_figure,
    no_data,
    percentile,
    time_label,
    trace,
)
from sim.report_requirements import ATTITUDE_REQ_DEG, HOVER_REQ_M


def plot_position(h: History, summary: Mapping) -> Figure:
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

    fig = new_figure(height=6.0)
    ax1, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"hspace": 0.08})
    fig.suptitle("Hover position error (truth − target)")
    if err is not None:
        trace(ax1, h.tx, err, COLORS[0], label="|r − r_target|")
        p50 = as_float(summary.get("hover_error_m_p50"))
        p99 = as_float(summary.get("hover_error_m_p99"))
        p50 = p50 if p50 is not None else percentile(err, 50)
        p99 = p99 if p99 is not None else percentile(err, 99)
        if p50 is not None:
            ax1.axhline(p50, color="#555555", ls="--", lw=1, label=f"p50 = {p50:.3g} m")
        if p99 is not None:
            ax1.axhline(p99, color="#9467bd", ls="--", lw=1, label=f"p99 = {p99:.3g} m")
        ax1.axhline(HOVER_REQ_M, color="#d62728", ls=":", lw=1.2,
                    label=f"requirement p99 ≤ {HOVER_REQ_M:g} m")
        ax1.set_ylim(bottom=0)
        ax1.legend(loc="upper right", fontsize=8)
    else:
        no_data(ax1, notes[0])
    ax1.set_ylabel("distance [m]")
    ax1.grid(alpha=0.3)

    if comp is not None:
        for i, axis in enumerate("xyz"):
            trace(ax2, h.tx, comp[:, i], COLORS[i], label=f"{axis} (body-fixed)")
        ax2.axhline(0, color="k", lw=0.5)
        ax2.legend(loc="upper right", fontsize=8, ncols=3)
    else:
        no_data(ax2, notes[-1])
    ax2.set_ylabel("component [m]")
    ax2.set_xlabel(time_label(h))
    ax2.grid(alpha=0.3)
    return fig


def plot_navigation(h: History, summary: Mapping) -> Figure:
    err = h.get("nav_err_m")
    try:
        sigma = h.get("nav_sigma_m")
        sigma_note = ""
    except Skip as exc:
        sigma, sigma_note = None, str(exc)

    fig = new_figure()
    ax = fig.subplots()
    ax.set_title("Navigation error (estimate − truth) against filter covariance")
    signed = bool(np.any(finite(err) < 0))
    if sigma is not None:
        xs, s_hi = bin_max(h.tx, np.abs(sigma))
        lo3 = -3 * s_hi if signed else np.zeros_like(s_hi)
        lo1 = -s_hi if signed else np.zeros_like(s_hi)
        ax.fill_between(xs, lo3, 3 * s_hi, color="#1f77b4", alpha=0.12, lw=0, label="3σ")
        ax.fill_between(xs, lo1, s_hi, color="#1f77b4", alpha=0.28, lw=0, label="1σ")
        f_err, f_sig = np.abs(err), np.abs(sigma)
        ok = np.isfinite(f_err) & np.isfinite(f_sig) & (f_sig > 0)
        if ok.any():
            out3 = float(np.mean(f_err[ok] > 3 * f_sig[ok]) * 100)
            in1 = float(np.mean(f_err[ok] <= f_sig[ok]) * 100)
            ax.text(0.01, 0.97, f"within 1σ: {in1:.1f} %   outside 3σ: {out3:.2f} %",
                    transform=ax.transAxes, va="top", fontsize=9,
                    bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})
    trace(ax, h.tx, err, "#d62728", label="nav error")
    if sigma is not None:  # band edges drawn over the error so they stay visible
        for k, ls in ((1, "-"), (3, "--")):
            ax.plot(xs, k * s_hi, color="#1f4e8c", lw=0.9, ls=ls, zorder=3)
            if signed:
                ax.plot(xs, -k * s_hi, color="#1f4e8c", lw=0.9, ls=ls, zorder=3)
    if sigma_note:
        ax.text(0.99, 0.03, mpl_text(sigma_note), transform=ax.transAxes, ha="right",
                fontsize=8, color="#888888")
    if not signed:
        ax.set_ylim(bottom=0)
    ax.set_xlabel(time_label(h))
    ax.set_ylabel("position error [m]")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def plot_attitude(h: History, summary: Mapping) -> Figure:
    err = np.abs(h.get("att_err_deg"))
    fig = new_figure()
    ax = fig.subplots()
    ax.set_title("Instrument boresight pointing error (truth)")
    pos = np.where(err > 0, err, np.nan)
    trace(ax, h.tx, pos, COLORS[0], label="pointing error")
    p99 = as_float(summary.get("attitude_error_deg_p99"))
    p99 = p99 if p99 is not None else percentile(err, 99)
    if p99 is not None and p99 > 0:
        ax.axhline(p99, color="#9467bd", ls="--", lw=1, label=f"p99 = {p99:.3g} deg")
    ax.axhline(ATTITUDE_REQ_DEG, color="#d62728", ls=":", lw=1.5,
               label=f"requirement ≤ {ATTITUDE_REQ_DEG:g} deg")
    ax.set_yscale("log")
    f = finite(pos)
    # Bottom at the 1st percentile: deep dips towards zero say nothing on a log axis.
    lo = min(float(np.percentile(f, 1)) / 3 if f.size else 1.0, ATTITUDE_REQ_DEG / 10)
    hi = max(float(f.max()) if f.size else 0.0, ATTITUDE_REQ_DEG)
    ax.set_ylim(max(lo, 1e-9), hi * 2)
    ax.set_xlabel(time_label(h))
    ax.set_ylabel("pointing error [deg]")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return fig


def plot_thrusters(h: History, summary: Mapping) -> Figure:
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

    fig = new_figure(width=11.0, top=0.75)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1, 1.6], gridspec_kw={"wspace": 0.22})
    fig.suptitle("Propulsion use")
    if on is not None:
        hours = h.duration_s / 3600.0 if h.duration_s > 0 else h.n / 3600.0
        totals = np.nansum(on, axis=0)
        per_hour = totals / hours if hours > 0 else totals
        k = on.shape[1]
        names = [f"T{i + 1}" for i in range(k)]
        colors = ["#1f77b4" if v > 0 else "#cccccc" for v in per_hour]
        bars = ax1.bar(names, per_hour, color=colors)
        for bar, v in zip(bars, per_hour, strict=True):
            ax1.annotate("unused" if v == 0 else f"{v:.3g}", (bar.get_x() + bar.get_width() / 2,
                         bar.get_height()), ha="center", va="bottom", fontsize=7,
                         color="#888888" if v == 0 else "k")
        ax1.set_ylabel("on-time per hour [s/h]")
        ax1.set_xlabel("thruster")
        ax1.set_title(f"total on-time {np.sum(totals):.4g} s over {hms(h.duration_s)}",
                      fontsize=9)
        ax1.margins(y=0.15)
    else:
        no_data(ax1, notes[0])
    ax1.grid(alpha=0.3, axis="y")

    if dv is not None:
        trace(ax2, h.tx, dv, "#ff7f0e", lw=1.2)
        f = finite(dv)
        if f.size:
            ax2.set_title(f"cumulative Δv = {f[-1]:.4g} m/s", fontsize=9)
        ax2.set_xlabel(time_label(h))
    else:
        no_data(ax2, notes[-1])
    ax2.set_ylabel("cumulative Δv [m/s]")
    ax2.grid(alpha=0.3)
    return fig


def plot_wheels(h: History, summary: Mapping) -> Figure:
    w = h.get("wheel_speed_radps", cols=4)
    fig = new_figure(right=0.85)
    ax = fig.subplots()
    ax.set_title("Reaction wheel speeds")
    for i in range(w.shape[1]):
        trace(ax, h.tx, w[:, i], COLORS[i % len(COLORS)], label=f"RW{i + 1}")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel(time_label(h))
    ax.set_ylabel("wheel speed [rad/s]")
    rpm = 60.0 / (2 * math.pi)
    sec = ax.secondary_yaxis("right", functions=(lambda x: x * rpm, lambda x: x / rpm))
    sec.set_ylabel("[rpm]")
    ax.legend(loc="upper left", fontsize=8, ncols=min(w.shape[1], 4))
    ax.grid(alpha=0.3)
    return fig


def _mode_segments(t: np.ndarray, mode: np.ndarray, dt: float):
    change = np.flatnonzero(np.diff(mode) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(mode)]])
    t0 = t[starts]
    t1 = np.where(ends < len(t), t[np.minimum(ends, len(t) - 1)], t[-1] + dt)
    return mode[starts], t0, t1 - t0


def plot_altitude_mode(h: History, summary: Mapping) -> Figure:
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

    # Room on the right for the fault timeline's legend.
    fig = new_figure(height=5.5, right=1.3 if fault_list(summary) else 0.3)
    ax1, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1],
                            gridspec_kw={"hspace": 0.08})
    fig.suptitle("Altitude and flight mode")
    if alt is not None:
        trace(ax1, h.tx, alt, "#8c564b", lw=1.0)
    else:
        no_data(ax1, notes[0])
    ax1.set_ylabel("altitude above surface [m]")
    ax1.grid(alpha=0.3)

    if mode_f is not None:
        mode = np.where(np.isfinite(mode_f), mode_f, -1).astype(int)
        values, t0, width = _mode_segments(h.tx, mode, h.dt / h.t_scale)
        rows = sorted(set(MODE_NAMES) | set(np.unique(mode).tolist()))
        row_of = {m: i for i, m in enumerate(rows)}
        if len(values) <= 5000:
            for m in rows:
                sel = values == m
                if sel.any():
                    ax2.broken_barh(list(zip(t0[sel], width[sel], strict=True)),
                                    (row_of[m] - 0.4, 0.8),
                                    facecolors=MODE_COLORS.get(m, "#7f7f7f"))
        else:  # mode chatters: draw an envelope of the row index instead of thousands of bars
            idx = np.vectorize(row_of.get)(mode).astype(float)
            line(ax2, h.tx, idx, color="#555555", lw=0.8, drawstyle="steps-post")
            ax2.text(0.99, 0.9, f"{len(values)} mode changes", transform=ax2.transAxes,
                     ha="right", va="top", fontsize=8, color="#d62728")
        ax2.set_yticks(range(len(rows)), [MODE_NAMES.get(m, str(m)) for m in rows], fontsize=8)
        ax2.set_ylim(-0.6, len(rows) - 0.4)
        ax2.set_xlabel(time_label(h))
    else:
        no_data(ax2, notes[-1])
    ax2.set_ylabel("mode")
    ax2.grid(alpha=0.3, axis="x")
    mark_faults(ax2, summary, h.t_scale, above=ax1)
    return fig
