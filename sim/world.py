"""The simulated world: Bennu, the spacecraft, its actuators and sensors.

The world knows the flight software only through ICD messages: it turns truth
into sensor messages at each sensor's rate, and actuator command messages into
forces and torques.  Everything random is drawn from the scenario seed.
"""

import math

import numpy as np

from flightsw.gnc.allocation import THRUSTER_DIRECTIONS_SC, wheel_axes_sc
from flightsw.gnc.body_frame import SpinningBody
from flightsw.gnc.guidance import pointing_attitude
from flightsw.gnc.quat import (
    cross,
    dot,
    norm,
    q_angle_between,
    q_from_rotvec,
    q_mul,
    q_rotate,
    q_rotate_inv,
    unit,
)
from sim.dynamics import RigidBodyDynamics, SpacecraftState
from sim.gravity import CachedGravity, PolyhedronGravity
from sim.noise import NoiseStream
from sim.sensors import (
    ImuModel,
    LidarModel,
    NavcamModel,
    PowerThermalModel,
    StarTrackerModel,
    WheelTachModel,
    boresight_bf,
)
from sim.shape import MeshRayCaster, bennu_top_shape

# Sun direction, inertial: fixed over a run of hours (Bennu moves ~1 deg/day).
SUN_DIR_I = unit((1.0, 0.3, 0.1))


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
        self.ray_caster = MeshRayCaster(vertices, faces)
        self.gravity_exact = PolyhedronGravity(vertices, faces, body.gm_m3s2)
        self.gravity = CachedGravity(self.gravity_exact)
        craft = sc.spacecraft
        self.mass_kg = craft.mass_kg
        self.boresight_sc = tuple(craft.instrument_boresight_sc)
        self.wheel_axes = wheel_axes_sc(craft.wheels.count)
        self.wheel_inertia = craft.wheels.inertia_kgm2
        self.wheel_max_torque = craft.wheels.max_torque_nm
        self.wheel_max_speed = craft.wheels.max_speed_radps
        self.dynamics = RigidBodyDynamics(craft.mass_kg, tuple(craft.inertia_kgm2),
                                          self.wheel_axes, self.body,
                                          self.gravity.acceleration_xyz)
        # Thrusters as built: each with its own magnitude error and misalignment.
        build = NoiseStream(seed, "thruster-build")
        thr = craft.thrusters
        self.thrust_n = thr.force_n
        self.mib_ns = thr.min_impulse_bit_ns
        self.thruster_force_sc = []
        for d in THRUSTER_DIRECTIONS_SC:
            tilt = q_from_rotvec(build.gauss3(math.radians(thr.misalignment_sigma_deg)))
            mag = thr.force_n * (1.0 + build.gauss(thr.magnitude_sigma_frac))
            u = q_rotate(tilt, d)
            self.thruster_force_sc.append((u[0] * mag, u[1] * mag, u[2] * mag))
        self.state = self._initial_state(sc, NoiseStream(seed, "initial-state"))
        self._thrust_accel_sc = (0.0, 0.0, 0.0)
        # What the accelerometer felt over the step that just ended.
        self._imu_specific_force_sc = (0.0, 0.0, 0.0)
        self._motor_torque = tuple(0.0 for _ in self.wheel_axes)
        self.thruster_on_s_total = [0.0] * 8
        self.impulse_ns_total = 0.0
        self._make_sensors(sc, seed)

    # -- set-up --------------------------------------------------------------
    def _initial_state(self, sc, noise: NoiseStream) -> SpacecraftState:
        init = sc.initial
        r_bf = tuple(init.hover_point_bf_m)
        r_i = self.body.bf_to_i(0.0, r_bf)
        w = self.body.spin_vector_i()
        v_i = (w[1] * r_i[2] - w[2] * r_i[1], w[2] * r_i[0] - w[0] * r_i[2],
               w[0] * r_i[1] - w[1] * r_i[0])
        dp = noise.gauss3(init.position_sigma_m)
        dv = noise.gauss3(init.velocity_sigma_mps)
        q0 = pointing_attitude(r_i, self.body.pole_i)
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
                            s.imu.gyro_bias_sigma_radps, s.imu.dropout_prob)
        self.star_tracker = StarTrackerModel(NoiseStream(seed, "star-tracker"),
                                             s.star_tracker.sigma_arcsec,
                                             s.star_tracker.dropout_prob)
        self.lidar = LidarModel(NoiseStream(seed, "lidar"), s.lidar.sigma_m, s.lidar.max_range_m,
                                s.lidar.dropout_prob, self._ray_cast)
        self.navcam = NavcamModel(NoiseStream(seed, "navcam"), s.navcam.sigma_m,
                                  s.navcam.dropout_prob)
        self.wheel_tach = WheelTachModel(NoiseStream(seed, "wheel-tach"), s.wheel_tach.sigma_radps,
                                         self.wheel_inertia)
        self.power = PowerThermalModel(NoiseStream(seed, "power"))
        self.divisors = {
            "imu": divisor(s.imu.rate_hz),
            "star_tracker": divisor(s.star_tracker.rate_hz),
            "lidar": divisor(s.lidar.rate_hz),
            "navcam": divisor(s.navcam.rate_hz),
            "wheel_tach": divisor(s.wheel_tach.rate_hz),
            "power": divisor(s.power.rate_hz),
        }

    def _ray_cast(self, origin_bf, direction_bf):
        return self.ray_caster.distance_m(origin_bf, direction_bf)

    # -- one frame -------------------------------------------------------------
    def sensor_messages(self, frame: int, t_us: int) -> list:
        st = self.state
        out = []
        d = self.divisors
        if frame % d["imu"] == 0:
            m = self.imu.measure(t_us, self._imu_specific_force_sc, st.rate_sc_radps)
            if m is not None:
                out.append(m)
        if frame % d["star_tracker"] == 0:
            out.append(self.star_tracker.measure(t_us, st.q_i_to_sc))
        if frame % d["navcam"] == 0:
            out.append(self.navcam.measure(t_us, self.position_bf()))
        if frame % d["lidar"] == 0:
            rot = self.body.rotation_bf_to_i(st.t_s)
            out.append(self.lidar.measure(t_us, self.position_bf(),
                                          boresight_bf(st.q_i_to_sc, self.boresight_sc, rot)))
        if frame % d["wheel_tach"] == 0:
            out.append(self.wheel_tach.measure(t_us, st.wheel_momentum_nms))
        if frame % d["power"] == 0:
            out.append(self.power.measure(t_us, q_rotate_inv(st.q_i_to_sc, SUN_DIR_I)))
        return out

    def apply_commands(self, msgs: list) -> None:
        for m in msgs:
            kind = m.get_type()
            if kind == "PROBE_THRUSTER_CMD":
                self._apply_thrusters(m.on_time_s, m.cycle_s)
            elif kind == "PROBE_WHEEL_CMD":
                lim = self.wheel_max_torque
                torques = []
                for j, tau in enumerate(m.torque_nm[: len(self.wheel_axes)]):
                    tau = max(-lim, min(lim, tau))
                    speed = self.state.wheel_momentum_nms[j] / self.wheel_inertia
                    if abs(speed) >= self.wheel_max_speed and tau * speed > 0.0:
                        tau = 0.0  # saturated wheel cannot spin faster
                    torques.append(tau)
                self._motor_torque = tuple(torques)

    def _apply_thrusters(self, on_time_s, cycle_s: float) -> None:
        fx = fy = fz = 0.0
        cycle = cycle_s if cycle_s > 0.0 else 1.0 / self.base_hz
        for k, f in enumerate(self.thruster_force_sc):
            on = max(0.0, min(on_time_s[k], cycle))
            if on * self.thrust_n < self.mib_ns:
                continue  # below the minimum impulse bit the valve does not open
            self.thruster_on_s_total[k] += on
            self.impulse_ns_total += on * self.thrust_n
            fx += f[0] * on
            fy += f[1] * on
            fz += f[2] * on
        k = 1.0 / (self.mass_kg * cycle)
        self._thrust_accel_sc = (fx * k, fy * k, fz * k)

    def step(self, dt_s: float) -> None:
        st = self.state
        a_i = q_rotate(st.q_i_to_sc, self._thrust_accel_sc)
        self.state = self.dynamics.step(st, dt_s, a_i, self._motor_torque)
        self._imu_specific_force_sc = self._thrust_accel_sc
        # A thruster command covers one cycle; silence means no thrust.
        self._thrust_accel_sc = (0.0, 0.0, 0.0)

    # -- truth for the summary and the report ----------------------------------
    def position_bf(self) -> tuple:
        return self.body.i_to_bf(self.state.t_s, self.state.pos_i_m)

    def altitude_m(self) -> float:
        return self.ray_caster.altitude_m(self.position_bf())

    def pointing_error_rad(self) -> float:
        q_ref = pointing_attitude(self.state.pos_i_m, self.body.pole_i)
        b_true = q_rotate(self.state.q_i_to_sc, self.boresight_sc)
        b_ref = q_rotate(q_ref, (0.0, 0.0, 1.0))
        # atan2(|a x b|, a . b): exact for the tiny angles a good controller leaves.
        return math.atan2(norm(cross(b_true, b_ref)), dot(b_true, b_ref))

    def attitude_error_rad(self) -> float:
        return q_angle_between(self.state.q_i_to_sc,
                               pointing_attitude(self.state.pos_i_m, self.body.pole_i))

    def wheel_speeds_radps(self) -> tuple:
        return tuple(h / self.wheel_inertia for h in self.state.wheel_momentum_nms)
