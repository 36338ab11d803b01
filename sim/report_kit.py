"""The run report's plotting kit: what every plot module of the report shares.

A plot is a ``PlotSpec``: an id, a title, what to look for, and a render function
``(History, summary) -> Plot`` that raises ``Skip`` when it has nothing to draw.
A ``Plot`` is a Plotly figure as plain data (traces and layout) whose big arrays are
references into the report's ``ArrayStore``: each array is written once into the page
as base64 typed data (float32 where that keeps the precision), and the page's script
(sim/report_assets/report.js) decodes it, down-samples the long time series to
min/max per pixel bucket (so spikes survive) and does so again on every zoom.

``History`` is the validated view of the history dict (1 Hz series sharing one
length N, plus the maps and lists of a prospecting or touch-and-go run).
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
MODE_COLORS = {0: "#d62728", 1: "#ff9f1c", 2: "#2ca02c", 3: "#17becf", 4: "#1f77b4",
               5: "#9467bd", 6: "#8c564b", 7: "#e377c2"}
REQUIREMENT_COLOR = "#d62728"
LIMIT_COLOR = "#7f0000"

class Skip(Exception):
    """Raised by a plot function when it has nothing to draw; message is the note."""


# ----------------------------------------------------------------------------- history access


class History:
    """Validated, read-only view of the history dict."""

    def __init__(self, history: Mapping[str, np.ndarray]):
        self._h = history
        self.n = self._length()
        self.notes: list[str] = []  # data problems met by the current plot
        self.store = ArrayStore()  # every array the page embeds, once each
        # Set by the page: the run's events [(t_s, severity, source, text)] for the
        # timeline under each time plot.
        self.events: list[tuple[float, str, str, str]] = []
        self.flight_config: Mapping = {}  # flight_config.json beside the history, if any
        t = self._raw("t_s")
        if t is not None and t.ndim == 1 and len(t) == self.n:
            self.t = t.astype(float)
            self.t_note = ""
        else:
            self.t = np.arange(self.n, dtype=float)
            self.t_note = "" if t is None else "t_s unusable; time is sample index at 1 Hz"
        finite = self.t[np.isfinite(self.t)]
        diffs = np.diff(finite)
        diffs = diffs[diffs > 0]
        self.dt = float(np.median(diffs)) if diffs.size else 1.0
        span = float(finite[-1] - finite[0]) if finite.size else 0.0
        self.duration_s = span + self.dt if finite.size else 0.0
        if span >= 3 * 3600:
            self.t_scale, self.t_unit = 3600.0, "h"
        elif span >= 180:
            self.t_scale, self.t_unit = 60.0, "min"
        else:
            self.t_scale, self.t_unit = 1.0, "s"
        self.tx = self.t / self.t_scale

    def time_ref(self) -> dict:
        """The mission-time axis (in ``t_unit``) as a page array reference."""
        return self.store.ref("t", self.tx)

    @property
    def data(self) -> Mapping[str, np.ndarray]:
        """The history as given, unvalidated: for plots whose arrays are not 1 Hz series
        (maps, spectra, hazard lists) and so do not share the series' length N."""
        return self._h

    def _raw(self, key: str) -> np.ndarray | None:
        v = self._h.get(key)
        if v is None:
            return None
        try:
            return np.asarray(v)
        except Exception:  # anything unconvertible is simply unusable
            return None

    def _length(self) -> int:
        lengths = []
        for key in ("t_s", *self._h.keys()):
            a = self._raw(key)
            if a is not None and a.ndim >= 1:
                lengths.append(len(a))
        if not lengths:
            return 0
        # The time vector defines N when present; otherwise the most common length.
        t = self._raw("t_s")
        if t is not None and t.ndim == 1:
            return len(t)
        values, counts = np.unique(lengths, return_counts=True)
        return int(values[np.argmax(counts)])

    def get(self, key: str, cols: int | None = None, min_cols: int = 1) -> np.ndarray:
        """Return ``key`` as float (N,) (``cols is None``) or (N, k) array, else raise Skip.

        Every refusal is also recorded in ``self.notes`` for the plot's caption.
        """
        try:
            return self._get(key, cols, min_cols)
        except Skip as exc:
            self.notes.append(str(exc))
            raise

    def _get(self, key: str, cols: int | None, min_cols: int) -> np.ndarray:
        a = self._raw(key)
        if a is None:
            raise Skip(f"no `{key}` in history")
        if a.ndim == 0 or len(a) != self.n:
            raise Skip(f"`{key}` has {a.shape[0] if a.ndim else 0} samples, expected {self.n}")
        if self.n == 0:
            raise Skip(f"`{key}` is empty")
        if cols is None:
            if a.ndim == 2 and a.shape[1] == 1:
                a = a[:, 0]
            if a.ndim != 1:
                raise Skip(f"`{key}` has shape {a.shape}, expected ({self.n},)")
        elif a.ndim != 2 or a.shape[1] < min_cols:
            raise Skip(f"`{key}` has shape {a.shape}, expected ({self.n}, {cols})")
        try:
            return a.astype(float)
        except (TypeError, ValueError) as exc:
            raise Skip(f"`{key}` is not numeric") from exc




# ----------------------------------------------------------------------------- page arrays


def _float32_is_enough(values: np.ndarray) -> bool:
    """float32 keeps about 7 digits of the value, which is plenty unless the data vary
    by little around a large offset (a time of 1e6 s in millisecond steps): float32's
    rounding must stay under 1e-4 of the data's own spread."""
    f = values[np.isfinite(values)]
    if f.size == 0:
        return True
    err = float(np.max(np.abs(f.astype(np.float32).astype(float) - f)))
    spread = float(f.max() - f.min())
    return err <= 1e-4 * spread if spread > 0 else err <= 1e-6 * abs(float(f[0]))


def _regular(a: np.ndarray) -> tuple[float, float] | None:
    """(start, step) when the 1-D ``a`` is an evenly spaced ramp (a time axis), else None."""
    if a.ndim != 1 or len(a) < 3 or not np.isfinite(a).all():
        return None
    start, step = float(a[0]), float(a[1] - a[0])
    ramp = start + step * np.arange(len(a))
    scale = max(float(np.max(np.abs(a))), 1e-30)
    return (start, step) if float(np.max(np.abs(ramp - a))) <= 1e-9 * scale else None


class ArrayStore:
    """The numeric arrays one page embeds, by name.

    An evenly spaced axis is stored as start and step; any other array as gzip of its
    little-endian typed data in base64 (the page inflates it with the browser's own
    DecompressionStream): mostly-zero and stepwise series (thruster on-times, modes,
    masks) shrink to almost nothing.
    """

    def __init__(self) -> None:
        self.arrays: dict[str, dict] = {}

    def ref(self, name: str, values, precise: bool = False) -> dict:
        """Store ``values`` (1-D or 2-D) under ``name`` (first one wins) and return the
        reference a trace carries instead of the numbers.  Booleans as bytes; numbers
        as float32 unless ``precise`` or float32 would lose precision the data has."""
        if name not in self.arrays:
            a = np.asarray(values)
            if a.dtype == bool:
                dtype = "u1"
            else:
                a = a.astype(float)
                ramp = _regular(a)
                if ramp is not None:
                    self.arrays[name] = {"range": [ramp[0], ramp[1], len(a)],
                                         "shape": [len(a)]}
                    return {"$ref": name}
                dtype = "f8" if precise or not _float32_is_enough(a) else "f4"
            raw = np.ascontiguousarray(a.astype({"u1": "u1", "f4": "<f4", "f8": "<f8"}[dtype]))
            packed = gzip.compress(raw.tobytes(), compresslevel=6, mtime=0)  # mtime 0: same
            self.arrays[name] = {"dtype": dtype, "shape": list(a.shape),  # page, same bytes
                                 "gz": base64.b64encode(packed).decode("ascii")}
        return {"$ref": name}


# ----------------------------------------------------------------------------- plots


@dataclass
class Plot:
    """A Plotly figure as data.  ``series`` lists the traces the page down-samples for
    display ("how": "minmax", or "max" / "min" for the edges of a band)."""

    layout: dict
    data: list[dict] = field(default_factory=list)
    series: list[dict] = field(default_factory=list)
    # Series spec keys: "trace", "x", "y", "how", optional "scale", "mask" and "keep".

    def add(self, trace: dict) -> int:
        self.data.append(trace)
        return len(self.data) - 1

    def add_series(self, trace: dict, x_ref: dict, y_ref: dict, how: str = "minmax", *,
                   scale: float = 1.0, mask_ref: dict | None = None, keep: bool = True) -> int:
        """A long series: the page fills x and y from the full arrays, down-sampled.
        ``scale`` multiplies y (a 3σ band from the σ array, stored once); with
        ``mask_ref`` only samples whose mask equals ``keep`` are drawn (the others are
        gaps), so a judged and a not-judged trace share one array."""
        i = self.add({**trace, "x": [], "y": []})
        spec = {"trace": i, "x": x_ref["$ref"], "y": y_ref["$ref"], "how": how}
        if scale != 1.0:
            spec["scale"] = scale
        if mask_ref is not None:
            spec["mask"], spec["keep"] = mask_ref["$ref"], int(keep)
        self.series.append(spec)
        return i

    def as_json(self) -> dict:
        return {"data": self.data, "layout": self.layout, "series": self.series}


@dataclass(frozen=True)
class PlotSpec:
    slug: str  # the plot's element id in the page
    title: str
    look_for: str
    render: Callable[[History, Mapping], Plot]


# ----------------------------------------------------------------------------- helpers


def mpl_text(text: str) -> str:
    """Keep matplotlib from reading ``$...$`` in data-derived labels as mathtext (the
    sweep report's figures are still matplotlib)."""
    return text.replace("$", r"\$")


def finite(y: np.ndarray) -> np.ndarray:
    return y[np.isfinite(y)]


def percentile(y: np.ndarray, q: float) -> float | None:
    f = finite(y)
    return float(np.percentile(f, q)) if f.size else None


def time_label(h: History) -> str:
    return f"mission time [{h.t_unit}]" + (f"  ({h.t_note})" if h.t_note else "")


def axis(title: str, **kw) -> dict:
    """A Plotly axis with its title (units in brackets) and the report's grid style.

    Fixed margins rather than Plotly's automargin: measuring the labels and redrawing
    cost about 40 % of the page's drawing time; each figure sets margins its labels fit.
    """
    return {"title": {"text": title, "standoff": 6}, "gridcolor": "#e6e6e6",
            "zerolinecolor": "#bbbbbb", "automargin": False, **kw}
