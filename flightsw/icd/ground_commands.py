"""The ground-command table: every command the ground may send, defined once.

Each entry names the command as scenarios and operators write it, its MAVLink
command id, its arguments (unit, range, integer or a closed set), the modes in
which the flight software accepts it and one line of description.  The flight
dispatcher registers commands from it, the scenario validator checks a
scenario's command list against it, the uplink (`command_message`) builds the
message a ground station sends from it, and docs/commands.md is generated from
it (tools/gen_command_docs.py).  A limit changed here changes everywhere.

SET_PARAM is in the table for the scenario and the uplink, but on the wire it is
a PARAM_SET message handled by the parameter service, not a COMMAND_LONG.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from flightsw.icd import mavlink

N_COMMAND_PARAMS = 7
HOVER_POINT_MIN_M = 300.0  # outside Bennu's circumscribing sphere
HOVER_POINT_MAX_M = 100_000.0  # still proximity operations
MAX_SITE_RANK = 10
# The highest PROBE_MONITOR id: an id above it names no monitor (INVALID_PARAM).
MAX_MONITOR_ID = max(v for k, v in vars(mavlink).items() if k.startswith("PROBE_MONITOR_")
                     and k != "PROBE_MONITOR_ENUM_END")
GROUND_SELECTABLE_MODES = ("SAFE", "STANDBY", "HOVER")
# The ground addresses the probe as target system 1, component 1 (autopilot).
PROBE_SYSTEM_ID = 1
PROBE_COMPONENT_ID = 1


@dataclass(frozen=True)
class Arg:
    """One command argument.  `kind` is "number", "mode" (a mode name on the uplink,
    its number on the wire) or "param_name"."""

    name: str
    unit: str = ""
    kind: str = "number"
    low: float | None = None
    high: float | None = None
    integer: bool = False
    choices: tuple = ()
    default: float | None = None  # set: the argument may be left out
    label: str = ""  # how the flight software names it in a refusal
    rule: str = ""  # what a refusal says it must be

    def check(self, value: float) -> str | None:
        """None when `value` is acceptable, else the refusal the operator reads."""
        if self.kind != "number":
            return None
        bad = (not math.isfinite(value)
               or (self.integer and value != int(value))
               or (self.choices and value not in self.choices)
               or (self.low is not None and value < self.low)
               or (self.high is not None and value > self.high))
        return f"{self.label or self.name} must be {self.rule}, got {value}" if bad else None


@dataclass(frozen=True)
class GroundCommand:
    name: str
    command_id: int | None  # MAV_CMD; None: not a COMMAND_LONG (SET_PARAM)
    args: tuple[Arg, ...]
    allowed_modes: tuple[str, ...] | None  # mode names; None: any mode
    description: str
    check_all: Callable[[tuple], str | None] | None = None  # a rule over several args

    @property
    def required_args(self) -> int:
        return sum(1 for a in self.args if a.default is None)

    def validate(self, params) -> str | None:
        """The flight-side check of a COMMAND_LONG's parameters (param1 is args[0])."""
        for arg, value in zip(self.args, params, strict=False):
            reason = arg.check(value)
            if reason is not None:
                return reason
        return self.check_all(tuple(params[:len(self.args)])) if self.check_all else None

    @property
    def unused_params(self) -> tuple[int, ...]:
        """1-based COMMAND_LONG parameters the command does not use (must be 0 or NaN)."""
        return tuple(range(len(self.args) + 1, N_COMMAND_PARAMS + 1))


def _hover_point_radius(point: tuple) -> str | None:
    r = math.sqrt(point[0] ** 2 + point[1] ** 2 + point[2] ** 2)
    if not HOVER_POINT_MIN_M <= r <= HOVER_POINT_MAX_M:
        return (f"hover point radius {r:.1f} m outside [{HOVER_POINT_MIN_M:.0f}, "
                f"{HOVER_POINT_MAX_M:.0f}] m")
    return None


_NO_ARGS: tuple[Arg, ...] = ()

GROUND_COMMANDS: tuple[GroundCommand, ...] = (
    GroundCommand(
        "SET_MODE", mavlink.MAV_CMD_DO_SET_MODE,
        (Arg("mode", kind="mode", choices=GROUND_SELECTABLE_MODES),), None,
        "Switch to a ground-selectable mode; the others are entered by their own command."),
    GroundCommand(
        "SET_HOVER_POINT", mavlink.PROBE_CMD_SET_HOVER_POINT,
        (Arg("x", "m"), Arg("y", "m"), Arg("z", "m")), None,
        f"Hover at this body-fixed point (radius {HOVER_POINT_MIN_M:.0f} to "
        f"{HOVER_POINT_MAX_M:.0f} m).", check_all=_hover_point_radius),
    GroundCommand(
        "SET_PARAM", None, (Arg("name", kind="param_name"), Arg("value")), None,
        "Set a flight parameter (a PARAM_SET on the wire; the parameter table checks it)."),
    GroundCommand(
        "START_TAG", mavlink.PROBE_CMD_START_TAG, _NO_ARGS, ("HOVER",),
        "Start the touch-and-go descent to the target on board (from above it)."),
    GroundCommand(
        "WAVE_OFF", mavlink.PROBE_CMD_WAVE_OFF, _NO_ARGS, ("DESCENT",),
        "Abandon the descent: back away, climb to the safe height, hover."),
    GroundCommand(
        "MEASURE_MASS", mavlink.PROBE_CMD_MEASURE_MASS,
        (Arg("which", integer=True, choices=(0.0, 1.0), label="param1",
             rule="0 (baseline) or 1 (after sampling)"),), ("HOVER",),
        "Spin test: 0 measures the baseline inertia, 1 the inertia after sampling."),
    GroundCommand(
        "START_SURVEY", mavlink.PROBE_CMD_START_SURVEY,
        (Arg("scan_duration", "s", low=0.0, default=0.0, label="scan duration",
             rule=">= 0 s (0 = PRS_MAX_SCAN_S)"),), ("HOVER",),
        "Start the spectral survey from the survey station (0 s: PRS_MAX_SCAN_S)."),
    GroundCommand(
        "CHOOSE_SITE", mavlink.PROBE_CMD_CHOOSE_SITE,
        (Arg("rank", integer=True, low=1, high=MAX_SITE_RANK,
             rule=f"an integer 1..{MAX_SITE_RANK}"),), ("HOVER", "SURVEY"),
        "Hand the candidate of this rank (1 = best) to touch-and-go guidance."),
    GroundCommand(
        "MONITOR_ENABLE", mavlink.PROBE_CMD_MONITOR_ENABLE,
        (Arg("monitor", integer=True, low=0, high=MAX_MONITOR_ID,
             rule=f"a monitor id 0..{MAX_MONITOR_ID} (PROBE_MONITOR)"),
         Arg("enable", integer=True, choices=(0.0, 1.0), rule="0 (disable) or 1 (enable)")),
        None, "Enable or disable a fault-protection monitor (docs/fault_protection.md)."),
    GroundCommand(
        "MONITOR_RESET", mavlink.PROBE_CMD_MONITOR_RESET,
        (Arg("monitor", integer=True, low=0, high=MAX_MONITOR_ID,
             rule=f"a monitor id 0..{MAX_MONITOR_ID} (PROBE_MONITOR)"),), None,
        "Clear a monitor's persistence count and trip so that it may trip again."),
    GroundCommand(
        "DUMP_MOMENTUM", mavlink.PROBE_CMD_DUMP_MOMENTUM, _NO_ARGS, None,
        "Unload the wheels' momentum with the attitude-control thruster couples."),
    GroundCommand(
        "RESET_SCHED_STATS", mavlink.PROBE_CMD_RESET_SCHED_STATS, _NO_ARGS, None,
        "Reset the scheduler's execution-time statistics."),
)

BY_NAME = {c.name: c for c in GROUND_COMMANDS}
BY_ID = {c.command_id: c for c in GROUND_COMMANDS if c.command_id is not None}


def mode_number(name: str) -> int:
    return getattr(mavlink, f"PROBE_MODE_{name}")


def command_message(name: str, args: tuple = (), param_type: int | None = None):
    """The MAVLink message a ground station sends for a command of the table.

    `args` as a scenario writes them (a mode name for SET_MODE, a parameter name
    for SET_PARAM); left-out arguments take their defaults.  `param_type` is the
    MAV_PARAM_TYPE of a SET_PARAM (REAL32 when not given).
    """
    cmd = BY_NAME.get(name)
    if cmd is None:
        raise ValueError(f"unknown ground command {name!r}")
    if name == "SET_PARAM":
        wire = mavlink.MAV_PARAM_TYPE_REAL32 if param_type is None else param_type
        return mavlink.MAVLink_param_set_message(PROBE_SYSTEM_ID, PROBE_COMPONENT_ID,
                                                 str(args[0]).encode(), float(args[1]), wire)
    if name == "SET_MODE":
        # The probe has no MAVLink base modes: the mode is the custom mode, param2.
        params = [float(mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED),
                  float(mode_number(str(args[0])))]
    else:
        params = [float(a) for a in args]
        params += [float(a.default) for a in cmd.args[len(params):]]
    params += [0.0] * (N_COMMAND_PARAMS - len(params))
    return mavlink.MAVLink_command_long_message(PROBE_SYSTEM_ID, PROBE_COMPONENT_ID,
                                                cmd.command_id, 0, *params)
