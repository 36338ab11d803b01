"""Scenario loading: the packaged file, every category of bad input, overrides, robustness."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import pickle
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.scenario import (
    BODIES,
    DEFAULTS,
    Scenario,
    ScenarioError,
    known_scenarios,
    load_scenario,
)

PACKAGED = Path(__file__).resolve().parents[2] / "sim" / "scenarios" / "bennu-hover.toml"
GOOD_TEXT = PACKAGED.read_text(encoding="utf-8")
GOOD: dict[str, Any] = tomllib.loads(GOOD_TEXT)
DELETE = object()
meter = 1.0
degree = 1.0


# ----------------------------------------------------------------------------- helpers


def _toml_str(text: str) -> str:
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F or c in '"\\'
                      else c for c in text)
    return f'"{escaped}"'


def _toml_key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else _toml_str(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def to_toml(data: dict[str, Any], path: str = "") -> str:
    """A small TOML writer: enough for scenario dicts, so tests can mutate parsed data."""
    lines = []
    for key, value in data.items():
        if not isinstance(value, dict) and not _is_table_array(value):
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in data.items():
        sub = f"{path}.{_toml_key(key)}" if path else _toml_key(key)
        if isinstance(value, dict):
            lines.append(f"\n[{sub}]")
            lines.append(to_toml(value, sub))
        elif _is_table_array(value):
            for entry in value:
                lines.append(f"\n[[{sub}]]")
                lines.append(to_toml(entry, sub))
    return "\n".join(lines)


def mutate(data: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def write(folder: Path, data: dict[str, Any], name: str = "case.toml") -> Path:
    path = folder / name
    path.write_text(to_toml(data), encoding="utf-8")
    return path


def assert_one_line_error(err: ScenarioError, path: Path, key: str | None) -> str:
    message = str(err)
    assert "\n" not in message and "\r" not in message
    assert str(path) in message and path.name in message
    if key is not None:
        assert err.key == key
        assert f": {key}" in message
    return message


# ----------------------------------------------------------------------------- good file


def test_packaged_scenario_is_known_and_loads_with_expected_values():
    assert "bennu-hover" in known_scenarios()
    s = load_scenario("bennu-hover")
    assert Path(s.source) == PACKAGED
    assert s.scenario.name == "bennu-hover"
    assert s.scenario.duration_s == 21600.0 and s.scenario.seed == 1
    assert s.scenario.epoch_unix_s == 1603152000.0 and s.scenario.sim_rate_hz == 10.0
    assert s.body.name == "bennu"
    assert s.body.gm_m3s2 == 4.892 and s.body.rotation_period_h == 4.296057
    assert (s.body.pole_ra_deg, s.body.pole_dec_deg) == (85.65, -60.17)
    assert s.body.extent_m == (565.0, 535.0, 508.0) and s.body.shape_subdivisions == 3
    assert s.spacecraft.mass_kg == 1500.0
    assert s.spacecraft.inertia_kgm2 == (2400.0, 2100.0, 1700.0)
    assert s.spacecraft.instrument_boresight_sc == (0.0, 0.0, 1.0)
    t = s.spacecraft.thrusters
    assert (t.force_n, t.min_impulse_bit_ns, t.magnitude_sigma_frac,
            t.misalignment_sigma_deg) == (1.0, 0.005, 0.01, 0.2)
    w = s.spacecraft.wheels
    assert (w.count, w.inertia_kgm2, w.max_torque_nm, w.max_speed_radps,
            w.initial_speed_radps) == (4, 0.12, 0.2, 600.0, 0.0)
    x, y, z = s.initial.hover_point_bf_m
    radius_m = math.hypot(x, y, z)
    latitude_deg = math.degrees(math.asin(z / radius_m))
    assert abs(radius_m - 1250 * meter) < 5 * meter
    assert abs(latitude_deg - 30 * degree) < 0.5 * degree
    assert (s.initial.position_sigma_m, s.initial.velocity_sigma_mps,
            s.initial.attitude_sigma_deg, s.initial.rate_sigma_degps) == (1.0, 0.001, 0.05, 0.001)
    imu = s.sensors.imu
    assert (imu.rate_hz, imu.accel_noise_mps2, imu.accel_bias_sigma_mps2,
            imu.gyro_noise_radps, imu.gyro_bias_sigma_radps) == (10.0, 1e-5, 2e-5, 1e-6, 1e-6)
    st_ = s.sensors.star_tracker
    assert (st_.rate_hz, st_.sigma_arcsec, st_.dropout_prob) == (5.0, 5.0, 0.001)
    lidar = s.sensors.lidar
    assert (lidar.rate_hz, lidar.sigma_m, lidar.max_range_m, lidar.dropout_prob) == (
        1.0, 0.1, 5000.0, 0.01)
    nav = s.sensors.navcam
    assert (nav.rate_hz, nav.sigma_m, nav.dropout_prob) == (1.0, 0.5, 0.02)
    assert (s.sensors.wheel_tach.rate_hz, s.sensors.wheel_tach.sigma_radps) == (1.0, 0.01)
    assert s.sensors.power.rate_hz == 0.1
    assert [(c.t_s, c.name, c.args) for c in s.commands] == [
        (0.0, "SET_MODE", ("STANDBY",)), (5.0, "SET_MODE", ("HOVER",))]
    assert dict(s.params) == {}


def test_every_packaged_scenario_loads():
    for name in known_scenarios():
        assert load_scenario(name).source.endswith(f"{name}.toml")


def test_body_constants_match_the_bodies_table():
    body = load_scenario("bennu-hover").body
    for key, value in BODIES["bennu"].items():
        assert getattr(body, key) == value


def test_loading_by_path_equals_loading_by_name(tmp_path):
    by_name = load_scenario("bennu-hover")
    assert load_scenario(str(PACKAGED)) == by_name
    assert load_scenario(PACKAGED) == by_name
    copy_path = tmp_path / "copy.toml"
    copy_path.write_text(GOOD_TEXT, encoding="utf-8")
    by_copy = load_scenario(copy_path)
    assert by_copy.source == str(copy_path)
    assert dataclasses.replace(by_copy, source=by_name.source) == by_name


def test_scenario_is_immutable_and_hashable():
    s = load_scenario("bennu-hover")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.scenario.seed = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.params["KP"] = 1.0  # type: ignore[index]
    assert hash(s) == hash(load_scenario("bennu-hover"))


def test_to_dict_is_json_and_reloads_to_the_same_scenario(tmp_path):
    s = load_scenario("bennu-hover", overrides={"params.HOVER_KP": 0.5})
    d = s.to_dict()
    assert d["source"] == s.source
    assert d["sensors"]["imu"]["rate_hz"] == 10.0
    assert d["commands"][1] == {"t_s": 5.0, "name": "SET_MODE", "args": ["HOVER"]}
    json.dumps(d, allow_nan=False)
    del d["source"]
    again = load_scenario(write(tmp_path, d))
    assert dataclasses.replace(again, source=s.source) == s


def test_defaults_fill_every_optional_key(tmp_path):
    minimal = copy.deepcopy(GOOD)
    for section, key in [("scenario", "description"), ("scenario", "epoch_unix_s"),
                         ("scenario", "sim_rate_hz"), ("spacecraft", "instrument_boresight_sc")]:
        del minimal[section][key]
    for key in list(minimal["body"]):
        if key != "name":
            del minimal["body"][key]
    del minimal["spacecraft"]["wheels"]["count"]
    del minimal["spacecraft"]["wheels"]["initial_speed_radps"]
    del minimal["commands"]
    s = load_scenario(write(tmp_path, minimal))
    assert s.scenario.description == DEFAULTS["scenario.description"]
    assert s.scenario.epoch_unix_s == 1603152000.0
    assert s.scenario.sim_rate_hz == 10.0
    assert s.body == load_scenario("bennu-hover").body
    assert s.body.shape_subdivisions == 3
    assert s.spacecraft.instrument_boresight_sc == (0.0, 0.0, 1.0)
    assert (s.spacecraft.wheels.count, s.spacecraft.wheels.initial_speed_radps) == (4, 0.0)
    assert s.commands == () and dict(s.params) == {}


def test_body_keys_override_the_table_one_at_a_time():
    s = load_scenario("bennu-hover", overrides={"body.gm_m3s2": 5.0})
    assert s.body.gm_m3s2 == 5.0 and s.body.rotation_period_h == 4.296057


def test_boresight_is_normalised_within_tolerance():
    s = load_scenario("bennu-hover",
                      overrides={"spacecraft.instrument_boresight_sc": [0, 0.7071, 0.7071]})
    assert abs(math.hypot(*s.spacecraft.instrument_boresight_sc) - 1.0) < 1e-12


def test_commands_of_every_kind_parse(tmp_path):
    data = copy.deepcopy(GOOD)
    data["commands"] += [
        {"t_s": 5.0, "name": "SET_PARAM", "args": ["HOVER_KP", 2]},  # same time: allowed
        {"t_s": 60, "name": "SET_HOVER_POINT", "args": [0, 1000, 500.5]},
    ]
    data["params"] = {"NAV_GAIN": 3, "THIS_IS_16_CHARS": -1.5}
    s = load_scenario(write(tmp_path, data))
    assert s.commands[2].args == ("HOVER_KP", 2.0)
    assert s.commands[3].t_s == 60.0 and s.commands[3].args == (0.0, 1000.0, 500.5)
    assert dict(s.params) == {"NAV_GAIN": 3.0, "THIS_IS_16_CHARS": -1.5}


# ----------------------------------------------------------------------------- bad input

TOO_LONG = "PARAM_NAME_17_CHR"
BAD_CASES = [
    # missing keys
    ("missing-duration", ("scenario", "duration_s"), DELETE, "scenario.duration_s", "missing"),
    ("missing-imu-rate", ("sensors", "imu", "rate_hz"), DELETE, "sensors.imu.rate_hz",
     "missing (expected a number > 0"),
    ("missing-table", ("spacecraft", "thrusters"), DELETE, "spacecraft.thrusters", "missing"),
    ("missing-sensors", ("sensors",), DELETE, "sensors", "missing"),
    ("missing-body-name", ("body", "name"), DELETE, "body.name", "'bennu'"),
    ("missing-mass", ("spacecraft", "mass_kg"), DELETE, "spacecraft.mass_kg", "missing"),
    ("missing-hover", ("initial", "hover_point_bf_m"), DELETE, "initial.hover_point_bf_m",
     "array of 3"),
    ("missing-cmd-time", ("commands", 0, "t_s"), DELETE, "commands[0].t_s", "missing"),
    ("missing-cmd-name", ("commands", 1, "name"), DELETE, "commands[1].name", "SET_MODE"),
    # unknown keys
    ("typo", ("scenario", "duraton_s"), 5.0, "scenario.duraton_s", "did you mean 'duration_s'"),
    ("typo-imu", ("sensors", "imu", "rate_hzz"), 1.0, "sensors.imu.rate_hzz", "unknown key"),
    ("unknown-top", ("sensor",), {"imu": {"rate_hz": 1.0}}, "sensor", "unknown key"),
    ("unknown-sensor", ("sensors", "sun_sensor"), {"rate_hz": 1.0}, "sensors.sun_sensor",
     "known keys in [sensors]"),
    ("unknown-wheel", ("spacecraft", "wheels", "cout"), 4, "spacecraft.wheels.cout",
     "did you mean 'count'"),
    ("unknown-cmd-key", ("commands", 0, "time"), 1.0, "commands[0].time", "unknown key"),
    ("unknown-quoted", ("body", "gm m3s2"), 1.0, 'body."gm m3s2"', "unknown key"),
    # wrong types
    ("str-number", ("scenario", "duration_s"), "6h", "scenario.duration_s", "got '6h'"),
    ("float-int", ("scenario", "seed"), 1.5, "scenario.seed", "expected an integer"),
    ("bool-int", ("scenario", "seed"), True, "scenario.seed", "got true"),
    ("bool-number", ("spacecraft", "mass_kg"), True, "spacecraft.mass_kg", "got true"),
    ("float-count", ("spacecraft", "wheels", "count"), 4.0, "spacecraft.wheels.count",
     "integer"),
    ("int-name", ("scenario", "name"), 3, "scenario.name", "string"),
    ("empty-name", ("scenario", "name"), " ", "scenario.name", "non-empty"),
    ("int-description", ("scenario", "description"), 5, "scenario.description", "string"),
    ("not-table", ("sensors", "lidar"), 5, "sensors.lidar", "expected a table"),
    ("not-array", ("body", "extent_m"), "big", "body.extent_m", "array of 3 numbers"),
    ("str-element", ("spacecraft", "inertia_kgm2", 1), "x", "spacecraft.inertia_kgm2[1]",
     "got 'x'"),
    ("array-number", ("spacecraft", "mass_kg"), [1500.0], "spacecraft.mass_kg", "got [1500.0]"),
    # out of range
    ("rate-negative", ("sensors", "imu", "rate_hz"), -5, "sensors.imu.rate_hz", "got -5"),
    ("duration-zero", ("scenario", "duration_s"), 0, "scenario.duration_s", "> 0"),
    ("duration-long", ("scenario", "duration_s"), 31 * 86400.0, "scenario.duration_s",
     "<= 2592000 (30 days)"),
    ("seed-negative", ("scenario", "seed"), -1, "scenario.seed", ">= 0"),
    ("epoch-negative", ("scenario", "epoch_unix_s"), -1.0, "scenario.epoch_unix_s", ">= 0"),
    ("sim-rate-low", ("scenario", "sim_rate_hz"), 0.5, "scenario.sim_rate_hz", ">= 1"),
    ("sim-rate-high", ("scenario", "sim_rate_hz"), 2000, "scenario.sim_rate_hz", "<= 1000"),
    ("dropout", ("sensors", "navcam", "dropout_prob"), 1.5, "sensors.navcam.dropout_prob",
     "<= 1"),
    ("magnitude", ("spacecraft", "thrusters", "magnitude_sigma_frac"), 0.5,
     "spacecraft.thrusters.magnitude_sigma_frac", "< 0.5"),
    ("misalign", ("spacecraft", "thrusters", "misalignment_sigma_deg"), 10,
     "spacecraft.thrusters.misalignment_sigma_deg", "< 10"),
    ("mib", ("spacecraft", "thrusters", "min_impulse_bit_ns"), -0.1,
     "spacecraft.thrusters.min_impulse_bit_ns", ">= 0"),
    ("subdivisions", ("body", "shape_subdivisions"), 7, "body.shape_subdivisions", "<= 6"),
    ("pole-dec", ("body", "pole_dec_deg"), 95.0, "body.pole_dec_deg", "<= 90"),
    ("pole-ra", ("body", "pole_ra_deg"), 360.0, "body.pole_ra_deg", "< 360"),
    ("gm-inf", ("body", "gm_m3s2"), math.inf, "body.gm_m3s2", "got inf"),
    ("sigma-nan", ("sensors", "star_tracker", "sigma_arcsec"), math.nan,
     "sensors.star_tracker.sigma_arcsec", "got nan"),
    ("sigma-negative", ("initial", "position_sigma_m"), -1.0, "initial.position_sigma_m",
     ">= 0"),
    ("huge-int", ("spacecraft", "mass_kg"), 10**400, "spacecraft.mass_kg", "huge integer"),
    ("wheel-count", ("spacecraft", "wheels", "count"), 5, "spacecraft.wheels.count",
     "one of 3, 4"),
    ("wheel-speed", ("spacecraft", "wheels", "initial_speed_radps"), -700.0,
     "spacecraft.wheels.initial_speed_radps", "max_speed_radps"),
    ("extent-zero", ("body", "extent_m", 2), 0.0, "body.extent_m[2]", "> 0"),
    # bodies
    ("unknown-body", ("body", "name"), "itokawa", "body.name", "one of 'bennu'"),
    ("body-case", ("body", "name"), "Bennu", "body.name", "did you mean 'bennu'"),
    # array lengths
    ("inertia-short", ("spacecraft", "inertia_kgm2"), [1.0, 2.0], "spacecraft.inertia_kgm2",
     "got 2 elements"),
    ("extent-long", ("body", "extent_m"), [1.0, 2.0, 3.0, 4.0], "body.extent_m",
     "got 4 elements"),
    ("boresight-short", ("spacecraft", "instrument_boresight_sc"), [0.0, 1.0],
     "spacecraft.instrument_boresight_sc", "array of 3"),
    ("hover-empty", ("initial", "hover_point_bf_m"), [], "initial.hover_point_bf_m",
     "got 0 elements"),
    # physics
    ("triangle", ("spacecraft", "inertia_kgm2"), [2400.0, 100.0, 100.0],
     "spacecraft.inertia_kgm2", "triangle inequality"),
    ("boresight-norm", ("spacecraft", "instrument_boresight_sc"), [0.0, 0.0, 2.0],
     "spacecraft.instrument_boresight_sc", "unit vector"),
    ("hover-inside", ("initial", "hover_point_bf_m"), [100.0, 0.0, 0.0],
     "initial.hover_point_bf_m", "outside the body"),
    ("hover-far", ("initial", "hover_point_bf_m"), [2e5, 0.0, 0.0],
     "initial.hover_point_bf_m", "100000 m"),
    # rates against the dynamics rate
    ("rate-not-divisor", ("sensors", "imu", "rate_hz"), 3.0, "sensors.imu.rate_hz",
     "must be an integer"),
    ("rate-slow-not-divisor", ("sensors", "power", "rate_hz"), 0.3, "sensors.power.rate_hz",
     "divides scenario.sim_rate_hz (10)"),
    ("rate-above-sim", ("sensors", "lidar", "rate_hz"), 20.0, "sensors.lidar.rate_hz",
     "<= scenario.sim_rate_hz (10)"),
    # commands
    ("cmd-unknown", ("commands", 0, "name"), "SET_MOOD", "commands[0].name",
     "did you mean 'SET_MODE'"),
    ("cmd-order", ("commands", 0, "t_s"), 10.0, "commands[1].t_s", "non-decreasing"),
    ("cmd-negative", ("commands", 0, "t_s"), -1.0, "commands[0].t_s", ">= 0"),
    ("cmd-time-type", ("commands", 1, "t_s"), "soon", "commands[1].t_s", "got 'soon'"),
    ("cmd-hover-count", ("commands", 1),
     {"t_s": 5.0, "name": "SET_HOVER_POINT", "args": [1.0, 2.0]}, "commands[1].args",
     "3 arguments"),
    ("cmd-hover-inside", ("commands", 1),
     {"t_s": 5.0, "name": "SET_HOVER_POINT", "args": [1.0, 2.0, 3.0]}, "commands[1].args",
     "outside the body"),
    ("cmd-hover-type", ("commands", 1),
     {"t_s": 5.0, "name": "SET_HOVER_POINT", "args": [900, "x", 3.0]}, "commands[1].args[1]",
     "got 'x'"),
    ("cmd-mode-bad", ("commands", 1, "args"), ["HOVR"], "commands[1].args[0]",
     "did you mean 'HOVER'"),
    ("cmd-mode-number", ("commands", 1, "args"), [2], "commands[1].args[0]", "mode name"),
    ("cmd-mode-count", ("commands", 1, "args"), ["HOVER", "SAFE"], "commands[1].args",
     "SET_MODE expects 1 argument"),
    ("cmd-args-missing", ("commands", 1, "args"), DELETE, "commands[1].args", "got 0"),
    ("cmd-args-not-list", ("commands", 1, "args"), "HOVER", "commands[1].args",
     "SET_MODE expects"),
    ("cmd-param-long", ("commands", 1),
     {"t_s": 5.0, "name": "SET_PARAM", "args": [TOO_LONG, 1.0]}, "commands[1].args[0]",
     "1 to 16 ASCII"),
    ("cmd-param-value", ("commands", 1),
     {"t_s": 5.0, "name": "SET_PARAM", "args": ["KP", "fast"]}, "commands[1].args[1]",
     "got 'fast'"),
    ("cmd-param-count", ("commands", 1),
     {"t_s": 5.0, "name": "SET_PARAM", "args": ["KP"]}, "commands[1].args", "2 arguments"),
    ("cmd-not-table", ("commands",), [1, 2], "commands[0]", "expected a table"),
    ("cmd-not-array", ("commands",), 5, "commands", "array of tables"),
    # params
    ("param-long", ("params",), {TOO_LONG: 1.0}, f"params.{TOO_LONG}", "1 to 16 ASCII"),
    ("param-space", ("params",), {"MY KP": 1.0}, 'params."MY KP"', "no spaces"),
    ("param-bool", ("params",), {"KP": True}, "params.KP", "got true"),
    ("param-str", ("params",), {"KP": "x"}, "params.KP", "got 'x'"),
    ("param-nan", ("params",), {"KP": math.nan}, "params.KP", "got nan"),
    ("params-not-table", ("params",), 5, "params", "name = number"),
]


@pytest.mark.parametrize(("path", "value", "key", "fragment"),
                         [case[1:] for case in BAD_CASES], ids=[case[0] for case in BAD_CASES])
def test_bad_input_gives_one_line_error_naming_file_and_key(tmp_path, path, value, key,
                                                            fragment):
    file = write(tmp_path, mutate(GOOD, path, value))
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(file))
    message = assert_one_line_error(info.value, file, key)
    assert fragment in message


def test_bad_cases_are_distinct_and_the_good_file_round_trips(tmp_path):
    assert len({case[0] for case in BAD_CASES}) == len(BAD_CASES)
    assert load_scenario(write(tmp_path, GOOD)).scenario == load_scenario("bennu-hover").scenario


def test_message_reads_as_documented(tmp_path):
    data = mutate(GOOD, ("sensors", "imu", "rate_hz"), -5)
    file = write(tmp_path, data, "bennu-hover.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(file))
    assert str(info.value) == (
        f"{file}: sensors.imu.rate_hz: expected a number > 0 and <= 1000, got -5")
    with pytest.raises(ScenarioError) as info:
        load_scenario("bennu-hover", overrides={"sensors.imu.rate_hz": -5})
    assert str(info.value) == (
        "bennu-hover.toml: sensors.imu.rate_hz (override): "
        "expected a number > 0 and <= 1000, got -5")


def test_several_unknown_keys_are_all_named(tmp_path):
    data = mutate(mutate(GOOD, ("sensors", "imu", "rate"), 1.0), ("sensors", "imu", "bias"), 1)
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, data))
    assert info.value.key == "sensors.imu.rate" and "also unknown here: bias" in str(info.value)


@pytest.mark.parametrize(("broken_line", "replacement"), [
    ("duration_s = 21600.0", "duration_s = "),
    ("seed = 1", "seed = 1\nseed = 2"),
    ("[sensors.lidar]", "[sensors.lidar"),
    ('name = "bennu"', "name = bennu"),
])
def test_toml_syntax_error_names_file_and_line(tmp_path, broken_line, replacement):
    assert broken_line in GOOD_TEXT
    text = GOOD_TEXT.replace(broken_line, replacement, 1)
    line = GOOD_TEXT[: GOOD_TEXT.index(broken_line)].count("\n") + 1
    line += replacement.count("\n")  # a duplicate key is reported where it repeats
    file = tmp_path / "broken.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(file))
    message = assert_one_line_error(info.value, file, None)
    assert info.value.key is None
    assert "invalid TOML" in message and f"line {line}," in message


def test_non_utf8_file_names_the_line(tmp_path):
    file = tmp_path / "latin1.toml"
    file.write_bytes(GOOD_TEXT.replace("bennu-hover", "b\u00e9nnu").encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(file))
    line = GOOD_TEXT[: GOOD_TEXT.index("bennu-hover")].count("\n") + 1
    assert f"line {line}: not UTF-8" in assert_one_line_error(info.value, file, None)


def test_byte_order_mark_is_accepted(tmp_path):
    file = tmp_path / "bom.toml"
    file.write_bytes(b"\xef\xbb\xbf" + GOOD_TEXT.encode("utf-8"))
    assert load_scenario(file).scenario.seed == 1


def test_missing_file_and_directory(tmp_path):
    for path in (tmp_path / "nope.toml", tmp_path):
        with pytest.raises(ScenarioError) as info:
            load_scenario(str(path))
        assert "cannot read scenario file" in assert_one_line_error(info.value, path, None)


def test_unknown_name_lists_the_known_names():
    with pytest.raises(ScenarioError) as info:
        load_scenario("bennu-hoover")
    message = str(info.value)
    assert "'bennu-hoover'" in message and "\n" not in message
    for name in known_scenarios():
        assert name in message


def test_a_toml_suffix_or_a_slash_means_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match="cannot read scenario file"):
        load_scenario("bennu-hover.toml")
    (tmp_path / "bennu-hover.toml").write_text(
        to_toml(mutate(GOOD, ("scenario", "seed"), 7)), encoding="utf-8")
    assert load_scenario("bennu-hover.toml").scenario.seed == 7
    assert load_scenario("./bennu-hover.toml").scenario.seed == 7
    assert load_scenario("bennu-hover").scenario.seed == 1


def test_wrong_argument_types_are_type_errors():
    with pytest.raises(TypeError):
        load_scenario(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        load_scenario("bennu-hover", overrides=[("scenario.seed", 3)])  # type: ignore[arg-type]


def test_scenario_error_survives_pickling():
    with pytest.raises(ScenarioError) as info:
        load_scenario("bennu-hover", overrides={"scenario.seed": -1})
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value)
    assert (again.file, again.key, again.from_override) == ("bennu-hover.toml", "scenario.seed",
                                                            True)


# ----------------------------------------------------------------------------- overrides


def test_overrides_apply():
    overrides = {"scenario.duration_s": 60.0, "scenario.seed": 3,
                 "sensors.imu.rate_hz": 5, "initial.hover_point_bf_m": (0.0, 1500.0, 0.0),
                 "params.HOVER_KP": 0.25}
    before = copy.deepcopy(overrides)
    s = load_scenario("bennu-hover", overrides=overrides)
    assert s.scenario.duration_s == 60.0 and s.scenario.seed == 3
    assert s.sensors.imu.rate_hz == 5.0
    assert s.initial.hover_point_bf_m == (0.0, 1500.0, 0.0)
    assert dict(s.params) == {"HOVER_KP": 0.25}
    assert overrides == before
    assert load_scenario("bennu-hover").scenario.seed == 1  # nothing cached or shared


def test_numpy_values_are_accepted_as_overrides():
    np = pytest.importorskip("numpy")
    s = load_scenario("bennu-hover", overrides={
        "scenario.seed": np.int64(4), "initial.hover_point_bf_m": np.array([0.0, 0.0, 900.0])})
    assert s.scenario.seed == 4 and type(s.scenario.seed) is int
    assert s.initial.hover_point_bf_m == (0.0, 0.0, 900.0)


@pytest.mark.parametrize(("overrides", "key", "fragment"), [
    ({"scenario.duration_s": -1.0}, "scenario.duration_s", "> 0"),
    ({"scenario.seed": "3"}, "scenario.seed", "got '3'"),
    ({"scenario.sed": 3}, "scenario.sed", "did you mean 'seed'"),
    ({"sensor.imu.rate_hz": 5.0}, "sensor", "unknown key"),
    ({"scenario.seed.low": 3}, "scenario.seed", "is not a table"),
    ({"body.name": "eros"}, "body.name", "'bennu'"),
])
def test_bad_overrides_are_scenario_errors(overrides, key, fragment):
    with pytest.raises(ScenarioError) as info:
        load_scenario("bennu-hover", overrides=overrides)
    message = str(info.value)
    assert info.value.key == key and message.startswith("bennu-hover.toml: ")
    assert fragment in message and "\n" not in message
    touched = any(k == key or k.startswith(key + ".") for k in overrides)
    assert info.value.from_override == touched and ("(override)" in message) == touched


@pytest.mark.parametrize("bad_key", ["", "scenario..seed", ".seed", "scenario.", 3])
def test_malformed_override_keys(bad_key):
    with pytest.raises(ScenarioError, match="not a dotted key"):
        load_scenario("bennu-hover", overrides={bad_key: 1})


# ----------------------------------------------------------------------------- properties


def _numeric_leaves(node: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _numeric_leaves(v, path + (k,))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _numeric_leaves(v, path + (i,))]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return [path]
    return []


def _table_leaves(node: dict, prefix: str = "") -> list[str]:
    keys = []
    for k, v in node.items():
        dotted = f"{prefix}.{k}" if prefix else k
        keys += _table_leaves(v, dotted) if isinstance(v, dict) else [dotted]
    return keys


NUMERIC_LEAVES = _numeric_leaves(GOOD)
TABLE_LEAVES = _table_leaves(GOOD) + ["params.KP", "sensors.imu", "spacecraft", "commands"]
TOML_VALUES = st.one_of(
    st.integers(), st.integers(-10, 10**4), st.floats(), st.floats(-1e4, 1e4),
    st.booleans(), st.text(max_size=8), st.lists(st.floats(-2e3, 2e3), max_size=4))
ANY_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
              st.binary(max_size=4), st.fractions(), st.complex_numbers()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner, inner),
                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)


def test_property_setup_found_the_leaves():
    assert ("spacecraft", "inertia_kgm2", 2) in NUMERIC_LEAVES
    assert ("commands", 1, "t_s") in NUMERIC_LEAVES and len(NUMERIC_LEAVES) > 40


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(NUMERIC_LEAVES), value=TOML_VALUES)
def test_any_numeric_leaf_mutation_loads_or_is_a_scenario_error(tmp_path_factory, path, value):
    file = write(tmp_path_factory.getbasetemp(), mutate(GOOD, path, value), "mutant.toml")
    try:
        scenario = load_scenario(str(file))
    except ScenarioError as err:
        assert_one_line_error(err, file, None)
        assert err.key is not None
        return
    assert isinstance(scenario, Scenario)
    json.dumps(scenario.to_dict(), allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(TABLE_LEAVES), value=ANY_VALUES)
def test_any_override_value_loads_or_is_a_scenario_error(key, value):
    try:
        scenario = load_scenario("bennu-hover", overrides={key: value})
    except ScenarioError as err:
        assert "\n" not in str(err) and str(err).startswith("bennu-hover.toml: ")
        return
    json.dumps(scenario.to_dict(), allow_nan=False)


def test_a_shorter_duration_keeps_later_commands_unsent_rather_than_failing():
    sc = load_scenario("bennu-hover", overrides={"scenario.duration_s": 2.0})
    assert sc.scenario.duration_s == 2.0
    assert any(c.t_s > 2.0 for c in sc.commands)


# ----------------------------------------------------------------------------- hostile input


def test_a_fifo_is_refused_at_once_not_read_for_ever(tmp_path):
    import os
    import threading

    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)
    outcome = []

    def load():
        try:
            load_scenario(str(fifo))
        except ScenarioError as err:
            outcome.append(err)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=5.0)
    if reader.is_alive():  # blocked in open(): let it go before failing
        os.close(os.open(fifo, os.O_WRONLY))
        reader.join()
        pytest.fail("load_scenario blocked on a FIFO")
    assert "a FIFO" in assert_one_line_error(outcome[0], fifo, None)


@pytest.mark.parametrize(("path", "value", "key"), [
    (("scenario", "seed"), 10**26, "scenario.seed"),
    (("spacecraft", "mass_kg"), 1e308, "spacecraft.mass_kg"),
    (("scenario", "epoch_unix_s"), 1e300, "scenario.epoch_unix_s"),
    (("body", "gm_m3s2"), 1e300, "body.gm_m3s2"),
    (("body", "rotation_period_h"), 1e300, "body.rotation_period_h"),
    (("spacecraft", "inertia_kgm2"), [1e300, 1e300, 1e300], "spacecraft.inertia_kgm2[0]"),
    (("spacecraft", "thrusters", "force_n"), 1e30, "spacecraft.thrusters.force_n"),
    (("spacecraft", "wheels", "max_speed_radps"), 1e30, "spacecraft.wheels.max_speed_radps"),
    (("initial", "position_sigma_m"), 1e30, "initial.position_sigma_m"),
    (("sensors", "imu", "accel_noise_mps2"), 1e30, "sensors.imu.accel_noise_mps2"),
    (("sensors", "lidar", "max_range_m"), 1e30, "sensors.lidar.max_range_m"),
    (("commands", 0, "t_s"), 1e300, "commands[0].t_s"),
])
def test_every_number_has_an_upper_bound(tmp_path, path, value, key):
    file = write(tmp_path, mutate(GOOD, path, value))
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(file))
    assert "expected" in assert_one_line_error(info.value, file, key)


def test_every_number_of_the_schema_is_bounded_above():
    """No number of the schema is open-ended (a huge value would be flown)."""
    from sim import scenario as schema

    def numbers(table, path=""):
        for name, spec in table.items():
            key = f"{path}.{name}" if path else name
            if isinstance(spec, dict):
                yield from numbers(spec, key)
            elif isinstance(spec, schema._Vector):
                yield key, spec.element
            elif isinstance(spec, schema._Number):
                yield key, spec
    tables = {"scenario": schema._SCENARIO_SCHEMA, "body": schema._BODY_SCHEMA,
              "spacecraft": schema._SPACECRAFT_SCHEMA, "initial": schema._INITIAL_SCHEMA,
              "sensors": schema._SENSORS_SCHEMA, "tag": schema._TAG_SCHEMA,
              "hazard": schema._HAZARD_SCHEMA, "prospect": schema._PROSPECT_SCHEMA,
              "dispersions": schema._DISPERSIONS_SCHEMA}
    open_ended = [key for key, spec in numbers(tables)
                  if spec.choices is None and spec.lt is None and spec.le is None
                  and key != "spacecraft.wheels.initial_speed_radps"  # within +-max_speed
                  and key != "initial.hover_point_bf_m"]  # radius checked separately
    assert open_ended == []
