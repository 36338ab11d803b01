"""The [[faults]] table of a scenario: which faults exist, their keys, and the checks.

Each entry is `t_s`, `kind`, an optional `duration_s` (absent: the fault lasts to the end
of the run) and the kind's own keys.  Every problem is refused before flight with the
one-line `ScenarioError` of the other tables, naming the key (`faults[2].index`): an
unknown kind or key, a missing key, a time outside the run, a device the vehicle does
not have, a kind the scenario cannot take (a spectrometer loss without prospecting).

The world applies them (`sim.faults`); the judge maps each kind to the flight software's
monitor that should see it (`FaultKind.monitor`, a PROBE_MONITOR name without prefix).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.scenario_defaults import DEFAULTS
from sim.scenario_errors import show_value
from sim.scenario_schema import MAX_DURATION_S, NumberRule, TextRule, VectorRule
from sim.scenario_validate import Context, as_list, check_value, reject_unknown
from sim.scenario_values import FaultConfig, Scenario

# The flight scheduler's task names (flightsw/app.py); tests/sim/test_scenario_faults.py
# checks them against the assembled flight software.
TASK_NAMES = ("bus_in", "nav", "sequence", "control", "fault_fast", "guidance", "telemetry",
              "fault_prot", "prospect")
THRUSTER_BRANCHES = ("A", "B")
BACKAWAY_SLOT = 6  # PROBE_THRUSTER_CMD.on_time_s[6]: the back-away thruster


@dataclass(frozen=True)
class FaultKind:
    """A kind of fault: its own keys (rule each), which are required, the flight monitor
    that should detect it, whether it takes `duration_s`, whether only HIL can fly it."""

    monitor: str
    keys: Mapping[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    timed: bool = True
    hil_only: bool = False
    what: str = ""


_INDEX = NumberRule(ge=0, le=BACKAWAY_SLOT, integer=True)
_BRANCH = TextRule(choices=THRUSTER_BRANCHES, what="a thruster branch")
_BIAS_GYRO = VectorRule(3, NumberRule(ge=-1.0, le=1.0))
_BIAS_ACCEL = VectorRule(3, NumberRule(ge=-1.0, le=1.0))

FAULT_KINDS: Mapping[str, FaultKind] = {
    "star_tracker_loss": FaultKind("STAR_TRACKER", what="PROBE_STAR_TRACKER stops"),
    "imu_loss": FaultKind("IMU", what="HIGHRES_IMU stops"),
    "navcam_loss": FaultKind("NAVCAM", what="PROBE_NAVCAM_LANDMARKS and _FIX stop"),
    "lidar_loss": FaultKind("LIDAR", what="PROBE_LIDAR_RANGE (the altimeter) stops"),
    "spectrometer_loss": FaultKind("SPECTROMETER", what="PROBE_SPECTRUM_CHUNK stops"),
    "imu_bias_jump": FaultKind(
        "GYRO_BIAS", {"gyro_radps": _BIAS_GYRO, "accel_mps2": _BIAS_ACCEL},
        what="added to the IMU's turn-on biases"),
    "thruster_stuck_on": FaultKind(
        "THRUSTER", {"index": _INDEX, "branch": _BRANCH}, ("index",),
        what="fires the whole cycle, every cycle, while its branch's latch is open"),
    "thruster_stuck_off": FaultKind(
        "THRUSTER", {"index": _INDEX, "branch": _BRANCH}, ("index",), what="never fires"),
    "wheel_failure": FaultKind(
        "WHEEL", {"index": NumberRule(ge=0, le=63, integer=True)}, ("index",),
        what="motor torque lost: the wheel spins down on its bearings' friction"),
    "sampler_gas_failure": FaultKind(
        "SAMPLER", what="FIRE_GAS does nothing: no bottle used, nothing collected"),
    "task_exception": FaultKind(
        "TASK", {"task": TextRule(choices=TASK_NAMES, what="a flight task name")}, ("task",),
        what="the task raises RuntimeError instead of running"),
    "undervoltage": FaultKind(
        "POWER", {"bus_voltage_v": NumberRule(ge=0.0, le=40.0)},
        what="PROBE_POWER_THERMAL reports bus_voltage_v"),
    # HIL only: the devboard's faults (hil/options.py), injected by the rig.
    "kill_board": FaultKind("LINK", timed=False, hil_only=True, what="the board dies"),
    "reset_board": FaultKind("LINK", timed=False, hil_only=True, what="the board resets"),
    "line_noise": FaultKind(
        "LINK", {"bytes_per_10ms": NumberRule(ge=0.0, le=255.0)}, hil_only=True,
        what="garbage bytes on the flight link"),
}
FAULT_KIND_NAME = TextRule(choices=tuple(FAULT_KINDS), what="a fault kind")
_DURATION = NumberRule(gt=0.0, le=MAX_DURATION_S)


def check_faults(label: str | None, raw: Any, sc: Scenario) -> tuple[FaultConfig, ...]:
    """The [[faults]] entries of TOML data `raw` (a list of tables), checked against the
    validated scenario `sc` (its duration and its vehicle); `label` names the file."""
    ctx = Context(label)
    entries = as_list(raw)
    if entries is None:
        raise ctx.error("faults", "expected an array of tables ([[faults]] entries), "
                                  f"got {show_value(raw)}")
    return tuple(_check_entry(ctx, entry, f"faults[{i}]", sc) for i, entry in enumerate(entries))


def _check_entry(ctx: Context, entry: Any, path: str, sc: Scenario) -> FaultConfig:
    if not isinstance(entry, dict):
        raise ctx.error(path, f"expected a table with t_s, kind and the kind's keys, "
                              f"got {show_value(entry)}")
    if "kind" not in entry:
        raise ctx.error(f"{path}.kind", f"missing (expected {FAULT_KIND_NAME.describe()})")
    kind_name = check_value(ctx, entry["kind"], FAULT_KIND_NAME, f"{path}.kind")
    kind = FAULT_KINDS[kind_name]
    known = ("t_s", "kind") + (("duration_s",) if kind.timed else ()) + tuple(kind.keys)
    reject_unknown(ctx, entry, known, path)
    run_s = sc.scenario.duration_s
    t_rule = NumberRule(ge=0.0, lt=run_s, note="scenario.duration_s")
    if "t_s" not in entry:
        raise ctx.error(f"{path}.t_s", f"missing (expected {t_rule.describe()})")
    values: dict[str, Any] = {"kind": kind_name,
                              "t_s": float(check_value(ctx, entry["t_s"], t_rule, f"{path}.t_s"))}
    if "duration_s" in entry:
        values["duration_s"] = float(check_value(ctx, entry["duration_s"], _DURATION,
                                                  f"{path}.duration_s"))
    for name, rule in kind.keys.items():
        key = f"{path}.{name}"
        if name in entry:
            value = check_value(ctx, entry[name], rule, key)
        elif name in kind.required:
            raise ctx.error(key, f"missing ({kind_name} needs it: expected {rule.describe()})")
        elif f"faults[].{name}" in DEFAULTS:
            value = DEFAULTS[f"faults[].{name}"]
        else:
            continue
        values[name] = float(value) if isinstance(rule, NumberRule) and not rule.integer \
            else value
    _check_fits(ctx, kind_name, values, path, sc)
    return FaultConfig(**values)


def _check_fits(ctx: Context, kind: str, v: dict[str, Any], path: str, sc: Scenario) -> None:
    """What the vehicle and the scenario can take: the device exists, the phase is flown."""
    thr = sc.spacecraft.thrusters
    if kind == "imu_bias_jump" and "gyro_radps" not in v and "accel_mps2" not in v:
        raise ctx.error(f"{path}.gyro_radps", "missing (imu_bias_jump needs gyro_radps, "
                                              "accel_mps2 or both: arrays of 3 numbers)")
    if kind in ("thruster_stuck_on", "thruster_stuck_off"):
        last = BACKAWAY_SLOT - 1 if kind == "thruster_stuck_on" or thr.backaway_force_n <= 0.0 \
            else BACKAWAY_SLOT
        if v["index"] > last:
            why = ("the translation thrusters; 6, the back-away thruster, can only stick off"
                   if kind == "thruster_stuck_on" else
                   "this vehicle has no back-away thruster: spacecraft.thrusters."
                   "backaway_force_n = 0")
            raise ctx.error(f"{path}.index", f"expected a thruster slot 0 to {last} ({why}), "
                                             f"got {v['index']}")
        if v["branch"] == "B" and thr.branches < 2:
            raise ctx.error(f"{path}.branch", "'B' needs spacecraft.thrusters.branches = 2; "
                                              "this vehicle has branch A only")
        if v["branch"] == "B" and v["index"] == BACKAWAY_SLOT:
            raise ctx.error(f"{path}.branch", "the back-away thruster (index 6) has no branch "
                                              "B; expected 'A' or no branch")
    if kind == "wheel_failure" and v["index"] >= sc.spacecraft.wheels.count:
        raise ctx.error(f"{path}.index", f"expected a wheel 0 to "
                                         f"{sc.spacecraft.wheels.count - 1} (spacecraft.wheels."
                                         f"count = {sc.spacecraft.wheels.count}), "
                                         f"got {v['index']}")
    if kind == "spectrometer_loss" and sc.prospect is None:
        raise ctx.error(f"{path}.kind", "spectrometer_loss needs a scenario that flies the "
                                        "spectrometer (a [prospect] table); this one has none")
    if kind == "sampler_gas_failure" and sc.tag is None and sc.prospect is None:
        raise ctx.error(f"{path}.kind", "sampler_gas_failure needs a scenario that uses the "
                                        "sampler (a [tag] or [prospect] table); this one has "
                                        "neither")


def hil_only_faults(sc: Scenario) -> list[tuple[int, FaultConfig]]:
    """(entry number, fault) of the faults only the HIL rig can inject (the board's)."""
    return [(i, f) for i, f in enumerate(sc.faults) if FAULT_KINDS[f.kind].hil_only]


def sil_refusal(sc: Scenario) -> str | None:
    """The one-line reason a SIL run cannot fly `sc` (a board fault), or None."""
    for i, fault in hil_only_faults(sc):
        where = f"{sc.source}: " if sc.source else ""
        return (f"{where}faults[{i}].kind: {fault.kind} is a fault of the HIL devboard; the "
                f"simulator alone has no board (fly it with prospector hil)")
    return None


def describe_kinds() -> str:
    """One line per kind: its keys and what it does (for docs and --help)."""
    lines = []
    for name, kind in FAULT_KINDS.items():
        keys = ", ".join(k + ("" if k in kind.required else "?") for k in kind.keys)
        hil = " [HIL only]" if kind.hil_only else ""
        lines.append(f"{name}({keys}){hil}: {kind.what}; monitor {kind.monitor}")
    return "\n".join(lines)
