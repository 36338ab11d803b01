"""Every default of a scenario, in one place: the DEFAULTS table and the bodies' constants.

Validation fills a missing key from here, and the value objects of `sim.scenario_values`
take their field defaults from here, so a default is written once.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

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
    "faults": (),
    "faults[].branch": "A",
    "faults[].bus_voltage_v": 22.0,
    "faults[].bytes_per_10ms": 64.0,
    "params": MappingProxyType({}),
    "spacecraft.arm_length_m": 3.35,
    "spacecraft.thrusters.backaway_force_n": 0.0,
    "spacecraft.thrusters.impulse_noise_frac": 0.01,
    "spacecraft.thrusters.branches": 2,
    "spacecraft.thrusters.acs_arm_m": 1.0,
    # Bounding sphere of the bus about the centre of mass (the arm and its head are
    # judged apart): what the judge's clearance to the surface is measured from.
    "spacecraft.bounding_radius_m": 1.5,
    # A failed wheel (motor torque lost) spins down as exp(-t / this) under its
    # bearings' viscous friction.
    "spacecraft.wheels.friction_time_constant_s": 300.0,
    "sensors.navcam.landmark_sigma_rad": 1e-4,
    "sensors.navcam.fov_half_deg": 20.0,
    "sensors.navcam.max_landmarks": 8,
    "sensors.navcam.catalogue_sigma_m": 0.0,
    "sensors.sampler": {"rate_hz": 10.0},
    "dispersions": {"gm_sigma_frac": 0.0},
    "dispersions.gm_sigma_frac": 0.0,  # a [dispersions] table of declared entries only
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
    # Truth keys: None (unset) leaves the world's own draw from the seed, as before they
    # existed; a sweep's declared dispersions set them (sim/scenario_dispersions.py).
    "body.gm_error_frac": None,
    "spacecraft.thrusters.magnitude_error_frac": None,
    "spacecraft.thrusters.cant_deg": None,
    "initial.position_offset_i_m": None,
    "initial.velocity_offset_i_mps": None,
    "sensors.imu.accel_bias_sc_mps2": None,
    "sensors.imu.gyro_bias_sc_radps": None,
    "tag.regolith_density_true_kgm3": None,
    "tag.fine_fraction_true": None,
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
    # The mission's site requirements, against which the world judges the sites (the
    # truth; the flight software has its own PRS_* parameters).
    "prospect.site_slope_max_deg": 15.0,
    "prospect.site_relief_max_m": 0.5,
    "prospect.site_lat_max_deg": 60.0,
    "prospect.site_incidence_max_deg": 70.0,
})
