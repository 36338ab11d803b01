"""The simulated world: Bennu, the spacecraft, its actuators and sensors.

The world knows the flight software only through ICD messages: it turns truth
into sensor messages at each sensor's rate, and actuator command messages into
forces and torques.  Everything random is drawn from the scenario seed.
"""

import math

import numpy as np

from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.mesh import TriangleMesh
from flightsw.geometry.quat import (
    q_conj,
    q_from_rotvec,
    q_mul,
    q_rotate,
    q_rotate_inv,
    q_to_rotvec,
    unit,
)
from flightsw.icd import mavlink
from flightsw.vehicle_geometry import wheel_axes_sc
from sim.actuators import Thrusters, Wheels
from sim.contact import RegolithContact, SamplerModel
from sim.dynamics import RigidBodyDynamics, SpacecraftState
from sim.faults import FaultSchedule
from sim.gravity import CachedGravity, PolyhedronGravity
from sim.nadir import nadir_attitude, pointing_error_rad
from sim.noise import NoiseStream
from sim.prospect_world import ProspectWorld
from sim.safety import SafetyWatch
from sim.sensors import (
    ImuModel,
    LandmarkCameraModel,
    LidarModel,
    PowerThermalModel,
    SamplerStatusModel,
    StarTrackerModel,
    WheelTachModel,
    boresight_bf,
)
from sim.shape import bennu_top_shape
from sim.site import Hazard, TargetSite, landmark_catalogue, locate_site

# Sun direction, inertial: fixed over a run of hours (Bennu moves ~1 deg/day).
SUN_DIR_I = unit((1.0, 0.3, 0.1))


# How far from its point a site's plane stands for the surface (facets are tens of m).
SITE_PLANE_REACH_M = 100.0

class World:
    def __init__(self, scenario):
        sc = scenario
        self.scenario = sc
        seed = sc.scenario.seed
        body = sc.body
        self.body = SpinningBody(body.pole_ra_deg, body.pole_dec_deg,
                                 body.rotation_period_h * 3600.0)
        vertices, faces = bennu_top_shape(body.shape_subdivisions)
        extent = vertices.max(axis=0) - vertices.min(axis=0)
        vertices = vertices * (np.asarray(body.extent_m, dtype=float) / extent)
        self.vertices_m, self.faces = vertices, faces
        self.ray_caster = TriangleMesh(vertices, faces)
        # The probe knows the nominal GM; the truth is dispersed around it (a sweep's
        # declared body.gm_error_frac stands in for the seed's own draw).
        gm_error = NoiseStream(seed, "gm-dispersion").gauss(sc.dispersions.gm_sigma_frac)
        if body.gm_error_frac is not None:
            gm_error = body.gm_error_frac
        self.gm_true_m3s2 = body.gm_m3s2 * (1.0 + gm_error)
        self.gravity_exact = PolyhedronGravity(vertices, faces, self.gm_true_m3s2)
        self.gravity = CachedGravity(self.gravity_exact)
        self.site = None
        self.prospect = None
        if sc.prospect is not None:
            self.prospect = ProspectWorld(
                sc, self.ray_caster,
                lambda x, y, z: self.gravity_exact.acceleration((x, y, z)),
                self.body.rate_radps, SUN_DIR_I, seed,
                sun_bf_any=self.body.i_to_bf(0.0, SUN_DIR_I))
        elif sc.tag is not None:
            t = sc.tag
            self.site = locate_site(
                self.ray_caster, lambda x, y, z: self.gravity_exact.acceleration((x, y, z)),
                self.body.rate_radps, t.target_latlon_deg[0], t.target_latlon_deg[1],
                [(h.latlon_deg[0], h.latlon_deg[1], h.radius_m, h.height_m, h.mapped)
                 for h in t.hazards], t.slope_limit_deg, sc.source)
        if self.prospect is not None:
            self.landmarks_bf_m = self.prospect.landmarks_bf_m
        else:
            self.landmarks_bf_m = landmark_catalogue(vertices, self.site)
        # The probe's catalogue: the truth with mapping errors (per landmark, per axis).
        cat = NoiseStream(seed, "landmark-catalogue")
        sigma = sc.sensors.navcam.catalogue_sigma_m
        self.landmarks_onboard_bf_m = np.array(
            [[x + cat.gauss(sigma) for x in p] for p in self.landmarks_bf_m])
        craft = sc.spacecraft
        self.mass_kg = craft.mass_kg
        self.arm_length_m = craft.arm_length_m
        self.boresight_sc = tuple(craft.instrument_boresight_sc)
        self.wheel_axes = wheel_axes_sc(craft.wheels.count)
        self.wheel_inertia = craft.wheels.inertia_kgm2
        self.wheels = Wheels(self.wheel_axes, craft.wheels)
        self.dynamics = RigidBodyDynamics(craft.mass_kg, tuple(craft.inertia_kgm2),
                                          self.wheel_axes, self.body,
                                          self.gravity.acceleration_xyz)
        # Thrusters as built: each with its own magnitude error and misalignment.
        self.thrusters = Thrusters(craft.thrusters, craft.mass_kg, seed, sc.scenario.sim_rate_hz)
        self.faults = FaultSchedule(sc.faults)
        self.safety = SafetyWatch(self.ray_caster, craft.bounding_radius_m, craft.arm_length_m,
                                  self.gm_true_m3s2)
        self.hover_point_bf_m = tuple(sc.initial.hover_point_bf_m)
        if self.site is not None:
            n, p = self.site.normal_bf, self.site.point_bf_m
            h = sc.tag.safe_home_height_m + self.arm_length_m
            self.hover_point_bf_m = (p[0] + h * n[0], p[1] + h * n[1], p[2] + h * n[2])
        self.state = self._initial_state(sc, NoiseStream(seed, "initial-state"))
        self._thrust_accel_sc = (0.0, 0.0, 0.0)
        self._acs_torque_sc = None  # the couples' torque over the coming step, if any fired
        # What the accelerometer felt over the step that just ended.
        self._imu_specific_force_sc = (0.0, 0.0, 0.0)
        self._imu_mean_rate_sc = self.state.rate_sc_radps
        self._site_face = None
        self._site_check_countdown = 0
        self._make_sensors(sc, seed)
        self._make_contact(sc, seed)

    # -- set-up --------------------------------------------------------------
    def _initial_state(self, sc, noise: NoiseStream) -> SpacecraftState:
        init = sc.initial
        r_bf = self.hover_point_bf_m
        r_i = self.body.bf_to_i(0.0, r_bf)
        w = self.body.spin_vector_i()
        v_i = (w[1] * r_i[2] - w[2] * r_i[1], w[2] * r_i[0] - w[0] * r_i[2],
               w[0] * r_i[1] - w[1] * r_i[0])
        dp = noise.gauss3(init.position_sigma_m)
        dv = noise.gauss3(init.velocity_sigma_mps)
        # Declared offsets stand in for these draws (made all the same, so that the
        # attitude and rate scatter below stay the seed's).
        dp = dp if init.position_offset_i_m is None else init.position_offset_i_m
        dv = dv if init.velocity_offset_i_mps is None else init.velocity_offset_i_mps
        q0 = nadir_attitude(r_i, self.body.pole_i)
        dq = q_from_rotvec(noise.gauss3(math.radians(init.attitude_sigma_deg)))
        rate0 = q_rotate_inv(q0, w)
        dw = noise.gauss3(math.radians(init.rate_sigma_degps))
        h0 = sc.spacecraft.wheels.initial_speed_radps * self.wheel_inertia
        return SpacecraftState(
            0.0,
            (r_i[0] + dp[0], r_i[1] + dp[1], r_i[2] + dp[2]),
            (v_i[0] + dv[0], v_i[1] + dv[1], v_i[2] + dv[2]),
            q_mul(q0, dq),
            (rate0[0] + dw[0], rate0[1] + dw[1], rate0[2] + dw[2]),
            tuple(h0 for _ in self.wheel_axes),
        )

    def _make_sensors(self, sc, seed: int) -> None:
        s = sc.sensors
        base_hz = sc.scenario.sim_rate_hz
        self.base_hz = base_hz

        def divisor(rate_hz):
            return max(1, round(base_hz / rate_hz))

        self.imu = ImuModel(NoiseStream(seed, "imu"), s.imu.accel_noise_mps2,
                            s.imu.accel_bias_sigma_mps2, s.imu.gyro_noise_radps,
                            s.imu.gyro_bias_sigma_radps, s.imu.dropout_prob,
                            accel_bias_sc_mps2=s.imu.accel_bias_sc_mps2,
                            gyro_bias_sc_radps=s.imu.gyro_bias_sc_radps)
        self.star_tracker = StarTrackerModel(NoiseStream(seed, "star-tracker"),
                                             s.star_tracker.sigma_arcsec,
                                             s.star_tracker.dropout_prob)
        self.lidar = LidarModel(NoiseStream(seed, "lidar"), s.lidar.sigma_m, s.lidar.max_range_m,
                                s.lidar.dropout_prob, self._ray_cast)
        self.navcam = LandmarkCameraModel(NoiseStream(seed, "navcam"), self.landmarks_bf_m,
                                          s.navcam.landmark_sigma_rad, s.navcam.fov_half_deg,
                                          s.navcam.max_landmarks, s.navcam.dropout_prob)
        self.sampler_status = SamplerStatusModel(
            NoiseStream(seed, "sampler-status"),
            switch_failed=sc.tag is not None and sc.tag.contact_switch_failed)
        self.wheel_tach = WheelTachModel(NoiseStream(seed, "wheel-tach"), s.wheel_tach.sigma_radps,
                                         self.wheel_inertia, NoiseStream(seed, "wheel-current"))
        self.power = PowerThermalModel(NoiseStream(seed, "power"))
        self.divisors = {
            "imu": divisor(s.imu.rate_hz),
            "star_tracker": divisor(s.star_tracker.rate_hz),
            "lidar": divisor(s.lidar.rate_hz),
            "navcam": divisor(s.navcam.rate_hz),
            "wheel_tach": divisor(s.wheel_tach.rate_hz),
            "power": divisor(s.power.rate_hz),
            "sampler": divisor(s.sampler.rate_hz),
        }

    def _make_contact(self, sc, seed: int) -> None:
        t = sc.tag
        draw = NoiseStream(seed, "regolith")
        self._regolith_params = None
        if t is None:
            self.contact = None
            self.sampler = SamplerModel(0.0, 600.0, 0.0)
        else:
            lo, hi = t.regolith_density_kgm3
            density = lo + (hi - lo) * draw.uniform()
            lo_f, hi_f = t.fine_fraction
            fine = lo_f + (hi_f - lo_f) * draw.uniform()
            if t.regolith_density_true_kgm3 is not None:  # declared: stands in for the draw
                density = t.regolith_density_true_kgm3
            if t.fine_fraction_true is not None:
                fine = t.fine_fraction_true
            # Denser regolith resists more: damping scales with density.
            self._regolith_params = (t.regolith_stiffness_npm,
                                     t.regolith_damping_nspm * density / 600.0, t.friction)
            self.contact = None if self.site is None else RegolithContact(
                self.site, *self._regolith_params)
            self.sampler = SamplerModel(t.sampler_capacity_kg, density, fine)
        self.regolith = {"density_kgm3": self.sampler.density_kgm3,
                         "fine_fraction": self.sampler.fine_fraction}
        self.head_normal_force_n = 0.0
        self._contact_reported = False
        # Above this centre-of-mass height the head cannot touch the plane or a boulder.
        tallest = max((h.height_m for h in self.site.hazards), default=0.0) if self.site else 0.0
        self._contact_watch_height_m = self.arm_length_m + tallest + 2.0
        self._contact_force_i = (0.0, 0.0, 0.0)
        self._contact_torque_sc = (0.0, 0.0, 0.0)
        self.in_contact = False
        self.sample_added_to_inertia = False
        self.tag_truth = {"first_contact_t_s": None, "touchdown_point_bf_m": None,
                          "contact_speed_mps": None, "contact_duration_s": 0.0,
                          "max_penetration_m": 0.0, "crash": None}

    def prospect_config(self):
        return None if self.prospect is None else self.prospect.prospect_config()

    def _local_site_under(self, pos_bf) -> None:
        """Prospecting: the contact model's local surface is the facet under the probe.

        The site is not known before flight (the probe chooses it), so the world builds
        the local plane and its boulders when the probe comes within 300 m of a facet.
        "Under" is along the instrument boresight: a descent looks down its site's normal,
        so this is the facet it descends to (the radial direction can hit a neighbour,
        whose centroid is tens of metres from the target).
        """
        st = self.state
        down = boresight_bf(st.q_i_to_sc, self.boresight_sc, self.body.rotation_bf_to_i(st.t_s))
        dist, face = self.ray_caster.nearest_hit(pos_bf, down)
        if not math.isfinite(dist) or dist > 300.0:
            return
        if self.site is not None and self._site_face == face:
            return
        centroid = self.ray_caster.centroids[face]
        normal = self.ray_caster.normals[face]
        hazards = tuple(Hazard(tuple(float(x) for x in c), float(rad), float(h), True)
                        for c, rad, h in self.prospect.boulders.hazards_near(centroid, 60.0))
        self.site = TargetSite(tuple(float(x) for x in centroid), tuple(float(x) for x in normal),
                               float(self.prospect.slope_deg[face]), hazards)
        self._site_face = face
        if self._regolith_params is not None:
            self.contact = RegolithContact(self.site, *self._regolith_params)
            tallest = max((h.height_m for h in hazards), default=0.0)
            self._contact_watch_height_m = self.arm_length_m + tallest + 2.0

    def _ray_cast(self, origin_bf, direction_bf):
        return self.ray_caster.distance_m(origin_bf, direction_bf)

    # -- one frame -------------------------------------------------------------
    def sensor_messages(self, frame: int, t_us: int) -> list:
        """The frame's sensor messages (faults begin and end at this boundary)."""
        self.faults.update(t_us)
        return self.faults.sensor_stimulus(self._sensor_messages(frame, t_us))

    def _sensor_messages(self, frame: int, t_us: int) -> list:
        st = self.state
        out = []
        d = self.divisors
        if frame % d["imu"] == 0:
            m = self.imu.measure(t_us, self._imu_specific_force_sc, self._imu_mean_rate_sc)
            if m is not None:
                out.append(m)
        if frame % d["star_tracker"] == 0:
            out.append(self.star_tracker.measure(t_us, st.q_i_to_sc))
        if frame % d["navcam"] == 0 or frame % d["lidar"] == 0:
            rot = self.body.rotation_bf_to_i(st.t_s)
            pos_bf = self.position_bf()
            b_bf = boresight_bf(st.q_i_to_sc, self.boresight_sc, rot)
            if frame % d["navcam"] == 0:
                out.extend(self.navcam.measure(t_us, pos_bf, b_bf, st.q_i_to_sc, rot))
            if frame % d["lidar"] == 0:
                out.append(self.lidar.measure(t_us, pos_bf, b_bf))
        # The sampler reports at 1 Hz, and at once when its contact switch changes
        # (edge-triggered, as a contact sensor's interrupt would).
        contact_now = self.head_normal_force_n > SamplerStatusModel.CONTACT_FORCE_N
        if frame % (10 * d["sampler"]) == 0 or contact_now != self._contact_reported:
            self._contact_reported = contact_now
            out.append(self.sampler_status.measure(t_us, self.sampler, self.head_normal_force_n))
        if frame % d["wheel_tach"] == 0:
            failed = self.faults.failed_wheels
            drive = tuple(0.0 if j in failed else t
                          for j, t in enumerate(self.wheels.motor_torque_nm))
            out.append(self.wheel_tach.measure(t_us, st.wheel_momentum_nms, drive))
        if self.prospect is not None and self.prospect.active:
            rot = self.body.rotation_bf_to_i(st.t_s)
            axes_bf = tuple(boresight_bf(st.q_i_to_sc, e, rot)
                            for e in ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))
            sun_bf = self.body.i_to_bf(st.t_s, SUN_DIR_I)
            out.extend(self.prospect.sensor_messages(t_us, self.position_bf(), axes_bf, sun_bf))
        if frame % d["power"] == 0:
            out.append(self.power.measure(t_us, q_rotate_inv(st.q_i_to_sc, SUN_DIR_I)))
        return out

    def apply_commands(self, msgs: list) -> None:
        faults = self.faults
        for m in msgs:
            kind = m.get_type()
            if kind == "PROBE_THRUSTER_CMD":
                self._thrust_accel_sc, self._acs_torque_sc = self.thrusters.command(
                    m, faults.stuck_on, faults.stuck_off)
            elif kind == "PROBE_INSTRUMENT_CMD" and self.prospect is not None:
                self.prospect.apply_command(m)
            elif kind == "PROBE_SAMPLER_CMD":
                if not (faults.gas_failed and m.action == mavlink.PROBE_SAMPLER_FIRE_GAS):
                    self.sampler.command(m.action)
            elif kind == "PROBE_WHEEL_CMD":
                self.wheels.command(m.torque_nm, self.state.wheel_momentum_nms)

    def _apply_thrusters(self, on_time_s, cycle_s: float) -> None:
        """Branch A's on-times alone (tests): as a PROBE_THRUSTER_CMD carrying them."""
        self.apply_commands([mavlink.MAVLink_probe_thruster_cmd_message(
            0, (list(on_time_s) + [0.0] * 8)[:8], cycle_s)])

    def step(self, dt_s: float) -> None:
        st = self.state
        # Until the first contact: after it, the site is the truth of the touch-and-go
        # (the climb and the spin test look elsewhere; the summary scores that contact).
        if self.prospect is not None and self.tag_truth["first_contact_t_s"] is None:
            self._site_check_countdown -= 1
            if self._site_check_countdown <= 0:
                self._site_check_countdown = self.base_hz * 5  # every 5 s of mission time
                self._local_site_under(self.position_bf())
        # The contact model only near the surface: most of a run is spent far above it.
        # The site's plane is local: far from the site point it says nothing about the
        # surface (a tilted plane extended 1 km would put a probe at 950 m "under" it).
        if self.contact is not None and (self.in_contact or self._near_site()):
            self._update_contact(dt_s)
        a_sc = self._thrust_accel_sc
        faults = self.faults
        if faults.stuck_on:
            f = self.thrusters.stuck_on_force_sc(dt_s, faults.stuck_on)
            if f is not None:
                a_sc = (a_sc[0] + f[0] / self.mass_kg, a_sc[1] + f[1] / self.mass_kg,
                        a_sc[2] + f[2] / self.mass_kg)
        c_sc = q_rotate_inv(st.q_i_to_sc, self._contact_force_i)
        k = 1.0 / self.mass_kg
        specific = (a_sc[0] + c_sc[0] * k, a_sc[1] + c_sc[1] * k, a_sc[2] + c_sc[2] * k)
        a_i = q_rotate(st.q_i_to_sc, specific)
        torque = self._contact_torque_sc
        if self._acs_torque_sc is not None:
            torque = tuple(a + b for a, b in zip(torque, self._acs_torque_sc, strict=True))
        self.state = self.dynamics.step(
            st, dt_s, a_i, self.wheels.torques_for_step(st.wheel_momentum_nms,
                                                        faults.failed_wheels, dt_s), torque)
        self._imu_specific_force_sc = specific
        # A gyro integrates: it reports the step's delta-angle over dt (the mean rate),
        # not the rate at the sample instant, which would lag an accelerating spin.
        dq = q_mul(q_conj(st.q_i_to_sc), self.state.q_i_to_sc)
        rv = q_to_rotvec(dq)
        self._imu_mean_rate_sc = (rv[0] / dt_s, rv[1] / dt_s, rv[2] / dt_s)
        # A thruster command covers one cycle; silence means no thrust.
        self._thrust_accel_sc = (0.0, 0.0, 0.0)
        self._acs_torque_sc = None
        self.safety.after_step(self, dt_s)

    def head_position_bf(self) -> tuple:
        st = self.state
        arm_i = q_rotate(st.q_i_to_sc, (0.0, 0.0, self.arm_length_m))
        head_i = (st.pos_i_m[0] + arm_i[0], st.pos_i_m[1] + arm_i[1], st.pos_i_m[2] + arm_i[2])
        return self.body.i_to_bf(st.t_s, head_i)

    def _near_site(self) -> bool:
        pos = self.position_bf()
        p = self.site.point_bf_m
        d2 = (pos[0] - p[0]) ** 2 + (pos[1] - p[1]) ** 2 + (pos[2] - p[2]) ** 2
        return d2 < SITE_PLANE_REACH_M ** 2 and \
            self.site.plane_height_m(pos) < self._contact_watch_height_m

    def _update_contact(self, dt_s: float) -> None:
        """Regolith force on the head over the coming step; records the touchdown truth."""
        st = self.state
        site = self.site
        arm_sc = (0.0, 0.0, self.arm_length_m)
        arm_i = q_rotate(st.q_i_to_sc, arm_sc)
        head_i = (st.pos_i_m[0] + arm_i[0], st.pos_i_m[1] + arm_i[1], st.pos_i_m[2] + arm_i[2])
        w_sc_i = q_rotate(st.q_i_to_sc, st.rate_sc_radps)
        # Head velocity relative to the rotating surface, inertial axes.
        v = st.vel_i_mps
        v_head = (v[0] + w_sc_i[1] * arm_i[2] - w_sc_i[2] * arm_i[1],
                  v[1] + w_sc_i[2] * arm_i[0] - w_sc_i[0] * arm_i[2],
                  v[2] + w_sc_i[0] * arm_i[1] - w_sc_i[1] * arm_i[0])
        v_rel = self.body.relative_velocity_i(head_i, v_head)
        head_bf = self.body.i_to_bf(st.t_s, head_i)
        vel_bf = self.body.i_to_bf(st.t_s, v_rel)
        force_bf, depth, f_n = self.contact.head_force_bf(head_bf, vel_bf)
        truth = self.tag_truth
        touching = depth > 0.0
        if touching and truth["first_contact_t_s"] is None:
            n = site.normal_bf
            truth["first_contact_t_s"] = st.t_s
            truth["touchdown_point_bf_m"] = head_bf
            truth["contact_speed_mps"] = -(vel_bf[0] * n[0] + vel_bf[1] * n[1] + vel_bf[2] * n[2])
            truth["touchdown_surface_height_m"] = site.surface_height_m(head_bf)
            if truth["touchdown_surface_height_m"] > 0.05:
                truth["crash"] = "sampler head came down on a boulder"
        if touching:
            truth["contact_duration_s"] += dt_s
            truth["max_penetration_m"] = max(truth["max_penetration_m"], depth)
        self.in_contact = touching
        self.sampler.step(dt_s, touching)
        if not touching and truth["first_contact_t_s"] is not None and \
                not self.sample_added_to_inertia and self.sampler.collected_kg > 0.0:
            # The head has left the surface with its catch: a point mass at the arm's end.
            m, l2 = self.sampler.collected_kg, self.arm_length_m ** 2
            ix, iy, iz = self.dynamics.inertia
            self.dynamics.inertia = (ix + m * l2, iy + m * l2, iz)
            self.sample_added_to_inertia = True
        self.head_normal_force_n = f_n
        com_height = site.plane_height_m(self.position_bf())
        if com_height < 1.0 and truth["crash"] is None:
            truth["crash"] = f"spacecraft body within {com_height:.2f} m of the surface"
        force_i = self.body.bf_to_i(st.t_s, force_bf)
        self._contact_force_i = force_i
        f_sc = q_rotate_inv(st.q_i_to_sc, force_i)
        self._contact_torque_sc = (arm_sc[1] * f_sc[2] - arm_sc[2] * f_sc[1],
                                   arm_sc[2] * f_sc[0] - arm_sc[0] * f_sc[2],
                                   arm_sc[0] * f_sc[1] - arm_sc[1] * f_sc[0])

    # -- truth for the summary and the report ----------------------------------
    def position_bf(self) -> tuple:
        return self.body.i_to_bf(self.state.t_s, self.state.pos_i_m)

    def altitude_m(self) -> float:
        return self.ray_caster.altitude_m(self.position_bf())

    def pointing_error_rad(self) -> float:
        """Truth: the boresight's angle from the body's centre (sim.nadir)."""
        return pointing_error_rad(self.state.q_i_to_sc, self.boresight_sc, self.state.pos_i_m)

    def wheel_speeds_radps(self) -> tuple:
        return tuple(h / self.wheel_inertia for h in self.state.wheel_momentum_nms)

    # The thrusters' totals, under the names the history and the truth record read.
    @property
    def thruster_on_s_total(self) -> list:
        return self.thrusters.on_s_total

    @property
    def impulse_ns_total(self) -> float:
        return self.thrusters.impulse_ns_total

    @property
    def backaway_impulse_ns(self) -> float:
        return self.thrusters.backaway_impulse_ns
