"""The run's history as a self-describing xarray Dataset (history.nc), and the summary as
a one-row table (summary.csv): the data a notebook loads in one line.

    import xarray as xr
    ds = xr.open_dataset("runs/x/history.nc")      # ds.hover_err_m.plot()
    import pandas as pd
    row = pd.read_csv("runs/x/summary.csv")        # row["fault_protection.dumps"]

history.npz stays what the report and the judges read; history.nc holds the same values
with what the .npz leaves implicit: a `time` coordinate in seconds, named dimensions
(`axis` x/y/z, `thruster`, `wheel`, `lat`/`lon` of the surface map in degrees, `facet`,
`wavelength`, `band`), units and a description on every variable, and the run's identity
(scenario, seed, ICD fingerprint, software version) in the global attributes.

A history key this module does not know, or one whose shape does not fit its
dimensions, is still written, under generic dimensions and with a description saying
so; nothing of the .npz is dropped silently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HISTORY_NC = "history.nc"
SUMMARY_CSV = "summary.csv"
NETCDF_ENGINE = "h5netcdf"  # pure-wheel HDF5 writer; netCDF4's C library is not needed
# gzip level 4 with shuffle: close to the .npz's size at a fraction of level 9's time.
COMPRESSION = {"zlib": True, "complevel": 4, "shuffle": True}
AXES = ("x", "y", "z")


@dataclass(frozen=True)
class VariableSpec:
    dims: tuple[str, ...]
    units: str
    description: str


def _spec(dims: str, units: str, description: str) -> VariableSpec:
    return VariableSpec(tuple(dims.split()), units, description)


# history key -> its dimensions (space separated), units (UDUNITS spelling) and meaning.
# 1 Hz series share the `time` dimension; the t_s key becomes the `time` coordinate.
VARIABLES: dict[str, VariableSpec] = {
    "hover_err_m": _spec("time", "m", "distance from the downlinked hover target to the "
                         "true spacecraft position, body-fixed (NaN without a target)"),
    "pos_err_bf_m": _spec("time axis", "m", "true position minus the downlinked hover "
                          "target, body-fixed frame components"),
    "nav_err_m": _spec("time", "m", "distance from the downlinked navigation estimate to "
                       "the true position, inertial frame"),
    "nav_sigma_m": _spec("time", "m", "navigation's own 1-sigma position uncertainty (root "
                         "sum of squares of its three axes), as downlinked"),
    "att_err_deg": _spec("time", "degree", "true pointing error of the spacecraft about "
                         "its commanded attitude"),
    "thruster_on_s": _spec("time thruster", "s", "thruster on-time during the second "
                           "ending at this sample, per thruster"),
    "dv_cum_mps": _spec("time", "m s-1", "cumulative delta-v of all thruster impulse "
                        "divided by spacecraft mass"),
    "wheel_speed_radps": _spec("time wheel", "rad s-1", "true reaction wheel speed, per "
                               "wheel"),
    "mode": _spec("time", "1", "flight mode from the latest downlinked heartbeat (-1: "
                  "none received yet); names in flag_meanings"),
    "altitude_m": _spec("time", "m", "true height of the spacecraft above the body's "
                        "surface"),
    "pos_bf_m": _spec("time axis", "m", "true spacecraft position, body-fixed frame"),
    "head_height_m": _spec("time", "m", "true sampler-head height above the touch-and-go "
                           "target plane (NaN without a target)"),
    "vert_speed_mps": _spec("time", "m s-1", "true spacecraft speed along the target "
                            "plane's normal, relative to the rotating surface (NaN without "
                            "a target)"),
    "pos_i_m": _spec("time axis", "m", "true spacecraft position, inertial frame centred "
                     "on the body"),
    "flight_att_err_deg": _spec("time", "degree", "the flight software's own pointing "
                                "error from the attitude it steers to, as downlinked "
                                "(large in a planned slew; sim/phase_windows.py)"),
    # The surface map under the ground track (touch-and-go runs) and its hazards.
    "surface_radius_m": _spec("lat lon", "m", "surface radius of the body's shape model "
                              "along each latitude/longitude direction, body-fixed"),
    "hazards_center_bf_m": _spec("hazard axis", "m", "centre of each surface hazard near "
                                 "the target, body-fixed frame"),
    "hazards_radius_m": _spec("hazard", "m", "radius of each surface hazard"),
    "hazards_mapped": _spec("hazard", "1", "1 if the hazard is in the probe's onboard map, "
                            "0 if only the world knows it"),
    # Prospecting (survey runs): per facet of the site mesh, and per analysed site.
    "prospect_value": _spec("facet", "1", "resource value of each facet as the probe "
                            "mapped it (NaN: never observed)"),
    "prospect_sigma": _spec("facet", "1", "1-sigma uncertainty of the mapped resource "
                            "value"),
    "prospect_truth": _spec("facet", "1", "the simulator's true resource index of each "
                            "facet"),
    "prospect_safe_truth": _spec("facet", "1", "1 if the facet is truly safe to touch"),
    "prospect_deliverable_truth": _spec("facet", "1", "1 if the facet is truly both safe "
                                        "and reachable for a touch-and-go"),
    "prospect_example_refl": _spec("example wavelength", "1", "example reflectance spectra "
                                   "downlinked during the survey"),
    "prospect_example_site": _spec("example", "1", "facet index of each example spectrum"),
    "prospect_candidates": _spec("candidate", "1", "facet indices of the candidate sites "
                                 "the probe ranked"),
    "prospect_site_ids": _spec("site", "1", "facet index of each analysed site (chosen "
                               "first, then the other candidates)"),
    "prospect_site_refl": _spec("site wavelength", "1", "co-added reflectance spectrum of "
                                "each analysed site"),
    "prospect_site_sigma": _spec("site wavelength", "1", "1-sigma uncertainty of the "
                                 "co-added reflectance"),
    "prospect_site_n": _spec("site", "1", "number of spectra co-added per site"),
    "prospect_site_depth": _spec("site band", "1", "absorption band depth measured at "
                                 "each site"),
    "prospect_site_centre_um": _spec("site band", "um", "absorption band centre measured "
                                     "at each site"),
    "prospect_site_detected": _spec("site band", "1", "1 if the band was detected at the "
                                    "site"),
    "prospect_site_truth_refl": _spec("site wavelength", "1", "the simulator's noise-free "
                                      "reflectance of each analysed site"),
    "prospect_chosen": _spec("", "1", "facet index of the site the probe chose (-1: none)"),
}

# Keys that become coordinates: key -> (dimension, units, description).
COORDINATES: dict[str, tuple[str, str, str]] = {
    "t_s": ("time", "s", "mission time since the scenario's epoch"),
    "surface_lat_deg": ("lat", "degrees_north", "body-fixed latitude of the map cell "
                        "centre"),
    "surface_lon_deg": ("lon", "degrees_east", "body-fixed longitude of the map cell "
                        "centre"),
    "prospect_lat_deg": ("facet", "degrees_north", "body-fixed latitude of the facet "
                         "centre"),
    "prospect_lon_deg": ("facet", "degrees_east", "body-fixed longitude of the facet "
                         "centre"),
    "prospect_wavelength_um": ("wavelength", "um", "spectrometer channel wavelength"),
}
COORDINATE_NAMES = {"t_s": "time", "surface_lat_deg": "lat", "surface_lon_deg": "lon",
                    "prospect_wavelength_um": "wavelength"}
_SUFFIX_UNITS = (("_radps", "rad s-1"), ("_mps", "m s-1"), ("_deg", "degree"),
                 ("_um", "um"), ("_kg", "kg"), ("_m", "m"), ("_s", "s"))


def run_attributes(summary: Mapping, version: str) -> dict:
    """The global attributes that say which run this is."""
    return {
        "title": "prospector run history",
        "scenario": str(summary.get("scenario", "unknown")),
        "seed": int(summary["seed"]) if isinstance(summary.get("seed"), int) else -1,
        "icd_fingerprint": str(summary.get("icd_fingerprint", "unknown")),
        "software_version": version,
        "sim_duration_s": float(summary.get("sim_duration_s", math.nan)),
        "source": "prospector simulator: the world's truth and the downlinked estimates "
                  "sampled at 1 Hz (sim/history.py)",
    }


def software_version() -> str:
    """The installed project's version ('unknown' for a source tree never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("prospector")
    except PackageNotFoundError:
        return "unknown"


def history_dataset(hist: Mapping[str, np.ndarray], attrs: Mapping | None = None):
    """The xarray Dataset of a history dict (as sim.history gives it and history.npz
    holds it).  Keys that do not fit their declared dimensions are kept under generic
    ones and listed in the `irregular_keys` attribute."""
    import xarray as xr

    coords, irregular = _coordinates(hist)
    sizes = {dim: values.size for dim, values in coords.values()}
    data_vars = {}
    for key in sorted(hist):
        if key in coords:
            continue
        values = np.asarray(hist[key])
        spec = VARIABLES.get(key)
        if spec is not None and not spec.dims and values.size == 1:
            values = values.reshape(())  # a single number kept in a 1-element array
        dims = _fitting_dims(spec, values, sizes) if spec is not None else None
        if dims is None:
            irregular.append(key)
            dims = tuple(f"{key}_dim{i}" for i in range(values.ndim))
            spec = VariableSpec(dims, _guess_units(key), f"history.npz key {key!r}, written "
                                "as it is (no known dimensions for its shape)")
        var_attrs = {"units": spec.units, "description": spec.description}
        if key == "mode":
            var_attrs |= _mode_flags()
        if values.dtype == bool:
            values = values.astype(np.int8)
        data_vars[key] = xr.Variable(dims, values, var_attrs)
        for dim, size in zip(dims, values.shape, strict=True):
            sizes.setdefault(dim, size)
    ds = xr.Dataset(data_vars)
    ds = ds.assign_coords(_index_coordinates(ds, coords))
    ds.attrs.update(dict(attrs or {}))
    ds.attrs["irregular_keys"] = ", ".join(sorted(irregular)) or "none"
    return ds


def _coordinates(hist: Mapping) -> tuple[dict, list[str]]:
    """{key: (dimension, values)} of the coordinate keys that are 1-d and agree in size
    with their dimension's other coordinate (facet latitude and longitude); the keys
    that do not, as irregular."""
    coords: dict[str, tuple[str, np.ndarray]] = {}
    sizes: dict[str, int] = {}
    irregular: list[str] = []
    for key, (dim, _, _) in COORDINATES.items():
        if key not in hist:
            continue
        try:
            values = np.asarray(hist[key], dtype=float)
        except (TypeError, ValueError):  # not numbers: kept as a variable, named irregular
            irregular.append(key)
            continue
        if values.ndim != 1 or sizes.get(dim, values.size) != values.size:
            irregular.append(key)
            continue
        sizes[dim] = values.size
        coords[key] = (dim, values)
    return coords, irregular


def _fitting_dims(spec: VariableSpec, values: np.ndarray, sizes: dict):
    dims = tuple(d for d in spec.dims if d)
    if len(dims) != values.ndim:
        return None
    for dim, size in zip(dims, values.shape, strict=True):
        if dim == "axis" and size != 3:
            return None
        if dim in sizes and sizes[dim] != size:
            return None
    return dims


def _index_coordinates(ds, coords: dict) -> dict:
    """Coordinates of every dimension: the history's own (time, lat, lon, wavelength,
    facet latitude/longitude), axis names, and band names; other dimensions get none."""
    from sim.minerals import BANDS

    out = {}
    for key, (dim, values) in coords.items():
        _, units, description = COORDINATES[key]
        out[COORDINATE_NAMES.get(key, key)] = (dim, values, {"units": units,
                                                             "description": description})
    if "axis" in ds.dims:
        out["axis"] = ("axis", np.array(AXES), {"description": "vector component in the "
                                                 "variable's frame", "units": "1"})
    if "band" in ds.dims and ds.sizes["band"] == len(BANDS):
        out["band"] = ("band", np.array([b.name for b in BANDS]),
                       {"description": "absorption band, as the ICD names it", "units": "1"})
    for dim, what in (("thruster", "thruster number"), ("wheel", "reaction wheel number"),
                      ("hazard", "hazard number")):
        if dim in ds.dims:
            out[dim] = (dim, np.arange(ds.sizes[dim]), {"description": what, "units": "1"})
    return out


def _guess_units(key: str) -> str:
    for suffix, units in _SUFFIX_UNITS:
        if key.endswith(suffix):
            return units
    return "1"


def _mode_flags() -> dict:
    from flightsw.core.modes import Mode

    modes = sorted(Mode, key=int)
    return {"flag_values": np.array([-1] + [int(m) for m in modes], dtype=np.int8),
            "flag_meanings": " ".join(["NONE"] + [m.name for m in modes])}


def write_history_dataset(path: Path, hist: Mapping, attrs: Mapping | None = None) -> Path:
    """history.nc at `path` (replaced if there), compressed; returns the path."""
    return save_dataset(history_dataset(hist, attrs), path)


def save_dataset(ds, path: Path) -> Path:
    """A history Dataset to netCDF at `path`, its numeric variables compressed."""
    encoding = {name: dict(COMPRESSION) for name, var in ds.data_vars.items()
                if var.ndim > 0 and var.dtype.kind in "fiu"}
    ds.to_netcdf(path, engine=NETCDF_ENGINE, encoding=encoding)
    return Path(path)


# ---------------------------------------------------------------------------- summary.csv
def flatten_summary(summary: Mapping, prefix: str = "") -> dict:
    """One flat mapping of a nested summary: nested keys joined by '.', a list of numbers
    spread over 'key[i]', any other list (events, names) and an empty mapping kept as
    its JSON text in one cell."""
    flat: dict = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_summary(value, name + "."))
        elif isinstance(value, (list, tuple)) and value and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            for i, v in enumerate(value):
                flat[f"{name}[{i}]"] = v
        elif isinstance(value, (list, tuple, Mapping)):
            flat[name] = json.dumps(value, sort_keys=True)
        else:
            flat[name] = value
    return flat


def write_summary_csv(path: Path, summary: Mapping) -> Path:
    """summary.csv: a header of flattened keys and one row of values (floats exact)."""
    import pandas as pd

    flat = flatten_summary(summary)
    pd.DataFrame([dict(sorted(flat.items()))]).to_csv(path, index=False)
    return Path(path)


def write_data_products(out_dir: Path, hist: Mapping, summary: Mapping) -> list[Path]:
    """history.nc and summary.csv of a finished run, beside history.npz and summary.json."""
    out_dir = Path(out_dir)
    attrs = run_attributes(summary, software_version())
    return [write_history_dataset(out_dir / HISTORY_NC, hist, attrs),
            write_summary_csv(out_dir / SUMMARY_CSV, summary)]
