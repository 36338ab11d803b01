"""The MAVProxy module, in process against a fake flight side, then end to end.

End to end: MAVProxy, headless, operating a `prospector run --ground` over a signed link:

The whole chain a user follows in README's "Flying the probe from MAVProxy":
the probe listens (tcpin on 127.0.0.1), MAVProxy connects with our dialect,
`module load prospector` finds the module through the installed `prospector`
package, `probe key` signs the uplink, MAVProxy's own `mode STANDBY` uses the
probe's mode names and the change is seen in the HEARTBEAT, `probe` commands
are acknowledged, `param fetch` / `param set` work, and the run leaves its
parameters in MAVProxy's format with the value set.  Every process is started
here and stopped by its pid.  Deadlines only bound a failure; nothing is timed.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pymavlink import mavparm, mavutil

from flightsw.icd import GROUND_SYSTEM_ID, mavlink
from flightsw.params_table import FLIGHT_PARAMS

ROOT = Path(__file__).resolve().parents[2]
MAVPROXY = shutil.which("mavproxy.py", path=str(Path(sys.executable).parent))
DEADLINE_S = 60.0  # how long one expected answer may take on a loaded machine
# A line starts where MAVProxy's prompt ("STANDBY> ", printed without a newline) ends.
START = r"(?:^|> )"

pytestmark = pytest.mark.skipif(MAVPROXY is None, reason="MAVProxy not installed (make venv)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, "prospector run ended before it listened"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listening on 127.0.0.1:{port}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(15)


class Console:
    """MAVProxy's console over pipes: send a line, wait for a line matching a pattern."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.transcript: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def expect(self, pattern: str) -> re.Match:
        deadline = time.monotonic() + DEADLINE_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.transcript.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        tail = "\n".join(self.transcript[-40:])
        raise AssertionError(f"MAVProxy never printed /{pattern}/; last lines:\n{tail}")

    def ask_until(self, command: str, pattern: str, tries: int = 20) -> re.Match:
        """Repeat `command` until an answer matches (telemetry arrives at its own rate)."""
        for _ in range(tries):
            self.send(command)
            try:
                return self._expect_briefly(pattern)
            except AssertionError:
                continue
        raise AssertionError(f"`{command}` never answered /{pattern}/; last lines:\n"
                             + "\n".join(self.transcript[-40:]))

    def _expect_briefly(self, pattern: str) -> re.Match:
        deadline = time.monotonic() + 2.0
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.transcript.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(pattern)


@pytest.fixture
def signed_run(tmp_path):
    key = bytes(range(100, 132))
    key_file = tmp_path / "probe.key"
    key_file.write_text(key.hex() + "\n")
    key_file.chmod(0o600)
    port = free_port()
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run_log = tmp_path / "prospector-run.log"
    with run_log.open("w") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "prospector.cli", "run", "--scenario", "bennu-hover",
             "--duration", "300", "--speedup", "5", "--no-report", "--out", str(run_dir),
             "--ground", f"tcpin:127.0.0.1:{port}", "--signing-key", str(key_file)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_listening(port, run)
        yield run, port, key, key_file, run_dir
    finally:
        stop(run)
        print(f"prospector run (exit {run.returncode}):\n{run_log.read_text()[-3000:]}")


@pytest.mark.slow
def test_mavproxy_operates_the_probe_over_a_signed_link(signed_run, tmp_path):
    run, port, key, key_file, run_dir = signed_run
    home = tmp_path / "home"  # no ~/.mavproxyrc or mavinit.scr of the user's
    home.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(home), "PYTHONUNBUFFERED": "1"}
    mavproxy = subprocess.Popen(
        [MAVPROXY, "--master", f"tcp:127.0.0.1:{port}", "--dialect", "prospector",
         "--default-modules", "mode,param,signing"],
        cwd=home, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    console = Console(mavproxy)
    try:
        console.expect(r"online system 1")
        console.send("module load prospector")
        console.expect(r"Loaded module prospector")

        # Unsigned, MAVProxy's start-up requests were refused and counted by the probe.
        console.ask_until("probe status",
                          START + r"link\s+signing on, \d+ frames admitted, [1-9]\d* rejected")

        console.send(f"probe key {key_file}")
        console.expect(r"signing key loaded from")
        console.send("mode STANDBY")
        console.expect(START + r"probe: SET_MODE: ACCEPTED")
        console.expect(START + r"Mode STANDBY")  # named from the HEARTBEAT's custom_mode
        console.ask_until("probe status", START + r"mode\s+STANDBY")

        console.send("probe faults disable lidar")
        console.expect(START + r"probe: MONITOR_ENABLE: ACCEPTED")
        console.ask_until("probe faults", START + r"\s*3 LIDAR\s+-\s")
        console.send("probe site 11")
        console.expect(START + r"probe: CHOOSE_SITE: rank must be an integer 1\.\.10")

        console.send("param fetch")
        console.expect(rf"Received {len(FLIGHT_PARAMS)} parameters")
        console.send("param set HOV_ZETA 1.25")
        console.expect(r"HOV_ZETA = 1\.25")  # the probe's event: the value applied
        console.send("param set PRS_AUTO_TAG 0")  # a boolean: UINT8 on the wire
        console.expect(r"PRS_AUTO_TAG = False")
    finally:
        mavproxy.stdin.close()  # end of input: MAVProxy exits
        try:
            mavproxy.wait(30)
        except subprocess.TimeoutExpired:
            stop(mavproxy)
    assert key.hex() not in "\n".join(console.transcript)

    assert run.wait(300) == 0
    check_run_directory(run_dir, key)


def check_run_directory(run_dir: Path, key: bytes) -> None:
    reader = mavparm.MAVParmDict()
    with contextlib.redirect_stdout(io.StringIO()):
        assert reader.load(str(run_dir / "params.parm"), use_excludes=False)
    assert reader["HOV_ZETA"] == pytest.approx(1.25)
    assert reader["PRS_AUTO_TAG"] == 0
    assert (run_dir / "params.params").is_file()

    log = mavutil.mavlink_connection(str(run_dir / "flight.tlog"))
    commands = []
    while (msg := log.recv_match(type="COMMAND_LONG")) is not None:
        if msg.get_srcSystem() == GROUND_SYSTEM_ID:
            commands.append(msg.command)
    assert mavlink.PROBE_CMD_MONITOR_ENABLE in commands  # the uplink is in the flight log

    for path in run_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert key not in data and key.hex().encode() not in data, path.name


# -- in process: the module against a fake flight side (tests/ground/fake_probe.py) ------


class FakeMPState:
    """What ProspectorModule uses of MAVProxy's mpstate, around one real mavutil master."""

    def __init__(self, master) -> None:
        self.mav_master = [master]
        self.command_map: dict = {}
        self.completions: dict = {}
        self.public_modules: dict = {}
        self.multi_instance: dict = {}
        self.instance_count: dict = {}

    def master(self, target_sysid=-1):
        return self.mav_master[0]

    def module(self, name):
        return self.public_modules.get(name)


def pump(master, module, until, limit_s: float = 20.0) -> None:
    """Hand each message to the module, as MAVProxy's link does, until `until()` holds."""
    deadline = time.monotonic() + limit_s
    while not until():
        assert time.monotonic() < deadline, "the condition never held"
        msg = master.recv_match(blocking=True, timeout=0.2)
        if msg is not None:
            module.mavlink_packet(msg)


@pytest.fixture
def module_on_fake_probe():
    from ground.mavproxy_prospector import init
    from tests.ground.fake_probe import FakeProbe

    with FakeProbe() as probe:
        master = mavutil.mavlink_connection(probe.address, source_system=GROUND_SYSTEM_ID,
                                            source_component=230)
        try:
            module = init(FakeMPState(master))
            yield probe, master, module
        finally:
            master.close()


def test_the_mode_is_named_and_mavproxys_mode_mapping_is_the_probes(module_on_fake_probe):
    probe, master, module = module_on_fake_probe
    pump(master, module, lambda: "HEARTBEAT" in module.latest)
    assert master.flightmode == "HOVER"  # what MAVProxy's prompt and "Mode" line show
    assert master.mode_mapping() == {"SAFE": 0, "STANDBY": 1, "HOVER": 2}

    master.target_component = 1  # MAVProxy's link sets it from the vehicle's HEARTBEAT
    master.set_mode(master.mode_mapping()["STANDBY"])  # what MAVProxy's `mode STANDBY` does
    pump(master, module, lambda: master.flightmode == "STANDBY")
    assert probe.commands == [("SET_MODE", ("STANDBY",))]

    module.unload()
    assert master.mode_mapping() != {"SAFE": 0, "STANDBY": 1, "HOVER": 2}


def test_probe_commands_are_sent_and_their_ack_printed(module_on_fake_probe, capsys):
    probe, master, module = module_on_fake_probe
    pump(master, module, lambda: "HEARTBEAT" in module.latest)
    module.cmd_probe(["faults", "disable", "imu"])
    pump(master, module, lambda: "MONITOR_ENABLE: ACCEPTED" in capsys.readouterr().out)
    assert probe.commands == [("MONITOR_ENABLE", (1.0, 0.0))]

    module.cmd_probe(["site", "0"])
    assert "rank must be an integer 1..10" in capsys.readouterr().out
    module.cmd_probe(["status"])
    assert "mode      HOVER" in capsys.readouterr().out


def test_a_message_mavproxys_dialect_lacks_is_decoded_with_ours(module_on_fake_probe):
    from pymavlink.dialects.v20 import common

    from flightsw.icd import new_codec

    _, _, module = module_on_fake_probe
    frame = mavlink.MAVLink_probe_fault_status_message(
        0, 0xFFFF, 1 << 3, 0, [0] * 16, 0, 0, 0, 0, 0.0, 0, 0.0).pack(new_codec(1, 1))
    parser = common.MAVLink(None)
    parser.robust_parsing = True
    unknown = parser.parse_buffer(frame)[0]
    assert unknown.get_type() == "UNKNOWN_53061"
    module.mavlink_packet(unknown)
    assert module.latest["PROBE_FAULT_STATUS"].tripped == 1 << 3


def test_a_bad_key_file_is_one_line_and_sets_nothing(module_on_fake_probe, tmp_path, capsys):
    _, master, module = module_on_fake_probe
    key_file = tmp_path / "probe.key"
    key_file.write_text("0" * 63 + "\n")
    key_file.chmod(0o600)
    module.cmd_probe(["key", str(key_file)])
    out = capsys.readouterr().out
    assert out.startswith("probe: ") and out.count("\n") == 1 and str(key_file) in out
    assert master.mav.signing.secret_key is None


def test_mavproxys_param_set_goes_up_with_the_parameters_own_type(module_on_fake_probe):
    probe, master, module = module_on_fake_probe
    pump(master, module, lambda: "HEARTBEAT" in module.latest)
    master.target_component = 1
    # What MAVProxy's `param set FP_ENABLE 0` does for a vehicle that is not PX4:
    # the plain value, no type (pymavlink would send REAL32, which the probe refuses).
    master.param_set_send.original("FP_ENABLE", 0.0)  # unpatched: REAL32
    pump(master, module, lambda: "PARAM_VALUE" in module.latest)
    assert probe.table.get("FP_ENABLE") is True  # refused: a bool travels as UINT8

    master.param_set_send("FP_ENABLE", 0.0)
    pump(master, module, lambda: probe.table.get("FP_ENABLE") is False)
