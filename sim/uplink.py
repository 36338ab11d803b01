"""The uplink of a run: what a ground station sends, built from the ground-command
table (flightsw/icd/ground_commands.py).  The SIL runner, the HIL rig and replay
build their time-tagged uplink here and nowhere else."""

from flightsw.icd.ground_commands import command_message
from flightsw.params_table import FLIGHT_PARAMS

PARAM_SPECS = {spec.name: spec for spec in FLIGHT_PARAMS}


def ground_message(cmd):
    """A scenario command (`name`, `args`) as the MAVLink message a ground station sends."""
    if cmd.name == "SET_PARAM":
        return param_set_message(str(cmd.args[0]), float(cmd.args[1]))
    return command_message(cmd.name, tuple(cmd.args))


def param_set_message(name: str, value):
    """PARAM_SET with the parameter's own wire type (REAL32 for an unknown name: the
    flight software answers it with PARAM_ERROR, which is the point of sending it)."""
    spec = PARAM_SPECS.get(name)
    wire_type = spec.wire_type if spec is not None else None
    return command_message("SET_PARAM", (name, value), param_type=wire_type)


def time_tagged_uplink(param_overrides: dict, commands) -> list:
    """(t_us, message) of a run: parameter overrides at t = 0, then the scenario's
    commands at their times."""
    uplink = [(0, param_set_message(name, value))
              for name, value in sorted(param_overrides.items())]
    uplink += [(int(round(c.t_s * 1e6)), ground_message(c)) for c in commands]
    return uplink
