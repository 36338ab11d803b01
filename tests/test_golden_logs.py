"""Golden logs: the flight software must still send exactly what it sent when they were recorded.

Each log under tests/golden/ is replayed through the whole flight software and
its outbound messages compared bit for bit.  A failure shows the divergence
report.  If the change of behaviour is intended, re-record with `make golden`
and commit the new logs with the change.
"""

from pathlib import Path

import pytest

from ground.replay import ReplayError, load_recording, replay

GOLDEN_DIR = Path(__file__).parent / "golden"
GOLDENS = sorted(p.parent.name for p in GOLDEN_DIR.glob("*/flight.tlog"))
RERECORD = "if this change of flight behaviour is intended, re-record: make golden"


def test_there_are_golden_logs():
    assert len(GOLDENS) >= 3, GOLDENS
    for name in GOLDENS:
        assert (GOLDEN_DIR / name / "flight.tlog").stat().st_size < 1_000_000


@pytest.mark.parametrize("name", GOLDENS)
def test_golden_log_replays_bit_for_bit(name, tmp_path):
    try:
        rec = load_recording(GOLDEN_DIR / name)
    except ReplayError as exc:
        pytest.fail(f"golden {name}: {exc}\n{RERECORD}", pytrace=False)
    assert rec.table.report.clean, rec.table.report.describe()
    result = replay(rec, tmp_path / "replay", progress=False)
    if not result.identical:
        pytest.fail(f"golden {name} diverged:\n{result.report(str(rec.log_path))}\n{RERECORD}",
                    pytrace=False)
    replayed = (tmp_path / "replay" / "replay.tlog").read_bytes()
    assert replayed == (GOLDEN_DIR / name / "flight.tlog").read_bytes()


@pytest.mark.parametrize("name", GOLDENS)
def test_golden_log_records_no_task_fault(name):
    """A golden log is the reference behaviour: a task that raised while it was recorded
    (the scheduler catches it and says so) must not become the reference."""
    from pymavlink import mavutil

    log = mavutil.mavlink_connection(str(GOLDEN_DIR / name / "flight.tlog"),
                                     dialect="prospector")
    texts = []
    while (m := log.recv_match(type="STATUSTEXT")) is not None:
        texts.append(m.text)
    faults = [t for t in texts if "raised" in t]
    assert not faults, faults[:3]


# Run-time CPU dispatch: OpenBLAS picks a kernel for the CPU (Prescott is the plain
# SSE3 one) and numpy picks AVX2/AVX-512 loops; both change the order of sums.  A log
# recorded on one machine must replay identically on another, so the flight software
# keeps such calls out of its state.  A golden that replays under other kernels on this
# machine shows it.
OTHER_CPU_ENV = {"OPENBLAS_CORETYPE": "Prescott",
                 "NPY_DISABLE_CPU_FEATURES": "AVX2,FMA3,X86_V3"}


@pytest.mark.parametrize("name", ["tag-descent-start", "survey-slice"])
def test_golden_log_replays_under_other_cpu_kernels(name, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, **OTHER_CPU_ENV}
    proc = subprocess.run(
        [sys.executable, "-m", "prospector.cli", "replay", str(GOLDEN_DIR / name / "flight.tlog"),
         "--out", str(tmp_path / "replay")],
        env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "IDENTICAL" in proc.stdout, proc.stdout
