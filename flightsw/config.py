"""What the flight software knows of its vehicle and its target, as value objects.

Explicit configuration (no environment variables, no files read by tasks):
the runner builds these from a scenario, the HIL rig from a board file.
Tunable values live in the parameter table instead (flightsw.params_table).
"""

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class VehicleConfig:
    mass_kg: float
    inertia_kgm2: tuple[float, float, float]
    wheel_count: int
    wheel_inertia_kgm2: float
    wheel_max_torque_nm: float
    thrust_n: float
    min_impulse_bit_ns: float
    # Back-away thruster (slot 6 of PROBE_THRUSTER_CMD, firing along -z
    # spacecraft: away from the surface while the boresight looks down).
    backaway_force_n: float = 0.0
    arm_length_m: float = 3.35  # sampler head offset along +z from the centre of mass
    wheel_max_speed_radps: float = 600.0  # the wheels' rating: momentum management keeps below it
    # Attitude-control thruster couples (PROBE_THRUSTER_CMD.acs_on_time_s): the torque of
    # one couple, N m (0: the vehicle has none and cannot unload its wheels).
    acs_torque_nm: float = 0.0
    # 2: a redundant branch B of the six translation thrusters (on_time_b_s) behind its own
    # latch valve; 1: branch A only.
    thruster_branches: int = 1


@dataclass(frozen=True)
class BodyModel:
    """On-board knowledge of the target's gravity and spin."""

    gm_m3s2: float
    pole_ra_deg: float
    pole_dec_deg: float
    rotation_period_s: float
    w0_deg: float = 0.0


@dataclass(frozen=True)
class TagSite:
    """The touch-and-go target and the on-board hazard map (body-fixed frame)."""

    target_bf_m: tuple[float, float, float]
    normal_bf: tuple[float, float, float]  # local surface normal, unit
    hazards: tuple = ()  # ((center_bf_m (3), radius_m), ...)


@dataclass(frozen=True)
class ProspectConfig:
    """What prospecting needs on board: the shape model and the Sun.

    The shape model (vertices, faces, body-fixed, m) and the local effective
    gravity direction per facet (down_bf, unit) come from the ground's earlier
    mapping; each facet is a candidate site and its index is the site id.
    """

    vertices_m: tuple
    faces: tuple
    down_bf: tuple
    sun_dir_i: tuple[float, float, float]  # unit, inertial: constant over a run of days
    sun_distance_au: float


@dataclass(frozen=True)
class FlightConfig:
    vehicle: VehicleConfig
    body: BodyModel
    hover_point_bf_m: tuple[float, float, float]
    base_rate_hz: int = 10
    # Execution times are measured on the host: logging them makes the flight
    # log differ from run to run, so deterministic runs leave them out.
    timing_telemetry: bool = False
    # On-board landmark catalogue (Natural Feature Tracking), body-fixed, m;
    # PROBE_NAVCAM_LANDMARKS.landmark_id indexes it.
    landmarks_bf_m: tuple = ()
    tag: TagSite | None = None
    prospect: ProspectConfig | None = None


def flight_config_to_dict(config: FlightConfig) -> dict:
    """Plain JSON-able form; the run directory keeps it so a replay can rebuild the software."""
    return asdict(config)


class FlightConfigError(ValueError):
    """A flight_config.json value out of range or of the wrong kind; one line naming its key."""


def flight_config_from_dict(data: dict) -> FlightConfig:
    """Inverse of flight_config_to_dict, with every value checked (the file comes from a
    run directory a user may have edited or that damage may have reached: base_rate_hz = 0
    or mass_kg = 1e308 must be refused, not flown).  FlightConfigError names the key."""
    top = _table(data, "flight_config")
    _known(top, "", ("vehicle", "body", "hover_point_bf_m", "base_rate_hz", "timing_telemetry",
                     "landmarks_bf_m", "tag", "prospect"))
    v = _table(top.get("vehicle"), "vehicle")
    _known(v, "vehicle.", tuple(VehicleConfig.__dataclass_fields__))
    vehicle = VehicleConfig(
        mass_kg=_number(v, "vehicle.mass_kg", 0.0, 1e5, low_open=True),
        inertia_kgm2=_vector(v, "vehicle.inertia_kgm2", 3, 0.0, 1e7, low_open=True),
        wheel_count=_number(v, "vehicle.wheel_count", 3, 4, integer=True),
        wheel_inertia_kgm2=_number(v, "vehicle.wheel_inertia_kgm2", 0.0, 1e3, low_open=True),
        wheel_max_torque_nm=_number(v, "vehicle.wheel_max_torque_nm", 0.0, 1e3, low_open=True),
        thrust_n=_number(v, "vehicle.thrust_n", 0.0, 1e4, low_open=True),
        min_impulse_bit_ns=_number(v, "vehicle.min_impulse_bit_ns", 0.0, 1e3),
        backaway_force_n=_number(v, "vehicle.backaway_force_n", 0.0, 1e4, default=0.0),
        arm_length_m=_number(v, "vehicle.arm_length_m", 0.0, 20.0, low_open=True, default=3.35),
        wheel_max_speed_radps=_number(v, "vehicle.wheel_max_speed_radps", 0.0, 1e4,
                                      low_open=True, default=600.0),
        acs_torque_nm=_number(v, "vehicle.acs_torque_nm", 0.0, 1e3, default=0.0),
        thruster_branches=_number(v, "vehicle.thruster_branches", 1, 2, integer=True, default=1),
    )
    b = _table(top.get("body"), "body")
    _known(b, "body.", tuple(BodyModel.__dataclass_fields__))
    body = BodyModel(
        gm_m3s2=_number(b, "body.gm_m3s2", 0.0, 1e12, low_open=True),
        pole_ra_deg=_number(b, "body.pole_ra_deg", 0.0, 360.0),
        pole_dec_deg=_number(b, "body.pole_dec_deg", -90.0, 90.0),
        rotation_period_s=_number(b, "body.rotation_period_s", 0.0, 3.6e7, low_open=True),
        w0_deg=_number(b, "body.w0_deg", -360.0, 360.0, default=0.0),
    )
    tag = None
    if top.get("tag") is not None:
        t = _table(top["tag"], "tag")
        _known(t, "tag.", ("target_bf_m", "normal_bf", "hazards"))
        hazards = _list(t.get("hazards", []), "tag.hazards")
        tag = TagSite(_vector(t, "tag.target_bf_m", 3, -_FAR_M, _FAR_M),
                      _unit(t, "tag.normal_bf"),
                      tuple(_hazard(h, f"tag.hazards.{i}") for i, h in enumerate(hazards)))
    prospect = None
    if top.get("prospect") is not None:
        prospect = _prospect(_table(top["prospect"], "prospect"))
    return FlightConfig(
        vehicle=vehicle,
        body=body,
        hover_point_bf_m=_vector(top, "hover_point_bf_m", 3, -_FAR_M, _FAR_M),
        base_rate_hz=_number(top, "base_rate_hz", 1, 1000, integer=True),
        timing_telemetry=_flag(top, "timing_telemetry"),
        landmarks_bf_m=_points(top.get("landmarks_bf_m", []), "landmarks_bf_m", _FAR_M),
        tag=tag,
        prospect=prospect,
    )


# --------------------------------------------------------------------------- checking
_FAR_M = 1e6  # no position the flight software is told of lies farther from the body
_UNIT_TOLERANCE = 1e-3


def _fail(key: str, expected: str, value) -> FlightConfigError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return FlightConfigError(f"{key}: expected {expected}, got {shown}")


def _table(value, key: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(key, "a table (JSON object)", value)
    return value


def _list(value, key: str) -> list:
    if not isinstance(value, list):
        raise _fail(key, "a list", value)
    return value


def _known(table: dict, prefix: str, names: tuple[str, ...]) -> None:
    unknown = sorted(str(k) for k in table if k not in names)
    if unknown:
        raise FlightConfigError(f"{prefix}{unknown[0]}: unknown key (known: {', '.join(names)})")


def _flag(table: dict, key: str) -> bool:
    value = table.get(key.rsplit(".", 1)[-1], None)
    if not isinstance(value, bool):
        raise _fail(key, "true or false", value)
    return value


_MISSING = object()


def _number(table: dict, key: str, low, high, *, low_open: bool = False,
            integer: bool = False, default=_MISSING):
    name = key.rsplit(".", 1)[-1]
    if name not in table and default is not _MISSING:
        return default
    return _check_number(table.get(name, _MISSING), key, low, high, low_open, integer)


# The least a positive quantity may be (a mass, a thrust, a torque, a period ...): a
# subnormal one passes "> 0" but dividing by it overflows to inf (found by make fuzz).
TINY = 1e-12


def _check_number(value, key: str, low, high, low_open: bool = False, integer: bool = False):
    kind = "an integer" if integer else "a number"
    expected = f"{kind} {'>' if low_open else '>='} {low:g} and <= {high:g}"
    if value is _MISSING:
        raise FlightConfigError(f"{key}: missing (expected {expected})")
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or not math.isfinite(value):
        raise _fail(key, expected, value)
    if value < low or value > high or (low_open and value == low):
        raise _fail(key, expected, value)
    if low_open and low == 0 and value < TINY:  # 1e-320 kg, N ...: dividing by it gives inf
        raise _fail(key, f"{kind} >= {TINY:g} and <= {high:g}", value)
    return value


def _vector(table: dict, key: str, n: int, low: float, high: float,
            low_open: bool = False) -> tuple:
    value = table.get(key.rsplit(".", 1)[-1], _MISSING)
    if not isinstance(value, list) or len(value) != n:
        raise _fail(key, f"a list of {n} numbers", value if value is not _MISSING else None)
    return tuple(_check_number(x, f"{key}.{i}", low, high, low_open)
                 for i, x in enumerate(value))


def _unit(table: dict, key: str) -> tuple:
    vector = _vector(table, key, 3, -2.0, 2.0)
    norm = math.sqrt(sum(c * c for c in vector))
    if abs(norm - 1.0) > _UNIT_TOLERANCE:
        raise _fail(key, f"a unit vector (norm within {_UNIT_TOLERANCE:g} of 1)", list(vector))
    return vector


def _hazard(value, key: str) -> tuple:
    if not isinstance(value, list) or len(value) != 2:
        raise _fail(key, "[centre_bf_m (3 numbers), radius_m]", value)
    centre = _vector({"0": value[0]}, f"{key}.0", 3, -_FAR_M, _FAR_M)  # looked up as "0"
    return centre, float(_check_number(value[1], f"{key}.1", 0.0, 1e3, low_open=True))


def _rows(value, key: str, width: int, integer: bool = False) -> np.ndarray:
    """A list of equal rows of numbers as an array, or FlightConfigError."""
    rows = _list(value, key)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width or any(
                isinstance(x, bool) or not isinstance(x, int if integer else (int, float))
                for x in row):
            raise _fail(f"{key}.{i}", f"a list of {width} {'integers' if integer else 'numbers'}",
                        row)
    return np.array(rows, dtype=np.int64 if integer else np.float64).reshape(-1, width)


def _points(value, key: str, bound: float) -> tuple:
    array = _rows(value, key, 3)
    bad = np.flatnonzero(~np.all(np.isfinite(array) & (np.abs(array) <= bound), axis=1))
    if len(bad):
        raise _fail(f"{key}.{bad[0]}", f"3 finite numbers within {bound:g}",
                    value[int(bad[0])])
    return tuple(tuple(p) for p in value)


def _prospect(p: dict) -> ProspectConfig:
    _known(p, "prospect.", tuple(ProspectConfig.__dataclass_fields__))
    vertices = _points(p.get("vertices_m"), "prospect.vertices_m", _FAR_M)
    faces = _rows(p.get("faces"), "prospect.faces", 3, integer=True)
    bad = np.flatnonzero(~np.all((faces >= 0) & (faces < len(vertices)), axis=1))
    if len(bad):
        raise _fail(f"prospect.faces.{bad[0]}", f"3 vertex indices from 0 to "
                    f"{len(vertices) - 1}", p["faces"][int(bad[0])])
    down = _points(p.get("down_bf"), "prospect.down_bf", 2.0)
    if len(down) != len(faces):
        raise FlightConfigError(f"prospect.down_bf: expected one direction per face "
                                f"({len(faces)}), got {len(down)}")
    return ProspectConfig(vertices, tuple(tuple(f) for f in p["faces"]), down,
                          _unit(p, "prospect.sun_dir_i"),
                          _number(p, "prospect.sun_distance_au", 0.0, 100.0, low_open=True))
