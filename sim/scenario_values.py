"""The value objects of a loaded scenario: frozen dataclasses whose field names carry units.

Only `sim.scenario_validate` builds them from a file; optional fields take their defaults from
`sim.scenario_defaults.DEFAULTS`, the same table validation fills missing keys from.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.scenario_defaults import DEFAULTS


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
    # truth: true GM = gm_m3s2 * (1 + this); None: drawn from dispersions.gm_sigma_frac
    gm_error_frac: float | None = DEFAULTS["body.gm_error_frac"]


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
    # slot 6: one thruster along -z spacecraft (0: none)
    backaway_force_n: float = DEFAULTS["spacecraft.thrusters.backaway_force_n"]
    # 1-sigma pulse-to-pulse impulse noise, fraction of the impulse
    impulse_noise_frac: float = DEFAULTS["spacecraft.thrusters.impulse_noise_frac"]
    # 2: a redundant branch B of the six (same directions, own latch valve); 1: A only
    branches: int = DEFAULTS["spacecraft.thrusters.branches"]
    # attitude-control couples: two thrusters of force_n this far either side of the
    # centre of mass, so one couple's torque is 2 * force_n * acs_arm_m (0: none)
    acs_arm_m: float = DEFAULTS["spacecraft.thrusters.acs_arm_m"]
    # truth common to every thruster (None: none): force scale error, and the set's turn
    # (rotation vector, deg, spacecraft frame); each thruster's own build errors come on top
    magnitude_error_frac: float | None = DEFAULTS["spacecraft.thrusters.magnitude_error_frac"]
    cant_deg: tuple[float, float, float] | None = DEFAULTS["spacecraft.thrusters.cant_deg"]


@dataclass(frozen=True)
class WheelConfig:
    """[spacecraft.wheels]: reaction wheels (3 along x, y, z; a 4th is skewed)."""

    count: int
    inertia_kgm2: float  # rotor inertia about its spin axis
    max_torque_nm: float
    max_speed_radps: float
    initial_speed_radps: float
    # a failed wheel spins down as exp(-t / this) (viscous bearing friction)
    friction_time_constant_s: float = DEFAULTS["spacecraft.wheels.friction_time_constant_s"]


@dataclass(frozen=True)
class SpacecraftConfig:
    """[spacecraft]: the probe's mass properties and actuators."""

    mass_kg: float
    inertia_kgm2: tuple[float, float, float]  # principal moments about spacecraft x, y, z
    instrument_boresight_sc: tuple[float, float, float]  # unit vector, spacecraft frame
    thrusters: ThrusterConfig
    wheels: WheelConfig
    # sampler head along +z from the centre of mass
    arm_length_m: float = DEFAULTS["spacecraft.arm_length_m"]
    # bounding sphere of the bus about the centre of mass (the judge's clearance)
    bounding_radius_m: float = DEFAULTS["spacecraft.bounding_radius_m"]


@dataclass(frozen=True)
class InitialConfig:
    """[initial]: where the run starts, and the 1-sigma scatter around it (per axis)."""

    hover_point_bf_m: tuple[float, float, float]  # body-fixed
    position_sigma_m: float
    velocity_sigma_mps: float
    attitude_sigma_deg: float
    rate_sigma_degps: float
    # truth: the start's offset from the hover point, inertial (None: drawn from the sigmas)
    position_offset_i_m: tuple[float, float, float] | None = \
        DEFAULTS["initial.position_offset_i_m"]
    velocity_offset_i_mps: tuple[float, float, float] | None = \
        DEFAULTS["initial.velocity_offset_i_mps"]


@dataclass(frozen=True)
class ImuConfig:
    """[sensors.imu]: noises are 1-sigma per sample, biases 1-sigma drawn once per run."""

    rate_hz: float
    accel_noise_mps2: float
    accel_bias_sigma_mps2: float
    gyro_noise_radps: float
    gyro_bias_sigma_radps: float
    dropout_prob: float  # probability that a sample is lost
    # truth: the turn-on biases, spacecraft frame (None: drawn from the sigmas)
    accel_bias_sc_mps2: tuple[float, float, float] | None = \
        DEFAULTS["sensors.imu.accel_bias_sc_mps2"]
    gyro_bias_sc_radps: tuple[float, float, float] | None = \
        DEFAULTS["sensors.imu.gyro_bias_sc_radps"]


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
    # 1-sigma angular error of one landmark sighting
    landmark_sigma_rad: float = DEFAULTS["sensors.navcam.landmark_sigma_rad"]
    fov_half_deg: float = DEFAULTS["sensors.navcam.fov_half_deg"]
    max_landmarks: int = DEFAULTS["sensors.navcam.max_landmarks"]  # sightings per image
    # 1-sigma error of the on-board landmark positions
    catalogue_sigma_m: float = DEFAULTS["sensors.navcam.catalogue_sigma_m"]


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
class FaultConfig:
    """One [[faults]] entry: `kind` injected at the first frame at or after `t_s`, for
    `duration_s` (None: to the end of the run).  The other fields are the kind's own
    keys (None where the kind has no such key); `sim.scenario_faults` says which."""

    t_s: float
    kind: str
    duration_s: float | None = None
    index: int | None = None  # thruster slot or wheel
    branch: str | None = None  # thrusters: "A" or "B"
    task: str | None = None  # task_exception: the flight scheduler's task name
    gyro_radps: tuple[float, float, float] | None = None  # imu_bias_jump, added to the bias
    accel_mps2: tuple[float, float, float] | None = None  # imu_bias_jump, added to the bias
    bus_voltage_v: float | None = None  # undervoltage: what PROBE_POWER_THERMAL reports
    bytes_per_10ms: float | None = None  # line_noise (HIL)

    @property
    def end_s(self) -> float:
        """When the fault ends (inf: permanent)."""
        return math.inf if self.duration_s is None else self.t_s + self.duration_s

    def to_dict(self) -> dict[str, Any]:
        """The entry as it would be written in TOML: only the keys it has."""
        return {f.name: list(v) if isinstance(v, tuple) else v
                for f in dataclasses.fields(self) if (v := getattr(self, f.name)) is not None}


@dataclass(frozen=True)
class SamplerSensorConfig:
    rate_hz: float


@dataclass(frozen=True)
class DispersionsConfig:
    """Run-to-run dispersions drawn from the seed (beyond sensor noise and biases)."""

    gm_sigma_frac: float  # true GM = nominal * (1 + sigma * N(0, 1)); the probe knows nominal
    # Declared dispersions of scenario keys, checked and completed (sim.scenario_dispersions):
    # {dotted key: {"distribution": ..., its parameters}}.
    declared: Mapping[str, Any] = field(default_factory=dict, hash=False)


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
    contact_switch_failed: bool = DEFAULTS["tag.contact_switch_failed"]
    # truth at the site (None: drawn within the ranges above)
    regolith_density_true_kgm3: float | None = DEFAULTS["tag.regolith_density_true_kgm3"]
    fine_fraction_true: float | None = DEFAULTS["tag.fine_fraction_true"]


@dataclass(frozen=True)
class ProspectConfig:
    """The spectral survey's world: composition, boulders, survey instruments."""

    composition: str  # one of sim.scenario_schema.COMPOSITIONS: what the surface is made of
    sun_distance_au: float
    boulder_facet_fraction: float  # share of facets carrying a boulder
    boulder_radius_m: tuple[float, float]
    boulder_height_m: tuple[float, float]
    landmark_spacing_m: float  # navigation landmarks on every facet, this far apart
    scan_lidar_sigma_m: float
    scan_lidar_fov_rad: float
    spectrometer_fault_prob: float  # per readout: a dropped frame, saturation, a dead channel
    # Site requirements the world judges by (sim.site_truth): safe and deliverable sites.
    site_slope_max_deg: float  # steepest safe slope against the true local 'down'
    site_relief_max_m: float  # tallest safe boulder
    site_lat_max_deg: float  # highest latitude a descent reaches
    site_incidence_max_deg: float  # the site's best light of a rotation must be this good


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
    faults: tuple[FaultConfig, ...] = ()  # fault injection (sim/faults.py)
    # The values this seed drew for the declared dispersions (already applied above).
    dispersed: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (for summary.json); without `source` it is valid input."""
        data = _plain(self)
        for optional in ("tag", "prospect"):
            if data.get(optional) is None:
                data.pop(optional, None)  # absent, not null: TOML has no null
        if self.faults:
            data["faults"] = [f.to_dict() for f in self.faults]
        else:
            data.pop("faults", None)
        # As written in TOML: declared dispersions are entries of [dispersions]; the drawn
        # values are not input (the seed draws them again).
        data.pop("dispersed", None)
        data["dispersions"] |= data["dispersions"].pop("declared", {})
        return _without_unset(data)


def _without_unset(data: Any) -> Any:
    """Tables without their unset (None) keys: TOML has no null, and unset is absent."""
    if isinstance(data, dict):
        return {k: _without_unset(v) for k, v in data.items() if v is not None}
    return data


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
