"""`prospector sweep` on the executor seam (issue 17), as a user types it: --cluster,
--resume, --force, and the one-line refusals (an unreachable scheduler, bad seeds, options
that do not go together), none of which writes anything."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from prospector.cli import main
from sim.executors import CONNECT_TIMEOUT_S

ROOT = Path(__file__).resolve().parents[1]
SHORT = ("--set", "scenario.duration_s=2")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _assert_bounded_wait(stderr: str) -> None:
    # The 10 s: the refusal comes from the connection's own timeout, which leaves
    # room for the imports (their time on this machine is measured in bench/, not here).
    assert f"within {CONNECT_TIMEOUT_S:.0f} s" in stderr and CONNECT_TIMEOUT_S <= 5.0


def test_an_unreachable_scheduler_is_one_line_and_a_non_zero_exit(tmp_path):
    out = tmp_path / "sweep"
    result = subprocess.run(
        [sys.executable, "-m", "prospector.cli", "sweep", "--scenario", "bennu-hover",
         "--seeds", "1-2", "--out", str(out), "--cluster", f"tcp://127.0.0.1:{_free_port()}",
         *SHORT], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "no Dask scheduler answered" in result.stderr
    _assert_bounded_wait(result.stderr)
    assert not out.exists()


@pytest.mark.parametrize("seeds", ["", "5-1", "1-", "a-b", "1,,3", "-2", "1-100001"])
def test_an_empty_or_malformed_seed_range_is_refused(tmp_path, capsys, seeds):
    out = tmp_path / "sweep"
    assert main(["sweep", "--scenario", "bennu-hover", "--seeds", seeds, "--out", str(out),
                 *SHORT]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--seeds" in err
    assert not out.exists()


@pytest.mark.parametrize("extra, words", [
    (("--cluster", "local:0"), "--cluster local:0: expected local:N"),
    (("--cluster", "127.0.0.1:8786"), "--cluster: expected local:N"),
    (("--cluster", "local:2", "--jobs", "2"), "--jobs: local processes"),
    (("--resume", "--force"), "--resume"),
    (("--resume",), "no sweep to resume"),
])
def test_options_that_cannot_be_honoured_are_one_line(tmp_path, capsys, extra, words):
    out = tmp_path / "sweep"
    assert main(["sweep", "--scenario", "bennu-hover", "--seeds", "1", "--out", str(out),
                 *SHORT, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err
    assert not out.exists()


@pytest.mark.parametrize("command", [
    ["sweep", "--fault-campaign", "--kinds", "imu_loss", "--phases", "hover"],
    ["survey-sweep", "--scenario", "bennu"],
])
def test_the_fault_campaign_and_survey_sweep_refuse_an_unreachable_scheduler_in_time(
        tmp_path, command):
    """Both go through the sweep's executor seam: one line, exit 2 within the issue's 10 s
    (a fresh interpreter, imports included), and the campaign writes nothing."""
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "prospector.cli", *command, "--seeds", "1", "--out", str(out),
         "--cluster", f"tcp://127.0.0.1:{_free_port()}"],
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "no Dask scheduler answered" in result.stderr
    _assert_bounded_wait(result.stderr)
    if "--fault-campaign" in command:
        assert not out.exists()


@pytest.mark.parametrize("command", [["sweep", "--fault-campaign"],
                                     ["survey-sweep", "--scenario", "bennu"]])
@pytest.mark.parametrize("extra, words", [
    (("--cluster", "local:0"), "--cluster local:0: expected local:N"),
    (("--cluster", "local:2", "--jobs", "2"), "--jobs: local processes"),
])
def test_cluster_options_of_the_campaign_and_survey_sweep_are_one_line(tmp_path, capsys,
                                                                        command, extra, words):
    out = tmp_path / "out"
    assert main([*command, "--seeds", "1", "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err
    assert not out.exists()


def test_a_sweep_is_never_overwritten_and_resume_adds_the_missing_seeds(tmp_path, capsys):
    out = tmp_path / "sweep"
    base = ["sweep", "--scenario", "bennu-hover", "--out", str(out), "--jobs", "1", *SHORT]
    assert main([*base, "--seeds", "1"]) == 0
    before = (out / "results" / "seed-0001.json").read_bytes()
    capsys.readouterr()
    assert main([*base, "--seeds", "1-2"]) == 2
    assert "already holds a sweep" in capsys.readouterr().err
    assert main([*base, "--seeds", "1-2", "--resume"]) == 0
    assert "(1 already done)" in capsys.readouterr().out
    assert (out / "results" / "seed-0001.json").read_bytes() == before
    assert list(pd.read_parquet(out / "runs.parquet")["seed"]) == [1, 2]


@pytest.mark.slow
def test_ctrl_c_lets_the_runs_in_flight_end_and_resume_continues(tmp_path):
    """SIGINT to the command's whole process group, as a terminal's Ctrl-C: the two runs
    in flight end and are recorded (their processes ignore it), the third never starts,
    exit status 130 with the way on; --resume then flies the third only."""
    out = tmp_path / "sweep"
    argv = [sys.executable, "-m", "prospector.cli", "sweep", "--scenario", "bennu-hover",
            "--seeds", "1-3", "--jobs", "2", "--out", str(out), "--set",
            "scenario.duration_s=600"]  # about 5 s a run
    # SIGINT as at a terminal, even when the suite runs with it ignored (a background job)
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, preexec_fn=_default_sigint)
    try:
        deadline = time.monotonic() + 120.0
        while not ((out / "seed-0001").exists() and (out / "seed-0002").exists()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "stopping: waiting for the 2 runs in flight" in stderr
    assert "interrupted; 2 runs recorded" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr
    records = sorted(p.name for p in (out / "results").iterdir())
    assert records == ["seed-0001.json", "seed-0002.json"]
    assert not (out / "seed-0003").exists()
    stamp = (out / "results" / "seed-0001.json").stat().st_mtime_ns
    assert main(["sweep", "--scenario", "bennu-hover", "--seeds", "1-3", "--jobs", "1",
                 "--out", str(out), "--set", "scenario.duration_s=600", "--resume"]) == 0
    assert (out / "results" / "seed-0001.json").stat().st_mtime_ns == stamp
    assert list(pd.read_parquet(out / "runs.parquet")["seed"]) == [1, 2, 3]
