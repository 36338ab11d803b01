"""[[faults]] in a scenario: what is accepted, and every refusal a one-line error naming the key."""

from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from scenario_toml import GOOD, assert_one_line_error, write

from hil.options import Fault, scenario_board_faults
from sim.runner import RunConfigError, run_scenario
from sim.scenario import ScenarioError, load_scenario
from sim.scenario_faults import FAULT_KINDS, TASK_NAMES, describe_kinds, sil_refusal

ROOT = Path(__file__).resolve().parents[2]


def _with_faults(faults, **tables):
    data = copy.deepcopy(GOOD)
    data["faults"] = faults
    for key, value in tables.items():
        data[key] = value
    return data


def _load(tmp_path, faults, **tables):
    return load_scenario(write(tmp_path, _with_faults(faults, **tables)))


TAG = {"target_latlon_deg": [10.0, 20.0]}
# (case id, faults, extra top-level tables, key named, words in the message)
BAD = [
    ("unknown-kind", [{"t_s": 5.0, "kind": "star_traker_loss"}], {}, "faults[0].kind",
     "did you mean 'star_tracker_loss'"),
    ("kind-missing", [{"t_s": 5.0}], {}, "faults[0].kind", "missing (expected a fault kind"),
    ("kind-not-text", [{"t_s": 5.0, "kind": 3}], {}, "faults[0].kind", "got 3"),
    ("unknown-key", [{"t_s": 5.0, "kind": "imu_loss", "index": 1}], {}, "faults[0].index",
     "known keys in [faults[0]]: t_s, kind, duration_s"),
    ("typo-key", [{"t_s": 5.0, "kind": "imu_loss", "duraton_s": 1.0}], {},
     "faults[0].duraton_s", "did you mean 'duration_s'"),
    ("t-missing", [{"kind": "imu_loss"}], {}, "faults[0].t_s", "missing"),
    ("t-negative", [{"t_s": -1.0, "kind": "imu_loss"}], {}, "faults[0].t_s", ">= 0"),
    ("t-at-end", [{"t_s": 21600.0, "kind": "imu_loss"}], {}, "faults[0].t_s",
     "< 21600 (scenario.duration_s)"),
    ("t-text", [{"t_s": "soon", "kind": "imu_loss"}], {}, "faults[0].t_s", "got 'soon'"),
    ("duration-zero", [{"t_s": 1.0, "kind": "imu_loss", "duration_s": 0.0}], {},
     "faults[0].duration_s", "> 0"),
    ("duration-negative", [{"t_s": 1.0, "kind": "imu_loss", "duration_s": -3.0}], {},
     "faults[0].duration_s", "> 0"),
    ("second-entry", [{"t_s": 1.0, "kind": "imu_loss"}, {"t_s": 2.0, "kind": "lidar_loss",
                                                         "duration_s": "long"}], {},
     "faults[1].duration_s", "got 'long'"),
    ("index-missing", [{"t_s": 1.0, "kind": "thruster_stuck_on"}], {}, "faults[0].index",
     "missing (thruster_stuck_on needs it"),
    ("index-float", [{"t_s": 1.0, "kind": "wheel_failure", "index": 1.5}], {},
     "faults[0].index", "expected an integer"),
    ("index-bool", [{"t_s": 1.0, "kind": "wheel_failure", "index": True}], {},
     "faults[0].index", "got true"),
    ("wheel-out-of-range", [{"t_s": 1.0, "kind": "wheel_failure", "index": 4}], {},
     "faults[0].index", "spacecraft.wheels.count = 4"),
    ("thruster-stuck-on-6", [{"t_s": 1.0, "kind": "thruster_stuck_on", "index": 6}], {},
     "faults[0].index", "expected a thruster slot 0 to 5"),
    ("backaway-absent", [{"t_s": 1.0, "kind": "thruster_stuck_off", "index": 6}], {},
     "faults[0].index", "no back-away thruster"),
    ("thruster-7", [{"t_s": 1.0, "kind": "thruster_stuck_off", "index": 7}], {},
     "faults[0].index", "<= 6"),
    ("branch-unknown", [{"t_s": 1.0, "kind": "thruster_stuck_off", "index": 1,
                         "branch": "C"}], {}, "faults[0].branch", "'A', 'B'"),
    ("task-unknown", [{"t_s": 1.0, "kind": "task_exception", "task": "navigation"}], {},
     "faults[0].task", "a flight task name, one of 'bus_in'"),
    ("task-missing", [{"t_s": 1.0, "kind": "task_exception"}], {}, "faults[0].task",
     "missing"),
    ("bias-none", [{"t_s": 1.0, "kind": "imu_bias_jump"}], {}, "faults[0].gyro_radps",
     "gyro_radps, accel_mps2 or both"),
    ("bias-short", [{"t_s": 1.0, "kind": "imu_bias_jump", "gyro_radps": [1e-4, 0.0]}], {},
     "faults[0].gyro_radps", "array of 3 numbers"),
    ("bias-huge", [{"t_s": 1.0, "kind": "imu_bias_jump", "accel_mps2": [0.0, 0.0, 5.0]}], {},
     "faults[0].accel_mps2[2]", "<= 1"),
    ("volts-text", [{"t_s": 1.0, "kind": "undervoltage", "bus_voltage_v": "low"}], {},
     "faults[0].bus_voltage_v", "got 'low'"),
    ("spectrometer-without-prospect", [{"t_s": 1.0, "kind": "spectrometer_loss"}], {},
     "faults[0].kind", "needs a scenario that flies the spectrometer"),
    ("sampler-without-use", [{"t_s": 1.0, "kind": "sampler_gas_failure"}], {},
     "faults[0].kind", "a [tag] or [prospect] table"),
    ("board-fault-duration", [{"t_s": 1.0, "kind": "kill_board", "duration_s": 2.0}], {},
     "faults[0].duration_s", "unknown key"),
    ("noise-too-much", [{"t_s": 1.0, "kind": "line_noise", "bytes_per_10ms": 300}], {},
     "faults[0].bytes_per_10ms", "<= 255"),
    ("not-array", "imu_loss", {}, "faults", "expected an array of tables"),
    ("entry-not-table", [3], {}, "faults[0]", "expected a table"),
]


@pytest.mark.parametrize("faults, tables, key, words", [c[1:] for c in BAD],
                         ids=[c[0] for c in BAD])
def test_bad_fault_is_refused_in_one_line_naming_the_key(tmp_path, faults, tables, key, words):
    with pytest.raises(ScenarioError) as err:
        _load(tmp_path, faults, **tables)
    message = assert_one_line_error(err.value, tmp_path / "case.toml", key)
    assert words in message


def test_branch_b_needs_a_second_branch(tmp_path):
    data = _with_faults([{"t_s": 1.0, "kind": "thruster_stuck_on", "index": 2, "branch": "B"}])
    data["spacecraft"]["thrusters"]["branches"] = 1
    path = write(tmp_path, data)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "needs spacecraft.thrusters.branches = 2" in assert_one_line_error(
        err.value, path, "faults[0].branch")


def test_backaway_thruster_has_no_branch_b():
    with pytest.raises(ScenarioError) as err:
        load_scenario("bennu-tag", {"faults": [{"t_s": 1.0, "kind": "thruster_stuck_off",
                                                "index": 6, "branch": "B"}]})
    assert err.value.key == "faults[0].branch" and "back-away" in str(err.value)


def test_override_errors_say_override():
    with pytest.raises(ScenarioError) as err:
        load_scenario("bennu-hover", {"faults": [{"t_s": 1.0, "kind": "nope"}]})
    assert "faults[0].kind (override)" in str(err.value)


def test_every_kind_is_accepted_with_its_keys_and_defaults(tmp_path):
    faults = [
        {"t_s": 1.0, "kind": "star_tracker_loss", "duration_s": 30.0},
        {"t_s": 2.0, "kind": "imu_loss"},
        {"t_s": 3.0, "kind": "navcam_loss"},
        {"t_s": 4.0, "kind": "lidar_loss"},
        {"t_s": 5.0, "kind": "imu_bias_jump", "gyro_radps": [1e-4, 0.0, -1e-4]},
        {"t_s": 6.0, "kind": "thruster_stuck_on", "index": 5},
        {"t_s": 7.0, "kind": "thruster_stuck_off", "index": 0, "branch": "B"},
        {"t_s": 8.0, "kind": "wheel_failure", "index": 3},
        {"t_s": 9.0, "kind": "task_exception", "task": "guidance", "duration_s": 2.5},
        {"t_s": 10.0, "kind": "undervoltage"},
        {"t_s": 11.0, "kind": "kill_board"},
        {"t_s": 12.0, "kind": "line_noise", "duration_s": 5.0},
    ]
    sc = _load(tmp_path, faults)
    assert [f.kind for f in sc.faults] == [f["kind"] for f in faults]
    assert sc.faults[0].end_s == 31.0 and sc.faults[1].duration_s is None
    assert sc.faults[5].branch == "A"  # default branch
    assert sc.faults[9].bus_voltage_v == 22.0  # default: clearly low on a 28 V bus
    assert sc.faults[11].bytes_per_10ms == 64.0
    assert sc.faults[4].accel_mps2 is None and sc.faults[4].gyro_radps == (1e-4, 0.0, -1e-4)
    # Written out and read back, the same scenario (to_dict has only the keys given).
    d = sc.to_dict()
    assert d["faults"][1] == {"t_s": 2.0, "kind": "imu_loss"}
    del d["source"]
    again = load_scenario(write(tmp_path, d, "again.toml"))
    assert dataclasses.replace(again, source=sc.source) == sc
    hash(sc)


def test_a_scenario_without_faults_has_none_and_writes_none():
    sc = load_scenario("bennu-hover")
    assert sc.faults == () and "faults" not in sc.to_dict()
    assert load_scenario("bennu-hover", {"faults": []}).faults == ()


def test_phase_dependent_kinds_accepted_where_the_phase_is_flown():
    tag = load_scenario("bennu-tag", {"faults": [{"t_s": 1.0, "kind": "sampler_gas_failure"},
                                                 {"t_s": 2.0, "kind": "thruster_stuck_off",
                                                  "index": 6}]})
    assert len(tag.faults) == 2
    survey = load_scenario("bennu", {"faults": [{"t_s": 1.0, "kind": "spectrometer_loss"}]})
    assert survey.faults[0].kind == "spectrometer_loss"


def test_task_names_are_the_flight_schedulers():
    from flightsw.app import FlightSoftware
    from flightsw.core.clock import SimClock
    from sim.runner import flight_config_from_scenario

    class NullBus:
        def send(self, msg):
            pass

        def poll(self):
            return []

    fsw = FlightSoftware(flight_config_from_scenario(load_scenario("bennu-hover")), NullBus(),
                         SimClock())
    names = {task.name for _, _, task in fsw.scheduler.tasks_by_group()}
    assert set(TASK_NAMES) <= names


def test_every_kind_names_a_monitor_of_the_icd():
    from sim.fault_figures import MONITORS

    for name, kind in FAULT_KINDS.items():
        assert kind.monitor in MONITORS, name
    assert "imu_bias_jump" in describe_kinds()


def test_board_faults_are_refused_in_sil_and_given_to_the_rig(tmp_path):
    sc = load_scenario("bennu-hover", {"scenario.duration_s": 30.0, "faults": [
        {"t_s": 1.0, "kind": "imu_loss"}, {"t_s": 3.0, "kind": "kill_board"},
        {"t_s": 5.0, "kind": "line_noise", "bytes_per_10ms": 32, "duration_s": 4.0},
        {"t_s": 6.0, "kind": "reset_board"}]})
    reason = sil_refusal(sc)
    assert reason is not None and "faults[1].kind: kill_board" in reason and "\n" not in reason
    with pytest.raises(RunConfigError, match="HIL devboard"):
        run_scenario(sc, tmp_path / "run", progress=False, write_report=False)
    assert not (tmp_path / "run").exists()
    assert scenario_board_faults(sc) == (Fault("kill-board", 3.0), Fault("noise", 5.0, 32.0),
                                         Fault("noise", 9.0, 0.0), Fault("reset-board", 6.0))


def test_cli_set_faults_refused_in_one_line_exit_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "prospector.cli", "run", "--scenario", "bennu-hover",
         "--duration", "10", "--out", str(tmp_path / "r"),
         "--set", 'faults=[{t_s=20.0, kind="imu_loss"}]'],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "faults[0].t_s (override)" in lines[0] and "< 10" in lines[0]
    board = subprocess.run(
        [sys.executable, "-m", "prospector.cli", "run", "--scenario", "bennu-hover",
         "--duration", "10", "--out", str(tmp_path / "b"),
         "--set", 'faults=[{t_s=2.0, kind="reset_board"}]'],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert board.returncode == 2 and len(board.stderr.strip().splitlines()) == 1
    assert "reset_board is a fault of the HIL devboard" in board.stderr
