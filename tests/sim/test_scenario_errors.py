"""Scenario loading, bad input: each kind of mistake is a one-line error naming file and key."""

from __future__ import annotations

import math
import pickle

import pytest
from scenario_toml import DELETE, GOOD, GOOD_TEXT, assert_one_line_error, mutate, to_toml, write

from sim.scenario import ScenarioError, known_scenarios, load_scenario

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
