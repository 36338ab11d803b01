"""What the tools do with damaged input, in figures (issue 21).  Prints; never passes or fails.

1. Damaged timestamps: every golden log, one record's stamp damaged at a time
   (top byte set to 0x7F, or one random bit of the 8 flipped), read by
   read_columns and frame_table and summed up by log info: frames lost
   (must be 0), stamps distrusted, tracebacks.
2. Replay of a damaged log against the undamaged one: wall time and mission
   time replayed, for a stamp damaged in the middle and on the last record.
3. SerialBus under a flood of 0xFD-heavy garbage over a pty: receive backlog
   (bounded), bytes dropped, polls until a good frame after the flood.

    .venv/bin/python bench/bench_damage.py [--cases 200] [--flood-s 10]
"""

import argparse
import fcntl
import os
import random
import shutil
import sys
import tempfile
import time
import tty
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flightsw.hal.serial_bus import SerialBus  # noqa: E402
from flightsw.icd import mavlink, new_codec  # noqa: E402
from ground.logs.columns import read_columns  # noqa: E402
from ground.logs.frames import frame_table  # noqa: E402
from ground.logs.info import format_info, log_info  # noqa: E402
from ground.replay import load_recording, replay  # noqa: E402

GOLDEN = ROOT / "tests" / "golden"
NAMES = ("hover-60s", "hover-commands-90s", "tag-descent-start", "survey-slice")


def damaged_stamps(cases: int, seed: int = 21) -> None:
    rng = random.Random(seed)
    print(f"1. one damaged timestamp per log, {cases} cases per golden log")
    for name in NAMES:
        blob = (GOLDEN / name / "flight.tlog").read_bytes()
        table = frame_table(blob)
        n = len(table)
        lost = tracebacks = 0
        found = {"0x7F": [0, 0], "moved > 1 s": [0, 0], "moved <= 1 s": [0, 0]}
        for _ in range(cases):
            data = bytearray(blob)
            i = rng.randrange(n)
            at = int(table.first[i]) - 8
            if rng.random() < 0.5:
                data[at], kind = 0x7F, "0x7F"
            else:
                data[at + rng.randrange(8)] ^= 1 << rng.randrange(8)
                moved = abs(int.from_bytes(data[at:at + 8], "big")
                            - int(table.timestamp_us[i]))
                kind = "moved > 1 s" if moved > 1_000_000 else "moved <= 1 s"
            try:
                log = read_columns(bytes(data))
                t = frame_table(bytes(data))
                format_info(name, len(data), log_info(log))
            except Exception:  # counted: there must be none
                tracebacks += 1
                continue
            lost += n - len(t)
            found[kind][0] += 1
            found[kind][1] += int(not t.stamp_ok[i]) if len(t) == n else 0
            lost += int((~t.stamp_ok).sum()) - int(not t.stamp_ok[i])  # good stamps distrusted
        print(f"   {name:<20} {n:>6} frames: frames lost {lost} (incl. good stamps distrusted), "
              f"tracebacks {tracebacks}; damaged stamp found: "
              + ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in found.items()))


def _replay_once(run: Path, out: Path, repeats: int = 3) -> tuple[float, float, bool]:
    """Best wall time of `repeats` (the machine is shared), mission time, identical."""
    best = loop = float("inf")
    for k in range(repeats):
        rec = load_recording(run)
        wall0 = time.perf_counter()
        result = replay(rec, out / str(k), progress=False)
        best = min(best, time.perf_counter() - wall0)
        loop = min(loop, result.wall_s)
    return best, loop, result.replayed_to_s, result.identical


def replay_times() -> None:
    print("2. replay: undamaged against one stamp set to 0x7F (best of 3: whole call, and the "
          "frame loop alone; mission s replayed, identical)")
    for name in NAMES:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            run = tmp / "run"
            shutil.copytree(GOLDEN / name, run)
            base = _replay_once(run, tmp / "r0")
            blob = (run / "flight.tlog").read_bytes()
            table = frame_table(blob)
            row = [f"   {name:<20} undamaged {base[0]:.2f} s, loop {base[1]:.2f} s "
                   f"({base[2]:.0f} s, {base[3]})"]
            for label, i in (("middle", len(table) // 2), ("last", len(table) - 1)):
                data = bytearray(blob)
                data[int(table.first[i]) - 8] = 0x7F
                (run / "flight.tlog").write_bytes(bytes(data))
                got = _replay_once(run, tmp / f"r-{label}")
                row.append(f"{label} {got[0]:.2f} s x{got[0] / base[0]:.2f}, loop "
                           f"{got[1]:.2f} s x{got[1] / base[1]:.2f} ({got[2]:.0f} s, {got[3]})")
            (run / "flight.tlog").write_bytes(blob)
            print("; ".join(row))


def serial_flood(seconds: float) -> None:
    master, slave = os.openpty()
    tty.setraw(master)
    name = os.ttyname(slave)
    os.close(slave)
    fcntl.fcntl(master, fcntl.F_SETFL, fcntl.fcntl(master, fcntl.F_GETFL) | os.O_NONBLOCK)
    bus = SerialBus(name)
    rng = random.Random(1)
    junk = bytes(0xFD if rng.random() < 0.5 else rng.randrange(256) for _ in range(4096))
    peak = written = polls = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        try:
            written += os.write(master, junk)
        except BlockingIOError:
            pass
        bus.poll()
        polls += 1
        peak = max(peak, bus.stats()["rx_backlog_bytes"])
    codec = new_codec(2, 1)
    os.write(master, bytes(mavlink.MAVLink_highres_imu_message(7, *([0.0] * 13), 0)
                           .pack(codec)))
    after = 0
    while True:
        after += 1
        if any(m.get_msgId() == mavlink.MAVLINK_MSG_ID_HIGHRES_IMU for m in bus.poll()):
            break
    stats = bus.stats()
    bus.close()
    os.close(master)
    print(f"3. SerialBus flood: {written / 1e6:.1f} MB of 0xFD-heavy garbage in {seconds:g} s "
          f"over {polls} polls; backlog peak {peak} B (bound {bus.max_rx_backlog_bytes} B); "
          f"dropped {stats['rx_dropped_bytes'] / 1e6:.1f} MB; first good frame {after} polls "
          "after the flood")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--flood-s", type=float, default=10.0)
    args = parser.parse_args(argv)
    damaged_stamps(args.cases)
    replay_times()
    serial_flood(args.flood_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
