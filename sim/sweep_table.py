"""A sweep's results as a table: one row per run, and the rates with their confidence.

runs.parquet and runs.csv (the same rows): `seed`, `outcome`, `error`, every numeric
figure of the run's summary (flags as 0/1), each dispersed input as `in.<scenario key>`
(an array input as one column per element, `in.<key>[i]`) and the SHA-256 of the run's
flight log, which is what "the same run" means across executors.

aggregate.json gains `rates`: for each outcome, for errors and for every flag of the
summaries, the count, the rate and its Wilson score interval at 95 % (Wilson 1927: it
stays inside [0, 1] and keeps its coverage for rates near 0 or 1 and for few runs, where
the normal approximation does not).
"""

from __future__ import annotations

import math
from pathlib import Path

Z_95 = 1.959963984540054  # the standard normal's 97.5 % quantile


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a binomial rate; (0, 1) when there is no trial."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    z2n = z * z / trials
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / trials + z2n / (4.0 * trials)) / (1.0 + z2n)
    # At 0 or all successes the bound is exactly 0 or 1 (not its rounding residue).
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == trials else min(1.0, centre + half)
    return lo, hi


def figures_of(summary: dict | None) -> dict[str, float]:
    """A summary's numeric figures (top level; flags as 0/1; wave-offs as their count)."""
    from sim.sweep import numeric_leaves

    if not summary:
        return {}
    out = numeric_leaves(summary)
    for key, value in summary.items():
        if isinstance(value, bool):
            out[key] = float(value)
    return out


def row_of(record: dict) -> dict:
    row = {"seed": int(record["seed"]), "outcome": record.get("outcome", "n/a"),
           "error": record.get("error")}
    row.update(sorted(figures_of(record.get("summary")).items()))
    for key, value in sorted((record.get("dispersed") or {}).items()):
        if isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                row[f"in.{key}[{i}]"] = v
        else:
            row[f"in.{key}"] = value
    row["flight_log_sha256"] = record.get("flight_log_sha256")
    return row


def write_tables(out_dir: Path, records: list[dict]) -> list[Path]:
    """runs.parquet and runs.csv of `records` (sorted by seed)."""
    import pandas as pd

    rows = [row_of(r) for r in sorted(records, key=lambda r: r["seed"])]
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["seed", "outcome", "error", "flight_log_sha256"])
    frame = frame.astype({"outcome": "string", "error": "string"})
    paths = [Path(out_dir) / "runs.parquet", Path(out_dir) / "runs.csv"]
    frame.to_parquet(paths[0], index=False)
    frame.to_csv(paths[1], index=False)
    return paths


def rates(records: list[dict]) -> dict:
    """Outcomes, errors and every flag: count, rate and Wilson 95 % interval."""
    n = len(records)
    out: dict[str, dict] = {}

    def entry(count: int, trials: int) -> dict:
        lo, hi = wilson_interval(count, trials)
        return {"count": count, "of": trials, "rate": count / trials if trials else None,
                "wilson95": [lo, hi]}

    outcomes: dict[str, int] = {}
    for r in records:
        outcomes[r.get("outcome", "n/a")] = outcomes.get(r.get("outcome", "n/a"), 0) + 1
    for name, count in sorted(outcomes.items()):
        out[f"outcome:{name}"] = entry(count, n)
    out["error"] = entry(sum(1 for r in records if r.get("error")), n)
    flags: dict[str, list[bool]] = {}
    for r in records:
        for key, value in (r.get("summary") or {}).items():
            if isinstance(value, bool):
                flags.setdefault(key, []).append(value)
    for key, values in sorted(flags.items()):
        out[key] = entry(sum(values), len(values))
    return out
