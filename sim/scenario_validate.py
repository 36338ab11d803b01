"""Validation of a parsed scenario: every table checked against its rules, then built.

`validate` takes the TOML data (overrides already applied) and gives back a `Scenario`, or
raises the first problem as a one-line `ScenarioError` naming the file, the dotted key and
what was expected. Missing keys are filled from `DEFAULTS` and, for [body], from `BODIES`.
"""

import difflib
import math
import numbers
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from flightsw.icd.ground_commands import BY_NAME as GROUND_COMMAND_TABLE
from flightsw.icd.ground_commands import GroundCommand
from sim.scenario_defaults import BODIES, DEFAULTS
from sim.scenario_errors import ScenarioError, join_key, number_text, show_value
from sim.scenario_schema import (
    ANY_NUMBER,
    BODY_NAME,
    BODY_SCHEMA,
    COMMAND_KEYS,
    COMMAND_NAME,
    COMMAND_TIME,
    DISPERSIONS_SCHEMA,
    HAZARD_SCHEMA,
    HOVER_RADIUS_MAX_M,
    HOVER_RADIUS_MIN_M,
    INITIAL_SCHEMA,
    MODE_NAME,
    PARAM_NAME_RE,
    PARAM_NAME_RULE,
    PROSPECT_SCHEMA,
    SCENARIO_SCHEMA,
    SENSORS_SCHEMA,
    SPACECRAFT_SCHEMA,
    TAG_SCHEMA,
    TOP_KEYS,
    UNIT_VECTOR_TOLERANCE,
    FlagRule,
    NumberRule,
    TextRule,
    VectorRule,
)
from sim.scenario_values import (
    BodyConfig,
    DispersionsConfig,
    HazardConfig,
    ImuConfig,
    InitialConfig,
    LidarConfig,
    NavCamConfig,
    PowerSensorConfig,
    ProspectConfig,
    RunConfig,
    SamplerSensorConfig,
    Scenario,
    ScheduledCommand,
    SensorsConfig,
    SpacecraftConfig,
    StarTrackerConfig,
    TagConfig,
    ThrusterConfig,
    WheelConfig,
    WheelTachConfig,
)


def validate(label: str | None, raw: dict[str, Any], source: str) -> Scenario:
    """The validated `Scenario` of TOML data `raw` read from `source`; `label` names the
    file in error messages (None when there is no file)."""
    return _build(Context(label), raw, source)


class Context:
    def __init__(self, label: str | None):
        self.label = label

    def error(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(self.label, key, problem)


def _build(ctx: Context, raw: dict[str, Any], source: str) -> Scenario:
    reject_unknown(ctx, raw, TOP_KEYS, "")
    run = _check_table(ctx, _get(ctx, raw, "scenario", "", "a table"), SCENARIO_SCHEMA,
                       "scenario", DEFAULTS)
    body = _check_body(ctx, _get(ctx, raw, "body", "", "a table"))
    spacecraft = _check_table(ctx, _get(ctx, raw, "spacecraft", "", "a table"),
                              SPACECRAFT_SCHEMA, "spacecraft", DEFAULTS)
    initial = _check_table(ctx, _get(ctx, raw, "initial", "", "a table"), INITIAL_SCHEMA,
                           "initial", DEFAULTS)
    sensors = _check_table(ctx, _get(ctx, raw, "sensors", "", "a table"), SENSORS_SCHEMA,
                           "sensors", DEFAULTS)

    _check_inertia(ctx, spacecraft["inertia_kgm2"], "spacecraft.inertia_kgm2")
    spacecraft["instrument_boresight_sc"] = _unit_vector(
        ctx, spacecraft["instrument_boresight_sc"], "spacecraft.instrument_boresight_sc")
    wheels = spacecraft["wheels"]
    if abs(wheels["initial_speed_radps"]) > wheels["max_speed_radps"]:
        raise ctx.error("spacecraft.wheels.initial_speed_radps",
                        "expected a number between -max_speed_radps and max_speed_radps "
                        f"({number_text(wheels['max_speed_radps'])}), "
                        f"got {show_value(wheels['initial_speed_radps'])}")
    _check_hover_point(ctx, initial["hover_point_bf_m"], "initial.hover_point_bf_m")
    for sensor, table in sensors.items():
        _check_rate(ctx, table["rate_hz"], run["sim_rate_hz"], f"sensors.{sensor}.rate_hz")

    commands = _check_commands(ctx, _get(ctx, raw, "commands", "", "an array of tables"),
                               run["duration_s"])
    params = _check_params(ctx, _get(ctx, raw, "params", "", "a table"))
    dispersions = _check_table(ctx, _get(ctx, raw, "dispersions", "", "a table"),
                               DISPERSIONS_SCHEMA, "dispersions", DEFAULTS)
    tag = _check_tag(ctx, raw.get("tag"))
    prospect = None
    if raw.get("prospect") is not None:
        table = _check_table(ctx, raw["prospect"], PROSPECT_SCHEMA, "prospect", DEFAULTS)
        for key in ("boulder_radius_m", "boulder_height_m"):
            lo, hi = table[key]
            if lo > hi:
                raise ctx.error(f"prospect.{key}", f"expected [low, high] with low <= high, "
                                                   f"got {show_value(list(table[key]))}")
        prospect = ProspectConfig(**{k: tuple(v) if isinstance(v, list) else v
                                     for k, v in table.items()})

    return Scenario(
        source=source,
        scenario=RunConfig(**run),
        body=BodyConfig(**body),
        spacecraft=SpacecraftConfig(
            thrusters=ThrusterConfig(**spacecraft.pop("thrusters")),
            wheels=WheelConfig(**spacecraft.pop("wheels")),
            **spacecraft),
        initial=InitialConfig(**initial),
        sensors=SensorsConfig(
            imu=ImuConfig(**sensors["imu"]),
            star_tracker=StarTrackerConfig(**sensors["star_tracker"]),
            lidar=LidarConfig(**sensors["lidar"]),
            navcam=NavCamConfig(**sensors["navcam"]),
            wheel_tach=WheelTachConfig(**sensors["wheel_tach"]),
            power=PowerSensorConfig(**sensors["power"]),
            sampler=SamplerSensorConfig(**sensors["sampler"])),
        commands=commands,
        params=params,
        dispersions=DispersionsConfig(**dispersions),
        tag=tag,
        prospect=prospect,
    )


def _check_tag(ctx: Context, raw: Any) -> TagConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ctx.error("tag", f"expected a table, got {show_value(raw)}")
    hazards_raw = raw.get("hazards", ())
    plain = {k: v for k, v in raw.items() if k != "hazards"}
    table = _check_table(ctx, plain, TAG_SCHEMA, "tag", DEFAULTS)
    if not isinstance(hazards_raw, (list, tuple)):
        raise ctx.error("tag.hazards",
                        f"expected an array of tables, got {show_value(hazards_raw)}")
    hazards = []
    for i, entry in enumerate(hazards_raw):
        path = f"tag.hazards[{i}]"
        if not isinstance(entry, dict):
            raise ctx.error(path, f"expected a table, got {show_value(entry)}")
        mapped = entry.get("mapped", True)
        if not isinstance(mapped, bool):
            raise ctx.error(f"{path}.mapped", f"expected true or false, got {show_value(mapped)}")
        rest = {k: v for k, v in entry.items() if k != "mapped"}
        checked = _check_table(ctx, rest, HAZARD_SCHEMA, path, {})
        hazards.append(HazardConfig(tuple(checked["latlon_deg"]), checked["radius_m"],
                                    checked["height_m"], mapped))
    for key in ("regolith_density_kgm3", "fine_fraction"):
        lo, hi = table[key]
        if lo > hi:
            raise ctx.error(f"tag.{key}", f"expected [low, high] with low <= high, got "
                                          f"{show_value(list(table[key]))}")
    lat = table["target_latlon_deg"][0]
    if not -90.0 <= lat <= 90.0:
        raise ctx.error("tag.target_latlon_deg", f"expected a latitude in [-90, 90] deg, "
                                                 f"got {number_text(lat)}")
    return TagConfig(
        target_latlon_deg=tuple(table["target_latlon_deg"]),
        safe_home_height_m=table["safe_home_height_m"],
        slope_limit_deg=table["slope_limit_deg"],
        hazards=tuple(hazards),
        regolith_density_kgm3=tuple(table["regolith_density_kgm3"]),
        fine_fraction=tuple(table["fine_fraction"]),
        sampler_capacity_kg=table["sampler_capacity_kg"],
        contact_switch_failed=table["contact_switch_failed"],
        regolith_stiffness_npm=table["regolith_stiffness_npm"],
        regolith_damping_nspm=table["regolith_damping_nspm"],
        friction=table["friction"],
        regolith_density_true_kgm3=table["regolith_density_true_kgm3"],
        fine_fraction_true=table["fine_fraction_true"],
    )


def _get(ctx: Context, table: dict[str, Any], name: str, path: str, expected: str) -> Any:
    key = join_key(path, name)
    if name in table:
        return table[name]
    if key in DEFAULTS:
        return DEFAULTS[key]
    raise ctx.error(key, f"missing (expected {expected})")


def reject_unknown(ctx: Context, table: dict[str, Any], known: Iterable[str],
                    path: str) -> None:
    known = list(known)
    unknown = [k for k in table if k not in known]
    if not unknown:
        return
    first = unknown[0]
    close = difflib.get_close_matches(str(first), known, n=1)
    problem = "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    if len(unknown) > 1:
        problem += f"; also unknown here: {', '.join(join_key('', k) for k in unknown[1:])}"
    where = f"[{path}]" if path else "the top level"
    raise ctx.error(join_key(path, first), f"{problem}; known keys in {where}: {', '.join(known)}")


def _check_table(ctx: Context, raw: Any, schema: dict[str, Any], path: str,
                 defaults: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ctx.error(path, f"expected a table, got {show_value(raw)}")
    reject_unknown(ctx, raw, schema, path)
    out: dict[str, Any] = {}
    for name, spec in schema.items():
        key = join_key(path, name)
        if name in raw:
            value = raw[name]
        elif key in defaults:
            value = defaults[key]
            if value is None and not isinstance(spec, dict):
                out[name] = None  # an optional key left unset
                continue
        else:
            expected = "a table" if isinstance(spec, dict) else spec.describe()
            raise ctx.error(key, f"missing (expected {expected})")
        if isinstance(spec, dict):
            out[name] = _check_table(ctx, value, spec, key, defaults)
        else:
            out[name] = check_value(ctx, value, spec, key)
    return out


def _check_body(ctx: Context, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ctx.error("body", f"expected a table, got {show_value(raw)}")
    if "name" not in raw:
        raise ctx.error("body.name", f"missing (expected {BODY_NAME.describe()})")
    name = check_value(ctx, raw["name"], BODY_NAME, "body.name")
    defaults = {**DEFAULTS, **{f"body.{k}": v for k, v in BODIES[name].items()}}
    return _check_table(ctx, raw, BODY_SCHEMA, "body", defaults)


def check_value(ctx: Context, value: Any, spec: Any, key: str) -> Any:
    if isinstance(spec, NumberRule):
        return _check_number(ctx, value, spec, key)
    if isinstance(spec, TextRule):
        return _check_text(ctx, value, spec, key)
    if isinstance(spec, FlagRule):
        if not isinstance(value, bool):
            raise ctx.error(key, f"expected {spec.describe()}, got {show_value(value)}")
        return value
    return _check_vector(ctx, value, spec, key)


def _check_number(ctx: Context, value: Any, spec: NumberRule, key: str) -> float | int:
    expected = f"expected {spec.describe()}, got {show_value(value)}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ctx.error(key, expected)
    if spec.integer:
        if not isinstance(value, numbers.Integral):
            raise ctx.error(key, expected)
        number: float | int = int(value)
    else:
        try:
            number = float(value)
        except (OverflowError, ValueError, TypeError):
            raise ctx.error(key, expected) from None
        if not math.isfinite(number):
            raise ctx.error(key, expected)
    if spec.choices is not None:
        ok = number in spec.choices
    else:
        ok = ((spec.gt is None or number > spec.gt) and (spec.ge is None or number >= spec.ge)
              and (spec.lt is None or number < spec.lt)
              and (spec.le is None or number <= spec.le))
    if not ok:
        raise ctx.error(key, expected)
    return number


def _check_text(ctx: Context, value: Any, spec: TextRule, key: str) -> str:
    if not isinstance(value, str) or (spec.nonempty and not value.strip()):
        raise ctx.error(key, f"expected {spec.describe()}, got {show_value(value)}")
    if spec.choices is not None and value not in spec.choices:
        close = difflib.get_close_matches(value, spec.choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ctx.error(key, f"expected {spec.describe()}, got {show_value(value)}{hint}")
    return value


def as_list(value: Any) -> list[Any] | None:
    if isinstance(value, (list, tuple)):
        return list(value)
    if getattr(value, "ndim", None) == 1:  # a 1-D numpy array given as an override
        return list(value)
    return None


def _check_vector(ctx: Context, value: Any, spec: VectorRule, key: str) -> tuple[float, ...]:
    items = as_list(value)
    if items is None:
        raise ctx.error(key, f"expected {spec.describe()}, got {show_value(value)}")
    if len(items) != spec.length:
        raise ctx.error(key, f"expected {spec.describe()}, got {len(items)} "
                             f"element{'s' if len(items) != 1 else ''}: {show_value(value)}")
    return tuple(float(_check_number(ctx, v, spec.element, f"{key}[{i}]"))
                 for i, v in enumerate(items))


def _check_inertia(ctx: Context, moments: tuple[float, ...], key: str) -> None:
    # A rigid body's principal moments obey the triangle inequality; a violation is
    # almost always a typo, and the attitude dynamics would be unphysical.
    for i in range(3):
        if moments[i] > moments[(i + 1) % 3] + moments[(i + 2) % 3]:
            raise ctx.error(key, "expected principal moments obeying the triangle inequality "
                                 f"(each <= the sum of the other two), got {show_value(moments)}")


def _unit_vector(ctx: Context, vector: tuple[float, ...], key: str) -> tuple[float, ...]:
    norm = math.sqrt(sum(c * c for c in vector))
    if abs(norm - 1.0) > UNIT_VECTOR_TOLERANCE:
        raise ctx.error(key, f"expected a unit vector (norm within {UNIT_VECTOR_TOLERANCE:g} "
                             f"of 1), got {show_value(vector)} with norm {norm:.6g}")
    return tuple(c / norm for c in vector)


def _check_hover_point(ctx: Context, point: tuple[float, ...], key: str) -> None:
    radius_m = math.sqrt(sum(c * c for c in point))
    if not HOVER_RADIUS_MIN_M <= radius_m <= HOVER_RADIUS_MAX_M:
        raise ctx.error(key, f"expected a body-fixed point {number_text(HOVER_RADIUS_MIN_M)} to "
                             f"{number_text(HOVER_RADIUS_MAX_M)} m from the body's centre (outside "
                             f"the body), got {show_value(point)} at {radius_m:.6g} m")


def _check_rate(ctx: Context, rate_hz: float, sim_rate_hz: float, key: str) -> None:
    if rate_hz > sim_rate_hz:
        raise ctx.error(key, f"expected a number > 0 and <= scenario.sim_rate_hz "
                             f"({number_text(sim_rate_hz)}), got {number_text(rate_hz)}")
    ratio = sim_rate_hz / rate_hz
    if not math.isfinite(ratio) or ratio > 1e9:
        raise ctx.error(key, f"expected a rate that divides scenario.sim_rate_hz "
                             f"({number_text(sim_rate_hz)}) at most 1e9 times, "
                             f"got {number_text(rate_hz)}")
    if abs(ratio - round(ratio)) > 1e-9 * ratio:
        raise ctx.error(key, f"expected a rate that divides scenario.sim_rate_hz "
                             f"({number_text(sim_rate_hz)}) evenly (sim_rate_hz / rate_hz must be "
                             f"an integer, here {ratio:.6g}), got {number_text(rate_hz)}")


def _check_commands(ctx: Context, raw: Any, duration_s: float) -> tuple[ScheduledCommand, ...]:
    entries = as_list(raw)
    if entries is None:
        raise ctx.error("commands", "expected an array of tables ([[commands]] entries), "
                                    f"got {show_value(raw)}")
    commands: list[ScheduledCommand] = []
    for i, entry in enumerate(entries):
        path = f"commands[{i}]"
        if not isinstance(entry, dict):
            raise ctx.error(path, f"expected a table with t_s, name, args, got {show_value(entry)}")
        reject_unknown(ctx, entry, COMMAND_KEYS, path)
        for required in ("t_s", "name"):
            if required not in entry:
                spec = COMMAND_TIME if required == "t_s" else COMMAND_NAME
                raise ctx.error(f"{path}.{required}", f"missing (expected {spec.describe()})")
        t_s = float(_check_number(ctx, entry["t_s"], COMMAND_TIME, f"{path}.t_s"))
        # A command after the end is kept but never sent: shortening a run with
        # --duration must not turn a good scenario into a bad one.
        if commands and t_s < commands[-1].t_s:
            raise ctx.error(f"{path}.t_s", "expected times in non-decreasing order, got "
                                           f"{show_value(entry['t_s'])}, earlier than "
                                           f"commands[{i - 1}].t_s = "
                                           f"{number_text(commands[-1].t_s)}")
        name = _check_text(ctx, entry["name"], COMMAND_NAME, f"{path}.name")
        args = entry.get("args", DEFAULTS["commands[].args"])
        commands.append(ScheduledCommand(t_s, name, _check_args(ctx, name, args,
                                                                f"{path}.args")))
    return tuple(commands)


def _describe_args(cmd: GroundCommand) -> str:
    """What a command's arguments must be, from the ground-command table."""
    if not cmd.args:
        return "no arguments"
    parts = []
    for arg in cmd.args:
        if arg.kind == "mode":
            text = "a mode name, one of " + ", ".join(repr(m) for m in arg.choices)
        elif arg.kind == "param_name":
            text = "a parameter name"
        else:
            text = f"{arg.name}" + (f" in {arg.unit}" if arg.unit else "")
            text += f" ({arg.rule})" if arg.rule else ""
        parts.append(text + (f", default {number_text(arg.default)}" if arg.default is not None
                             else ""))
    n = len(cmd.args)
    count = f"{n} argument{'s' if n > 1 else ''}"
    if cmd.required_args != n:
        count = f"{cmd.required_args} to {count}"
    return f"{count}: " + "; ".join(parts)


def _check_args(ctx: Context, name: str, raw: Any, key: str) -> tuple[str | float, ...]:
    cmd = GROUND_COMMAND_TABLE[name]
    args = as_list(raw)
    if args is None or not cmd.required_args <= len(args) <= len(cmd.args):
        got = show_value(raw) if args is None else f"{len(args)}: {show_value(raw)}"
        raise ctx.error(key, f"{name} expects {_describe_args(cmd)}, got {got}")
    values: list[str | float] = []
    for i, (arg, value) in enumerate(zip(cmd.args, args, strict=False)):
        if arg.kind == "mode":
            values.append(_check_text(ctx, value, MODE_NAME, f"{key}[{i}]"))
        elif arg.kind == "param_name":
            _check_param_name(ctx, value, f"{key}[{i}]")
            values.append(value)
        else:
            rule = NumberRule(ge=arg.low, le=arg.high, integer=arg.integer,
                           choices=tuple(int(c) for c in arg.choices) or None)
            values.append(float(_check_number(ctx, value, rule, f"{key}[{i}]")))
    if name == "SET_HOVER_POINT":
        _check_hover_point(ctx, tuple(values), key)
    return tuple(values)


def _check_param_name(ctx: Context, name: Any, key: str) -> None:
    if not isinstance(name, str) or not PARAM_NAME_RE.fullmatch(name):
        raise ctx.error(key, f"expected {PARAM_NAME_RULE}, got {show_value(name)}")


def _check_params(ctx: Context, raw: Any) -> Mapping[str, float]:
    if not isinstance(raw, Mapping):
        raise ctx.error("params", f"expected a table of name = number, got {show_value(raw)}")
    params: dict[str, float] = {}
    for name, value in raw.items():
        key = join_key("params", name)
        if not isinstance(name, str) or not PARAM_NAME_RE.fullmatch(name):
            raise ctx.error(key, f"expected {PARAM_NAME_RULE} as the key")
        params[name] = float(_check_number(ctx, value, ANY_NUMBER, key))
    return MappingProxyType(params)
