"""The run report's plotting kit: what every plot module of the report shares.

A plot is a ``PlotSpec``: a file name, a title, what to look for, and a render
function ``(History, summary) -> Figure`` that raises ``Skip`` when it has nothing
to draw.  ``History`` is the validated view of the 1 Hz history dict; long series go
through a min/max envelope before plotting, so spikes survive and a day of data
(86,400 samples) renders in well under a few seconds.  ``save_plot`` renders a
spec to its PNG.

Rendering uses ``matplotlib.figure.Figure`` with the Agg canvas directly: no
pyplot global state and no display.
"""

from __future__ import annotations

import math
import pathlib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: Number of (min, max) bins a long series is reduced to before plotting.
ENVELOPE_BINS = 1500

DPI = 100
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
MODE_COLORS = {0: "#d62728", 1: "#ff9f1c", 2: "#2ca02c", 3: "#17becf", 4: "#1f77b4",
               5: "#9467bd", 6: "#8c564b"}


class Skip(Exception):
    """Raised by a plot function when it has nothing to draw; message is the note."""


# ----------------------------------------------------------------------------- history access


class History:
    """Validated, read-only view of the history dict."""

    def __init__(self, history: Mapping[str, np.ndarray]):
        self._h = history
        self.n = self._length()
        self.notes: list[str] = []  # data problems met by the current plot
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


# ----------------------------------------------------------------------------- plot specs


@dataclass(frozen=True)
class PlotSpec:
    file: str
    title: str
    look_for: str
    render: Callable[[History, Mapping], Figure]


def save_plot(spec: PlotSpec, h: History, summary: Mapping, path: pathlib.Path) -> None:
    """Render ``spec`` to the PNG ``path``; Skip (or any error) propagates to the page.

    No "Software" stamp in the PNG, so the same run gives byte-identical images.
    """
    spec.render(h, summary).savefig(path, dpi=DPI, metadata={"Software": None})


# ----------------------------------------------------------------------------- decimation


def _bins(n: int, max_bins: int) -> int:
    """Samples per bin so that ``n`` samples give at most ``max_bins`` bins (1 = no binning)."""
    return 1 if n <= 2 * max_bins else math.ceil(n / max_bins)


def _binned(y: np.ndarray, size: int, reducer: Callable) -> np.ndarray:
    n = len(y)
    nb = math.ceil(n / size)
    pad = nb * size - n
    yp = np.concatenate([y, np.full(pad, np.nan)]) if pad else y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN bins -> NaN, quietly
        return reducer(yp.reshape(nb, size), axis=1)


def _bin_x(x: np.ndarray, size: int) -> np.ndarray:
    """Centre of each bin on the x axis."""
    n = len(x)
    starts = x[::size]
    ends = x[np.minimum(np.arange(size - 1, n + size - 1, size), n - 1)][: len(starts)]
    return 0.5 * (starts + ends)


def envelope(x: np.ndarray, y: np.ndarray, max_bins: int = ENVELOPE_BINS):
    """Min/max envelope as one polyline: per bin a vertical stroke from min to max."""
    size = _bins(len(y), max_bins)
    if size == 1:
        return x, y
    lo = _binned(y, size, np.nanmin)
    hi = _binned(y, size, np.nanmax)
    xc = _bin_x(x, size)
    return np.repeat(xc, 2), np.column_stack([lo, hi]).ravel()


def bin_max(x: np.ndarray, y: np.ndarray, max_bins: int = ENVELOPE_BINS):
    size = _bins(len(y), max_bins)
    if size == 1:
        return x, y
    return _bin_x(x, size), _binned(y, size, np.nanmax)


# ----------------------------------------------------------------------------- axes helpers


def line(ax, x, y, **kw):
    xe, ye = envelope(x, y)
    if len(x) <= 2:
        kw.setdefault("marker", "o")
    return ax.plot(xe, ye, **kw)


def trace(ax, x, y, color: str, label: str | None = None, lw: float = 0.9) -> None:
    """Plot a series; long ones as a light min/max band plus the per-bin median line."""
    size = _bins(len(y), ENVELOPE_BINS)
    if size == 1:
        ax.plot(x, y, color=color, lw=lw, label=label, marker="o" if len(x) <= 2 else None)
        return
    xc = _bin_x(x, size)
    lo = _binned(y, size, np.nanmin)
    hi = _binned(y, size, np.nanmax)
    med = _binned(y, size, np.nanmedian)
    ax.fill_between(xc, lo, hi, color=color, alpha=0.25, lw=0)
    ax.plot(xc, med, color=color, lw=lw, label=label)


def mpl_text(text: str) -> str:
    """Keep matplotlib from reading ``$...$`` in data-derived labels as mathtext."""
    return text.replace("$", r"\$")


def no_data(ax, note: str) -> None:
    ax.text(0.5, 0.5, mpl_text(note), ha="center", va="center", transform=ax.transAxes,
            color="#888888", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def finite(y: np.ndarray) -> np.ndarray:
    return y[np.isfinite(y)]


def percentile(y: np.ndarray, q: float) -> float | None:
    f = finite(y)
    return float(np.percentile(f, q)) if f.size else None


# ----------------------------------------------------------------------------- figures


def new_figure(height: float = 4.2, width: float = 10.0, *, left: float = 0.85,
               right: float = 0.3, top: float = 0.45, bottom: float = 0.6) -> Figure:
    """Figure on an Agg canvas with fixed margins (in inches).

    Fixed margins instead of constrained layout: the layout solver measures every
    tick label and would cost most of the report's run time.
    """
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=bottom / height)
    return fig


def time_label(h: History) -> str:
    label = f"mission time [{h.t_unit}]"
    size = _bins(h.n, ENVELOPE_BINS)
    if size > 1:
        label += f"   (shaded: min–max per {size * h.dt:g} s bin, line: bin median)"
    return label + (f"  ({h.t_note})" if h.t_note else "")
