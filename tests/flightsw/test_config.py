"""flight_config.json as replay reads it: every number range-checked, one line per problem."""

import json
import math
from pathlib import Path

import pytest

from flightsw.config import FlightConfigError, flight_config_from_dict, flight_config_to_dict

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _config(name="tag-descent-start"):
    return json.loads((GOLDEN / name / "flight_config.json").read_text())["flight_config"]


def _set(data, dotted, value):
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize("name", ["hover-60s", "tag-descent-start", "survey-slice"])
def test_the_goldens_configs_load_and_round_trip(name):
    data = _config(name)
    config = flight_config_from_dict(data)
    assert json.loads(json.dumps(flight_config_to_dict(config))) == data


@pytest.mark.parametrize("key, value", [
    ("base_rate_hz", 0),
    ("base_rate_hz", -10),
    ("base_rate_hz", 1e9),
    ("base_rate_hz", 10.5),
    ("base_rate_hz", True),
    ("base_rate_hz", "10"),
    ("vehicle.mass_kg", 1e308),
    ("vehicle.mass_kg", 0.0),
    ("vehicle.mass_kg", math.nan),
    ("vehicle.inertia_kgm2.1", -1.0),
    ("vehicle.wheel_count", 7),
    ("vehicle.thrust_n", math.inf),
    # positive but subnormal: min_impulse_bit / thrust overflowed to inf, then a NaN
    # traceback in MomentumManager (found by make fuzz, tests/fuzz/cases/config/)
    ("vehicle.thrust_n", 1e-320),
    ("vehicle.wheel_max_torque_nm", 5e-324),
    ("vehicle.mass_kg", 1e-320),
    ("body.gm_m3s2", 1e300),
    ("body.rotation_period_s", 0.0),
    ("body.pole_dec_deg", 91.0),
    ("hover_point_bf_m.2", 1e300),
    ("landmarks_bf_m.3.0", math.nan),
    ("tag.target_bf_m.0", 1e300),
    ("tag.normal_bf", [0.0, 0.0, 0.0]),
    ("timing_telemetry", "yes"),
])
def test_a_bad_number_is_one_line_naming_the_key(key, value):
    data = _set(_config(), key, value)
    with pytest.raises(FlightConfigError) as err:
        flight_config_from_dict(data)
    text = str(err.value)
    assert "\n" not in text and text.startswith(key.split(".")[0]) and "expected" in text


@pytest.mark.parametrize("key", ["faces.0.1", "vertices_m.0.0"])
def test_the_shape_model_is_checked(key):
    data = _config("survey-slice")
    _set(data["prospect"], key, 10**9 if key.startswith("faces") else math.inf)
    with pytest.raises(FlightConfigError, match="prospect"):
        flight_config_from_dict(data)


def test_missing_and_mistyped_parts_are_one_line():
    for spoil in (lambda d: d.pop("vehicle"), lambda d: d.update(body=[1, 2]),
                  lambda d: d["vehicle"].pop("mass_kg"), lambda d: d.update(tag=5)):
        data = _config()
        spoil(data)
        with pytest.raises(FlightConfigError) as err:
            flight_config_from_dict(data)
        assert "\n" not in str(err.value)
