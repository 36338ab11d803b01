"""Fault injection: the scenario's [[faults]] as the world lives them, frame by frame.

A fault starts at the first frame whose time is at or after its `t_s` and ends at the
first frame at or after `t_s + duration_s` (never, without a duration): the world
calls `update(t_us)` at each frame boundary, before it emits that frame's sensors, and
the state it reads (what is lost, what is stuck, what failed) holds for the frame and
the step after it.  Nothing here draws a random number: a run with faults keeps every
noise stream of the run without them, and a run without faults is the run it was.

How each kind acts (keys in sim/scenario_faults.py):
- sensor losses: the sensor's messages are taken out of the frame's stimulus (they are
  still made, so no noise stream moves);
- imu_bias_jump: added to every IMU sample, as a bias is;
- undervoltage: PROBE_POWER_THERMAL reports the fault's bus voltage;
- thruster_stuck_on / _off, wheel_failure: read by sim.actuators through `stuck_on`,
  `stuck_off` and `failed_wheels`;
- sampler_gas_failure: the world drops FIRE_GAS while `gas_failed`;
- task_exception: not the world's: `install_task_faults` hooks the flight scheduler
  (Scheduler.set_task_fault), host-side, as a debugger would;
- kill_board, reset_board, line_noise: the HIL rig's (`board_faults`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sim.scenario_faults import FAULT_KINDS
from sim.scenario_values import FaultConfig

# Sensor losses: the messages that stop.
LOST_MESSAGES = {
    "star_tracker_loss": ("PROBE_STAR_TRACKER",),
    "imu_loss": ("HIGHRES_IMU",),
    "navcam_loss": ("PROBE_NAVCAM_LANDMARKS", "PROBE_NAVCAM_FIX"),
    "lidar_loss": ("PROBE_LIDAR_RANGE",),
    "spectrometer_loss": ("PROBE_SPECTRUM_CHUNK",),
}
_IMU_ACCEL = ("xacc", "yacc", "zacc")
_IMU_GYRO = ("xgyro", "ygyro", "zgyro")


def window_us(fault: FaultConfig) -> tuple[int, float]:
    """[start, end) of a fault in mission microseconds (end inf: permanent)."""
    start = round(fault.t_s * 1e6)
    return start, math.inf if fault.duration_s is None else round(fault.end_s * 1e6)


class FaultSchedule:
    """The world's faults now.  `injected[i]` / `removed[i]`: the frame time (s) at which
    fault i of the scenario began and ended (None: not yet, or never)."""

    def __init__(self, faults: Sequence[FaultConfig] = ()):
        self.faults = tuple(faults)
        self._windows = [(i, *window_us(f)) for i, f in enumerate(self.faults)
                         if not FAULT_KINDS[f.kind].hil_only and f.kind != "task_exception"]
        self.injected: list[float | None] = [None] * len(self.faults)
        self.removed: list[float | None] = [None] * len(self.faults)
        self._next_change_us = min((s for _, s, _ in self._windows), default=math.inf)
        self._set_state(())

    def _set_state(self, active: Sequence[FaultConfig]) -> None:
        self.active = tuple(active)
        self.lost = frozenset(m for f in active for m in LOST_MESSAGES.get(f.kind, ()))
        gyro = [0.0, 0.0, 0.0]
        accel = [0.0, 0.0, 0.0]
        bias = False
        volts = None
        for f in active:
            if f.kind == "imu_bias_jump":
                bias = True
                for j in range(3):
                    gyro[j] += f.gyro_radps[j] if f.gyro_radps else 0.0
                    accel[j] += f.accel_mps2[j] if f.accel_mps2 else 0.0
            elif f.kind == "undervoltage":
                volts = f.bus_voltage_v if volts is None else min(volts, f.bus_voltage_v)
        self.gyro_bias_radps = tuple(gyro) if bias else None
        self.accel_bias_mps2 = tuple(accel) if bias else None
        self.bus_voltage_v = volts
        self.stuck_on = frozenset((f.branch, f.index) for f in active
                                  if f.kind == "thruster_stuck_on")
        self.stuck_off = frozenset((f.branch, f.index) for f in active
                                   if f.kind == "thruster_stuck_off")
        self.failed_wheels = frozenset(f.index for f in active if f.kind == "wheel_failure")
        self.gas_failed = any(f.kind == "sampler_gas_failure" for f in active)
        self.alters_sensors = bool(self.lost) or bias or volts is not None

    def update(self, t_us: int) -> None:
        """Bring the state to the frame at t_us (cheap when nothing changes)."""
        if t_us < self._next_change_us:
            return
        active = []
        upcoming = math.inf
        for i, start, end in self._windows:
            if start <= t_us < end:
                active.append(self.faults[i])
                if self.injected[i] is None:
                    self.injected[i] = t_us / 1e6
                upcoming = min(upcoming, end)
            elif t_us >= end:
                if self.injected[i] is None:  # began and ended between two frames
                    self.injected[i] = t_us / 1e6
                if self.removed[i] is None:
                    self.removed[i] = t_us / 1e6
            else:
                upcoming = min(upcoming, start)
        self._next_change_us = upcoming
        self._set_state(active)

    def sensor_stimulus(self, msgs: list) -> list:
        """The frame's sensor messages as the faults leave them."""
        if not self.alters_sensors:
            return msgs
        out = []
        for m in msgs:
            kind = m.get_type()
            if kind in self.lost:
                continue
            if kind == "HIGHRES_IMU" and self.gyro_bias_radps is not None:
                for name, b in zip(_IMU_GYRO, self.gyro_bias_radps, strict=True):
                    setattr(m, name, getattr(m, name) + b)
                for name, b in zip(_IMU_ACCEL, self.accel_bias_mps2, strict=True):
                    setattr(m, name, getattr(m, name) + b)
            elif kind == "PROBE_POWER_THERMAL" and self.bus_voltage_v is not None:
                m.bus_voltage_v = self.bus_voltage_v
            out.append(m)
        return out

    def record(self) -> list[dict]:
        """Each fault as injected, for the truth record: the scenario's entry, and when it
        began and ended in frame time (task and board faults: their scheduled times)."""
        out = []
        for i, f in enumerate(self.faults):
            entry = f.to_dict()
            if FAULT_KINDS[f.kind].hil_only or f.kind == "task_exception":
                entry["injected_at_s"] = f.t_s
                entry["removed_at_s"] = None if f.duration_s is None else f.end_s
            else:
                entry["injected_at_s"] = self.injected[i]
                entry["removed_at_s"] = self.removed[i]
            out.append(entry)
        return out


class TaskFault:
    """The scheduler's predicate for one task: true in any of its fault windows."""

    def __init__(self, windows: Sequence[tuple[int, float]]):
        self.windows = tuple(windows)

    def __call__(self, t_frame_us: int) -> bool:
        return any(start <= t_frame_us < end for start, end in self.windows)


def task_faults(faults: Sequence[FaultConfig]) -> dict[str, TaskFault]:
    """task name -> its predicate, for every task_exception of the scenario."""
    windows: dict[str, list] = {}
    for f in faults:
        if f.kind == "task_exception":
            windows.setdefault(f.task, []).append(window_us(f))
    return {name: TaskFault(w) for name, w in windows.items()}


def install_task_faults(scheduler, faults: Sequence[FaultConfig]) -> None:
    """Make the scenario's task_exception faults raise in the flight scheduler."""
    for name, active in task_faults(faults).items():
        scheduler.set_task_fault(name, active)


def task_fault_record(faults: Sequence[FaultConfig]) -> dict:
    """{"task_faults": [...]} for flight_config.json when the scenario has task faults
    ({} otherwise, so the file is as it was): a replay needs them to raise them again,
    since the flight log holds no trace of a host-side hook."""
    entries = [{"task": f.task, "from_us": start,
                "until_us": None if math.isinf(end) else end}
               for f in faults if f.kind == "task_exception" for start, end in [window_us(f)]]
    return {"task_faults": entries} if entries else {}
