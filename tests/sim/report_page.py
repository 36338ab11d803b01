"""Reading a run report page back in tests: its plots as data and its embedded arrays
as numpy, so tests check what is drawn (traces, shapes, ranges), never pixels."""

from __future__ import annotations

import base64
import gzip
import json
import pathlib
import re

import numpy as np

# plotly.js-cartesian-dist-min's trace types (its README): the types the page may draw.
CARTESIAN_TRACE_TYPES = {"bar", "box", "contour", "heatmap", "histogram", "histogram2d",
                         "histogram2dcontour", "image", "pie", "scatter", "scatterternary",
                         "violin"}

_DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.S)


def payload(page: pathlib.Path | str) -> dict:
    """The page's embedded data ({"arrays", "plots"}); {} for a page without plots."""
    text = page.read_text(encoding="utf-8") if isinstance(page, pathlib.Path) else page
    m = _DATA.search(text)
    return json.loads(m.group(1)) if m else {}


def plot_ids(page: pathlib.Path) -> list[str]:
    """Plot slugs in page order; each must have its div and its data."""
    text = page.read_text(encoding="utf-8")
    divs = re.findall(r'<div class="plot" id="plot-([\w-]+)"></div>', text)
    assert [f"plot-{d}" for d in divs] == list(payload(text).get("plots", {})), divs
    return divs


def array(data: dict, name: str) -> np.ndarray:
    spec = data["arrays"][name]
    if "range" in spec:
        start, step, n = spec["range"]
        return start + step * np.arange(n)
    raw = gzip.decompress(base64.b64decode(spec["gz"]))
    dtype = {"f4": "<f4", "f8": "<f8", "u1": "u1"}[spec["dtype"]]
    return np.frombuffer(raw, dtype=dtype).reshape(spec["shape"])


def series_values(data: dict, plot: dict, trace_name: str) -> np.ndarray:
    """The full (not down-sampled) y of the named series trace, masked and scaled as the
    page draws it (NaN where masked out)."""
    for spec in plot["series"]:
        if plot["data"][spec["trace"]].get("name") == trace_name:
            y = array(data, spec["y"]).astype(float) * spec.get("scale", 1.0)
            if "mask" in spec:
                y = np.where(array(data, spec["mask"]) == spec["keep"], y, np.nan)
            return y
    raise KeyError(trace_name)


def _traces(plot) -> list[dict]:
    """A plot as the page holds it (dict) or as a render function returns it (Plot)."""
    return plot["data"] if isinstance(plot, dict) else plot.data


def trace(plot, name: str) -> dict:
    found = [t for t in _traces(plot) if t.get("name") == name]
    assert len(found) == 1, (name, [t.get("name") for t in _traces(plot)])
    return found[0]


def names(plot) -> list[str]:
    return [t.get("name", "") for t in _traces(plot)]
