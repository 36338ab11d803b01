"""A scenario's [[faults]] in HIL: the board's faults injected by the rig (kill_board,
reset_board, line_noise), the simulator's as in SIL, task faults in the flight scheduler."""

import json

import pytest

from flightsw.icd import FLIGHT_SYSTEM_ID
from hil.rig import HilOptions, HilRunError, run_hil
from sim.rescore import tlog_frames
from sim.runner import run_scenario
from sim.scenario import load_scenario

TASK_FAULT = {"t_s": 6.0, "kind": "task_exception", "task": "guidance", "duration_s": 1.0}


def _scenario(*faults):
    return load_scenario("bennu-hover", {"scenario.duration_s": 8.0, "scenario.seed": 4,
                                         "faults": list(faults)})


def _sent_by_flight(run_dir):
    epoch = json.loads((run_dir / "flight_config.json").read_text())["epoch_unix_us"]
    return [(t, raw) for t, raw in tlog_frames(run_dir / "flight.tlog", epoch)
            if raw[5] == FLIGHT_SYSTEM_ID]


def test_scenario_board_faults_and_task_faults_in_lockstep(firmware_elf, tmp_path):
    """Line noise from the scenario costs the flight nothing; the task fault raises in the
    flight scheduler as in SIL: the lockstep flight sends what the SIL flight of the same
    faults sends, message for message and time for time (not bit for bit: over a link the
    world gets the actuator commands as float32, see test_hil_rig.py)."""
    noise = {"t_s": 0.0, "kind": "line_noise", "bytes_per_10ms": 48, "duration_s": 5.0}
    summary = run_hil(_scenario(noise, TASK_FAULT), tmp_path / "hil",
                      HilOptions(write_report=False), progress=False)
    run_scenario(_scenario(TASK_FAULT), tmp_path / "sil", write_report=False, progress=False)
    assert summary["hil"]["flight_link"]["rx_bytes_skipped"] > 1000
    events = (tmp_path / "hil" / "events.log").read_text()
    assert "fault injected: noise 48 bytes/10 ms" in events
    assert "fault injected: noise 0 bytes/10 ms" in events  # stopped at t_s + duration_s
    assert "task guidance raised RuntimeError" in events
    if summary["hil"]["lockstep_stalls"] == 0:  # a loaded host can stall the lockstep
        hil_out = _sent_by_flight(tmp_path / "hil")
        sil_out = _sent_by_flight(tmp_path / "sil")
        assert [(t, raw[7:10]) for t, raw in hil_out] == [(t, raw[7:10]) for t, raw in sil_out]
    # The scheduler raises by the frames' mission times, stalls or not.
    raised = [line.split()[0] for line in events.splitlines() if "raised" in line]
    sil_events = (tmp_path / "sil" / "events.log").read_text().splitlines()
    # guidance runs at 1 Hz: one release in the fault's second
    assert raised == [line.split()[0] for line in sil_events if "raised" in line] == ["6.000"]
    kinds = [(f["kind"], f["monitor"]) for f in summary["faults"]]
    assert kinds == [("line_noise", "LINK"), ("task_exception", "TASK")]
    config = json.loads((tmp_path / "hil" / "flight_config.json").read_text())
    assert config["task_faults"] == [{"task": "guidance", "from_us": 6_000_000,
                                      "until_us": 7_000_000}]


def test_kill_board_needs_the_emulated_board(tmp_path):
    sc = _scenario({"t_s": 2.0, "kind": "kill_board"})
    with pytest.raises(HilRunError, match="faults: kill-board needs the emulated board"):
        run_hil(sc, tmp_path / "run", HilOptions(emulate=False, flight_port="/dev/null-a",
                                                 stim_port="/dev/null-b"), progress=False)
    assert not (tmp_path / "run").exists()
