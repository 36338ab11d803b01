"""Scenario files: what the simulated world and the run look like, loaded and checked once.

A scenario is a TOML file; `sim/scenarios/bennu-hover.toml` is the annotated example.
`load_scenario` reads it (by packaged name or by path), applies dotted-key overrides and
validates every value, and gives back an immutable `Scenario` whose field names carry their
units. Every problem is a `ScenarioError` whose message is one line naming the file, the
dotted key and what was expected, so a bad Monte Carlo input is fixed from the log line
alone. Scenario files are read nowhere else; the rest of the simulator works on the
validated value object.

Frames:
  body-fixed (``_bf``): origin at the body's centre of mass, +z along the spin pole (the
    pole given by RA/Dec, right-hand rule with the rotation), +x through the prime meridian;
    it rotates with the body.
  spacecraft (``_sc``): fixed to the spacecraft bus, origin at its centre of mass, axes
    along the principal axes of inertia.

Defaults live in one place: `DEFAULTS` (keyed by dotted key) and, for the physical
constants of a body, the `BODIES` table.

This module is the public face; the work is done, one job each, by
  sim.scenario_defaults  DEFAULTS and BODIES
  sim.scenario_values    the value objects (frozen dataclasses)
  sim.scenario_errors    ScenarioError and how it shows keys and values
  sim.scenario_schema    limits, vocabularies, the rule objects and the tables of rules
  sim.scenario_validate  checking the parsed tables and building the value objects
  sim.scenario_faults    the [[faults]] table: fault kinds, their keys, their checks
  sim.scenario_dispersions  declared dispersions in [dispersions]: checks, seeded draws
  sim.scenario_load      finding, reading and parsing files, applying overrides
(each imports only modules listed above it).
"""

from sim.scenario_defaults import BODIES, DEFAULTS
from sim.scenario_errors import ScenarioError
from sim.scenario_load import MAX_SCENARIO_BYTES, known_scenarios, load_scenario
from sim.scenario_schema import (
    COMMAND_NAMES,
    COMPOSITIONS,
    HOVER_RADIUS_MAX_M,
    HOVER_RADIUS_MIN_M,
    MAX_DURATION_S,
    MAX_EPOCH_UNIX_S,
    MAX_SEED,
    MAX_SIM_RATE_HZ,
    MODE_NAMES,
    PARAM_NAME_MAX_CHARS,
    UNIT_VECTOR_TOLERANCE,
)
from sim.scenario_values import (
    BodyConfig,
    DispersionsConfig,
    FaultConfig,
    HazardConfig,
    ImuConfig,
    InitialConfig,
    LidarConfig,
    NavCamConfig,
    PowerSensorConfig,
    ProspectConfig,
    RunConfig,
    SamplerSensorConfig,
    Scenario,
    ScheduledCommand,
    SensorsConfig,
    SpacecraftConfig,
    StarTrackerConfig,
    TagConfig,
    ThrusterConfig,
    WheelConfig,
    WheelTachConfig,
)

__all__ = [
    "BODIES", "COMMAND_NAMES", "COMPOSITIONS", "DEFAULTS", "HOVER_RADIUS_MAX_M",
    "HOVER_RADIUS_MIN_M", "MAX_DURATION_S", "MAX_EPOCH_UNIX_S", "MAX_SCENARIO_BYTES", "MAX_SEED",
    "MAX_SIM_RATE_HZ", "MODE_NAMES", "PARAM_NAME_MAX_CHARS", "UNIT_VECTOR_TOLERANCE",
    "BodyConfig", "DispersionsConfig", "FaultConfig", "HazardConfig", "ImuConfig", "InitialConfig",
    "LidarConfig", "NavCamConfig", "PowerSensorConfig", "ProspectConfig", "RunConfig",
    "SamplerSensorConfig", "Scenario", "ScenarioError", "ScheduledCommand", "SensorsConfig",
    "SpacecraftConfig", "StarTrackerConfig", "TagConfig", "ThrusterConfig", "WheelConfig",
    "WheelTachConfig", "known_scenarios", "load_scenario",
]
