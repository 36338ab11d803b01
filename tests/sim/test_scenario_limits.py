"""Scenario loading, hostile input: files that block, numbers past every bound."""

from __future__ import annotations

import pytest
from scenario_toml import GOOD, assert_one_line_error, mutate, write

from sim.scenario import ScenarioError, load_scenario

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
    from sim import scenario_schema as schema

    def numbers(table, path=""):
        for name, spec in table.items():
            key = f"{path}.{name}" if path else name
            if isinstance(spec, dict):
                yield from numbers(spec, key)
            elif isinstance(spec, schema.VectorRule):
                yield key, spec.element
            elif isinstance(spec, schema.NumberRule):
                yield key, spec
    tables = {"scenario": schema.SCENARIO_SCHEMA, "body": schema.BODY_SCHEMA,
              "spacecraft": schema.SPACECRAFT_SCHEMA, "initial": schema.INITIAL_SCHEMA,
              "sensors": schema.SENSORS_SCHEMA, "tag": schema.TAG_SCHEMA,
              "hazard": schema.HAZARD_SCHEMA, "prospect": schema.PROSPECT_SCHEMA,
              "dispersions": schema.DISPERSIONS_SCHEMA}
    open_ended = [key for key, spec in numbers(tables)
                  if spec.choices is None and spec.lt is None and spec.le is None
                  and key != "spacecraft.wheels.initial_speed_radps"  # within +-max_speed
                  and key != "initial.hover_point_bf_m"]  # radius checked separately
    assert open_ended == []
