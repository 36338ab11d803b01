"""Ground link figures of issue 16, measured against a live `prospector run --realtime`.

Prints figures, never pass/fail.  One SIL run at real time with two ground links
on 127.0.0.1 (tcpin), operated by pymavlink ground stations in this process:

  link 1: the operator.  Time from TCP connect to the first HEARTBEAT; time for
          the whole parameter list (PARAM_REQUEST_LIST until every index of
          param_count has arrived); command -> COMMAND_ACK round trips (a
          harmless COMMAND_LONG, MAV_CMD_GET_MESSAGE_INTERVAL of HEARTBEAT, every
          ~137 ms, so that the sends fall all over the 10 Hz cycle; not a table
          command such as RESET_SCHED_STATS, which would reset the scheduler
          figures read below), p50/p99/max.
  link 2: a flooder writing random bytes at --flood-bytes-per-s (default 1 MB/s)
          for the whole run (a thread; TCP flow control throttles it to what the
          link reads: bounded bytes per cycle).

Afterwards, from the run directory: frames the pacer started late (a flight
cycle that slipped against the wall clock), the bus_in task's execution time
(the task that polls the links), HEARTBEATs the probe logged against the
seconds flown (lost flight telemetry), and each link's counters.  With
--signing-key the operator signs (pymavlink's own signing).

Usage: python bench/bench_ground_link.py [--duration 60] [--signing-key FILE]
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from pymavlink import mavutil

from flightsw.hal.signing_key import load_signing_key
from flightsw.icd import GROUND_COMPONENT_ID, GROUND_SYSTEM_ID, mavlink

ROOT = Path(__file__).resolve().parents[1]
SIGNING_EPOCH_UNIX_S = 1420070400


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _connect(port: int, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn = mavutil.mavlink_connection(f"tcp:127.0.0.1:{port}", retries=0,
                                              source_system=GROUND_SYSTEM_ID,
                                              source_component=GROUND_COMPONENT_ID)
            break
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise SystemExit(f"nothing listening on {port}") from None
            time.sleep(0.01)
    conn.first_byte = False  # keep our dialect
    conn.mav = mavlink.MAVLink(conn, srcSystem=GROUND_SYSTEM_ID,
                               srcComponent=GROUND_COMPONENT_ID)
    conn.mav.robust_parsing = True
    return conn


def _recv(conn, msg_type, timeout_s, condition=None):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        msg = conn.recv_match(type=msg_type, blocking=True, timeout=0.05)
        if msg is not None and (condition is None or condition(msg)):
            return msg
    return None


def _flood(port: int, bytes_per_s: float, markers: bool, stop: threading.Event,
           sent: list) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    rng = random.Random(16)
    chunk = max(2, int(bytes_per_s / 100))

    def garbage() -> bytes:
        data = bytearray(rng.randbytes(chunk))
        if markers:
            data[::2] = b"\xfd" * len(data[::2])  # every other byte a MAVLink 2 marker
        return bytes(data)
    next_s = time.monotonic()
    try:
        while not stop.is_set():
            sock.sendall(garbage())  # blocks when the link reads slower
            sent[0] += chunk
            next_s += 0.01
            time.sleep(max(0.0, next_s - time.monotonic()))
    except OSError:
        pass
    finally:
        sock.close()


def _pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--flood-bytes-per-s", type=float, default=1e6)
    parser.add_argument("--flood-markers", action="store_true",
                        help="every other flood byte 0xFD (the costliest garbage to parse)")
    parser.add_argument("--signing-key", default=None)
    args = parser.parse_args()
    key = load_signing_key(args.signing_key) if args.signing_key else None
    ports = _free_port(), _free_port()
    with tempfile.TemporaryDirectory(prefix="bench-ground-") as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "prospector.cli", "run", "--scenario", "bennu-hover",
               "--duration", str(args.duration), "--realtime", "--out", str(out), "--no-report",
               "--ground", f"tcpin:127.0.0.1:{ports[0]}",
               "--ground", f"tcpin:127.0.0.1:{ports[1]}"]
        if args.signing_key:
            cmd += ["--signing-key", args.signing_key]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        stop, flooded = threading.Event(), [0]
        try:
            conn = _connect(ports[0])
            t0 = time.monotonic()
            beat = _recv(conn, "HEARTBEAT", 10.0)
            first_beat_s = time.monotonic() - t0 if beat is not None else None
            if key is not None:
                conn.mav.signing.secret_key = key
                conn.mav.signing.link_id = 1
                conn.mav.signing.sign_outgoing = True
                conn.mav.signing.timestamp = int((time.time() - SIGNING_EPOCH_UNIX_S) * 1e5)
            if args.flood_bytes_per_s > 0:
                threading.Thread(target=_flood, daemon=True,
                                 args=(ports[1], args.flood_bytes_per_s, args.flood_markers,
                                       stop, flooded)).start()
            t0 = time.monotonic()
            conn.mav.param_request_list_send(1, 1)
            seen, count = set(), None
            while count is None or len(seen) < count:
                msg = _recv(conn, "PARAM_VALUE", 5.0)
                if msg is None:
                    break
                seen.add(msg.param_index)
                count = msg.param_count
            params_s = time.monotonic() - t0
            rtts, lost = [], 0
            reset = mavlink.MAVLink_command_long_message(
                1, 1, mavlink.MAV_CMD_GET_MESSAGE_INTERVAL, 0,
                mavlink.MAVLINK_MSG_ID_HEARTBEAT, 0, 0, 0, 0, 0, 0)
            end = time.monotonic() + args.duration - 15.0
            while time.monotonic() < end:
                t0 = time.monotonic()
                conn.mav.send(reset)
                ack = _recv(conn, "COMMAND_ACK", 1.0, lambda m: m.command == reset.command)
                if ack is None:
                    lost += 1
                else:
                    rtts.append(time.monotonic() - t0)
                time.sleep(0.137)
            conn.close()
        finally:
            stop.set()
            stdout, stderr = proc.communicate(timeout=args.duration + 120)
        if proc.returncode != 0:
            raise SystemExit(f"run failed: {stderr.strip()}")
        summary = json.loads((out / "summary.json").read_text())
        from sim.rescore import tlog_frames
        heartbeats = sum(1 for _, raw in tlog_frames(out / "flight.tlog", 0)
                         if raw[5] == 1 and raw[7:10] == b"\x00\x00\x00")  # HEARTBEAT is id 0
    signed = "signed" if key is not None else "unsigned"
    kind = "marker-dense" if args.flood_markers else "random"
    print(f"live run at real time, {args.duration:.0f} s, {signed} uplink, {kind} flood "
          f"{args.flood_bytes_per_s / 1e6:.2f} MB/s offered on the second link")
    print(f"first HEARTBEAT after connecting: "
          f"{'none' if first_beat_s is None else f'{first_beat_s * 1000:.0f} ms'}")
    print(f"parameter list: {len(seen)} of {count} in {params_s * 1000:.0f} ms")
    print(f"command -> COMMAND_ACK: n {len(rtts)}, lost {lost}, p50 {_pct(rtts, .5) * 1e3:.1f} "
          f"ms, p99 {_pct(rtts, .99) * 1e3:.1f} ms, max {max(rtts, default=0) * 1e3:.1f} ms")
    print(f"flooder wrote {flooded[0] / 1e6:.2f} MB in all")
    pacing = summary.get("pacing", {})
    print(f"frames started late (pacer): {pacing.get('late_frames')}, worst "
          f"{pacing.get('max_late_s', 0) * 1e3:.1f} ms")
    bus_in = summary["scheduler"].get("bus_in", {})
    print(f"bus_in task: {json.dumps(bus_in)}")
    print(f"probe HEARTBEATs in flight.tlog: {heartbeats} for {summary['sim_duration_s']:.0f} s "
          f"flown")
    for link in summary.get("ground_link", []):
        print(f"link {link['connection']}: {json.dumps(link, sort_keys=True)}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
