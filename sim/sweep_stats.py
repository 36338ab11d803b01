"""What a sweep's table says: which figures matter, which inputs drive them, which runs
were worst, and the command line that flies one of them again alone.

Pure functions of the runs table (sim.sweep_table: one row per run, `in.<key>` columns for
the dispersed inputs); the sweep report (sim.sweep_report) draws and prints what they give.

Rank correlation is Spearman's rho: Pearson's correlation of the ranks, ties given their
average rank (as scipy.stats.spearmanr), over the runs where both values are finite.  It
sees any monotonic relation, not only a straight line, and one wild run cannot dominate
it.  Its two-sided p-value uses rho * sqrt(n - 1), which is standard normal for
independent variables (the permutation distribution's variance is 1 / (n - 1)); good from
about ten runs, where a sweep starts to say anything.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass

import numpy as np

INPUT_PREFIX = "in."
# Figures the report studies first, with the direction that is worse (+1: larger is worse).
KEY_FIGURES: tuple[tuple[str, int], ...] = (
    ("touchdown_miss_m", +1), ("contact_speed_error_mps", +1),
    ("sample_mass_error_in_3sigma", +1), ("sample_mass_true_kg", -1),
    ("hover_error_m_p99", +1), ("attitude_error_deg_p99", +1), ("nav_error_m_p99", +1),
    ("site_truth_rank", +1), ("survey_coverage", -1), ("delta_v_mps", +1),
    ("min_clearance_m", -1), ("max_penetration_m", +1), ("waveoffs_count", +1),
)
MAX_KEY_FIGURES = 8
# What a run cost its host, not what it computed: never a key figure.
HOST_FIGURES = ("wall_duration_s", "realtime_factor", "peak_rss_mb", "messages_logged",
                "gravity_exact_evaluations", "events_total", "metrics_from_s",
                "sim_duration_s")
NOT_FIGURES = ("seed", "outcome", "error", "flight_log_sha256")
# Outcomes from worst to best; any other outcome ranks with "waved_off".
OUTCOME_ORDER = {"error": 0, "failed": 1, "waved_off": 2, "sampled": 3}


@dataclass(frozen=True)
class Correlation:
    rho: float | None  # None: fewer than 3 runs with both values, or one of them constant
    n: int
    p: float | None  # two-sided, normal approximation (module docstring)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing the mean of the ranks they span."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            ranks[order[start:end]] = 0.5 * (start + end - 1) + 1.0
            start = end
    return ranks


def spearman(x, y) -> Correlation:
    """Spearman's rank correlation of x and y over the pairs where both are finite."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    both = np.isfinite(x) & np.isfinite(y)
    n = int(both.sum())
    if n < 3:
        return Correlation(None, n, None)
    rx, ry = average_ranks(x[both]), average_ranks(y[both])
    rx, ry = rx - rx.mean(), ry - ry.mean()
    scale = math.sqrt(float(rx @ rx) * float(ry @ ry))
    if scale == 0.0:
        return Correlation(None, n, None)
    rho = max(-1.0, min(1.0, float(rx @ ry) / scale))
    p = math.erfc(abs(rho) * math.sqrt(n - 1) / math.sqrt(2.0))
    return Correlation(rho, n, p)


def is_input(column: str) -> bool:
    """A dispersed input's column, or the norm of a vector input (input_columns)."""
    return column.startswith((INPUT_PREFIX, "|" + INPUT_PREFIX))


def numeric_columns(table) -> list[str]:
    """The table's figure columns holding numbers (inputs and identifiers left out)."""
    import pandas as pd

    return [c for c in table.columns if c not in NOT_FIGURES and not is_input(c)
            and pd.api.types.is_numeric_dtype(table[c])]


def is_flag(column) -> bool:
    values = column.dropna().unique()
    return len(values) > 0 and set(values.tolist()) <= {0.0, 1.0}


def floats(column) -> np.ndarray:
    """A column as floats, a missing value as NaN."""
    return column.to_numpy(dtype=float, na_value=np.nan)


def varies(column) -> bool:
    values = floats(column)
    values = values[np.isfinite(values)]
    return values.size >= 2 and float(values.max()) > float(values.min())


def key_figures(table) -> list[str]:
    """The outcome figures to study: those of KEY_FIGURES the sweep has and that vary,
    else the varying non-flag figures that are not host costs (at most MAX_KEY_FIGURES)."""
    columns = set(numeric_columns(table))
    known = [k for k, _ in KEY_FIGURES if k in columns and varies(table[k])]
    if known:
        return known[:MAX_KEY_FIGURES]
    rest = [c for c in sorted(columns) if c not in HOST_FIGURES and varies(table[c])
            and not is_flag(table[c])]
    return rest[:MAX_KEY_FIGURES]


def input_columns(table) -> list[str]:
    """The dispersed inputs: every `in.` column holding numbers, and for a vector input
    (`in.<key>[i]` columns) its norm as `|in.<key>|`, added to the table."""
    import pandas as pd

    inputs = [c for c in table.columns if c.startswith(INPUT_PREFIX)
              and pd.api.types.is_numeric_dtype(table[c])]
    groups: dict[str, list[str]] = {}
    for c in inputs:
        if c.endswith("]") and "[" in c:
            groups.setdefault(c[: c.rindex("[")], []).append(c)
    out = []
    for c in inputs:
        out.append(c)
        base = c[: c.rindex("[")] if c.endswith("]") and "[" in c else None
        if base is not None and groups[base][-1] == c and len(groups[base]) > 1:
            norm = f"|{base}|"
            parts = np.column_stack([floats(table[c]) for c in groups[base]])
            table[norm] = np.sqrt((parts ** 2).sum(axis=1))
            out.append(norm)
    return out


def driver_matrix(table, inputs: list[str], figures: list[str]) -> dict:
    """{(input, figure): Correlation} for every pair."""
    return {(i, f): spearman(floats(table[i]), floats(table[f]))
            for i in inputs for f in figures}


def worse_sign(figure: str) -> int:
    return dict(KEY_FIGURES).get(figure, +1)


def worst_runs(table, figure: str | None, count: int = 10):
    """The `count` worst rows: errors first, then failed runs, then waved off, then the
    rest; within each, the worst value of `figure` first (a missing value last)."""
    if table.empty:
        return table
    outcomes = table["outcome"].astype("string").fillna("n/a").tolist()
    errors = (table["error"].notna().tolist() if "error" in table.columns
              else [False] * len(table))
    severity = np.array([0.0 if err else OUTCOME_ORDER.get(o, 2)
                         for o, err in zip(outcomes, errors, strict=True)])
    if figure is None:
        badness = np.zeros(len(table))
    else:
        values = floats(table[figure]) * worse_sign(figure)
        badness = np.where(np.isfinite(values), -values, np.inf)
    order = np.lexsort((floats(table["seed"]), badness, severity))
    return table.iloc[order[:count]]


def toml_value(value) -> str:
    """A value as TOML (what --set parses): numbers, strings, booleans, arrays, tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {toml_value(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {type(value).__name__}")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else toml_value(str(key))


def rerun_command(scenario: str, seed: int, overrides: dict | None,
                  out: str | None = None) -> str:
    """The command line that flies one seed of the sweep again alone, identically: the same
    scenario, --set settings and dispersions drawn from the seed (--dispersed)."""
    stem = scenario.rsplit("/", 1)[-1].removesuffix(".toml")
    words = ["prospector", "run", "--scenario", scenario, "--seed", str(int(seed)),
             "--dispersed"]
    for key, value in (overrides or {}).items():
        words += ["--set", f"{key}={toml_value(value)}"]
    words += ["--out", out or f"runs/{stem}-seed-{int(seed)}"]
    return shlex.join(words)
