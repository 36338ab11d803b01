"""`prospector hil` as a user types it: bad ports in one line, and a short emulated run."""

import json
import os
import subprocess
import sys
import tty
from pathlib import Path

from flightsw.hal.serial_bus import SerialBus

ROOT = Path(__file__).resolve().parents[2]


def prospector(*args):
    return subprocess.run([sys.executable, "-m", "prospector.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def _one_line_error(result, *words):
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def test_a_port_that_does_not_exist(tmp_path):
    out = tmp_path / "run"
    result = prospector("hil", "--port", "/dev/ttyACM97", "--stim-port", "/dev/ttyUSB97",
                        "--scenario", "bennu-hover", "--out", str(out))
    _one_line_error(result, "/dev/ttyACM97", "no such device")
    assert not out.exists()


def test_a_busy_port(tmp_path):
    master, slave = os.openpty()
    tty.setraw(master)
    path = os.ttyname(slave)
    os.close(slave)
    holder = SerialBus(path)  # another program has the board open
    try:
        result = prospector("hil", "--port", path, "--stim-port", path, "--scenario",
                            "bennu-hover", "--out", str(tmp_path / "run"))
        _one_line_error(result, path, "busy")
    finally:
        holder.close()
        os.close(master)


def test_a_board_that_does_not_answer(tmp_path):
    """Ports that open but have no board behind them: said in one line, not a hang."""
    ptys = []
    for _ in range(2):
        master, slave = os.openpty()
        tty.setraw(master)
        ptys.append((master, os.ttyname(slave)))
        os.close(slave)
    try:
        result = prospector("hil", "--port", ptys[0][1], "--stim-port", ptys[1][1],
                            "--scenario", "bennu-hover", "--out", str(tmp_path / "run"))
        _one_line_error(result, ptys[1][1], "no heartbeat from the board")
    finally:
        for master, _ in ptys:
            os.close(master)


def test_board_options_that_contradict(tmp_path):
    out = str(tmp_path / "run")
    _one_line_error(prospector("hil", "--scenario", "bennu-hover", "--out", out), "--emulate")
    _one_line_error(prospector("hil", "--emulate", "--port", "/dev/ttyACM0", "--scenario",
                               "bennu-hover", "--out", out), "--port")
    _one_line_error(prospector("hil", "--port", "/dev/ttyACM0", "--scenario", "bennu-hover",
                               "--out", out), "--stim-port")


def test_a_bad_fault_is_refused_by_name(tmp_path):
    result = prospector("hil", "--emulate", "--fault", "explode@3", "--scenario", "bennu-hover",
                        "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and "explode@3" in result.stderr
    assert "Traceback" not in result.stderr


def test_short_emulated_run_from_the_command_line(firmware_elf, tmp_path):
    out = tmp_path / "run"
    result = prospector("hil", "--emulate", "--scenario", "bennu-hover", "--seed", "2",
                        "--duration", "4", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "hil lockstep: bennu-hover seed 2" in result.stdout
    assert "report:" in result.stdout
    for name in ("flight.tlog", "summary.json", "events.log", "report.html", "history.npz",
                 "params.txt", "flight_config.json", "link_stats.json"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 2 and summary["hil"]["mode"] == "lockstep"
    # The emulator was stopped by its process id when the run ended.
    for pid in summary["hil"]["board_pids"]:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie_free(pid)


def _is_zombie_free(pid: int) -> bool:
    """A pid that exists again belongs to some other process by now."""
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    return b"qemu-system-arm" not in cmdline
