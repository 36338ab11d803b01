"""Log tools benchmark: columnar reading against pymavlink, memory, replay against SIL.

    .venv/bin/python bench/bench_logs.py            # the default mission (6 h), ~3-4 min
    .venv/bin/python bench/bench_logs.py --quick    # a 1 h mission, log tiled to 1M messages

One run measures, side by side on the same machine and the same file:
  1. SIL: the mission flown by the simulator (its real-time factor);
  2. a log of at least 1,000,000 messages (that run's flight.tlog, tiled with
     shifted timestamps if it is shorter);
  3. reading it: our columnar reader (best of 3) and pymavlink's
     mavutil.mavlink_connection(path).recv_match() loop, and the ratio; the
     robust frame reader; values checked equal to pymavlink's on a sample;
  4. memory: peak traced allocation of one columnar read over the size of the
     decoded arrays;
  5. damage: frames lost by pymavlink and by us after one corrupted length byte;
  6. replay of the mission (the whole flight software) and its real-time
     factor, against the SIL run's.
Figures, not pass/fail.
"""

import argparse
import math
import os
import platform
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flightsw.icd import new_codec  # noqa: E402
from ground.logs.columns import read_columns  # noqa: E402
from ground.logs.frames import FrameReader, frame_table  # noqa: E402

TARGET_MESSAGES = 1_000_000
SAMPLE_CHECKED = 50_000


def fly(duration_s: float, out: Path) -> dict:
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    sc = load_scenario("bennu-hover", {"scenario.duration_s": duration_s})
    return run_scenario(sc, out, write_report=False, progress=False)


def tile_to(src: Path, dst: Path, messages: int) -> int:
    """Copies of src's records, timestamps shifted to run on, until `messages` are reached."""
    blob = src.read_bytes()
    table = frame_table(blob)
    n = len(table)
    copies = max(1, math.ceil(messages / n))
    if copies == 1:
        shutil.copyfile(src, dst)
        return n
    span_us = int(table.timestamp_us[-1]) - int(table.timestamp_us[0]) + 100_000
    arr = np.frombuffer(blob, dtype=np.uint8)
    ts_at = (table.first - 8)[:, None] + np.arange(8)
    with open(dst, "xb") as out:
        for k in range(copies):
            part = arr.copy()
            stamps = (table.timestamp_us + np.uint64(k * span_us)).astype(">u8")
            part[ts_at] = stamps.view(np.uint8).reshape(-1, 8)
            out.write(part.tobytes())
    return n * copies


def time_columnar(path: Path, repeats: int = 3):
    best, log = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        log = read_columns(path)
        best = min(best, time.perf_counter() - t0)
    return best, log


def time_pymavlink(path: Path):
    from pymavlink import mavutil

    t0 = time.perf_counter()
    conn = mavutil.mavlink_connection(str(path), dialect="prospector")
    n = 0
    while conn.recv_match() is not None:
        n += 1
    return time.perf_counter() - t0, n


def memory_ratio(path: Path):
    tracemalloc.start()
    log = read_columns(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, log.nbytes


def check_sample(path: Path, log, count: int) -> int:
    """Fields of the first `count` messages equal pymavlink's; returns how many were checked."""
    from pymavlink import mavutil

    conn = mavutil.mavlink_connection(str(path), dialect="prospector")
    seen: dict[str, int] = {}
    checked = 0
    while checked < count and (msg := conn.recv_match()) is not None:
        name = msg.get_type()
        k = seen.get(name, 0)
        seen[name] = k + 1
        cols = log[name]
        for field in cols.fields:
            ours, theirs = cols[field][k], getattr(msg, field)
            ours = ours.tolist() if hasattr(ours, "tolist") else ours
            if ours != theirs and not _both_nan(ours, theirs):
                raise SystemExit(f"MISMATCH {name}.{field}[{k}]: {ours!r} vs {theirs!r}")
        checked += 1
    return checked


def _both_nan(a, b) -> bool:
    if isinstance(a, list):
        return all(x == y or _both_nan(x, y) for x, y in zip(a, b, strict=True))
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def damage_demo(src: Path, work: Path):
    """One corrupted length byte in the middle of a log: good frames lost by each reader."""
    from pymavlink import mavutil

    blob = src.read_bytes()
    table = frame_table(blob)
    i = len(table) // 2
    damaged = bytearray(blob)
    damaged[int(table.first[i]) + 1] = 255
    path = work / "damaged.tlog"
    path.write_bytes(bytes(damaged))
    good = len(table) - 1  # every frame but the damaged one is intact
    conn = mavutil.mavlink_connection(str(path), dialect="prospector")
    theirs = 0
    while (msg := conn.recv_match()) is not None:
        theirs += msg.get_type() != "BAD_DATA"
    ours = sum(1 for _ in FrameReader(path))
    return good, theirs, ours


def replay_mission(run_dir: Path, out: Path):
    from ground.replay import load_recording, replay

    rec = load_recording(run_dir)
    return replay(rec, out, progress=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fly 1 h instead of the 6 h default mission")
    parser.add_argument("--keep", default=None, help="keep the logs in this directory")
    args = parser.parse_args()
    duration_s = 3600.0 if args.quick else 21600.0
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench_logs_"))
    work.mkdir(parents=True, exist_ok=True)
    import pymavlink
    print(f"bench_logs: {platform.machine()}, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.2f}; python {platform.python_version()}, numpy "
          f"{np.__version__}, pymavlink {pymavlink.__version__}")
    try:
        new_codec(1, 1)
        run_dir = work / "mission"
        summary = fly(duration_s, run_dir)
        sil_rtf = summary["sim_duration_s"] / summary["wall_duration_s"]
        print(f"SIL: bennu-hover {duration_s:.0f} s simulated in {summary['wall_duration_s']:.1f}"
              f" s = {sil_rtf:.0f}x real time, {summary['messages_logged']} messages logged")

        big = work / "big.tlog"
        n = tile_to(run_dir / "flight.tlog", big, TARGET_MESSAGES)
        size = big.stat().st_size
        print(f"log: {n} messages, {size / 1e6:.1f} MB"
              + ("" if n == summary["messages_logged"] else " (the mission's log, tiled)"))

        read_columns(run_dir / "flight.tlog")  # imports and the ICD catalogue, once
        ours_s, log = time_columnar(big)
        print(f"columnar read (best of 3): {ours_s:.3f} s = {n / ours_s / 1e6:.2f} M msg/s, "
              f"{size / ours_s / 1e6:.0f} MB/s; {len(log.messages)} types, "
              f"decoded arrays {log.nbytes / 1e6:.1f} MB; {log.report.describe()}")
        t0 = time.perf_counter()
        frames = sum(1 for _ in FrameReader(big))
        robust_s = time.perf_counter() - t0
        print(f"robust frame reader (raw frames as bytes): {robust_s:.2f} s = "
              f"{frames / robust_s / 1e6:.2f} M frames/s")
        theirs_s, theirs_n = time_pymavlink(big)
        print(f"pymavlink recv_match loop: {theirs_s:.2f} s = {theirs_n / theirs_s / 1e3:.1f} k "
              f"msg/s, {theirs_n} messages")
        print(f"RATIO columnar / pymavlink recv_match: {theirs_s / ours_s:.0f}x faster "
              f"(target >= 30x, aim 100x)")
        assert theirs_n == n == log.report.frames, (theirs_n, n, log.report.frames)
        checked = check_sample(big, log, SAMPLE_CHECKED)
        print(f"values: the first {checked} messages, every field, equal to pymavlink's")
        del log
        peak, decoded = memory_ratio(big)
        print(f"memory: peak traced allocation {peak / 1e6:.1f} MB for {decoded / 1e6:.1f} MB "
              f"of decoded arrays = {peak / decoded:.2f}x (target <= ~2x)")

        good, theirs_kept, ours_kept = damage_demo(run_dir / "flight.tlog", work)
        print(f"one corrupted length byte: of {good} intact frames pymavlink returns "
              f"{theirs_kept} (loses {good - theirs_kept}), ours {ours_kept} "
              f"(loses {good - ours_kept})")

        result = replay_mission(run_dir, work / "replay")
        print(f"replay: {result.replayed_to_s:.0f} s of flight in {result.wall_s:.1f} s = "
              f"{result.realtime_factor:.0f}x real time, "
              f"{'IDENTICAL' if result.identical else 'DIVERGED'} "
              f"({result.outbound_recorded} outbound messages compared)")
        print(f"RATIO replay / SIL real-time factor: {result.realtime_factor / sil_rtf:.2f} "
              f"(target >= 1)")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
