"""HIL benchmark: the flight link of the emulated board, side by side with the same
loops over a pure pty pair (hil.pty_board, the board's protocol in plain Python, no
emulator).  Prints figures, never pass/fail.

    .venv/bin/python bench/bench_hil.py                 # everything, ~6 minutes
    .venv/bin/python bench/bench_hil.py --quick         # shorter runs, ~2 minutes
    .venv/bin/python bench/bench_hil.py --only soak --soak 600   # the 10-minute garbage soak

Sections: rtt, throughput, lockstep, realtime, lateness, loss, soak.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flightsw.core.clock import WallClock  # noqa: E402
from flightsw.hal.serial_bus import SerialBus  # noqa: E402
from flightsw.icd import mavlink, new_codec  # noqa: E402
from hil.board import EmulatedBoard  # noqa: E402
from hil.cpu_latency import CpuLatencyHold  # noqa: E402
from hil.firmware_build import build_firmware  # noqa: E402
from hil.rig import Fault, HilOptions, run_hil  # noqa: E402
from hil.stimulus import CMD_LINE_NOISE, SIM_SYSTEM_ID, StimulusLink  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

SECTIONS = ("rtt", "throughput", "lockstep", "realtime", "lateness", "loss", "soak")


def pct(values, scale=1.0):
    a = np.asarray(values, dtype=float) * scale
    if not a.size:
        return "n=0"
    return (f"p50 {np.percentile(a, 50):8.3f}  p99 {np.percentile(a, 99):8.3f}  "
            f"max {a.max():8.3f}  (n={a.size})")


# -- the two boards ---------------------------------------------------------------------------
class Links:
    def __init__(self, name, flight_port, stim_port):
        self.name = name
        self.flight_port, self.stim_port = flight_port, stim_port
        self.flight = SerialBus(flight_port)
        self.stim_bus = SerialBus(stim_port, system_id=SIM_SYSTEM_ID)
        self.stim = StimulusLink(self.stim_bus)

    def wait_answer(self):
        assert self.stim.wait_board_up(), f"{self.name}: no heartbeat"
        assert self.flight.await_answer(), f"{self.name}: no answer"
        self.flight.rtt_ns.clear()

    def close(self):
        self.flight.close()
        self.stim_bus.close()


@contextlib.contextmanager
def emulated(transport="pty", open_links=True):
    with tempfile.TemporaryDirectory(prefix="bench-hil-") as tmp:
        board = EmulatedBoard(build_firmware(), Path(tmp), transport=transport)
        board.start()
        try:
            if not open_links:
                board.resume()
                yield board, None
                return
            links = Links(f"emulated ({transport})", board.flight_port, board.stim_port)
            board.resume()
            links.wait_answer()
            try:
                yield board, links
            finally:
                links.close()
        finally:
            board.stop()


@contextlib.contextmanager
def pty_pair(open_links=True):
    with tempfile.TemporaryDirectory(prefix="bench-pty-") as tmp:
        proc = subprocess.Popen([sys.executable, "-m", "hil.pty_board", tmp], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            with contextlib.suppress(OSError):  # as the rig does for the emulator
                os.sched_setscheduler(proc.pid, os.SCHED_FIFO, os.sched_param(9))
            flight, stim = f"{tmp}/flight.pty", f"{tmp}/stim.pty"
            if not open_links:
                yield (flight, stim), None
                return
            links = Links("pty pair, no emulator", flight, stim)
            links.wait_answer()
            try:
                yield (flight, stim), links
            finally:
                links.close()
        finally:
            proc.terminate()
            proc.wait(timeout=5)


# -- sections ---------------------------------------------------------------------------------
def round_trips(links, n):
    bus = links.flight
    bus.rtt_ns.clear()
    for _ in range(n):
        k = len(bus.rtt_ns)
        bus.request_timesync()
        deadline = time.monotonic() + 1.0
        while len(bus.rtt_ns) == k and time.monotonic() < deadline:
            bus.service(0.005)
        bus.poll()
    return list(bus.rtt_ns)


@contextlib.contextmanager
def fifo(priority=10):
    """SCHED_FIFO for this process and the CPU latency hold while inside (as the rig in
    real time); no-op if refused."""
    before = (os.sched_getscheduler(0), os.sched_getparam(0))
    with CpuLatencyHold(0):
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            os.sched_setscheduler(0, *before)


def section_rtt(args):
    n = 500 if args.quick else 3000
    print(f"\n## Round trip over the flight link (TIMESYNC request -> answer, {n} one at a "
          "time), ms")
    for sched in ("normal scheduling", "cpu latency hold only", "SCHED_FIFO + hold (the rig)"):
        for name, ctx in (("emulated board, pty", emulated("pty")),
                          ("emulated board, tcp nodelay", emulated("tcp")),
                          ("pty pair, no emulator", pty_pair())):
            with ctx as (board, links):
                if sched.startswith("SCHED"):
                    if isinstance(board, EmulatedBoard):
                        board.set_realtime_priority(9)
                    with fifo():
                        rtts = round_trips(links, n)
                elif sched.startswith("cpu"):
                    with CpuLatencyHold(0):
                        rtts = round_trips(links, n)
                else:
                    rtts = round_trips(links, n)
            print(f"  {sched:29s} {name:28s} {pct(rtts, 1e-6)}")


def throughput(links, n, direction):
    if direction == "stim->flight":
        out, sender, receiver = links.stim.send_device, links.stim_bus, links.flight
        make = lambda i: mavlink.MAVLink_highres_imu_message(  # noqa: E731
            i, 1.0, 2.0, 3.0, 0.1, 0.2, 0.3, 0, 0, 0, 0, 0, 0, 20.0, 63, 0)
        kind = "HIGHRES_IMU"
    else:
        codec = new_codec(1, 1)

        def out(msg):
            msg.pack(codec)
            links.flight.send(msg)
        sender, receiver = links.flight, links.stim_bus
        make = lambda i: mavlink.MAVLink_probe_wheel_cmd_message(  # noqa: E731
            i, [0.01, 0.02, 0.03, 0.04])
        kind = "PROBE_WHEEL_CMD"
    frame_len = None
    got = sent = 0
    t0 = time.perf_counter()
    while got < n and time.perf_counter() - t0 < 120:
        while sent < n and sender.stats()["tx_backlog_bytes"] < 8192:
            msg = make(sent)
            out(msg)
            frame_len = frame_len or len(msg.get_msgbuf())
            sent += 1
        sender.poll()
        receiver.service(0.002)
        got += sum(1 for m in receiver.poll() if m.get_type() == kind)
    dt = time.perf_counter() - t0
    return got, dt, got * frame_len / dt


def section_throughput(args):
    n = 1000 if args.quick else 4000
    print(f"\n## Link throughput through the board ({n} frames, as fast as the link takes them)")
    for name, ctx in (("emulated board, pty", emulated("pty")),
                      ("pty pair, no emulator", pty_pair())):
        with ctx as (_, links):
            for direction in ("stim->flight", "flight->stim"):
                got, dt, rate = throughput(links, n, direction)
                print(f"  {name:24s} {direction:13s} {rate / 1000:8.1f} kB/s  "
                      f"({got} frames in {dt:.2f} s)")


def hover_p99(summary) -> str:
    """The hover p99 as a bench line prints it: a short hover has no settled hold to
    judge (sim/phase_windows.py), and says so."""
    p99 = summary.get("hover_error_m_p99")
    return "not judged (no settled hold)" if p99 is None else f"{p99:.3f} m"


def hover(duration_s, rate_hz=None, seed=1):
    over = {"scenario.duration_s": float(duration_s), "scenario.seed": seed}
    if rate_hz:
        over["scenario.sim_rate_hz"] = float(rate_hz)
        over["sensors.imu.rate_hz"] = float(rate_hz)
    return load_scenario("bennu-hover", over)


def fly(out, sc, mode, ports=None, faults=(), transport="pty"):
    if ports is None:
        opts = HilOptions(mode=mode, write_report=False, faults=tuple(faults),
                          transport=transport)
    else:
        opts = HilOptions(mode=mode, emulate=False, flight_port=ports[0], stim_port=ports[1],
                          write_report=False, faults=tuple(faults))
    return run_hil(sc, out, opts, force=True, progress=False)


def section_lockstep(args, tmp):
    duration = 30 if args.quick else 120
    print(f"\n## Lockstep hover, 10 Hz, {duration} s simulated (frames per wall second)")
    sc = hover(duration)
    s = fly(tmp / "ls-emu", sc, "lockstep")
    print(f"  emulated board        {duration * 10 / s['wall_duration_s']:8.1f} frames/s  "
          f"({s['realtime_factor']}x real time), hover p99 {hover_p99(s)}")
    with pty_pair(open_links=False) as (ports, _):
        p = fly(tmp / "ls-pty", sc, "lockstep", ports)
    print(f"  pty pair, no emulator {duration * 10 / p['wall_duration_s']:8.1f} frames/s  "
          f"({p['realtime_factor']}x real time), hover p99 {hover_p99(p)}")
    same = (tmp / "ls-emu" / "flight.tlog").read_bytes() == (
        tmp / "ls-pty" / "flight.tlog").read_bytes()
    print(f"  flight logs of the two byte-identical: {same}")


def section_realtime(args, tmp):
    duration = 10 if args.quick else 30
    rates = (50, 100, 200) if args.quick else (50, 100, 200, 400)
    print(f"\n## Closed loop in real time, {duration} s per rate: cycle slips, wake-up lateness "
          "(us), frames whose IMU sample had not arrived (stale), world steps without the "
          "previous frame's wheel command (late cmd)")
    boards = [("emulated board, pty", None), ("emulated board, tcp", "tcp")]
    if not args.quick:
        boards.append(("pty pair, no emulator", "pty"))
    for name, kind in boards:
        for rate in rates:
            sc = hover(duration, rate)
            if kind in (None, "tcp"):
                s = fly(tmp / f"rt-{kind}-{rate}", sc, "realtime", transport=kind or "pty")
            else:
                with pty_pair(open_links=False) as (ports, _):
                    s = fly(tmp / f"rt-pty-{rate}", sc, "realtime", ports)
            h = s["hil"]
            late = h["wakeup_lateness_us"]
            print(f"  {name:22s} {rate:4d} Hz  slips {h['cycle_slips']:4d}  lateness "
                  f"p50 {late['p50']:7.0f} p99 {late['p99']:7.0f} max {late['max']:7.0f}  "
                  f"stale {h['stale_sensor_frames']:4d} late cmd {h['late_command_frames']:4d} "
                  f"of {late['n']}  "
                  f"rtt p99 {h['round_trip_ms'].get('p99', float('nan')):6.2f} ms  "
                  f"hover p99 {hover_p99(s)}")


def section_lateness(args):
    """The wall clock alone, no link: what the scheduler's sleep-then-spin gives here."""
    n = 500 if args.quick else 1500
    print(f"\n## Wake-up lateness of WallClock alone at 50 Hz, no link ({n} wake-ups), us")
    for label, as_rig in (("normal scheduling", False), ("SCHED_FIFO 10 + hold (the rig)", True)):
        with fifo() if as_rig else contextlib.nullcontext(True) as granted:
            if not granted:
                print(f"  {label:30s} refused (not root?)")
                continue
            clock = WallClock()
            period = 20_000
            t = clock.now_us() + period
            late = []
            for _ in range(n):
                late.append(clock.sleep_until_us(t))
                t += period
        print(f"  {label:30s} {pct(late)}")


def section_loss(args, tmp):
    kills = (5.0, 15.0) if args.quick else (5.0, 15.0, 25.0, 35.0, 45.0)
    duration = kills[-1] + 8
    print(f"\n## Link loss detection: emulated board killed at {kills} s of a real-time run")
    s = fly(tmp / "loss", hover(duration), "realtime",
            faults=[Fault("kill-board", k) for k in kills])
    lost = s["hil"]["link_monitor"]["loss_times_s"]
    delays = []
    for k in kills:
        after = [t for t in lost if t >= k]
        delays.append(after[0] - k if after else float("nan"))
    print("  kill -> 'link lost' event (mission s = wall s in real time): "
          + ", ".join(f"{d:.3f}" for d in delays) + f";  max {max(delays):.3f} s")
    print(f"  losses {s['hil']['link_monitor']['losses']}, restorations "
          f"{s['hil']['link_monitor']['restorations']}, board starts {s['hil']['board_starts']}")


def section_soak(args):
    seconds = args.soak
    rng = random.Random(2026)
    print(f"\n## Garbage soak: {seconds:.0f} s of random garbage interleaved with valid traffic "
          "on both lines of the emulated board, plus the board's own line noise")
    crashes, hangs, polls, sent_imu, got_imu, answer_s, refused_imu = 0, 0, [], 0, 0, [], 0
    garbage_bytes = {"flight": 0, "stim": 0}
    codec = new_codec(1, 1)
    with emulated("pty") as (board, links):
        noise = mavlink.MAVLink_command_long_message(2, 158, CMD_LINE_NOISE, 0, 64.0, 10.0, 1.0,
                                                     0, 0, 0, 0)
        noise.pack(codec)
        links.flight.send(noise)
        noise_off = mavlink.MAVLink_command_long_message(2, 158, CMD_LINE_NOISE, 0, 0.0, 10.0,
                                                         1.0, 0, 0, 0, 0)
        noise_off.pack(codec)
        t0 = time.monotonic()
        next_check = t0 + 1.0
        answered = 0
        while time.monotonic() - t0 < seconds:
            for name, bus in (("flight", links.flight), ("stim", links.stim_bus)):
                junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 100)))
                if rng.random() < 0.3:
                    junk = bytes([0xFD, rng.randrange(256), 0]) + junk
                bus.send_raw(junk)
                garbage_bytes[name] += len(junk)
            dropped = links.stim_bus.counters["tx_dropped"]
            links.stim.send_device(mavlink.MAVLink_highres_imu_message(
                sent_imu, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 63, 0))
            sent_imu += 1
            refused_imu += links.stim_bus.counters["tx_dropped"] - dropped
            wheel = mavlink.MAVLink_probe_wheel_cmd_message(sent_imu, [0.0] * 4)
            wheel.pack(codec)
            links.flight.send(wheel)
            try:
                t = time.perf_counter()
                msgs = links.flight.poll()
                polls.append(time.perf_counter() - t)
                links.stim_bus.poll()
            except Exception as exc:  # noqa: BLE001 - a crash is what we count
                crashes += 1
                print(f"  poll raised {type(exc).__name__}: {exc}")
                msgs = []
            got_imu += sum(1 for m in msgs if m.get_type() == "HIGHRES_IMU")
            time.sleep(0.01)
            if time.monotonic() >= next_check:
                next_check += 1.0
                k = len(links.flight.rtt_ns)
                links.flight.request_timesync()
                t_ask = time.monotonic()
                while len(links.flight.rtt_ns) == k and time.monotonic() - t_ask < 10.0:
                    links.flight.service(0.01)
                    got_imu += sum(1 for m in links.flight.poll()
                                   if m.get_type() == "HIGHRES_IMU")
                if len(links.flight.rtt_ns) == k or not board.alive:
                    hangs += 1
                else:
                    answered += 1
                    answer_s.append(time.monotonic() - t_ask)
        links.flight.send(noise_off)
        quiet_since = time.monotonic()
        drain_start = quiet_since
        while time.monotonic() - quiet_since < 3.0 and time.monotonic() - drain_start < 120:
            links.stim_bus.poll()  # what is still on its way
            links.flight.service(0.01)
            n = sum(1 for m in links.flight.poll() if m.get_type() == "HIGHRES_IMU")
            if n or links.stim_bus.stats()["tx_backlog_bytes"]:
                quiet_since = time.monotonic()
            got_imu += n
        drain_s = time.monotonic() - drain_start
        st = links.flight.stats()
        stim_st = links.stim_bus.stats()
        alive_at_end = board.alive
        board_stats = dict(links.flight.board_stats)
    print(f"  garbage written: flight {garbage_bytes['flight'] / 1e6:.1f} MB, stim "
          f"{garbage_bytes['stim'] / 1e6:.1f} MB; board line noise "
          f"{st.get('board', {}).get('noise_byte', 0) / 1e6:.1f} MB")
    accepted = sent_imu - refused_imu
    print(f"  valid IMU frames: {sent_imu} offered, {refused_imu} refused by the host's full "
          f"transmit buffer (the emulated UART is slower than the offered load), {got_imu} of "
          f"the {accepted} sent came out of the board ({100 * got_imu / max(accepted, 1):.1f} %; "
          f"the last {drain_s:.1f} s after the end)")
    print(f"  liveness checks (a TIMESYNC every second): answered {answered}, unanswered after "
          f"10 s (hang) {hangs}; exceptions {crashes}; emulator alive at the end: {alive_at_end}")
    print(f"  liveness answer time, ms: {pct(answer_s, 1e3)}")
    print(f"  SerialBus.poll() with the line flooded, ms: {pct(polls, 1e3)}")
    print(f"  host transmit buffers dropped: flight {st['tx_dropped']}, stim "
          f"{stim_st['tx_dropped']} frames; board: " + ", ".join(
              f"{k} {board_stats.get(k, 0)}" for k in ("s_rx_msg", "s_rx_err", "s_rx_skip",
                                                       "s_rx_ovf", "f_rx_msg", "f_rx_err",
                                                       "f_rx_ovf", "f_tx_msg", "f_tx_drop")))
    print(f"  flight link: {st['rx_bytes'] / 1e6:.1f} MB in, {st['rx_frames_ok']} frames, "
          f"{st['rx_bytes_skipped'] / 1e6:.1f} MB skipped, {st['rx_bad_candidates']} false "
          f"frame starts")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--soak", type=float, default=30.0, help="soak seconds (600 = 10 min)")
    args = parser.parse_args()
    build_firmware()
    load = os.getloadavg()
    print(f"# HIL benchmark: {os.cpu_count()} CPUs, load average {load[0]:.2f} at start, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    gc.collect()
    with tempfile.TemporaryDirectory(prefix="bench-hil-runs-") as tmp_name:
        tmp = Path(tmp_name)
        for name in args.only:
            if name in ("lockstep", "realtime", "loss"):
                globals()[f"section_{name}"](args, tmp)
            else:
                globals()[f"section_{name}"](args)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
