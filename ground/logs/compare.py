"""How two recordings of the flight software's output differ.

Two views, for the replay's divergence report:

- `describe_difference`: the first pair of messages that differ, field by
  field (time, message, field, recorded and replayed values);
- `drift`: over the whole flight, messages matched by type, time and order
  within that time, the largest difference of every numeric field, and the
  messages only one side has.
"""

import math
from dataclasses import dataclass

import numpy as np

from flightsw.icd import mavlink, new_codec
from ground.logs.columns import ColumnLog, MessageColumns

_CODEC = new_codec(0, 0)


def _decode(raw: bytes):
    try:
        return _CODEC.decode(bytearray(raw))
    except mavlink.MAVError:
        return None


def _show(value) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (bytes, str)):
        return repr(value)
    return str(value)


def describe_difference(recorded: bytes | None, replayed: bytes | None) -> tuple[str, str, str]:
    """(message, field, 'recorded X, replayed Y') for the first difference of two frames."""
    if recorded is None or replayed is None:
        present = _decode(recorded if replayed is None else replayed)
        name = present.get_type() if present is not None else "?"
        side = "recording only" if replayed is None else "replay only"
        return name, "-", f"{side}: {_summary(present)}"
    a, b = _decode(recorded), _decode(replayed)
    if a is None or b is None:
        return "?", "-", "a frame does not decode"
    if a.get_type() != b.get_type():
        return a.get_type(), "-", f"recorded {a.get_type()}, replayed {b.get_type()}"
    for name in a.get_fieldnames():
        va, vb = getattr(a, name), getattr(b, name)
        if isinstance(va, list):
            for k, (x, y) in enumerate(zip(va, vb, strict=True)):
                if not _same(x, y):
                    return a.get_type(), f"{name}[{k}]", f"recorded {_show(x)}, replayed {_show(y)}"
        elif not _same(va, vb):
            return a.get_type(), name, f"recorded {_show(va)}, replayed {_show(vb)}"
    ha, hb = a.get_header(), b.get_header()
    for name in ("seq", "srcSystem", "srcComponent", "incompat_flags", "compat_flags"):
        if getattr(ha, name) != getattr(hb, name):
            return a.get_type(), f"header.{name}", (f"recorded {getattr(ha, name)}, replayed "
                                                    f"{getattr(hb, name)} (same fields)")
    return a.get_type(), "-", "same fields, different bytes"


def _same(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y


def _summary(msg) -> str:
    if msg is None:
        return "?"
    if msg.get_type() == "STATUSTEXT":
        return f"STATUSTEXT {msg.text!r}"
    return msg.get_type()


@dataclass(frozen=True)
class FieldDrift:
    message: str
    field: str
    max_abs: float        # over matched messages and array components
    at_s: float           # mission time of the largest difference
    first_s: float        # mission time of the first difference
    differing: int        # matched messages where the field differs


@dataclass(frozen=True)
class CountDrift:
    message: str
    recorded: int
    replayed: int
    matched: int


TEXT_MESSAGES = ("STATUSTEXT",)


def event_differences(recorded: ColumnLog, replayed: ColumnLog, epoch_unix_us: int
                      ) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """Events (STATUSTEXT, time and text) only in the recording, and only in the replay."""
    def events(log):
        m = log.messages.get("STATUSTEXT")
        if m is None:
            return []
        t_s = (m.timestamp_us.astype(np.int64) - epoch_unix_us) * 1e-6
        return list(zip(t_s.round(6).tolist(), m["text"].tolist(), strict=True))

    a, b = events(recorded), events(replayed)
    only_a, only_b = list(a), []
    for item in b:
        if item in only_a:
            only_a.remove(item)
        else:
            only_b.append(item)
    return only_a, only_b


def _occurrence(ts: np.ndarray) -> np.ndarray:
    """0, 1, 2 ... for messages sharing a timestamp (ts sorted): makes (ts, k) unique."""
    if not len(ts):
        return np.zeros(0, dtype=np.int64)
    new_run = np.concatenate([[True], ts[1:] != ts[:-1]])
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(ts)), 0))
    return np.arange(len(ts)) - run_start


def _match(a: MessageColumns, b: MessageColumns):
    ka = a.timestamp_us.astype(np.int64) * 1024 + _occurrence(a.timestamp_us)
    kb = b.timestamp_us.astype(np.int64) * 1024 + _occurrence(b.timestamp_us)
    _, ia, ib = np.intersect1d(ka, kb, assume_unique=True, return_indices=True)
    return ia, ib


def drift(recorded: ColumnLog, replayed: ColumnLog, epoch_unix_us: int
          ) -> tuple[list[FieldDrift], list[CountDrift]]:
    """Field drift and count differences between two logs (filter them to one side first)."""
    fields: list[FieldDrift] = []
    counts: list[CountDrift] = []
    for name in sorted(set(recorded.messages) | set(replayed.messages)):
        a, b = recorded.messages.get(name), replayed.messages.get(name)
        na, nb = (len(a) if a is not None else 0), (len(b) if b is not None else 0)
        if a is None or b is None:
            counts.append(CountDrift(name, na, nb, 0))
            continue
        ia, ib = _match(a, b)
        if na != len(ia) or nb != len(ib):
            counts.append(CountDrift(name, na, nb, len(ia)))
        if name in TEXT_MESSAGES:
            continue  # events: compared as texts (event_differences), not as numbers
        t_s = (a.timestamp_us[ia].astype(np.int64) - epoch_unix_us) * 1e-6
        for field in a.fields:
            x, y = a.data[field][ia], b.data[field][ib]
            if x.dtype.kind not in "iuf":
                continue  # names and texts (param_id ...) do not drift
            diff = np.abs(y.astype(np.float64) - x.astype(np.float64))
            both_nan = np.isnan(x.astype(np.float64)) & np.isnan(y.astype(np.float64))
            diff = np.where(both_nan, 0.0, np.where(np.isnan(diff), np.inf, diff))
            if diff.ndim > 1:
                diff = diff.max(axis=1)
            bad = np.flatnonzero(diff > 0)
            if len(bad):
                worst = int(np.argmax(diff))
                fields.append(FieldDrift(name, field, float(diff[worst]), float(t_s[worst]),
                                         float(t_s[bad[0]]), len(bad)))
    return fields, counts
