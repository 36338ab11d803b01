"""Scenario files: what the simulated world and the run look like, loaded and checked once.

A scenario is a TOML file; `sim/scenarios/bennu-hover.toml` is the annotated example.
`load_scenario` reads it (by packaged name or by path), applies dotted-key overrides and
validates every value, and gives back an immutable `Scenario` whose field names carry their
units. Every problem is a `ScenarioError` whose message is one line naming the file, the
dotted key and what was expected, so a bad Monte Carlo input is fixed from the log line
alone. This module is the only place that reads scenario files; the rest of the simulator
works on the validated value object.

Frames:
  body-fixed (``_bf``): origin at the body's centre of mass, +z along the spin pole (the
    pole given by RA/Dec, right-hand rule with the rotation), +x through the prime meridian;
    it rotates with the body.
  spacecraft (``_sc``): fixed to the spacecraft bus, origin at its centre of mass, axes
    along the principal axes of inertia.

Defaults live in one place: `DEFAULTS` (keyed by dotted key) and, for the physical
constants of a body, the `BODIES` table.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.resources
import json
import math
import numbers
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from flightsw.icd.ground_commands import BY_NAME as GROUND_COMMAND_TABLE
from flightsw.icd.ground_commands import (
    GROUND_SELECTABLE_MODES,
    HOVER_POINT_MAX_M,
    HOVER_POINT_MIN_M,
    GroundCommand,
)
from flightsw.input_file import InputFileError, read_input

MAX_DURATION_S = 30 * 86400.0
# Seeds go to numpy's SeedSequence and into summary.json; keep them to what a signed 64-bit
# integer (TOML's own integer range) holds.
MAX_SEED = 2**63 - 1
# .tlog stamps are microseconds since 1970 that readers trust below 2**53 us (2255).
MAX_EPOCH_UNIX_S = 2**53 / 1e6 - MAX_DURATION_S
MAX_SIM_RATE_HZ = 1000.0
MAX_SCENARIO_BYTES = 16 << 20  # the largest packaged scenario is 5 kB
# A hover point must be outside the body (Bennu's longest half-axis is 283 m) and close
# enough that the scenario still is a proximity-operations scenario.
HOVER_RADIUS_MIN_M = HOVER_POINT_MIN_M
HOVER_RADIUS_MAX_M = HOVER_POINT_MAX_M
# Boresights are typed by hand ([0, 0.7071, 0.7071]); accept that and normalise.
UNIT_VECTOR_TOLERANCE = 1e-3
# MAVLink PARAM_* messages carry the name in char[16].
PARAM_NAME_MAX_CHARS = 16
MODE_NAMES = GROUND_SELECTABLE_MODES
COMMAND_NAMES = tuple(GROUND_COMMAND_TABLE)
COMPOSITIONS = ("bennu", "ryugu", "psyche")

# Physical constants per body, the defaults of the [body] keys other than `name`
# (see /work/shared/reference/FACTS.md for the sources).
BODIES: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "bennu": MappingProxyType({
        "gm_m3s2": 4.892,  # Scheeres et al. 2019
        "rotation_period_h": 4.296057,
        "pole_ra_deg": 85.65,  # J2000
        "pole_dec_deg": -60.17,
        "extent_m": (565.0, 535.0, 508.0),
    }),
    "ryugu": MappingProxyType({
        "gm_m3s2": 30.0,
        "rotation_period_h": 7.63262,
        "pole_ra_deg": 96.40,
        "pole_dec_deg": -66.40,
        "extent_m": (1004.0, 1004.0, 876.0),  # top shape, mean radius 448 m (FACTS.md)
    }),
})

# Every default of the schema, by dotted key (`commands[].args` is the default of each
# [[commands]] entry's `args`). Keys not here, and not body constants, are required.
DEFAULTS: Mapping[str, Any] = MappingProxyType({
    "scenario.description": "",
    "scenario.epoch_unix_s": 1603152000.0,  # 2020-10-20T00:00:00Z, mission time zero
    "scenario.sim_rate_hz": 10.0,
    "body.shape_subdivisions": 3,
    "spacecraft.instrument_boresight_sc": (0.0, 0.0, 1.0),
    "spacecraft.wheels.count": 4,
    "spacecraft.wheels.initial_speed_radps": 0.0,
    "commands": (),
    "commands[].args": (),
    "params": MappingProxyType({}),
    "spacecraft.arm_length_m": 3.35,
    "spacecraft.thrusters.backaway_force_n": 0.0,
    "spacecraft.thrusters.impulse_noise_frac": 0.01,
    "sensors.navcam.landmark_sigma_rad": 1e-4,
    "sensors.navcam.fov_half_deg": 20.0,
    "sensors.navcam.max_landmarks": 8,
    "sensors.navcam.catalogue_sigma_m": 0.0,
    "sensors.sampler": {"rate_hz": 10.0},
    "dispersions": {"gm_sigma_frac": 0.0},
    "tag": None,
    "tag.safe_home_height_m": 1000.0,
    "tag.slope_limit_deg": 15.0,
    "tag.hazards": (),
    "tag.regolith_density_kgm3": (500.0, 700.0),
    "tag.fine_fraction": (0.3, 0.9),
    "tag.sampler_capacity_kg": 0.4,
    "tag.regolith_stiffness_npm": 20.0,
    "tag.regolith_damping_nspm": 230.0,
    "tag.friction": 0.4,
    "tag.contact_switch_failed": False,
    "tag.target_latlon_deg": (0.0, 0.0),  # unused when [prospect] chooses the site
    "prospect": None,
    "prospect.sun_distance_au": 1.1,
    "prospect.boulder_facet_fraction": 0.15,
    "prospect.boulder_radius_m": (3.0, 8.0),
    "prospect.boulder_height_m": (0.6, 3.0),
    "prospect.landmark_spacing_m": 6.0,
    "prospect.scan_lidar_sigma_m": 0.05,
    "prospect.scan_lidar_fov_rad": 0.02,
    "prospect.spectrometer_fault_prob": 0.0,
})


class ScenarioError(Exception):
    """A scenario that cannot be flown, explained in one line: file, dotted key, expectation.

    `file` is the file as the user named it (None when no file was found), `key` the dotted
    key (None for problems of the whole file, such as TOML syntax), `problem` what was
    expected and what was found, `from_override` whether the value came from `overrides`.
    """

    def __init__(self, file: str | None, key: str | None, problem: str,
                 from_override: bool = False):
        self.file = file
        self.key = key
        self.problem = problem
        self.from_override = from_override
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if self.key is not None:
            parts.append(self.key + (" (override)" if self.from_override else ""))
        parts.append(self.problem)
        return _one_line(": ".join(parts))

    def __str__(self) -> str:
        return self._format()

    def __reduce__(self):
        # Monte Carlo workers send errors across processes; keep them picklable.
        return (type(self), (self.file, self.key, self.problem, self.from_override))


# --------------------------------------------------------------------------- value objects


@dataclass(frozen=True)
class RunConfig:
    """[scenario]: the run itself."""

    name: str
    description: str
    duration_s: float
    seed: int
    epoch_unix_s: float  # Unix time of mission time zero; only used for .tlog timestamps
    sim_rate_hz: float  # dynamics step rate; every sensor rate divides it


@dataclass(frozen=True)
class BodyConfig:
    """[body]: the asteroid. Keys other than `name` default to `BODIES[name]`."""

    name: str
    gm_m3s2: float
    rotation_period_h: float
    pole_ra_deg: float  # J2000 right ascension of the spin pole
    pole_dec_deg: float  # J2000 declination of the spin pole
    extent_m: tuple[float, float, float]  # full extent along body-fixed x, y, z
    shape_subdivisions: int  # refinement level of the shape model mesh


@dataclass(frozen=True)
class ThrusterConfig:
    """[spacecraft.thrusters]: six identical thrusters.

    One thruster pushes the spacecraft along each of +x, -x, +y, -y, +z, -z of the
    spacecraft frame, through the centre of mass: they translate, the wheels rotate.
    """

    force_n: float  # nominal thrust of one thruster
    min_impulse_bit_ns: float  # smallest impulse one firing can deliver
    magnitude_sigma_frac: float  # 1-sigma thrust magnitude error, fraction of force_n
    misalignment_sigma_deg: float  # 1-sigma angle between actual and nominal thrust axis
    backaway_force_n: float = 0.0  # slot 6: one thruster along -z spacecraft (0: none)
    impulse_noise_frac: float = 0.01  # 1-sigma pulse-to-pulse impulse noise, fraction


@dataclass(frozen=True)
class WheelConfig:
    """[spacecraft.wheels]: reaction wheels (3 along x, y, z; a 4th is skewed)."""

    count: int
    inertia_kgm2: float  # rotor inertia about its spin axis
    max_torque_nm: float
    max_speed_radps: float
    initial_speed_radps: float


@dataclass(frozen=True)
class SpacecraftConfig:
    """[spacecraft]: the probe's mass properties and actuators."""

    mass_kg: float
    inertia_kgm2: tuple[float, float, float]  # principal moments about spacecraft x, y, z
    instrument_boresight_sc: tuple[float, float, float]  # unit vector, spacecraft frame
    thrusters: ThrusterConfig
    wheels: WheelConfig
    arm_length_m: float = 3.35  # sampler head along +z from the centre of mass


@dataclass(frozen=True)
class InitialConfig:
    """[initial]: where the run starts, and the 1-sigma scatter around it (per axis)."""

    hover_point_bf_m: tuple[float, float, float]  # body-fixed
    position_sigma_m: float
    velocity_sigma_mps: float
    attitude_sigma_deg: float
    rate_sigma_degps: float


@dataclass(frozen=True)
class ImuConfig:
    """[sensors.imu]: noises are 1-sigma per sample, biases 1-sigma drawn once per run."""

    rate_hz: float
    accel_noise_mps2: float
    accel_bias_sigma_mps2: float
    gyro_noise_radps: float
    gyro_bias_sigma_radps: float
    dropout_prob: float  # probability that a sample is lost


@dataclass(frozen=True)
class StarTrackerConfig:
    """[sensors.star_tracker]: attitude, 1-sigma error per axis."""

    rate_hz: float
    sigma_arcsec: float
    dropout_prob: float


@dataclass(frozen=True)
class LidarConfig:
    """[sensors.lidar]: range along the boresight, 1-sigma error."""

    rate_hz: float
    sigma_m: float
    max_range_m: float
    dropout_prob: float


@dataclass(frozen=True)
class NavCamConfig:
    """[sensors.navcam]: landmark sightings (Natural Feature Tracking) at rate_hz."""

    rate_hz: float
    sigma_m: float  # 1-sigma per axis of a position fix (PROBE_NAVCAM_FIX), if emitted
    dropout_prob: float
    landmark_sigma_rad: float = 1e-4  # 1-sigma angular error of one landmark sighting
    fov_half_deg: float = 20.0
    max_landmarks: int = 8  # sightings per image
    catalogue_sigma_m: float = 0.0  # 1-sigma error of the on-board landmark positions


@dataclass(frozen=True)
class WheelTachConfig:
    """[sensors.wheel_tach]: wheel speeds, 1-sigma error."""

    rate_hz: float
    sigma_radps: float


@dataclass(frozen=True)
class PowerSensorConfig:
    """[sensors.power]: power housekeeping."""

    rate_hz: float


@dataclass(frozen=True)
class SensorsConfig:
    """[sensors.*]: every rate is > 0, <= sim_rate_hz, and divides sim_rate_hz."""

    imu: ImuConfig
    star_tracker: StarTrackerConfig
    lidar: LidarConfig
    navcam: NavCamConfig
    wheel_tach: WheelTachConfig
    power: PowerSensorConfig
    sampler: SamplerSensorConfig = None


@dataclass(frozen=True)
class ScheduledCommand:
    """One [[commands]] entry, sent to the flight software at mission time `t_s`.

    args: SET_MODE ("SAFE" | "STANDBY" | "HOVER",); SET_HOVER_POINT (x_m, y_m, z_m) in the
    body-fixed frame; SET_PARAM (param_name, value).
    """

    t_s: float
    name: str
    args: tuple[str | float, ...]


@dataclass(frozen=True)
class SamplerSensorConfig:
    rate_hz: float


@dataclass(frozen=True)
class DispersionsConfig:
    """Run-to-run dispersions drawn from the seed (beyond sensor noise and biases)."""

    gm_sigma_frac: float  # true GM = nominal * (1 + sigma * N(0, 1)); the probe knows nominal


@dataclass(frozen=True)
class HazardConfig:
    latlon_deg: tuple[float, float]
    radius_m: float
    height_m: float
    mapped: bool  # on the probe's hazard map (an unmapped one is a surprise)


@dataclass(frozen=True)
class TagConfig:
    """Touch-and-go: the target, its hazards and the regolith and sampler truth."""

    target_latlon_deg: tuple[float, float]
    safe_home_height_m: float  # sampler-head height above the target at the start
    slope_limit_deg: float
    hazards: tuple[HazardConfig, ...]
    regolith_density_kgm3: tuple[float, float]  # drawn uniformly per run
    fine_fraction: tuple[float, float]  # collectable (<= 2 cm) fraction, drawn per run
    sampler_capacity_kg: float
    regolith_stiffness_npm: float
    regolith_damping_nspm: float
    friction: float
    # Fault injection: the sampler's contact switch never closes (the flight must
    # then see contact on the IMU or wave off when it is not seen in its window).
    contact_switch_failed: bool = False


@dataclass(frozen=True)
class ProspectConfig:
    """The spectral survey's world: composition, boulders, survey instruments."""

    composition: str  # one of COMPOSITIONS: what the surface is made of
    sun_distance_au: float
    boulder_facet_fraction: float  # share of facets carrying a boulder
    boulder_radius_m: tuple[float, float]
    boulder_height_m: tuple[float, float]
    landmark_spacing_m: float  # navigation landmarks on every facet, this far apart
    scan_lidar_sigma_m: float
    scan_lidar_fov_rad: float
    spectrometer_fault_prob: float  # per readout: a dropped frame, saturation, a dead channel


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. `to_dict()` has the TOML's layout plus `source`."""

    source: str  # absolute path of the file it was loaded from
    scenario: RunConfig
    body: BodyConfig
    spacecraft: SpacecraftConfig
    initial: InitialConfig
    sensors: SensorsConfig
    commands: tuple[ScheduledCommand, ...]
    params: Mapping[str, float] = field(hash=False)  # flight-software parameter overrides
    dispersions: DispersionsConfig = None
    tag: TagConfig | None = None
    prospect: ProspectConfig | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (for summary.json); without `source` it is valid input."""
        data = _plain(self)
        for optional in ("tag", "prospect"):
            if data.get(optional) is None:
                data.pop(optional, None)  # absent, not null: TOML has no null
        return data


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class _Number:
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    integer: bool = False
    choices: tuple[int, ...] | None = None
    note: str = ""

    def describe(self) -> str:
        noun = "an integer" if self.integer else "a number"
        if self.choices is not None:
            return f"{noun}, one of {', '.join(str(c) for c in self.choices)}"
        bounds = [f"{op} {_num(v)}" for op, v in
                  ((">", self.gt), (">=", self.ge), ("<", self.lt), ("<=", self.le))
                  if v is not None]
        text = noun + (" " + " and ".join(bounds) if bounds else "")
        return text + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class _Text:
    nonempty: bool = False
    choices: tuple[str, ...] | None = None
    what: str = "a string"

    def describe(self) -> str:
        if self.choices is not None:
            return f"{self.what}, one of {', '.join(repr(c) for c in self.choices)}"
        return "a non-empty string" if self.nonempty else self.what


@dataclass(frozen=True)
class _Vector:
    length: int
    element: _Number = _Number()

    def describe(self) -> str:
        text = f"an array of {self.length} numbers"
        each = self.element.describe().removeprefix("a number")
        return text + (f", each{each}" if each else "")


@dataclass(frozen=True)
class _Flag:
    def describe(self) -> str:
        return "true or false"


_BOOL = _Flag()
_ANY = _Number()
# Every number is bounded on both sides: a value past the bound (mass_kg = 1e308) is a typo
# or hostile, and would be flown into overflow.  The bounds are generous, in units.
_SIGMA_M = _Number(ge=0.0, le=1e4)
_SIGMA_MPS2 = _Number(ge=0.0, le=10.0)
_SIGMA_RADPS = _Number(ge=0.0, le=10.0)
_PROB = _Number(ge=0.0, le=1.0)
# Rates are also checked against scenario.sim_rate_hz once that is known.
_RATE = _Number(gt=0.0, le=MAX_SIM_RATE_HZ)

_SCENARIO_SCHEMA: dict[str, Any] = {
    "name": _Text(nonempty=True),
    "description": _Text(),
    "duration_s": _Number(gt=0.0, le=MAX_DURATION_S, note="30 days"),
    "seed": _Number(ge=0, le=MAX_SEED, integer=True),
    # .tlog timestamps are unsigned microseconds since 1970, trusted up to 2255.
    "epoch_unix_s": _Number(ge=0.0, le=MAX_EPOCH_UNIX_S),
    "sim_rate_hz": _Number(ge=1.0, le=MAX_SIM_RATE_HZ),
}
_BODY_NAME = _Text(choices=tuple(BODIES), what="a known body name")
_BODY_SCHEMA: dict[str, Any] = {
    "name": _BODY_NAME,
    "gm_m3s2": _Number(gt=0.0, le=1e12, note="Ceres is 6.3e10"),
    "rotation_period_h": _Number(gt=0.0, le=1e4),
    "pole_ra_deg": _Number(ge=0.0, lt=360.0),
    "pole_dec_deg": _Number(ge=-90.0, le=90.0),
    "extent_m": _Vector(3, _Number(gt=0.0, le=1e6)),
    "shape_subdivisions": _Number(ge=1, le=6, integer=True),
}
_SPACECRAFT_SCHEMA: dict[str, Any] = {
    "mass_kg": _Number(gt=0.0, le=1e5),
    "inertia_kgm2": _Vector(3, _Number(gt=0.0, le=1e7)),
    "instrument_boresight_sc": _Vector(3, _Number(ge=-2.0, le=2.0)),  # then normalised
    "arm_length_m": _Number(gt=0.0, le=20.0),
    "thrusters": {
        "force_n": _Number(gt=0.0, le=1e4),
        "backaway_force_n": _Number(ge=0.0, le=1e4),
        "min_impulse_bit_ns": _Number(ge=0.0, le=1e3),
        "magnitude_sigma_frac": _Number(ge=0.0, lt=0.5),
        "misalignment_sigma_deg": _Number(ge=0.0, lt=10.0),
        "impulse_noise_frac": _Number(ge=0.0, lt=0.5),
    },
    "wheels": {
        "count": _Number(integer=True, choices=(3, 4)),
        "inertia_kgm2": _Number(gt=0.0, le=1e3),
        "max_torque_nm": _Number(gt=0.0, le=1e3),
        "max_speed_radps": _Number(gt=0.0, le=1e4),
        "initial_speed_radps": _ANY,  # |.| <= max_speed_radps, checked afterwards
    },
}
_INITIAL_SCHEMA: dict[str, Any] = {
    "hover_point_bf_m": _Vector(3),  # radius checked afterwards
    "position_sigma_m": _SIGMA_M,
    "velocity_sigma_mps": _Number(ge=0.0, le=100.0),
    "attitude_sigma_deg": _Number(ge=0.0, le=180.0),
    "rate_sigma_degps": _Number(ge=0.0, le=100.0),
}
_SENSORS_SCHEMA: dict[str, Any] = {
    "imu": {
        "rate_hz": _RATE,
        "accel_noise_mps2": _SIGMA_MPS2,
        "accel_bias_sigma_mps2": _SIGMA_MPS2,
        "gyro_noise_radps": _SIGMA_RADPS,
        "gyro_bias_sigma_radps": _SIGMA_RADPS,
        "dropout_prob": _PROB,
    },
    "star_tracker": {"rate_hz": _RATE, "sigma_arcsec": _Number(ge=0.0, le=3600.0),
                     "dropout_prob": _PROB},
    "lidar": {"rate_hz": _RATE, "sigma_m": _SIGMA_M, "max_range_m": _Number(gt=0.0, le=1e6),
              "dropout_prob": _PROB},
    "navcam": {"rate_hz": _RATE, "sigma_m": _SIGMA_M, "dropout_prob": _PROB,
               "landmark_sigma_rad": _Number(gt=0.0, le=0.1),
               "fov_half_deg": _Number(gt=0.0, lt=90.0),
               "max_landmarks": _Number(ge=1, le=64, integer=True),
               "catalogue_sigma_m": _SIGMA_M},
    "sampler": {"rate_hz": _RATE},
    "wheel_tach": {"rate_hz": _RATE, "sigma_radps": _SIGMA_RADPS},
    "power": {"rate_hz": _RATE},
}
_TOP_KEYS = ("scenario", "body", "spacecraft", "initial", "sensors", "commands", "params",
             "dispersions", "tag", "prospect")
_PROSPECT_SCHEMA: dict[str, Any] = {
    "composition": _Text(choices=COMPOSITIONS, what="a composition"),
    "sun_distance_au": _Number(ge=0.5, le=5.0),
    "boulder_facet_fraction": _PROB,
    "boulder_radius_m": _Vector(2, _Number(gt=0.0, le=50.0)),
    "boulder_height_m": _Vector(2, _Number(gt=0.0, le=50.0)),
    "landmark_spacing_m": _Number(ge=1.0, le=100.0),
    "scan_lidar_sigma_m": _SIGMA_M,
    "scan_lidar_fov_rad": _Number(gt=0.0, le=0.5),
    "spectrometer_fault_prob": _PROB,
}
_DISPERSIONS_SCHEMA: dict[str, Any] = {"gm_sigma_frac": _Number(ge=0.0, lt=0.5)}
_TAG_SCHEMA: dict[str, Any] = {
    "target_latlon_deg": _Vector(2, _Number(ge=-360.0, le=360.0)),
    "safe_home_height_m": _Number(ge=100.0, le=5000.0),
    "slope_limit_deg": _Number(gt=0.0, lt=90.0),
    "regolith_density_kgm3": _Vector(2, _Number(ge=100.0, le=3000.0)),
    "fine_fraction": _Vector(2, _Number(ge=0.0, le=1.0)),
    "sampler_capacity_kg": _Number(gt=0.0, le=10.0),
    "regolith_stiffness_npm": _Number(ge=0.0, le=1e9),
    "regolith_damping_nspm": _Number(ge=0.0, le=1e9),
    "friction": _Number(ge=0.0, le=2.0),
    "contact_switch_failed": _BOOL,
}
_HAZARD_SCHEMA: dict[str, Any] = {
    "latlon_deg": _Vector(2, _Number(ge=-360.0, le=360.0)),
    "radius_m": _Number(gt=0.0, le=50.0),
    "height_m": _Number(gt=0.0, le=50.0),
}
_COMMAND_KEYS = ("t_s", "name", "args")
_COMMAND_T = _Number(ge=0.0, le=MAX_DURATION_S)
_COMMAND_NAME = _Text(choices=COMMAND_NAMES, what="a command name")
_MODE_NAME = _Text(choices=MODE_NAMES, what="a mode name")
_PARAM_NAME_RE = re.compile(rf"[!-~]{{1,{PARAM_NAME_MAX_CHARS}}}")  # printable ASCII
_PARAM_NAME_RULE = f"a parameter name of 1 to {PARAM_NAME_MAX_CHARS} ASCII characters, no spaces"


# --------------------------------------------------------------------------- loading


def known_scenarios() -> list[str]:
    """Names of the packaged scenarios, for `load_scenario(name)`."""
    folder = _packaged_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir()
                  if p.name.endswith(".toml") and p.is_file())


def load_scenario(name_or_path: str | os.PathLike[str],
                  overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, override and validate a scenario.

    `name_or_path`: a packaged scenario's name (no '/', no '.toml', see `known_scenarios`)
    or the path of a TOML file. `overrides`: {dotted key: value}, for example
    {"scenario.seed": 3, "sensors.imu.rate_hz": 5.0}, applied before validation; a new
    key (say "params.KP") creates it. Raises ScenarioError for any problem of the input.
    """
    if overrides is not None and not isinstance(overrides, Mapping):
        raise TypeError(f"overrides must be a mapping of dotted keys, got {type(overrides)}")
    label, source, data = _read(name_or_path)
    raw = _parse(label, data)
    overridden = _apply_overrides(label, raw, overrides or {})
    try:
        return _build(_Context(label), raw, source)
    except ScenarioError as err:
        if err.key is not None and any(_is_under(err.key, k) or _is_under(k, err.key)
                                       for k in overridden):
            raise ScenarioError(err.file, err.key, err.problem, from_override=True) from None
        raise


def _packaged_dir():
    return importlib.resources.files("sim").joinpath("scenarios")


def _is_name(text: str) -> bool:
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return not any(s in text for s in separators) and not text.endswith(".toml")


def _read(name_or_path: str | os.PathLike[str]) -> tuple[str | None, str, bytes]:
    """(label for messages, absolute source path, file contents)."""
    if isinstance(name_or_path, os.PathLike):
        path = os.fsdecode(os.fspath(name_or_path))
    elif isinstance(name_or_path, str):
        path = name_or_path
        if _is_name(path):
            known = known_scenarios()
            if path not in known:
                raise ScenarioError(
                    None, None,
                    f"unknown scenario {path!r}; known scenarios: {', '.join(known) or 'none'}"
                    " (to load another file, give its path, e.g. ./my-scenario.toml)")
            resource = _packaged_dir().joinpath(f"{path}.toml")
            return f"{path}.toml", str(resource), resource.read_bytes()
    else:
        raise TypeError(f"name_or_path must be a str or a path, got {type(name_or_path)}")
    try:
        data = read_input(path, MAX_SCENARIO_BYTES, "scenario file")
    except InputFileError as err:
        problem = str(err).removeprefix(f"{path}: ")
        raise ScenarioError(path, None, f"cannot read scenario file: {problem}") from None
    return path, os.path.abspath(path), data


def _parse(label: str | None, data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ScenarioError(label, None, f"line {line}: not UTF-8 text") from None
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(label, None, f"invalid TOML: {err}") from None


def _apply_overrides(label: str | None, raw: dict[str, Any],
                     overrides: Mapping[str, Any]) -> list[str]:
    """Set each dotted key in `raw`; return the keys as they appear in error messages."""
    applied = []
    for dotted, value in overrides.items():
        parts = dotted.split(".") if isinstance(dotted, str) else []
        if not parts or "" in parts:
            raise ScenarioError(label, None, f"override key {dotted!r} is not a dotted key"
                                " such as 'scenario.seed'", from_override=True)
        node, walked = raw, ""
        for part in parts[:-1]:
            walked = _join(walked, part)
            if part not in node:
                node[part] = {}
            elif not isinstance(node[part], dict):
                raise ScenarioError(label, walked, f"is not a table, cannot apply {dotted!r}",
                                    from_override=True)
            node = node[part]
        node[parts[-1]] = value
        applied.append(_join(walked, parts[-1]))
    return applied


def _is_under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + ".") or key.startswith(prefix + "[")


# --------------------------------------------------------------------------- validation


class _Context:
    def __init__(self, label: str | None):
        self.label = label

    def error(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(self.label, key, problem)


def _build(ctx: _Context, raw: dict[str, Any], source: str) -> Scenario:
    _reject_unknown(ctx, raw, _TOP_KEYS, "")
    run = _check_table(ctx, _get(ctx, raw, "scenario", "", "a table"), _SCENARIO_SCHEMA,
                       "scenario", DEFAULTS)
    body = _check_body(ctx, _get(ctx, raw, "body", "", "a table"))
    spacecraft = _check_table(ctx, _get(ctx, raw, "spacecraft", "", "a table"),
                              _SPACECRAFT_SCHEMA, "spacecraft", DEFAULTS)
    initial = _check_table(ctx, _get(ctx, raw, "initial", "", "a table"), _INITIAL_SCHEMA,
                           "initial", DEFAULTS)
    sensors = _check_table(ctx, _get(ctx, raw, "sensors", "", "a table"), _SENSORS_SCHEMA,
                           "sensors", DEFAULTS)

    _check_inertia(ctx, spacecraft["inertia_kgm2"], "spacecraft.inertia_kgm2")
    spacecraft["instrument_boresight_sc"] = _unit_vector(
        ctx, spacecraft["instrument_boresight_sc"], "spacecraft.instrument_boresight_sc")
    wheels = spacecraft["wheels"]
    if abs(wheels["initial_speed_radps"]) > wheels["max_speed_radps"]:
        raise ctx.error("spacecraft.wheels.initial_speed_radps",
                        "expected a number between -max_speed_radps and max_speed_radps "
                        f"({_num(wheels['max_speed_radps'])}), "
                        f"got {_show(wheels['initial_speed_radps'])}")
    _check_hover_point(ctx, initial["hover_point_bf_m"], "initial.hover_point_bf_m")
    for sensor, table in sensors.items():
        _check_rate(ctx, table["rate_hz"], run["sim_rate_hz"], f"sensors.{sensor}.rate_hz")

    commands = _check_commands(ctx, _get(ctx, raw, "commands", "", "an array of tables"),
                               run["duration_s"])
    params = _check_params(ctx, _get(ctx, raw, "params", "", "a table"))
    dispersions = _check_table(ctx, _get(ctx, raw, "dispersions", "", "a table"),
                               _DISPERSIONS_SCHEMA, "dispersions", DEFAULTS)
    tag = _check_tag(ctx, raw.get("tag"))
    prospect = None
    if raw.get("prospect") is not None:
        table = _check_table(ctx, raw["prospect"], _PROSPECT_SCHEMA, "prospect", DEFAULTS)
        for key in ("boulder_radius_m", "boulder_height_m"):
            lo, hi = table[key]
            if lo > hi:
                raise ctx.error(f"prospect.{key}", f"expected [low, high] with low <= high, "
                                                   f"got {_show(list(table[key]))}")
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


def _check_tag(ctx: _Context, raw: Any) -> TagConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ctx.error("tag", f"expected a table, got {_show(raw)}")
    hazards_raw = raw.get("hazards", ())
    plain = {k: v for k, v in raw.items() if k != "hazards"}
    table = _check_table(ctx, plain, _TAG_SCHEMA, "tag", DEFAULTS)
    if not isinstance(hazards_raw, (list, tuple)):
        raise ctx.error("tag.hazards", f"expected an array of tables, got {_show(hazards_raw)}")
    hazards = []
    for i, entry in enumerate(hazards_raw):
        path = f"tag.hazards[{i}]"
        if not isinstance(entry, dict):
            raise ctx.error(path, f"expected a table, got {_show(entry)}")
        mapped = entry.get("mapped", True)
        if not isinstance(mapped, bool):
            raise ctx.error(f"{path}.mapped", f"expected true or false, got {_show(mapped)}")
        rest = {k: v for k, v in entry.items() if k != "mapped"}
        checked = _check_table(ctx, rest, _HAZARD_SCHEMA, path, {})
        hazards.append(HazardConfig(tuple(checked["latlon_deg"]), checked["radius_m"],
                                    checked["height_m"], mapped))
    for key in ("regolith_density_kgm3", "fine_fraction"):
        lo, hi = table[key]
        if lo > hi:
            raise ctx.error(f"tag.{key}", f"expected [low, high] with low <= high, got "
                                          f"{_show(list(table[key]))}")
    lat = table["target_latlon_deg"][0]
    if not -90.0 <= lat <= 90.0:
        raise ctx.error("tag.target_latlon_deg", f"expected a latitude in [-90, 90] deg, "
                                                 f"got {_num(lat)}")
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
    )


def _get(ctx: _Context, table: dict[str, Any], name: str, path: str, expected: str) -> Any:
    key = _join(path, name)
    if name in table:
        return table[name]
    if key in DEFAULTS:
        return DEFAULTS[key]
    raise ctx.error(key, f"missing (expected {expected})")


def _reject_unknown(ctx: _Context, table: dict[str, Any], known: Iterable[str],
                    path: str) -> None:
    known = list(known)
    unknown = [k for k in table if k not in known]
    if not unknown:
        return
    first = unknown[0]
    close = difflib.get_close_matches(str(first), known, n=1)
    problem = "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    if len(unknown) > 1:
        problem += f"; also unknown here: {', '.join(_join('', k) for k in unknown[1:])}"
    where = f"[{path}]" if path else "the top level"
    raise ctx.error(_join(path, first), f"{problem}; known keys in {where}: {', '.join(known)}")


def _check_table(ctx: _Context, raw: Any, schema: dict[str, Any], path: str,
                 defaults: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ctx.error(path, f"expected a table, got {_show(raw)}")
    _reject_unknown(ctx, raw, schema, path)
    out: dict[str, Any] = {}
    for name, spec in schema.items():
        key = _join(path, name)
        if name in raw:
            value = raw[name]
        elif key in defaults:
            value = defaults[key]
        else:
            expected = "a table" if isinstance(spec, dict) else spec.describe()
            raise ctx.error(key, f"missing (expected {expected})")
        if isinstance(spec, dict):
            out[name] = _check_table(ctx, value, spec, key, defaults)
        else:
            out[name] = _check_value(ctx, value, spec, key)
    return out


def _check_body(ctx: _Context, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ctx.error("body", f"expected a table, got {_show(raw)}")
    if "name" not in raw:
        raise ctx.error("body.name", f"missing (expected {_BODY_NAME.describe()})")
    name = _check_value(ctx, raw["name"], _BODY_NAME, "body.name")
    defaults = {**DEFAULTS, **{f"body.{k}": v for k, v in BODIES[name].items()}}
    return _check_table(ctx, raw, _BODY_SCHEMA, "body", defaults)


def _check_value(ctx: _Context, value: Any, spec: Any, key: str) -> Any:
    if isinstance(spec, _Number):
        return _check_number(ctx, value, spec, key)
    if isinstance(spec, _Text):
        return _check_text(ctx, value, spec, key)
    if isinstance(spec, _Flag):
        if not isinstance(value, bool):
            raise ctx.error(key, f"expected {spec.describe()}, got {_show(value)}")
        return value
    return _check_vector(ctx, value, spec, key)


def _check_number(ctx: _Context, value: Any, spec: _Number, key: str) -> float | int:
    expected = f"expected {spec.describe()}, got {_show(value)}"
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


def _check_text(ctx: _Context, value: Any, spec: _Text, key: str) -> str:
    if not isinstance(value, str) or (spec.nonempty and not value.strip()):
        raise ctx.error(key, f"expected {spec.describe()}, got {_show(value)}")
    if spec.choices is not None and value not in spec.choices:
        close = difflib.get_close_matches(value, spec.choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ctx.error(key, f"expected {spec.describe()}, got {_show(value)}{hint}")
    return value


def _as_list(value: Any) -> list[Any] | None:
    if isinstance(value, (list, tuple)):
        return list(value)
    if getattr(value, "ndim", None) == 1:  # a 1-D numpy array given as an override
        return list(value)
    return None


def _check_vector(ctx: _Context, value: Any, spec: _Vector, key: str) -> tuple[float, ...]:
    items = _as_list(value)
    if items is None:
        raise ctx.error(key, f"expected {spec.describe()}, got {_show(value)}")
    if len(items) != spec.length:
        raise ctx.error(key, f"expected {spec.describe()}, got {len(items)} "
                             f"element{'s' if len(items) != 1 else ''}: {_show(value)}")
    return tuple(float(_check_number(ctx, v, spec.element, f"{key}[{i}]"))
                 for i, v in enumerate(items))


def _check_inertia(ctx: _Context, moments: tuple[float, ...], key: str) -> None:
    # A rigid body's principal moments obey the triangle inequality; a violation is
    # almost always a typo, and the attitude dynamics would be unphysical.
    for i in range(3):
        if moments[i] > moments[(i + 1) % 3] + moments[(i + 2) % 3]:
            raise ctx.error(key, "expected principal moments obeying the triangle inequality "
                                 f"(each <= the sum of the other two), got {_show(moments)}")


def _unit_vector(ctx: _Context, vector: tuple[float, ...], key: str) -> tuple[float, ...]:
    norm = math.sqrt(sum(c * c for c in vector))
    if abs(norm - 1.0) > UNIT_VECTOR_TOLERANCE:
        raise ctx.error(key, f"expected a unit vector (norm within {UNIT_VECTOR_TOLERANCE:g} "
                             f"of 1), got {_show(vector)} with norm {norm:.6g}")
    return tuple(c / norm for c in vector)


def _check_hover_point(ctx: _Context, point: tuple[float, ...], key: str) -> None:
    radius_m = math.sqrt(sum(c * c for c in point))
    if not HOVER_RADIUS_MIN_M <= radius_m <= HOVER_RADIUS_MAX_M:
        raise ctx.error(key, f"expected a body-fixed point {_num(HOVER_RADIUS_MIN_M)} to "
                             f"{_num(HOVER_RADIUS_MAX_M)} m from the body's centre (outside "
                             f"the body), got {_show(point)} at {radius_m:.6g} m")


def _check_rate(ctx: _Context, rate_hz: float, sim_rate_hz: float, key: str) -> None:
    if rate_hz > sim_rate_hz:
        raise ctx.error(key, f"expected a number > 0 and <= scenario.sim_rate_hz "
                             f"({_num(sim_rate_hz)}), got {_num(rate_hz)}")
    ratio = sim_rate_hz / rate_hz
    if not math.isfinite(ratio) or ratio > 1e9:
        raise ctx.error(key, f"expected a rate that divides scenario.sim_rate_hz "
                             f"({_num(sim_rate_hz)}) at most 1e9 times, got {_num(rate_hz)}")
    if abs(ratio - round(ratio)) > 1e-9 * ratio:
        raise ctx.error(key, f"expected a rate that divides scenario.sim_rate_hz "
                             f"({_num(sim_rate_hz)}) evenly (sim_rate_hz / rate_hz must be "
                             f"an integer, here {ratio:.6g}), got {_num(rate_hz)}")


def _check_commands(ctx: _Context, raw: Any, duration_s: float) -> tuple[ScheduledCommand, ...]:
    entries = _as_list(raw)
    if entries is None:
        raise ctx.error("commands", "expected an array of tables ([[commands]] entries), "
                                    f"got {_show(raw)}")
    commands: list[ScheduledCommand] = []
    for i, entry in enumerate(entries):
        path = f"commands[{i}]"
        if not isinstance(entry, dict):
            raise ctx.error(path, f"expected a table with t_s, name, args, got {_show(entry)}")
        _reject_unknown(ctx, entry, _COMMAND_KEYS, path)
        for required in ("t_s", "name"):
            if required not in entry:
                spec = _COMMAND_T if required == "t_s" else _COMMAND_NAME
                raise ctx.error(f"{path}.{required}", f"missing (expected {spec.describe()})")
        t_s = float(_check_number(ctx, entry["t_s"], _COMMAND_T, f"{path}.t_s"))
        # A command after the end is kept but never sent: shortening a run with
        # --duration must not turn a good scenario into a bad one.
        if commands and t_s < commands[-1].t_s:
            raise ctx.error(f"{path}.t_s", "expected times in non-decreasing order, got "
                                           f"{_show(entry['t_s'])}, earlier than "
                                           f"commands[{i - 1}].t_s = {_num(commands[-1].t_s)}")
        name = _check_text(ctx, entry["name"], _COMMAND_NAME, f"{path}.name")
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
        parts.append(text + (f", default {_num(arg.default)}" if arg.default is not None
                             else ""))
    n = len(cmd.args)
    count = f"{n} argument{'s' if n > 1 else ''}"
    if cmd.required_args != n:
        count = f"{cmd.required_args} to {count}"
    return f"{count}: " + "; ".join(parts)


def _check_args(ctx: _Context, name: str, raw: Any, key: str) -> tuple[str | float, ...]:
    cmd = GROUND_COMMAND_TABLE[name]
    args = _as_list(raw)
    if args is None or not cmd.required_args <= len(args) <= len(cmd.args):
        got = _show(raw) if args is None else f"{len(args)}: {_show(raw)}"
        raise ctx.error(key, f"{name} expects {_describe_args(cmd)}, got {got}")
    values: list[str | float] = []
    for i, (arg, value) in enumerate(zip(cmd.args, args, strict=False)):
        if arg.kind == "mode":
            values.append(_check_text(ctx, value, _MODE_NAME, f"{key}[{i}]"))
        elif arg.kind == "param_name":
            _check_param_name(ctx, value, f"{key}[{i}]")
            values.append(value)
        else:
            rule = _Number(ge=arg.low, le=arg.high, integer=arg.integer,
                           choices=tuple(int(c) for c in arg.choices) or None)
            values.append(float(_check_number(ctx, value, rule, f"{key}[{i}]")))
    if name == "SET_HOVER_POINT":
        _check_hover_point(ctx, tuple(values), key)
    return tuple(values)


def _check_param_name(ctx: _Context, name: Any, key: str) -> None:
    if not isinstance(name, str) or not _PARAM_NAME_RE.fullmatch(name):
        raise ctx.error(key, f"expected {_PARAM_NAME_RULE}, got {_show(name)}")


def _check_params(ctx: _Context, raw: Any) -> Mapping[str, float]:
    if not isinstance(raw, Mapping):
        raise ctx.error("params", f"expected a table of name = number, got {_show(raw)}")
    params: dict[str, float] = {}
    for name, value in raw.items():
        key = _join("params", name)
        if not isinstance(name, str) or not _PARAM_NAME_RE.fullmatch(name):
            raise ctx.error(key, f"expected {_PARAM_NAME_RULE} as the key")
        params[name] = float(_check_number(ctx, value, _ANY, key))
    return MappingProxyType(params)


# --------------------------------------------------------------------------- formatting


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _join(path: str, part: Any) -> str:
    """Dotted key as TOML writes it: odd names quoted, so a message stays one line."""
    text = part if isinstance(part, str) else str(part)
    if not _BARE_KEY.fullmatch(text):
        text = json.dumps(text)
    return f"{path}.{text}" if path else text


def _num(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _show(value: Any, depth: int = 0) -> str:
    """A short, single-line, TOML-like rendering of a value found in the input."""
    try:
        text = _render(value, depth)
    except Exception:  # an exotic override value must not hide the real error
        text = f"a {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."


def _render(value: Any, depth: int) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, numbers.Integral):
        text = str(int(value)) if abs(int(value)) < 10**30 else "a huge integer"
    elif isinstance(value, numbers.Real):
        text = repr(float(value))
    elif isinstance(value, str):
        text = repr(value)
    elif isinstance(value, (list, tuple)):
        text = "[...]" if depth > 2 else "[" + ", ".join(
            _show(v, depth + 1) for v in value[:8]) + (", ...]" if len(value) > 8 else "]")
    elif isinstance(value, Mapping):
        text = "a table"
    elif value is None:
        text = "nothing (None)"
    else:
        text = f"a {type(value).__name__}"
    return text


def _one_line(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text)
