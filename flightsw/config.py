"""What the flight software knows of its vehicle and its target, as value objects.

Explicit configuration (no environment variables, no files read by tasks):
the runner builds these from a scenario, the HIL rig from a board file.
Tunable values live in the parameter table instead (flightsw.params_table).
"""

from dataclasses import asdict, dataclass


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


def flight_config_from_dict(data: dict) -> FlightConfig:
    """Inverse of flight_config_to_dict; KeyError/TypeError name what is missing or wrong."""
    vehicle = dict(data["vehicle"])
    vehicle["inertia_kgm2"] = tuple(vehicle["inertia_kgm2"])
    tag = None
    if data.get("tag") is not None:
        t = data["tag"]
        tag = TagSite(tuple(t["target_bf_m"]), tuple(t["normal_bf"]),
                      tuple((tuple(c), float(r)) for c, r in t["hazards"]))
    prospect = None
    if data.get("prospect") is not None:
        p = data["prospect"]
        prospect = ProspectConfig(tuple(tuple(v) for v in p["vertices_m"]),
                                  tuple(tuple(f) for f in p["faces"]),
                                  tuple(tuple(d) for d in p["down_bf"]), tuple(p["sun_dir_i"]),
                                  float(p["sun_distance_au"]))
    return FlightConfig(
        vehicle=VehicleConfig(**vehicle),
        body=BodyModel(**data["body"]),
        hover_point_bf_m=tuple(data["hover_point_bf_m"]),
        base_rate_hz=int(data["base_rate_hz"]),
        timing_telemetry=bool(data["timing_telemetry"]),
        landmarks_bf_m=tuple(tuple(p) for p in data.get("landmarks_bf_m", ())),
        tag=tag,
        prospect=prospect,
    )
