"""history.nc and summary.csv: the same values as history.npz and summary.json, with the
coordinates, units and descriptions a notebook needs."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sim.history_dataset import (
    VARIABLES,
    flatten_summary,
    history_dataset,
    write_history_dataset,
    write_summary_csv,
)
from sim.runner import RUN_FILES, run_scenario
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def hover_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hover") / "run"
    sc = load_scenario("bennu-hover", {"scenario.duration_s": 30.0, "scenario.seed": 4})
    run_scenario(sc, out, write_report=False, progress=False)
    return out


def _synthetic_history(n: int = 5) -> dict:
    """A history with every kind of key: 1 Hz series, the surface map and prospecting."""
    rng = np.random.default_rng(0)
    lat = np.arange(-89.0, 90.0, 2.0)
    lon = np.arange(-179.0, 180.0, 2.0)
    return {
        "t_s": np.arange(n, dtype=float), "hover_err_m": rng.random(n),
        "pos_bf_m": rng.random((n, 3)), "wheel_speed_radps": rng.random((n, 4)),
        "mode": np.array([-1, 2, 2, 4, 5], dtype=np.int8)[:n],
        "surface_lat_deg": lat, "surface_lon_deg": lon,
        "surface_radius_m": rng.random((lat.size, lon.size)),
        "hazards_center_bf_m": rng.random((2, 3)), "hazards_radius_m": np.array([1.0, 2.0]),
        "hazards_mapped": np.array([True, False]),
        "prospect_lat_deg": rng.random(7), "prospect_lon_deg": rng.random(7),
        "prospect_value": rng.random(7), "prospect_wavelength_um": np.linspace(0.5, 3.5, 11),
        "prospect_site_refl": rng.random((2, 11)), "prospect_site_depth": rng.random((2, 5)),
        "prospect_chosen": np.array([3]),
    }


def test_history_nc_holds_every_value_of_history_npz(hover_run):
    ds = xr.open_dataset(hover_run / "history.nc")
    with np.load(hover_run / "history.npz") as npz:
        assert set(npz.files) - {"t_s"} <= set(ds.data_vars)
        np.testing.assert_array_equal(ds["time"].values, npz["t_s"])
        for key in npz.files:
            if key != "t_s":
                np.testing.assert_array_equal(ds[key].values, npz[key], err_msg=key)
    assert ds["pos_bf_m"].dims == ("time", "axis")
    assert list(ds["axis"].values) == ["x", "y", "z"]
    assert ds["wheel_speed_radps"].dims == ("time", "wheel")
    assert ds["thruster_on_s"].dims == ("time", "thruster")
    assert ds["time"].attrs["units"] == "s"
    # Selecting by mission time works as a notebook would use it.
    assert float(ds["hover_err_m"].sel(time=10.0)) == float(ds["hover_err_m"].values[10])


def test_every_variable_and_coordinate_has_units_and_a_description(hover_run):
    ds = xr.open_dataset(hover_run / "history.nc")
    for name, var in list(ds.data_vars.items()) + list(ds.coords.items()):
        assert var.attrs.get("units"), name
        assert len(var.attrs.get("description", "")) > 10, name


def test_global_attributes_name_the_run(hover_run):
    ds = xr.open_dataset(hover_run / "history.nc")
    summary = json.loads((hover_run / "summary.json").read_text())
    assert ds.attrs["scenario"] == "bennu-hover"
    assert int(ds.attrs["seed"]) == 4
    assert ds.attrs["icd_fingerprint"] == summary["icd_fingerprint"]
    assert ds.attrs["software_version"]
    assert ds.attrs["irregular_keys"] == "none"


def test_new_run_files_are_run_files(hover_run):
    from flightsw.run_dir import OUTPUT_FILES

    for name in ("history.nc", "summary.csv"):
        assert name in RUN_FILES and name in OUTPUT_FILES["run"]
        assert (hover_run / name).stat().st_size > 0


def test_map_spectra_and_hazards_get_their_coordinates(tmp_path):
    hist = _synthetic_history()
    path = write_history_dataset(tmp_path / "h.nc", hist, {"scenario": "x"})
    ds = xr.open_dataset(path)
    assert ds["surface_radius_m"].dims == ("lat", "lon")
    assert ds["lat"].attrs["units"] == "degrees_north"
    assert ds["lon"].attrs["units"] == "degrees_east"
    np.testing.assert_array_equal(ds["lat"].values, hist["surface_lat_deg"])
    np.testing.assert_array_equal(ds["surface_radius_m"].values, hist["surface_radius_m"])
    assert ds["prospect_value"].dims == ("facet",)
    np.testing.assert_array_equal(ds["prospect_lon_deg"].values, hist["prospect_lon_deg"])
    assert ds["prospect_site_refl"].dims == ("site", "wavelength")
    assert ds["wavelength"].attrs["units"] == "um"
    np.testing.assert_array_equal(ds["wavelength"].values, hist["prospect_wavelength_um"])
    assert list(ds["band"].values)[-1] == "OH_27"
    assert ds["hazards_mapped"].values.tolist() == [1, 0]
    assert ds["prospect_chosen"].ndim == 0 and int(ds["prospect_chosen"]) == 3
    assert ds.attrs["irregular_keys"] == "none"
    meanings = ds["mode"].attrs["flag_meanings"].split()
    values = list(ds["mode"].attrs["flag_values"])
    assert meanings[values.index(2)] == "HOVER" and meanings[0] == "NONE"


def test_a_key_of_an_unexpected_shape_is_kept_and_named(tmp_path):
    hist = _synthetic_history()
    hist["hover_err_m"] = np.zeros((5, 2))  # damaged: a 1 Hz scalar series made 2-d
    hist["new_thing_mps"] = np.ones(3)  # a key this version does not know
    ds = history_dataset(hist)
    assert "hover_err_m" in ds.attrs["irregular_keys"]
    assert "new_thing_mps" in ds.attrs["irregular_keys"]
    assert ds["new_thing_mps"].attrs["units"] == "m s-1"
    assert "no known dimensions" in ds["hover_err_m"].attrs["description"]
    np.testing.assert_array_equal(ds["hover_err_m"].values, hist["hover_err_m"])
    ds.to_netcdf(tmp_path / "h.nc", engine="h5netcdf")  # still writable


def test_known_variables_declare_units_and_words():
    for key, spec in VARIABLES.items():
        assert spec.units and len(spec.description) > 10, key


def _leaves(value, prefix=""):
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from _leaves(v, f"{prefix}{k}.")
    else:
        yield prefix[:-1], value


def test_summary_csv_is_summary_json_flattened(hover_run):
    summary = json.loads((hover_run / "summary.json").read_text())
    row = pd.read_csv(hover_run / "summary.csv").iloc[0]
    assert len(pd.read_csv(hover_run / "summary.csv")) == 1
    checked = 0
    for key, value in _leaves(summary):
        if isinstance(value, list) and value and all(isinstance(v, (int, float))
                                                      for v in value):
            for i, v in enumerate(value):
                assert row[f"{key}[{i}]"] == v, key
        elif isinstance(value, (list, dict)):
            assert json.loads(row[key]) == value, key
        elif value is None:
            assert pd.isna(row[key]), key
        elif isinstance(value, float) and math.isnan(value):
            assert math.isnan(row[key]), key
        else:
            assert row[key] == value, key
        checked += 1
    assert checked == len(row)
    assert row["fault_protection.dumps"] == summary["fault_protection"]["dumps"]


def test_flatten_summary_names_nested_keys_with_dots(tmp_path):
    flat = flatten_summary({"a": {"b": 1.5, "c": {"d": "x"}}, "v": [1.0, 2.0],
                            "events": [{"t": 1}], "none": None, "empty": {}})
    assert flat == {"a.b": 1.5, "a.c.d": "x", "v[0]": 1.0, "v[1]": 2.0,
                    "events": '[{"t": 1}]', "none": None, "empty": "{}"}
    path = write_summary_csv(tmp_path / "s.csv", {"x": 0.1 + 0.2})
    assert pd.read_csv(path)["x"][0] == 0.1 + 0.2  # floats exact through the text


def test_a_coordinate_that_is_not_numbers_is_kept_and_named():
    hist = _synthetic_history()
    hist["t_s"] = np.array(["a", "b", "c", "d", "e"])
    ds = history_dataset(hist)
    assert "t_s" in ds.attrs["irregular_keys"] and "time" not in ds.coords
    np.testing.assert_array_equal(ds["hover_err_m"].values, hist["hover_err_m"])
