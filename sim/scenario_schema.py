"""What a scenario may contain: limits, vocabularies, the rule objects and the tables of rules.

Each rule describes itself in words (`describe()`), which is what an error message says was
expected; `sim.scenario_validate` applies the rules.
"""

import re
from dataclasses import dataclass
from typing import Any

from flightsw.icd.ground_commands import BY_NAME as GROUND_COMMAND_TABLE
from flightsw.icd.ground_commands import (
    GROUND_SELECTABLE_MODES,
    HOVER_POINT_MAX_M,
    HOVER_POINT_MIN_M,
)
from sim.scenario_defaults import BODIES
from sim.scenario_errors import number_text

MAX_DURATION_S = 30 * 86400.0
# Seeds go to numpy's SeedSequence and into summary.json; keep them to what a signed 64-bit
# integer (TOML's own integer range) holds.
MAX_SEED = 2**63 - 1
# .tlog stamps are microseconds since 1970 that readers trust below 2**53 us (2255).
MAX_EPOCH_UNIX_S = 2**53 / 1e6 - MAX_DURATION_S
MAX_SIM_RATE_HZ = 1000.0
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


@dataclass(frozen=True)
class NumberRule:
    """A number (an integer if `integer`), within bounds or one of `choices`."""

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
        bounds = [f"{op} {number_text(v)}" for op, v in
                  ((">", self.gt), (">=", self.ge), ("<", self.lt), ("<=", self.le))
                  if v is not None]
        text = noun + (" " + " and ".join(bounds) if bounds else "")
        return text + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class TextRule:
    """A string: any, non-empty, or one of `choices`."""

    nonempty: bool = False
    choices: tuple[str, ...] | None = None
    what: str = "a string"

    def describe(self) -> str:
        if self.choices is not None:
            return f"{self.what}, one of {', '.join(repr(c) for c in self.choices)}"
        return "a non-empty string" if self.nonempty else self.what


@dataclass(frozen=True)
class VectorRule:
    """An array of `length` numbers, each obeying `element`."""

    length: int
    element: NumberRule = NumberRule()

    def describe(self) -> str:
        text = f"an array of {self.length} numbers"
        each = self.element.describe().removeprefix("a number")
        return text + (f", each{each}" if each else "")


@dataclass(frozen=True)
class FlagRule:
    """A TOML boolean."""

    def describe(self) -> str:
        return "true or false"


_BOOL = FlagRule()
ANY_NUMBER = NumberRule()
# Every number is bounded on both sides: a value past the bound (mass_kg = 1e308) is a typo
# or hostile, and would be flown into overflow.  The bounds are generous, in units.
_SIGMA_M = NumberRule(ge=0.0, le=1e4)
_SIGMA_MPS2 = NumberRule(ge=0.0, le=10.0)
_SIGMA_RADPS = NumberRule(ge=0.0, le=10.0)
_PROB = NumberRule(ge=0.0, le=1.0)
# Rates are also checked against scenario.sim_rate_hz once that is known.
_RATE = NumberRule(gt=0.0, le=MAX_SIM_RATE_HZ)

SCENARIO_SCHEMA: dict[str, Any] = {
    "name": TextRule(nonempty=True),
    "description": TextRule(),
    "duration_s": NumberRule(gt=0.0, le=MAX_DURATION_S, note="30 days"),
    "seed": NumberRule(ge=0, le=MAX_SEED, integer=True),
    # .tlog timestamps are unsigned microseconds since 1970, trusted up to 2255.
    "epoch_unix_s": NumberRule(ge=0.0, le=MAX_EPOCH_UNIX_S),
    "sim_rate_hz": NumberRule(ge=1.0, le=MAX_SIM_RATE_HZ),
}
BODY_NAME = TextRule(choices=tuple(BODIES), what="a known body name")
BODY_SCHEMA: dict[str, Any] = {
    "name": BODY_NAME,
    "gm_m3s2": NumberRule(gt=0.0, le=1e12, note="Ceres is 6.3e10"),
    "rotation_period_h": NumberRule(gt=0.0, le=1e4),
    "pole_ra_deg": NumberRule(ge=0.0, lt=360.0),
    "pole_dec_deg": NumberRule(ge=-90.0, le=90.0),
    "extent_m": VectorRule(3, NumberRule(gt=0.0, le=1e6)),
    "shape_subdivisions": NumberRule(ge=1, le=6, integer=True),
    # Truth the probe does not know (a sweep's declared dispersions set it; unset, the
    # world draws it from the seed): true GM = gm_m3s2 * (1 + gm_error_frac).
    "gm_error_frac": NumberRule(gt=-0.5, lt=0.5),
}
SPACECRAFT_SCHEMA: dict[str, Any] = {
    "mass_kg": NumberRule(gt=0.0, le=1e5),
    "inertia_kgm2": VectorRule(3, NumberRule(gt=0.0, le=1e7)),
    "instrument_boresight_sc": VectorRule(3, NumberRule(ge=-2.0, le=2.0)),  # then normalised
    "arm_length_m": NumberRule(gt=0.0, le=20.0),
    "thrusters": {
        "force_n": NumberRule(gt=0.0, le=1e4),
        "backaway_force_n": NumberRule(ge=0.0, le=1e4),
        "min_impulse_bit_ns": NumberRule(ge=0.0, le=1e3),
        "magnitude_sigma_frac": NumberRule(ge=0.0, lt=0.5),
        "misalignment_sigma_deg": NumberRule(ge=0.0, lt=10.0),
        "impulse_noise_frac": NumberRule(ge=0.0, lt=0.5),
        "branches": NumberRule(integer=True, choices=(1, 2)),
        "acs_arm_m": NumberRule(ge=0.0, le=20.0),
        # Truth, common to every thruster (unset: none): force scale error and the whole
        # set's turn from where the probe believes it (rotation vector, spacecraft frame).
        "magnitude_error_frac": NumberRule(gt=-0.5, lt=0.5),
        "cant_deg": VectorRule(3, NumberRule(ge=-10.0, le=10.0)),
    },
    "wheels": {
        "count": NumberRule(integer=True, choices=(3, 4)),
        "inertia_kgm2": NumberRule(gt=0.0, le=1e3),
        "max_torque_nm": NumberRule(gt=0.0, le=1e3),
        "max_speed_radps": NumberRule(gt=0.0, le=1e4),
        "initial_speed_radps": ANY_NUMBER,  # |.| <= max_speed_radps, checked afterwards
        "friction_time_constant_s": NumberRule(gt=0.0, le=1e6),
    },
    "bounding_radius_m": NumberRule(gt=0.0, le=50.0),
}
INITIAL_SCHEMA: dict[str, Any] = {
    "hover_point_bf_m": VectorRule(3),  # radius checked afterwards
    "position_sigma_m": _SIGMA_M,
    "velocity_sigma_mps": NumberRule(ge=0.0, le=100.0),
    "attitude_sigma_deg": NumberRule(ge=0.0, le=180.0),
    "rate_sigma_degps": NumberRule(ge=0.0, le=100.0),
    # Truth: the start's offset from the hover point (inertial; unset: drawn per axis from
    # position_sigma_m and velocity_sigma_mps).
    "position_offset_i_m": VectorRule(3, NumberRule(ge=-1e4, le=1e4)),
    "velocity_offset_i_mps": VectorRule(3, NumberRule(ge=-100.0, le=100.0)),
}
SENSORS_SCHEMA: dict[str, Any] = {
    "imu": {
        "rate_hz": _RATE,
        "accel_noise_mps2": _SIGMA_MPS2,
        "accel_bias_sigma_mps2": _SIGMA_MPS2,
        "gyro_noise_radps": _SIGMA_RADPS,
        "gyro_bias_sigma_radps": _SIGMA_RADPS,
        "dropout_prob": _PROB,
        # Truth: the turn-on biases (unset: drawn per axis from the *_bias_sigma_* keys).
        "accel_bias_sc_mps2": VectorRule(3, NumberRule(ge=-10.0, le=10.0)),
        "gyro_bias_sc_radps": VectorRule(3, NumberRule(ge=-10.0, le=10.0)),
    },
    "star_tracker": {"rate_hz": _RATE, "sigma_arcsec": NumberRule(ge=0.0, le=3600.0),
                     "dropout_prob": _PROB},
    "lidar": {"rate_hz": _RATE, "sigma_m": _SIGMA_M, "max_range_m": NumberRule(gt=0.0, le=1e6),
              "dropout_prob": _PROB},
    "navcam": {"rate_hz": _RATE, "sigma_m": _SIGMA_M, "dropout_prob": _PROB,
               "landmark_sigma_rad": NumberRule(gt=0.0, le=0.1),
               "fov_half_deg": NumberRule(gt=0.0, lt=90.0),
               "max_landmarks": NumberRule(ge=1, le=64, integer=True),
               "catalogue_sigma_m": _SIGMA_M},
    "sampler": {"rate_hz": _RATE},
    "wheel_tach": {"rate_hz": _RATE, "sigma_radps": _SIGMA_RADPS},
    "power": {"rate_hz": _RATE},
}
TOP_KEYS = ("scenario", "body", "spacecraft", "initial", "sensors", "commands", "params",
            "dispersions", "tag", "prospect", "faults")
PROSPECT_SCHEMA: dict[str, Any] = {
    "composition": TextRule(choices=COMPOSITIONS, what="a composition"),
    "sun_distance_au": NumberRule(ge=0.5, le=5.0),
    "boulder_facet_fraction": _PROB,
    "boulder_radius_m": VectorRule(2, NumberRule(gt=0.0, le=50.0)),
    "boulder_height_m": VectorRule(2, NumberRule(gt=0.0, le=50.0)),
    "landmark_spacing_m": NumberRule(ge=1.0, le=100.0),
    "scan_lidar_sigma_m": _SIGMA_M,
    "scan_lidar_fov_rad": NumberRule(gt=0.0, le=0.5),
    "spectrometer_fault_prob": _PROB,
    "site_slope_max_deg": NumberRule(gt=0.0, lt=90.0),
    "site_relief_max_m": NumberRule(gt=0.0, le=50.0),
    "site_lat_max_deg": NumberRule(gt=0.0, le=90.0),
    "site_incidence_max_deg": NumberRule(gt=0.0, lt=90.0),
}
DISPERSIONS_SCHEMA: dict[str, Any] = {"gm_sigma_frac": NumberRule(ge=0.0, lt=0.5)}
TAG_SCHEMA: dict[str, Any] = {
    "target_latlon_deg": VectorRule(2, NumberRule(ge=-360.0, le=360.0)),
    "safe_home_height_m": NumberRule(ge=100.0, le=5000.0),
    "slope_limit_deg": NumberRule(gt=0.0, lt=90.0),
    "regolith_density_kgm3": VectorRule(2, NumberRule(ge=100.0, le=3000.0)),
    "fine_fraction": VectorRule(2, NumberRule(ge=0.0, le=1.0)),
    "sampler_capacity_kg": NumberRule(gt=0.0, le=10.0),
    "regolith_stiffness_npm": NumberRule(ge=0.0, le=1e9),
    "regolith_damping_nspm": NumberRule(ge=0.0, le=1e9),
    "friction": NumberRule(ge=0.0, le=2.0),
    "contact_switch_failed": _BOOL,
    # Truth at the site (unset: drawn uniformly within the two ranges above).
    "regolith_density_true_kgm3": NumberRule(ge=100.0, le=3000.0),
    "fine_fraction_true": NumberRule(ge=0.0, le=1.0),
}
HAZARD_SCHEMA: dict[str, Any] = {
    "latlon_deg": VectorRule(2, NumberRule(ge=-360.0, le=360.0)),
    "radius_m": NumberRule(gt=0.0, le=50.0),
    "height_m": NumberRule(gt=0.0, le=50.0),
}
COMMAND_KEYS = ("t_s", "name", "args")
COMMAND_TIME = NumberRule(ge=0.0, le=MAX_DURATION_S)
COMMAND_NAME = TextRule(choices=COMMAND_NAMES, what="a command name")
MODE_NAME = TextRule(choices=MODE_NAMES, what="a mode name")
PARAM_NAME_RE = re.compile(rf"[!-~]{{1,{PARAM_NAME_MAX_CHARS}}}")  # printable ASCII
PARAM_NAME_RULE = f"a parameter name of 1 to {PARAM_NAME_MAX_CHARS} ASCII characters, no spaces"
