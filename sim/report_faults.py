"""The run report's fault timeline: each injected fault on the mode strip, and its table.

On the strip (and faintly on the panel above it): a red dashed line where the fault was
injected (and a dotted one where it ended), an orange triangle where the flight software
detected it (labelled with its response), a green diamond where the monitor cleared, a
grey cross at the end of the strip for a fault never detected.  The table gives the
same per fault with the judge's verdict (sim/fault_figures.py says what `recovered`
means).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sim.report_format import as_float, esc, fmt, hms

INJECTED, DETECTED, CLEARED, MISSED = "#d62728", "#ff7f0e", "#2ca02c", "#7f7f7f"


def fault_list(summary: Mapping) -> list[Mapping]:
    faults = summary.get("faults")
    if not isinstance(faults, Sequence) or isinstance(faults, (str, bytes)):
        return []
    return [f for f in faults if isinstance(f, Mapping) and as_float(f.get("t_s")) is not None]


def mark_faults(strip, summary: Mapping, t_scale: float, above=None) -> int:
    """Draw the faults on the mode strip `strip` (and lines on the axes `above`); returns
    how many were drawn.  Times in the plot's unit (seconds / t_scale)."""
    faults = fault_list(summary)
    if not faults:
        return 0
    top = strip.get_ylim()[1]
    seen = set()

    def label(name: str) -> str | None:
        if name in seen:
            return None
        seen.add(name)
        return name

    for f in faults:
        t0 = as_float(f.get("t_s")) / t_scale
        for ax in (strip, above):
            if ax is not None:
                ax.axvline(t0, color=INJECTED, ls="--", lw=1.0, alpha=0.8 if ax is strip else 0.4,
                           label=label("injected") if ax is strip else None)
        strip.annotate(str(f.get("kind", "?")), (t0, top), xytext=(2, -2),
                       textcoords="offset points", fontsize=7, color=INJECTED, rotation=90,
                       ha="left", va="top")
        end = as_float(f.get("removed_at_s"))
        if end is not None:
            strip.axvline(end / t_scale, color=INJECTED, ls=":", lw=1.0, alpha=0.6,
                          label=label("fault ended"))
        det = as_float(f.get("detected_at_s"))
        if det is None:
            strip.plot([t0], [top - 0.5], marker="x", color=MISSED, ms=8,
                       label=label("not detected"))
            continue
        strip.plot([det / t_scale], [top - 0.5], marker="v", color=DETECTED, ms=8,
                   label=label("detected"))
        strip.annotate(str(f.get("response") or "?"), (det / t_scale, top - 0.5),
                       xytext=(5, -10), textcoords="offset points", fontsize=7, color=DETECTED)
        cleared = as_float(f.get("cleared_at_s"))
        if cleared is not None:
            strip.plot([cleared / t_scale], [top - 0.5], marker="D", color=CLEARED, ms=6,
                       label=label("cleared"))
    strip.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7, framealpha=0.8,
                 borderaxespad=0.0)
    return len(faults)


def faults_table(summary: Mapping) -> str:
    """HTML: one row per injected fault, then the survival figures."""
    faults = fault_list(summary)
    rows = []
    for f in faults:
        det = as_float(f.get("detected_at_s"))
        rec = f.get("recovered")
        cls = ' class="bad"' if det is None or rec is False else ""
        extra = {k: v for k, v in f.items() if k in ("index", "branch", "task", "gyro_radps",
                                                     "accel_mps2", "bus_voltage_v",
                                                     "bytes_per_10ms")}
        what = esc(f.get("kind", "?")) + (f" <small>{esc(extra)}</small>" if extra else "")
        cells = [fmt(f.get("t_s")), hms(as_float(f.get("t_s"))), what,
                 fmt(f.get("duration_s")) if f.get("duration_s") is not None else "permanent",
                 esc(f.get("monitor") or "—"),
                 "not detected" if det is None else
                 f"{fmt(det)} (+{fmt(as_float(f.get('detection_latency_s')))} s)",
                 esc(f.get("response") or "—"), fmt(f.get("cleared_at_s")),
                 fmt(f.get("safe_at_s")), "—" if rec is None else esc(rec)]
        rows.append(f"<tr{cls}>" + "".join(
            f"<td{' class=num' if i in (0, 5, 7, 8) else ''}>{c}</td>"
            for i, c in enumerate(cells)) + "</tr>")
    survival = [("min_clearance_m", "Closest approach to the surface (bus sphere or head, "
                 "planned contact left out)", "m"),
                ("surface_impacts", "Unplanned surface contacts", ""),
                ("escaped", "Escaped", ""), ("max_radius_m", "Farthest from the body's centre",
                                              "m")]
    facts = "".join(f"<tr><td>{esc(label)}</td><td class=num>{esc(fmt(summary.get(key)))}"
                    f"</td><td>{esc(unit)}</td></tr>"
                    for key, label, unit in survival if key in summary)
    head = ("<tr><th>t [s]</th><th>T+</th><th>fault</th><th>duration [s]</th><th>monitor</th>"
            "<th>detected [s]</th><th>response</th><th>cleared [s]</th><th>SAFE at [s]</th>"
            "<th>recovered</th></tr>")
    table = (f'<table class="faults">{head}{"".join(rows)}</table>' if rows else
             '<p class="note">No faults injected.</p>')
    return table + (f'<table class="survival">{facts}</table>' if facts else "")
