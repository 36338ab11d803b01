"""Numbers and words as the run report prints them: significant figures, H:M:S, mode names.

One place for these so a figure reads the same in the HTML tables and in the plot
labels, and so the requirement checks and the tables agree on what counts as a number.
"""

from __future__ import annotations

import html
import math

import numpy as np

from flightsw.core.modes import Mode

# Every flight mode by its number (flightsw.core.modes.Mode; sim may import flightsw).
MODE_NAMES = {int(m): m.name for m in Mode}


def as_float(value: object) -> float | None:
    """``value`` as a finite float, or None (missing, boolean, non-numeric, NaN or inf)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: object, digits: int = 3) -> str:
    """Human formatting: numbers to ``digits`` significant figures, rest via str()."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    v = as_float(value)
    if v is None:
        return str(value)
    if v == 0:
        return "0"
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def hms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    h, rem = divmod(int(s), 3600)
    m, sec = divmod(rem, 60)
    return f"{sign}{h:02d}:{m:02d}:{sec:02d}"


def mode_name(value: object) -> str:
    v = as_float(value)
    if v is not None and v == int(v) and int(v) in MODE_NAMES:
        return f"{MODE_NAMES[int(v)]} ({int(v)})"
    return str(value)
