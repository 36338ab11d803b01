"""`prospector run` stopped by Ctrl-C or SIGTERM keeps what it flew: the run directory is
completed for the time flown (summary.json says where it stopped), its log is clean and
replays identically, and the command says so in one line and exits 130."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from prospector.cli import main

PLANNED_S = 4000  # far more than the run lasts before the signal


def _start(out):
    return subprocess.Popen(
        [sys.executable, "-m", "prospector.cli", "run", "--scenario", "bennu-hover",
         "--duration", str(PLANNED_S), "--no-report", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_flight(proc, tlog, min_bytes=200_000, limit_s=120):
    # waits for the flight to be under way (its log growing), not for a time
    end = time.monotonic() + limit_s
    while time.monotonic() < end and proc.poll() is None:
        if tlog.exists() and tlog.stat().st_size >= min_bytes:
            return
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the run never started flying")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stopped_run_keeps_a_complete_run_directory(tmp_path, sig, capsys):
    out = tmp_path / "run"
    proc = _start(out)
    try:
        _wait_for_flight(proc, out / "flight.tlog")
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err
    (line,) = [ln for ln in err.splitlines() if ln.startswith("prospector:")]
    assert "interrupted at t =" in line and str(out) in line
    summary = json.loads((out / "summary.json").read_text())
    stopped_s = summary["interrupted"]["at_s"]
    assert 0 < stopped_s < PLANNED_S and summary["interrupted"]["planned_s"] == PLANNED_S
    assert summary["sim_duration_s"] == stopped_s
    for name in ("flight_config.json", "truth.npz", "history.npz", "params.txt", "events.log"):
        assert (out / name).is_file(), name
    assert main(["log", "info", str(out / "flight.tlog"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["clean"] is True
    # the log ends where the flight stopped (within one second of telemetry)
    assert abs(info["duration_s"] - stopped_s) <= 1.0
    assert main(["replay", str(out), "--out", str(tmp_path / "replay")]) == 0
