"""One-line hover and pointing figures as `prospector run` and `prospector hil` print
them: each figure over the phase it was judged over (sim/phase_windows.py), or why
the run could not judge it."""

from __future__ import annotations

from collections.abc import Mapping


def _num(value, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def hover_line(summary: Mapping) -> str:
    """"hover error p50 .. m, p99 .. m over N s of settled hover; pointing error p99 ..
    deg over N s of HOVER outside slews; final mode X", a figure not judged saying why."""
    if summary.get("hover_error_m_p99") is None:
        why = summary.get("hover_not_judged_reason") or "no figure"
        hover = f"hover error not judged ({why})"
    else:
        hover = (f"hover error p50 {_num(summary.get('hover_error_m_p50'), 3)} m, "
                 f"p99 {_num(summary['hover_error_m_p99'], 3)} m over "
                 f"{summary.get('hover_judged_s', 0):.0f} s of settled hover")
    if summary.get("attitude_error_deg_p99") is None:
        why = summary.get("attitude_not_judged_reason") or "no figure"
        pointing = f"pointing error not judged ({why})"
    else:
        pointing = (f"pointing error p99 {_num(summary['attitude_error_deg_p99'], 4)} deg over "
                    f"{summary.get('attitude_judged_s', 0):.0f} s of HOVER outside slews")
    return f"{hover}; {pointing}; final mode {summary.get('final_mode')}"
