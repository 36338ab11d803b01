"""Scenario loading, the good file: packaged scenarios, values, defaults, the value objects."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from pathlib import Path

import pytest
from scenario_toml import GOOD, GOOD_TEXT, PACKAGED, write

from sim.scenario import BODIES, DEFAULTS, known_scenarios, load_scenario

meter = 1.0
degree = 1.0

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
