"""What is in a log: time span, messages per type with rates and sources, gaps, damage.

Times come from trusted timestamps only (ground.logs.stamps): a damaged stamp
is counted as damage, and its message still counts for its type.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from ground.logs.columns import ColumnLog

GAP_MIN_S = 1.0          # a silence shorter than this is not reported as a gap
GAPS_LISTED = 5


@dataclass(frozen=True)
class TypeInfo:
    name: str
    count: int
    rate_hz: float
    sources: tuple[int, ...]     # system ids that sent it
    max_interval_s: float        # longest time between two of its messages


@dataclass(frozen=True)
class LogInfo:
    frames: int
    start_unix_us: int | None
    end_unix_us: int | None
    types: list[TypeInfo]
    gaps: list[tuple[float, float]]  # (seconds after start, length s), longest first
    backwards_steps: int             # timestamps smaller than the one before (damage, clock)
    damage: str
    clean: bool
    damaged_timestamps: int = 0      # messages whose stamp was distrusted (not in the times)

    @property
    def duration_s(self) -> float:
        if self.start_unix_us is None:
            return 0.0
        return (self.end_unix_us - self.start_unix_us) * 1e-6


def log_info(log: ColumnLog) -> LogInfo:
    stamps = [m.timestamp_us[m.stamp_ok] for m in log.messages.values()]
    every = np.concatenate(stamps).astype(np.int64) if stamps else np.zeros(0, np.int64)
    in_order = np.sort(every)
    start = int(in_order[0]) if len(in_order) else None
    end = int(in_order[-1]) if len(in_order) else None
    duration_s = (end - start) * 1e-6 if start is not None else 0.0
    types = []
    for name in sorted(log.messages):
        m = log.messages[name]
        ts = np.sort(m.timestamp_us[m.stamp_ok].astype(np.int64))
        rate = len(m) / duration_s if duration_s > 0 else float("nan")
        interval = float(np.max(np.diff(ts))) * 1e-6 if len(ts) > 1 else 0.0
        types.append(TypeInfo(name, len(m), rate, tuple(int(s) for s in np.unique(m.src_system)),
                              interval))
    gaps = []
    if len(in_order) > 1:
        steps = np.diff(in_order)
        big = np.flatnonzero(steps >= GAP_MIN_S * 1e6)
        big = big[np.argsort(-steps[big], kind="stable")][:GAPS_LISTED]
        gaps = [((int(in_order[i]) - start) * 1e-6, int(steps[i]) * 1e-6) for i in big]
    backwards = _backwards_steps(log)
    return LogInfo(log.report.frames, start, end, types, gaps, backwards, log.report.describe(),
                   log.report.clean, log.report.damaged_timestamps)


def _backwards_steps(log: ColumnLog) -> int:
    """Per type, in file order: a recorder writes non-decreasing stamps."""
    total = 0
    for m in log.messages.values():
        ts = m.timestamp_us[m.stamp_ok].astype(np.int64)
        total += int(np.count_nonzero(np.diff(ts) < 0))
    return total


def _utc(unix_us: int) -> str:
    try:
        when = datetime.fromtimestamp(unix_us / 1e6, UTC)
    except (ValueError, OverflowError, OSError):  # trusted stamps are below 2**53 us: never
        return f"{unix_us} us"
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def format_info(label: str, size_bytes: int, info: LogInfo) -> str:
    lines = [f"{label}: {size_bytes} bytes, {info.frames} frames"]
    if info.start_unix_us is not None:
        lines.append(f"time: {_utc(info.start_unix_us)} to {_utc(info.end_unix_us)} "
                     f"({info.duration_s:.3f} s)")
    lines.append(f"{'message':<28}{'count':>10}{'rate Hz':>10}{'max gap s':>11}  from system")
    for t in info.types:
        rate = f"{t.rate_hz:.3f}" if np.isfinite(t.rate_hz) else "-"
        lines.append(f"{t.name:<28}{t.count:>10}{rate:>10}{t.max_interval_s:>11.3f}  "
                     + ",".join(str(s) for s in t.sources))
    if info.gaps:
        lines.append(f"gaps of {GAP_MIN_S:g} s or more with no message at all (longest first): "
                     + "; ".join(f"{length:.3f} s at +{at:.3f} s" for at, length in info.gaps))
    else:
        lines.append(f"gaps: none of {GAP_MIN_S:g} s or more")
    if info.backwards_steps:
        lines.append(f"timestamps going backwards: {info.backwards_steps}")
    if info.damaged_timestamps:
        lines.append(f"damaged timestamps: {info.damaged_timestamps} (out of the log's order "
                     "or span; their messages are counted, their times not used)")
    lines.append(f"damage: {'none' if info.clean else info.damage}")
    return "\n".join(lines)
