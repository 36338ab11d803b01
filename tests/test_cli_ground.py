"""`prospector run` and `prospector hil` with a ground link: bad input refused with one line
before the flight starts, and one live run operated by a pymavlink ground station."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pymavlink import mavutil

from flightsw.icd import GROUND_COMPONENT_ID, GROUND_SYSTEM_ID, mavlink
from flightsw.icd.ground_commands import command_message
from prospector.cli import main

ROOT = Path(__file__).resolve().parents[1]
KEY_HEX = "a1" * 32
DEADLINE_S = 120.0  # only so that a broken run fails instead of hanging the suite


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli(argv, capsys) -> tuple[int, str]:
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    return status, capsys.readouterr().err


def assert_one_line(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


def run_args(out: Path, *extra: str) -> list[str]:
    return ["run", "--scenario", "bennu-hover", "--duration", "1", "--out", str(out),
            "--no-report", *extra]


@pytest.mark.parametrize("conn, needle", [
    ("serial:/dev/ttyUSB0", "not a supported ground connection kind"),
    ("/dev/ttyUSB0", "not a ground connection"),
    ("tcpin:127.0.0.1:http", "is not a number"),
    ("udpout:127.0.0.1:99999", "out of range"),
    ("tcpin:no-such-host.invalid:5760", "unknown host"),
])
def test_a_ground_connection_that_cannot_be_opened_is_one_line(tmp_path, capsys, conn, needle):
    out = tmp_path / "run"
    status, err = run_cli(run_args(out, "--ground", conn), capsys)
    assert status == 2
    assert_one_line(err, "--ground", needle)
    assert not out.exists()  # refused before anything was written


@pytest.mark.parametrize("kind, sock_kind", [("tcpin", socket.SOCK_STREAM),
                                             ("udpin", socket.SOCK_DGRAM)])
def test_a_port_in_use_is_named(tmp_path, capsys, kind, sock_kind):
    out = tmp_path / "run"
    with socket.socket(socket.AF_INET, sock_kind) as holder:
        holder.bind(("127.0.0.1", 0))
        if sock_kind == socket.SOCK_STREAM:
            holder.listen(1)
        port = holder.getsockname()[1]
        status, err = run_cli(run_args(out, "--ground", f"{kind}:127.0.0.1:{port}"), capsys)
    assert status == 2
    assert_one_line(err, f"port {port}", "already in use")
    assert not out.exists()


def test_tcp_to_a_ground_station_not_listening_is_named(tmp_path, capsys):
    port = free_port()
    status, err = run_cli(run_args(tmp_path / "run", "--ground", f"tcp:127.0.0.1:{port}"),
                          capsys)
    assert status == 2
    assert_one_line(err, "connection refused", str(port))


@pytest.mark.parametrize("content, mode, needle", [
    (None, 0o600, "not found"),
    (KEY_HEX, 0o644, "group or others"),
    (KEY_HEX[:-2], 0o600, "62 hexadecimal"),
    (KEY_HEX[:-1] + "z", 0o600, "not hexadecimal"),
])
def test_a_wrong_key_file_is_one_line_without_the_key(tmp_path, capsys, content, mode, needle):
    key_file = tmp_path / "probe.key"
    if content is not None:
        key_file.write_text(content)
        os.chmod(key_file, mode)
    out = tmp_path / "run"
    status, err = run_cli(run_args(out, "--signing-key", str(key_file)), capsys)
    assert status == 2
    assert_one_line(err, "--signing-key", str(key_file), needle)
    assert "a1a1a1a1" not in err
    assert not out.exists()


@pytest.mark.parametrize("value", ["0", "-2", "abc", "nan", "inf"])
def test_speedup_must_be_a_positive_number(tmp_path, capsys, value):
    status, err = run_cli(run_args(tmp_path / "run", "--speedup", value), capsys)
    assert status == 2
    assert_one_line(err, "--speedup", "expected a number > 0")


def test_realtime_and_speedup_are_exclusive(tmp_path, capsys):
    status, err = run_cli(run_args(tmp_path / "run", "--realtime", "--speedup", "2"), capsys)
    assert status == 2
    assert_one_line(err, "--speedup", "--realtime")


def test_hil_refuses_a_bad_ground_connection_before_touching_a_board(tmp_path, capsys):
    out = tmp_path / "run"
    status, err = run_cli(["hil", "--emulate", "--scenario", "bennu-hover", "--out", str(out),
                           "--ground", "serial:/dev/ttyUSB0"], capsys)
    assert status == 2
    assert_one_line(err, "--ground", "not a supported ground connection kind")
    assert not out.exists()


def test_hil_refuses_a_wrong_key_file(tmp_path, capsys):
    status, err = run_cli(["hil", "--emulate", "--scenario", "bennu-hover", "--out",
                           str(tmp_path / "run"), "--signing-key", str(tmp_path / "absent")],
                          capsys)
    assert status == 2
    assert_one_line(err, "--signing-key", "not found")


def _ground_station(port: int, deadline: float):
    """pymavlink connecting to the probe's tcpin: port, retrying while the run starts up."""
    while True:
        try:
            conn = mavutil.mavlink_connection(f"tcp:127.0.0.1:{port}", retries=0,
                                              source_system=GROUND_SYSTEM_ID,
                                              source_component=GROUND_COMPONENT_ID)
            break
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise AssertionError("the run never listened on its ground port") from None
            time.sleep(0.05)
    conn.first_byte = False  # keep our dialect (pymavlink swaps in its default one)
    conn.mav = mavlink.MAVLink(conn, srcSystem=GROUND_SYSTEM_ID,
                               srcComponent=GROUND_COMPONENT_ID)
    conn.mav.robust_parsing = True
    return conn


def _receive(conn, msg_type: str, deadline: float, condition=None):
    while time.monotonic() < deadline:
        msg = conn.recv_match(type=msg_type, blocking=True, timeout=0.5)
        if msg is not None and (condition is None or condition(msg)):
            return msg
    raise AssertionError(f"no {msg_type} from the probe")


@pytest.mark.slow
def test_a_live_run_is_operated_from_a_pymavlink_ground_station(tmp_path):
    port = free_port()
    out = tmp_path / "live"
    proc = subprocess.Popen(
        [sys.executable, "-m", "prospector.cli", "run", "--scenario", "bennu-hover",
         "--ground", f"tcpin:127.0.0.1:{port}", "--speedup", "20", "--duration", "30",
         "--out", str(out), "--no-report"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    conn = None
    try:
        deadline = time.monotonic() + DEADLINE_S
        conn = _ground_station(port, deadline)
        beat = _receive(conn, "HEARTBEAT", deadline)
        assert beat.get_srcSystem() == 1
        cmd = command_message("RESET_SCHED_STATS")
        conn.mav.send(cmd)
        ack = _receive(conn, "COMMAND_ACK", deadline, lambda m: m.command == cmd.command)
        assert ack.result == mavlink.MAV_RESULT_ACCEPTED
        assert (ack.target_system, ack.target_component) == (GROUND_SYSTEM_ID,
                                                             GROUND_COMPONENT_ID)
    finally:
        if conn is not None:
            conn.close()
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert "faster than real time" not in err  # it was paced


@pytest.mark.slow
def test_a_signed_live_run_obeys_only_signed_commands(tmp_path):
    key_file = tmp_path / "probe.key"
    key_file.write_text(KEY_HEX + "\n")
    os.chmod(key_file, 0o600)
    port = free_port()
    out = tmp_path / "live"
    proc = subprocess.Popen(
        [sys.executable, "-m", "prospector.cli", "run", "--scenario", "bennu-hover",
         "--ground", f"tcpin:127.0.0.1:{port}", "--speedup", "20", "--duration", "60",
         "--signing-key", str(key_file), "--out", str(out), "--no-report"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    conn = None
    try:
        deadline = time.monotonic() + DEADLINE_S
        conn = _ground_station(port, deadline)
        beat = _receive(conn, "HEARTBEAT", deadline)
        assert len(beat.get_msgbuf()) == 12 + beat.get_header().mlen + 13  # signed downlink
        # Unsigned, as the hostile tester of issue 16 sent it: never acted on, never acked.
        conn.mav.send(command_message("MONITOR_ENABLE", (0, 0)))
        conn.mav.signing.secret_key = bytes.fromhex(KEY_HEX)
        conn.mav.signing.link_id = 1
        conn.mav.signing.sign_outgoing = True
        conn.mav.signing.timestamp = int((time.time() - 1420070400) * 1e5)
        signed = command_message("RESET_SCHED_STATS")
        conn.mav.send(signed)
        # Frames are judged in order: an ack of the unsigned command would come first.
        ack = _receive(conn, "COMMAND_ACK", deadline)
        assert ack.command == signed.command and ack.result == mavlink.MAV_RESULT_ACCEPTED
    finally:
        if conn is not None:
            conn.close()
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=60)
    for path in (p for p in out.rglob("*") if p.is_file()):  # the key, as text or bytes
        data = path.read_bytes()
        assert KEY_HEX.encode() not in data and bytes.fromhex(KEY_HEX) not in data, path


def test_hil_names_a_ground_port_in_use_before_starting_a_board(tmp_path, capsys):
    out = tmp_path / "run"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        status, err = run_cli(["hil", "--emulate", "--scenario", "bennu-hover", "--out",
                               str(out), "--ground", f"tcpin:127.0.0.1:{port}"], capsys)
    assert status == 2
    assert_one_line(err, f"port {port}", "already in use")
    assert not out.exists()
