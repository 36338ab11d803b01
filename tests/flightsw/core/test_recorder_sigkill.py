"""After SIGKILL the log reads cleanly and lacks at most the last second of data."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ground.logs.frames import FrameReader

HERE = Path(__file__).parent
ROOT = HERE.parent.parent.parent
EPOCH_US = 1_603_152_000_000_000
STEP_US = 10_000


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_killed_recorder_loses_at_most_the_last_second(tmp_path):
    log = tmp_path / "killed.tlog"
    child = subprocess.Popen([sys.executable, str(HERE / "recorder_child.py"), str(log)],
                             stdout=subprocess.PIPE, env=_env())
    try:
        stream = child.stdout
        reported = 0
        while reported < 30_000_000:  # let it record 30 s of mission time, then kill it
            line = stream.readline()
            assert line, "the recording child died on its own"
            reported = int(line)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        for line in stream.read().splitlines():  # what it reported before it died
            if line.strip():
                reported = max(reported, int(line))
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    reader = FrameReader(log)
    stamps = np.array([f.timestamp_us for f in reader], dtype=np.int64) - EPOCH_US
    assert reader.report.damaged_bytes == 0, reader.report.describe()
    assert len(stamps), "nothing of 30 s of data reached the log"
    # Every record up to the last one written, none missing in between ...
    assert np.array_equal(stamps, np.arange(len(stamps)) * STEP_US)
    # ... and the last one written within a second of the last one recorded.
    assert stamps[-1] >= reported - 1_000_000, (stamps[-1], reported)


def test_killed_sil_run_leaves_a_clean_log(tmp_path):
    out = tmp_path / "run"
    errors = tmp_path / "stderr.txt"
    with open(errors, "wb") as stderr:
        run = subprocess.Popen([sys.executable, "-m", "prospector.cli", "run", "--scenario",
                                "bennu-hover", "--duration", "3600", "--out", str(out),
                                "--no-report"], stdout=subprocess.DEVNULL, stderr=stderr,
                               env=_env(), cwd=ROOT)
    try:
        deadline = time.monotonic() + 180.0  # a loaded machine; not a timing assertion
        log = out / "flight.tlog"
        while not (log.exists() and log.stat().st_size > 200_000):
            assert run.poll() is None, ("the run ended before it could be killed: "
                                        + errors.read_text(errors="replace")[-500:])
            assert time.monotonic() < deadline, "the run wrote no log"
            time.sleep(0.02)
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=10)
    finally:
        if run.poll() is None:
            os.kill(run.pid, signal.SIGKILL)
            run.wait(timeout=10)
    reader = FrameReader(log)
    frames = list(reader)
    assert reader.report.damaged_bytes == 0, reader.report.describe()
    assert len(frames) > 1000
    stamps = np.array([f.timestamp_us for f in frames], dtype=np.int64)
    assert np.all(np.diff(stamps) >= 0)
