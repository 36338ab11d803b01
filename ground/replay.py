"""Replay: the whole flight software re-run over a recorded flight, checked bit for bit.

The recording holds every message that crossed the Bus.  Replay rebuilds the
flight software from the run's flight_config.json, feeds it the recorded
inbound messages (sensors from system 2, ground from 255) at their recorded
mission times under a simulated clock, runs it frame by frame, and compares
what it sends with what the flight sent (system 1): byte for byte, message by
message.  On the same code and parameters the two are identical; otherwise
the report names the first divergence and how far each output drifted.

Replay is open loop: the recorded sensors do not respond to different
commands, so after a change it answers "what would the software have
commanded, given what it saw", not "where would the probe have gone".

`--param NAME=VALUE` sets the parameter on the table before the software is
built (no message at all, so the outbound streams stay aligned message for
message) and gives every recorded PARAM_SET of that name the new value, so
that the recording's own uplinks (a scenario's t = 0 settings) do not undo it.

A damaged timestamp (ground.logs.stamps) does not move a message in time: a
message between two trusted records of the same time is placed at that time
(the recorder writes in order), any other is left out of the input and of the
comparison, and the replay ends with the last message placed in time.
"""

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from flightsw import run_dir
from flightsw.app import FlightSoftware
from flightsw.config import FlightConfig, FlightConfigError, flight_config_from_dict
from flightsw.core.clock import SimClock
from flightsw.core.params import ParamTable
from flightsw.core.recorder import FlightRecorder
from flightsw.hal.replay_bus import ReplayBus
from flightsw.icd import FLIGHT_SYSTEM_ID, icd_fingerprint, mavlink
from flightsw.input_file import InputFileError, read_input
from flightsw.params_table import FLIGHT_PARAMS
from ground.logs.columns import read_columns
from ground.logs.compare import (
    CountDrift,
    FieldDrift,
    describe_difference,
    drift,
    event_differences,
)
from ground.logs.frames import FrameTable, frame_table
from ground.replay_inputs import ParamSetRewriter, ReplayError, param_overrides  # noqa: F401 (re-exported)

REPLAY_FILES = run_dir.OUTPUT_FILES["replay"]
CONFIG_NAME = "flight_config.json"
LOG_NAME = "flight.tlog"
DRIFT_LINES = 25
EVENT_LINES = 6
# The flight software sends telemetry every frame and a HEARTBEAT every second: in a log of
# ours, a few stamps more than this far from all the others are damaged, not a pause.
REPLAY_GAP_LIMIT_US = 10_000_000
MAX_REPLAY_US = 30 * 86400 * 1_000_000  # the longest scenario the simulator flies
MAX_EPOCH_UNIX_US = (1 << 53) - MAX_REPLAY_US  # stamps are trusted below 2**53 us
MAX_LOG_BYTES = 1 << 36       # replay holds the log in memory; 64 GiB is past any run
MAX_CONFIG_BYTES = 1 << 28    # the shape model of a fine mesh is a few MB


@dataclass
class Recording:
    """A recorded flight and what the software was built with."""

    log_path: Path
    config: FlightConfig
    epoch_unix_us: int
    table: FrameTable
    mission_us: np.ndarray = None   # int64 per frame: its mission time, where `placed`
    placed: np.ndarray = None       # bool per frame: its time is known (see the module doc)
    # Faults the simulator injected into tasks (flight_config.json "task_faults"): task
    # -> [(from_us, until_us or None)], raised again so that the replay flies what flew.
    task_faults: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.mission_us is None:
            self.mission_us, self.placed = _mission_times(self.table, self.epoch_unix_us)

    @property
    def damaged_stamps_skipped(self) -> int:
        return int(np.count_nonzero(~self.placed))

    @property
    def damaged_stamps_placed(self) -> int:
        return int(np.count_nonzero(self.placed & ~self.table.stamp_ok))


def _mission_times(table: FrameTable, epoch_unix_us: int) -> tuple[np.ndarray, np.ndarray]:
    """Mission time of each frame; a damaged stamp takes its neighbours' when they agree."""
    ok = table.stamp_ok
    n = len(ok)
    t = table.timestamp_us.astype(np.int64) - epoch_unix_us  # (untrusted ones: any value)
    pos = np.arange(n)
    before = np.maximum.accumulate(np.where(ok, pos, -1))
    after = np.minimum.accumulate(np.where(ok, pos, n)[::-1])[::-1]
    placeable = ~ok & (before >= 0) & (after < n)
    t_before = t[np.clip(before, 0, n - 1)]
    placeable &= t_before == t[np.clip(after, 0, n - 1)]
    placed = ok | placeable
    t = np.where(placeable, t_before, t)
    placed &= (t >= 0) & (t <= MAX_REPLAY_US)
    return t, placed


def load_recording(log: str | Path, config_path: str | Path | None = None) -> Recording:
    """Read a run directory or .tlog and its flight_config.json; refuse another ICD."""
    log = Path(log)
    if log.is_dir():
        log = log / LOG_NAME
    cfg_path = Path(config_path) if config_path is not None else log.parent / CONFIG_NAME
    if not log.exists():
        raise ReplayError(f"{log}: no such file (expected a .tlog or a run directory)")
    if not cfg_path.exists():
        raise ReplayError(f"{cfg_path}: not found; replay needs the flight configuration the "
                          "log was flown with (a run directory has it; or pass --config)")
    try:
        # Never blocks: a FIFO or a device is refused before it is read (input_file.py).
        blob = read_input(log, MAX_LOG_BYTES, ".tlog")
        data = json.loads(read_input(cfg_path, MAX_CONFIG_BYTES, "flight_config.json"))
    except InputFileError as exc:
        raise ReplayError(str(exc)) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ReplayError(f"{cfg_path}: not a flight_config.json ({_one_line(exc)})") from None
    try:
        if not isinstance(data, dict):
            raise FlightConfigError(f"expected a JSON object, got {type(data).__name__}")
        recorded_icd = data.get("icd_fingerprint")
        if not isinstance(recorded_icd, str):
            raise FlightConfigError(f"icd_fingerprint: expected a string, got {recorded_icd!r}")
        epoch_us = data.get("epoch_unix_us")
        if isinstance(epoch_us, bool) or not isinstance(epoch_us, int) or not (
                0 <= epoch_us <= MAX_EPOCH_UNIX_US):
            raise FlightConfigError(f"epoch_unix_us: expected an integer from 0 to "
                                    f"{MAX_EPOCH_UNIX_US}, got {_one_line(repr(epoch_us))[:40]}")
        config = flight_config_from_dict(data.get("flight_config"))
        task_faults = _task_faults(data.get("task_faults", []))
    except FlightConfigError as exc:
        raise ReplayError(f"{cfg_path}: {_one_line(exc)}") from None
    ours = f"{icd_fingerprint():08x}"
    if recorded_icd != ours:
        raise ReplayError(f"{log}: recorded with ICD {recorded_icd}, this build has ICD {ours}: "
                          "messages would not decode alike; replay it on the build that "
                          "recorded it, or re-record it")
    if not blob:
        raise ReplayError(f"{log}: empty file, expected a .tlog")
    table = frame_table(blob, gap_limit_us=REPLAY_GAP_LIMIT_US)
    if not len(table):
        raise ReplayError(f"{log}: no MAVLink frames in {len(blob)} bytes; expected a .tlog "
                          "(8-byte timestamp before each frame)")
    rec = Recording(log, config, epoch_us, table, task_faults=task_faults)
    if not rec.placed.any():
        raise ReplayError(f"{log}: no frame has a timestamp within the mission (epoch "
                          f"{epoch_us} us in {cfg_path.name}); nothing to replay")
    return rec


def _task_faults(entries) -> dict:
    """flight_config.json's "task_faults" ([{task, from_us, until_us}]) by task."""
    if not isinstance(entries, list):
        raise FlightConfigError(f"task_faults: expected a list, got {type(entries).__name__}")
    out: dict = {}
    for i, e in enumerate(entries):
        ok = isinstance(e, dict) and isinstance(e.get("task"), str) and all(
            isinstance(e.get(k), int) and not isinstance(e.get(k), bool)
            for k in ("from_us",) + (("until_us",) if e.get("until_us") is not None else ()))
        if not ok:
            raise FlightConfigError(f"task_faults[{i}]: expected {{task, from_us, until_us}}")
        out.setdefault(e["task"], []).append((e["from_us"], e.get("until_us")))
    return out


def _raising_while(windows):
    def active(t_frame_us: int) -> bool:
        return any(start <= t_frame_us and (end is None or t_frame_us < end)
                   for start, end in windows)
    return active


@dataclass
class ReplayResult:
    identical: bool
    frames_run: int
    replayed_to_s: float
    inbound_fed: int
    outbound_recorded: int
    outbound_replayed: int
    outbound_matching: int
    wall_s: float
    first_divergence: dict | None = None
    field_drift: list[FieldDrift] = field(default_factory=list)
    count_drift: list[CountDrift] = field(default_factory=list)
    events_only_recorded: list[tuple[float, str]] = field(default_factory=list)
    events_only_replayed: list[tuple[float, str]] = field(default_factory=list)
    log_damage: str = ""
    warnings: list[str] = field(default_factory=list)
    overrides: dict = field(default_factory=dict)

    @property
    def realtime_factor(self) -> float:
        return self.replayed_to_s / self.wall_s if self.wall_s > 0 else float("inf")

    def report(self, log_label: str) -> str:
        lines = [f"replay of {log_label}: {self.frames_run} frames, 0 - {self.replayed_to_s:.1f} s "
                 f"mission time, {self.inbound_fed} inbound messages fed, "
                 f"{self.outbound_recorded} outbound compared"]
        if self.overrides:
            lines.append("parameters overridden: " + ", ".join(
                f"{k} = {v!r}" for k, v in self.overrides.items()))
        lines += [f"warning: {w}" for w in self.warnings]
        if self.identical:
            lines.append(f"IDENTICAL: all {self.outbound_recorded} outbound messages match the "
                         "recording bit for bit")
        else:
            d = self.first_divergence
            lines.append(f"DIVERGED at t = {d['t_s']:.3f} s: {d['message']} (message "
                         f"{d['index_in_frame'] + 1} sent in that frame), field {d['field']}: "
                         f"{d['values']}")
            lines.append(f"outbound: {self.outbound_recorded} recorded, "
                         f"{self.outbound_replayed} replayed, {self.outbound_matching} "
                         "identical byte for byte")
            lines += _drift_lines(self.field_drift, self.count_drift)
            for label, events in (("only in the recording", self.events_only_recorded),
                                  ("only in the replay", self.events_only_replayed)):
                if events:
                    lines.append(f"events {label}: " + "; ".join(
                        f"{t:.1f} s {text!r}" for t, text in events[:EVENT_LINES])
                        + ("; ..." if len(events) > EVENT_LINES else ""))
        lines.append(f"replayed {self.replayed_to_s:.1f} s in {self.wall_s:.2f} s "
                     f"({self.realtime_factor:.0f}x real time)")
        return "\n".join(lines)


def _drift_lines(fields: list[FieldDrift], counts: list[CountDrift]) -> list[str]:
    lines = []
    if fields:
        lines.append("drift (messages matched by type and time; largest |replayed - recorded|):")
        ranked = sorted(fields, key=lambda f: (f.first_s, f.message, f.field))
        width = max(len(f"{f.message}.{f.field}") for f in ranked[:DRIFT_LINES])
        for f in ranked[:DRIFT_LINES]:
            name = f"{f.message}.{f.field}"
            lines.append(f"  {name:<{width}}  max {f.max_abs:<10.4g} at {f.at_s:8.1f} s, "
                         f"first at {f.first_s:8.1f} s, in {f.differing} messages")
        if len(ranked) > DRIFT_LINES:
            lines.append(f"  ... and {len(ranked) - DRIFT_LINES} more fields "
                         "(replay_summary.json has them all)")
    for c in counts:
        lines.append(f"  {c.message}: {c.recorded} recorded, {c.replayed} replayed, "
                     f"{c.matched} matched by time")
    return lines


def _inbound(rec: Recording, overrides: dict, until_us: int | None) -> Iterator[tuple[int, bytes]]:
    """(mission time, raw frame) of every recorded inbound message, PARAM_SETs rewritten."""
    t = rec.table
    mission_us = rec.mission_us
    idx = np.flatnonzero((t.src_system != FLIGHT_SYSTEM_ID) & rec.placed)
    rewrite = ParamSetRewriter(overrides) if overrides else None
    for i in idx.tolist():
        tm = int(mission_us[i])
        if until_us is not None and tm > until_us:
            return
        raw = t.raw(i)
        if rewrite is not None and t.msg_id[i] == mavlink.MAVLINK_MSG_ID_PARAM_SET:
            raw = rewrite(raw)
        yield tm, raw


class _Comparator:
    """Walks the recorded outbound messages alongside the replay, frame by frame."""

    def __init__(self, rec: Recording, until_us: int | None):
        t = rec.table
        out = np.flatnonzero((t.src_system == FLIGHT_SYSTEM_ID) & rec.placed)
        mission_us = rec.mission_us[out]
        if until_us is not None:
            keep = mission_us <= until_us
            out, mission_us = out[keep], mission_us[keep]
        self._table = t
        self._idx = out
        self._t_us = mission_us
        self._next = 0
        self.recorded = len(out)
        self.replayed = 0
        self.matching = 0
        self.first: dict | None = None

    def frame(self, t_us: int, sent: list) -> None:
        lo = self._next
        hi = int(np.searchsorted(self._t_us, t_us, side="right"))
        self._next = hi
        self.replayed += len(sent)
        table, idx = self._table, self._idx
        for k in range(max(hi - lo, len(sent))):
            rec = table.raw(int(idx[lo + k])) if lo + k < hi else None
            rep = bytes(sent[k].get_msgbuf()) if k < len(sent) else None
            if rec is not None and rec == rep:
                self.matching += 1
            elif self.first is None:
                message, fld, values = describe_difference(rec, rep)
                self.first = {"t_s": t_us * 1e-6, "message": message, "field": fld,
                              "values": values, "index_in_frame": k}

    def finish(self) -> None:
        """Recorded messages after the last replayed frame never got a counterpart."""
        if self._next < self.recorded and self.first is None:
            i = int(self._idx[self._next])
            message, fld, values = describe_difference(self._table.raw(i), None)
            self.first = {"t_s": float(self._t_us[self._next]) * 1e-6, "message": message,
                          "field": fld, "values": values, "index_in_frame": 0}


def prepare_out_dir(out_dir: Path, force: bool) -> None:
    """Create out_dir (marked as ours); --force replaces only a previous replay's files, in a
    directory one of our commands wrote (flightsw/run_dir.py)."""
    try:
        run_dir.prepare_out_dir(out_dir, force, "replay")
    except run_dir.RunDirError as exc:
        raise ReplayError(str(exc)) from None


def replay(rec: Recording, out_dir: str | Path, overrides: dict | None = None,
           until_s: float | None = None, force: bool = False,
           progress: bool | None = None, signing_key: bytes | None = None) -> ReplayResult:
    """Re-run the flight software over `rec`; write replay.tlog, the report and a summary.

    `signing_key`: the key the recorded flight was given, for a run with a signed
    uplink: the uplink guard judges the recorded frames again and needs it (without
    it, every recorded ground command is refused and the replay diverges)."""
    overrides = dict(overrides or {})
    out_dir = Path(out_dir)
    prepare_out_dir(out_dir, force)  # only replay files are ever replaced: never the recording
    config = rec.config
    frame_us = 1_000_000 // config.base_rate_hz
    last_us = int(rec.mission_us[rec.placed].max())  # the recorded mission, not a damaged stamp
    until_us = None if until_s is None else int(round(until_s * 1e6))
    if until_us is not None:
        last_us = min(last_us, until_us)
    n_frames = last_us // frame_us
    warnings = []
    if config.timing_telemetry:
        warnings.append("recorded with timing telemetry: task execution times are measured on "
                        "the host and cannot replay identically")
    if not rec.table.report.clean:
        warnings.append(f"the log is damaged ({rec.table.report.describe()}); messages lost "
                        "there are missing from the replay's input")
    if rec.damaged_stamps_placed or rec.damaged_stamps_skipped:
        warnings.append(f"damaged timestamps: {rec.damaged_stamps_placed} message(s) placed at "
                        "the time of the records around them, "
                        f"{rec.damaged_stamps_skipped} left out (time unknown)")
    params = ParamTable(FLIGHT_PARAMS)
    for name, value in overrides.items():
        params.set(name, value)

    wall0 = time.perf_counter()
    clock = SimClock()
    bus = ReplayBus(_inbound(rec, overrides, until_us), clock.now_us)
    compare = _Comparator(rec, until_us)
    with open(out_dir / "replay.tlog", "xb", buffering=1 << 16) as tlog:
        recorder = FlightRecorder(tlog, rec.epoch_unix_us)
        fsw = FlightSoftware(config, bus, clock, recorder.record, params=params,
                             signing_key=signing_key)
        for task, windows in rec.task_faults.items():
            try:
                fsw.scheduler.set_task_fault(task, _raising_while(windows))
            except ValueError as exc:
                raise ReplayError(f"task_faults: {exc}") from None
        bar = _progress_bar(n_frames, sys.stderr.isatty() if progress is None else progress)
        for frame in range(n_frames + 1):
            t_us = frame * frame_us
            clock.advance_to_us(t_us)
            fsw.run_frame()
            compare.frame(t_us, bus.take_sent())
            if bar is not None and frame % 1000 == 999:
                bar.update(1000)
        if bar is not None:
            bar.close()
        compare.finish()
        recorder.flush()
    wall_s = time.perf_counter() - wall0
    identical = compare.first is None and compare.matching == compare.recorded == compare.replayed
    result = ReplayResult(identical, n_frames + 1, n_frames * frame_us * 1e-6, bus.delivered_count,
                          compare.recorded, compare.replayed, compare.matching, wall_s,
                          compare.first, log_damage=rec.table.report.describe(),
                          warnings=warnings, overrides=overrides)
    if not identical:
        if result.first_divergence is None:  # counts differ though every pair matched
            result.first_divergence = {"t_s": n_frames * frame_us * 1e-6, "message": "-",
                                       "field": "-", "values": "message counts differ",
                                       "index_in_frame": 0}
        (result.field_drift, result.count_drift, result.events_only_recorded,
         result.events_only_replayed) = _whole_flight_drift(rec, out_dir, until_us)
    _write_outputs(out_dir, rec, result)
    return result


def _whole_flight_drift(rec: Recording, out_dir: Path, until_us: int | None):
    def outbound(log):
        for name, cols in list(log.messages.items()):
            mask = (cols.src_system == FLIGHT_SYSTEM_ID) & cols.stamp_ok
            if until_us is not None:
                mask &= cols.timestamp_us.astype(np.int64) - rec.epoch_unix_us <= until_us
            log.messages[name] = cols.where(mask)
            if not len(log.messages[name]):
                del log.messages[name]
        return log

    recorded = outbound(read_columns(rec.table.blob))
    replayed = outbound(read_columns(out_dir / "replay.tlog"))
    fields, counts = drift(recorded, replayed, rec.epoch_unix_us)
    return (fields, counts) + event_differences(recorded, replayed, rec.epoch_unix_us)


def _write_outputs(out_dir: Path, rec: Recording, result: ReplayResult) -> None:
    text = result.report(str(rec.log_path))
    (out_dir / "replay_report.txt").write_text(text + "\n", encoding="utf-8")
    summary = {
        "log": str(rec.log_path),
        "identical": result.identical,
        "frames_run": result.frames_run,
        "replayed_to_s": result.replayed_to_s,
        "inbound_fed": result.inbound_fed,
        "outbound_recorded": result.outbound_recorded,
        "outbound_replayed": result.outbound_replayed,
        "outbound_matching": result.outbound_matching,
        "first_divergence": result.first_divergence,
        "field_drift": [vars(f) for f in result.field_drift],
        "count_drift": [vars(c) for c in result.count_drift],
        "events_only_recorded": result.events_only_recorded,
        "events_only_replayed": result.events_only_replayed,
        "parameter_overrides": result.overrides,
        "warnings": result.warnings,
        "log_damage": result.log_damage,
        "wall_s": round(result.wall_s, 3),
        "realtime_factor": round(result.realtime_factor, 1),
        "icd_fingerprint": f"{icd_fingerprint():08x}",
    }
    (out_dir / "replay_summary.json").write_text(json.dumps(summary, indent=2) + "\n")


def _progress_bar(total: int, show: bool):
    if not show:
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="frame", unit_scale=True, desc="replay", file=sys.stderr)


def _one_line(x: object) -> str:
    return " ".join(str(x).split())

