"""Scenario overrides (--set), and properties: any mutation loads or is a ScenarioError."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scenario_toml import GOOD, assert_one_line_error, mutate, write

from sim.scenario import Scenario, ScenarioError, load_scenario

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
