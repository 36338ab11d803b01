"""Faults as the world lives them: each kind's effect on the sensor stream, frame by frame,
against the same world without it (same seed: every other byte must be the same)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from flightsw.core.clock import SimClock
from flightsw.core.scheduler import RateGroup, Scheduler, Task
from flightsw.icd import WORLD_COMPONENT_ID, WORLD_SYSTEM_ID, new_codec
from sim.faults import (
    LOST_MESSAGES,
    FaultSchedule,
    install_task_faults,
    task_fault_record,
    task_faults,
)
from sim.scenario import FaultConfig, load_scenario
from sim.world import World

FRAME_US = 100_000  # bennu-hover: 10 Hz
# Starts between frames 9 and 10 (so at frame 10), ends between 20 and 21 (after 20).
WINDOW = {"t_s": 0.95, "duration_s": 1.1}
ACTIVE_FRAMES = range(10, 21)
FRAMES = 26
VOLT = 1e-12  # float64 rounding, in volts, m/s^2 or rad/s


def _packed(msgs) -> list[tuple[str, bytes]]:
    codec = new_codec(WORLD_SYSTEM_ID, WORLD_COMPONENT_ID)
    return [(m.get_type(), bytes(m.pack(codec))) for m in msgs]


def _frames(faults, frames=FRAMES, scenario="bennu-hover"):
    """The sensor messages of each frame of a world that does not move (no step): only the
    faults differ between two such worlds of the same seed."""
    world = World(load_scenario(scenario, {"faults": faults} if faults else None))
    return [world.sensor_messages(f, f * FRAME_US) for f in range(frames)], world


@pytest.fixture(scope="module")
def nominal():
    return _frames([])[0]


@pytest.mark.parametrize("kind", ["star_tracker_loss", "imu_loss", "navcam_loss", "lidar_loss"])
def test_a_sensor_loss_stops_its_messages_in_its_window_and_nothing_else(kind, nominal):
    faulty, world = _frames([{"kind": kind, **WINDOW}])
    lost = set(LOST_MESSAGES[kind])
    dropped_somewhere = False
    for frame, (want, got) in enumerate(zip(nominal, faulty, strict=True)):
        want_p, got_p = _packed(want), _packed(got)
        if frame in ACTIVE_FRAMES:
            dropped_somewhere |= any(t in lost for t, _ in want_p)
            assert [p for p in want_p if p[0] not in lost] == got_p, frame
        else:
            assert want_p == got_p, frame
    assert dropped_somewhere, f"{kind}: no message of {lost} in the window to lose"
    assert world.faults.injected == [1.0] and world.faults.removed == [2.1]


def test_imu_bias_jump_adds_to_every_sample_in_its_window(nominal):
    gyro, accel = (1e-4, -2e-4, 3e-4), (1e-5, 0.0, -4e-5)
    faulty, _ = _frames([{"kind": "imu_bias_jump", "gyro_radps": list(gyro),
                          "accel_mps2": list(accel), **WINDOW}])
    seen = 0
    for frame, (want, got) in enumerate(zip(nominal, faulty, strict=True)):
        for a, b in zip(want, got, strict=True):
            assert a.get_type() == b.get_type()
            if a.get_type() != "HIGHRES_IMU":
                continue
            on = frame in ACTIVE_FRAMES
            seen += on
            for name, bias in zip(("xgyro", "ygyro", "zgyro", "xacc", "yacc", "zacc"),
                                  gyro + accel, strict=True):
                assert getattr(b, name) - getattr(a, name) == pytest.approx(
                    bias if on else 0.0, abs=VOLT), (frame, name)
    assert seen == len(ACTIVE_FRAMES)


def test_undervoltage_is_what_the_power_telemetry_reports():
    faulty, _ = _frames([{"t_s": 0.0, "kind": "undervoltage", "bus_voltage_v": 21.5}], frames=1)
    nominal, _ = _frames([], frames=1)
    power = [m for m in faulty[0] if m.get_type() == "PROBE_POWER_THERMAL"]
    assert len(power) == 1 and power[0].bus_voltage_v == 21.5
    healthy = [m for m in nominal[0] if m.get_type() == "PROBE_POWER_THERMAL"][0]
    assert healthy.bus_voltage_v > 27.0  # the nominal 28 V bus
    assert power[0].battery_soc == healthy.battery_soc


def test_spectrometer_loss_drops_the_chunks_only():
    sched = FaultSchedule([FaultConfig(1.0, "spectrometer_loss", duration_s=1.0)])
    msgs = [SimpleNamespace(get_type=lambda t=t: t) for t in
            ("PROBE_SPECTRUM_CHUNK", "PROBE_LIDAR_SCAN", "HIGHRES_IMU", "PROBE_SPECTRUM_CHUNK")]
    sched.update(500_000)
    assert sched.sensor_stimulus(msgs) is msgs  # nothing active: the same list, untouched
    sched.update(1_000_000)
    assert [m.get_type() for m in sched.sensor_stimulus(msgs)] == ["PROBE_LIDAR_SCAN",
                                                                   "HIGHRES_IMU"]
    sched.update(2_000_000)
    assert sched.sensor_stimulus(msgs) is msgs


def test_schedule_state_at_frame_boundaries():
    faults = [FaultConfig(0.05, "thruster_stuck_on", index=2, branch="A"),
              FaultConfig(0.2, "thruster_stuck_off", duration_s=0.2, index=1, branch="B"),
              FaultConfig(0.3, "wheel_failure", index=3),
              FaultConfig(0.3, "sampler_gas_failure", duration_s=0.01),
              FaultConfig(0.1, "task_exception", task="nav")]
    s = FaultSchedule(faults)
    states = []
    for frame in range(6):
        s.update(frame * FRAME_US)
        states.append((s.stuck_on, s.stuck_off, s.failed_wheels, s.gas_failed))
    assert states[0] == (frozenset(), frozenset(), frozenset(), False)
    assert states[1][0] == {("A", 2)}  # 0.05 s -> the frame at 0.1 s
    assert states[2][1] == {("B", 1)} and states[3][1] == {("B", 1)} and not states[4][1]
    assert states[3][2] == {3} and states[3][3] and not states[4][3]  # 10 ms: one frame
    assert states[5][0] == {("A", 2)} and states[5][2] == {3}  # permanent
    rec = s.record()
    assert rec[0]["injected_at_s"] == pytest.approx(0.1) and rec[0]["removed_at_s"] is None
    assert rec[1]["removed_at_s"] == pytest.approx(0.4)
    assert rec[4] == {"t_s": 0.1, "kind": "task_exception", "task": "nav",
                      "injected_at_s": 0.1, "removed_at_s": None}


def test_a_fault_within_one_frame_is_still_recorded_as_injected():
    s = FaultSchedule([FaultConfig(0.12, "imu_loss", duration_s=0.05)])
    for frame in range(4):
        s.update(frame * FRAME_US)
    assert s.injected == [pytest.approx(0.2)] and s.removed == [pytest.approx(0.2)]
    assert not s.lost


def test_task_exception_raises_in_its_window_and_the_scheduler_reports_it():
    ran = []
    sched = Scheduler(SimClock(), [RateGroup("fast", 10.0, [
        Task("nav", ran.append, 1000), Task("control", lambda t: None, 1000)])])
    faults = [FaultConfig(0.15, "task_exception", duration_s=0.2, task="nav"),
              FaultConfig(0.9, "task_exception", task="nav")]
    install_task_faults(sched, faults)
    for _ in range(12):
        sched.run_frame()
    # Frames at 0.2 and 0.3 s raise, 0.4 s runs again; from 0.9 s on it raises for good.
    assert ran == [0, 100_000, 400_000, 500_000, 600_000, 700_000, 800_000]
    assert sched.stats()["tasks"]["nav"]["faults"] == 5
    assert sched.stats()["tasks"]["control"]["faults"] == 0
    sched.set_task_fault("nav", None)  # the hook comes off
    sched.run_frame()
    assert ran[-1] == 1_200_000
    with pytest.raises(ValueError, match="no task named 'navigation'"):
        sched.set_task_fault("navigation", lambda t: True)
    assert task_faults(faults)["nav"](1_000_000) and not task_faults(faults)["nav"](400_000)
    assert task_fault_record(faults) == {"task_faults": [
        {"task": "nav", "from_us": 150_000, "until_us": 350_000},
        {"task": "nav", "from_us": 900_000, "until_us": None}]}
    assert task_fault_record([FaultConfig(1.0, "imu_loss")]) == {}


def test_task_fault_run_replays_identically(tmp_path):
    """The host-side hook leaves no trace in the log: flight_config.json carries it, and a
    replay raises the same faults, so it is identical bit for bit."""
    from ground.replay import load_recording, replay
    from sim.runner import run_scenario

    sc = load_scenario("bennu-hover", {"scenario.duration_s": 20.0, "faults": [
        {"t_s": 8.0, "kind": "task_exception", "task": "control", "duration_s": 2.0}]})
    run_scenario(sc, tmp_path / "run", progress=False, write_report=False)
    assert "raised RuntimeError" in (tmp_path / "run" / "events.log").read_text()
    result = replay(load_recording(tmp_path / "run"), tmp_path / "replay", progress=False)
    assert result.identical, result.report("run")


def test_no_faults_no_state():
    s = FaultSchedule()
    s.update(0)
    s.update(10**12)
    assert not (s.lost or s.stuck_on or s.stuck_off or s.failed_wheels or s.gas_failed)
    assert s.alters_sensors is False and s.record() == [] and math.isinf(s._next_change_us)


def _log(tmp_path, name, faults=None):
    from sim.rescore import tlog_frames
    from sim.runner import run_scenario

    over = {"scenario.duration_s": 30.0} | ({"faults": faults} if faults is not None else {})
    out = tmp_path / name
    run_scenario(load_scenario("bennu-hover", over), out, progress=False, write_report=False)
    epoch = round(load_scenario("bennu-hover").scenario.epoch_unix_s * 1e6)
    return (out / "flight.tlog").read_bytes(), list(tlog_frames(out / "flight.tlog", epoch))


def test_faults_are_deterministic_and_change_nothing_before_they_start(tmp_path):
    plain, plain_frames = _log(tmp_path, "plain")
    empty, _ = _log(tmp_path, "empty", [])
    assert empty == plain  # an empty [[faults]] is no fault at all
    fault = [{"t_s": 20.05, "kind": "star_tracker_loss", "duration_s": 3.0}]
    one, one_frames = _log(tmp_path, "one", fault)
    two, _ = _log(tmp_path, "two", fault)
    assert one == two  # same seed, same faults: the same flight
    assert one != plain
    before = [f for f in plain_frames if f[0] < 20_100_000]
    assert one_frames[:len(before)] == before  # injected at the frame at 20.1 s, not earlier
