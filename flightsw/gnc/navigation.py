"""Navigation: position, velocity, attitude and rate, with covariance.

Two filters, both in plain floats (the 10 Hz cycle cannot afford numpy on
3-vectors):

- Attitude: a multiplicative filter on the small-angle error and the gyro
  bias, one 2-state Kalman filter per spacecraft axis.  The axes decouple
  because the error dynamics d(dtheta)/dt = -dbias + noise couple axes only
  through w x dtheta, and the probe turns at ~4e-4 rad/s (the body's spin):
  the neglected term is < 1e-6 of the kept ones per step.
- Translation: per inertial axis, a 3-state Kalman filter on position,
  velocity and an unmodelled acceleration (accelerometer bias seen in the
  inertial frame, gravity-model error), propagated with the IMU's specific
  force and an on-board point-mass gravity model, updated with landmark
  position fixes converted from the body-fixed to the inertial frame.  The
  axes decouple for an isotropic fix noise; gravity-gradient coupling
  (GM/r^3 ~ 5e-9 s^-2 at 1 km) is negligible between updates.
"""

import math

from flightsw.gnc.body_frame import SpinningBody
from flightsw.gnc.quat import IDENTITY, q_from_rotvec, q_mul, q_normalize, q_rotate, q_to_rotvec


class AttitudeFilter:
    def __init__(self, gyro_noise_radps: float, gyro_bias_walk_radps2: float,
                 initial_angle_sigma_rad: float = 0.01, initial_bias_sigma_radps: float = 1e-4):
        self.q_i_to_sc = IDENTITY
        self.bias_sc_radps = [0.0, 0.0, 0.0]
        self.rate_sc_radps = (0.0, 0.0, 0.0)
        self.gyro_noise = gyro_noise_radps
        self.bias_walk = gyro_bias_walk_radps2
        a0 = initial_angle_sigma_rad ** 2
        b0 = initial_bias_sigma_radps ** 2
        # Per axis [P_aa, P_ab, P_bb].
        self.cov = [[a0, 0.0, b0] for _ in range(3)]
        self.initialised = False
        self.updates = 0
        self.rejected = 0

    def propagate(self, rate_meas_sc: tuple, dt_s: float) -> None:
        b = self.bias_sc_radps
        w = (rate_meas_sc[0] - b[0], rate_meas_sc[1] - b[1], rate_meas_sc[2] - b[2])
        self.rate_sc_radps = w
        self.q_i_to_sc = q_normalize(q_mul(self.q_i_to_sc, q_from_rotvec(
            (w[0] * dt_s, w[1] * dt_s, w[2] * dt_s))))
        # Angle random walk: the per-sample gyro noise integrated over dt.
        qa = (self.gyro_noise * dt_s) ** 2
        qb = self.bias_walk ** 2 * dt_s
        for p in self.cov:
            paa, pab, pbb = p
            # F = [[1, -dt], [0, 1]]
            p[0] = paa - 2.0 * dt_s * pab + dt_s * dt_s * pbb + qa
            p[1] = pab - dt_s * pbb
            p[2] = pbb + qb

    def update(self, q_meas: tuple, sigma_rad: float, gate_sigma: float = 6.0) -> bool:
        """Star tracker update; returns False when the measurement is gated out."""
        if not self.initialised:
            self.q_i_to_sc = q_normalize(q_meas)
            self.initialised = True
            self.updates += 1
            return True
        # Error rotation, spacecraft frame: q_meas = q_est * dq.
        conj = (self.q_i_to_sc[0], -self.q_i_to_sc[1], -self.q_i_to_sc[2], -self.q_i_to_sc[3])
        dtheta = q_to_rotvec(q_mul(conj, q_meas))
        r = sigma_rad * sigma_rad
        correction_angle = [0.0, 0.0, 0.0]
        for k in range(3):
            paa, pab, pbb = self.cov[k]
            s = paa + r
            if dtheta[k] * dtheta[k] > gate_sigma * gate_sigma * s:
                self.rejected += 1
                return False
        for k in range(3):
            paa, pab, pbb = self.cov[k]
            s = paa + r
            ka, kb = paa / s, pab / s
            correction_angle[k] = ka * dtheta[k]
            self.bias_sc_radps[k] += kb * dtheta[k]
            self.cov[k] = [(1.0 - ka) * paa, (1.0 - ka) * pab, pbb - kb * pab]
        self.q_i_to_sc = q_normalize(q_mul(self.q_i_to_sc, q_from_rotvec(tuple(correction_angle))))
        self.updates += 1
        return True

    def angle_sigma_rad(self) -> tuple[float, float, float]:
        return tuple(math.sqrt(max(p[0], 0.0)) for p in self.cov)


class _AxisFilter:
    """Position, velocity, unmodelled acceleration along one inertial axis."""

    __slots__ = ("x", "p")

    def __init__(self, pos_sigma_m: float, vel_sigma_mps: float, acc_sigma_mps2: float):
        self.x = [0.0, 0.0, 0.0]
        # Symmetric 3x3 stored as [p00, p01, p02, p11, p12, p22].
        self.p = [pos_sigma_m ** 2, 0.0, 0.0, vel_sigma_mps ** 2, 0.0, acc_sigma_mps2 ** 2]

    def propagate(self, accel_known: float, dt: float, accel_var: float, q_acc: float) -> None:
        """accel_var: variance of the accelerometer noise held over this step, (m/s^2)^2."""
        x = self.x
        h2 = 0.5 * dt * dt
        a = accel_known + x[2]
        x[0] += x[1] * dt + a * h2
        x[1] += a * dt
        p00, p01, p02, p11, p12, p22 = self.p
        # F = [[1, dt, dt^2/2], [0, 1, dt], [0, 0, 1]];  P = F P F^T + Q
        f01, f02, f12 = dt, h2, dt
        a00 = p00 + f01 * p01 + f02 * p02
        a01 = p01 + f01 * p11 + f02 * p12
        a02 = p02 + f01 * p12 + f02 * p22
        a11 = p11 + f12 * p12
        a12 = p12 + f12 * p22
        n00 = a00 + f01 * a01 + f02 * a02
        n01 = a01 + f12 * a02
        n02 = a02
        n11 = a11 + f12 * a12
        n12 = a12
        # Noise held constant over dt enters position (dt^2/2) and velocity (dt).
        self.p = [n00 + accel_var * h2 * h2, n01 + accel_var * h2 * dt, n02,
                  n11 + accel_var * dt * dt, n12, p22 + q_acc]

    def update(self, z: float, r: float) -> None:
        p00, p01, p02, p11, p12, p22 = self.p
        s = p00 + r
        k0, k1, k2 = p00 / s, p01 / s, p02 / s
        innov = z - self.x[0]
        self.x[0] += k0 * innov
        self.x[1] += k1 * innov
        self.x[2] += k2 * innov
        self.p = [p00 - k0 * p00, p01 - k0 * p01, p02 - k0 * p02,
                  p11 - k1 * p01, p12 - k1 * p02, p22 - k2 * p02]


class TranslationFilter:
    def __init__(self, body: SpinningBody, gm_m3s2: float, accel_noise_mps2: float,
                 unmodelled_accel_walk: float, initial_pos_sigma_m: float = 50.0,
                 initial_vel_sigma_mps: float = 0.05, initial_acc_sigma_mps2: float = 1e-4):
        self.body = body
        self.gm = gm_m3s2
        self.accel_noise = accel_noise_mps2
        self.acc_walk = unmodelled_accel_walk
        self.axes = [_AxisFilter(initial_pos_sigma_m, initial_vel_sigma_mps,
                                 initial_acc_sigma_mps2) for _ in range(3)]
        self.initialised = False
        self.updates = 0
        self.rejected = 0

    def initialise(self, pos_i: tuple, vel_i: tuple) -> None:
        for k in range(3):
            self.axes[k].x = [pos_i[k], vel_i[k], 0.0]
        self.initialised = True

    def gravity_i(self, pos_i: tuple) -> tuple:
        r2 = pos_i[0] ** 2 + pos_i[1] ** 2 + pos_i[2] ** 2
        k = -self.gm / (r2 * math.sqrt(r2))
        return (k * pos_i[0], k * pos_i[1], k * pos_i[2])

    def propagate(self, specific_force_i: tuple, dt_s: float) -> None:
        g = self.gravity_i(self.position_i())
        accel_var = self.accel_noise ** 2
        q_acc = self.acc_walk ** 2 * dt_s
        for k in range(3):
            self.axes[k].propagate(specific_force_i[k] + g[k], dt_s, accel_var, q_acc)

    def update_position_bf(self, t_s: float, pos_bf: tuple, sigma_m: float,
                           gate_sigma: float = 6.0) -> bool:
        z = self.body.bf_to_i(t_s, pos_bf)
        if not self.initialised:
            w = self.body.spin_vector_i()
            # The probe starts near co-rotation with the body (a hover).
            v = (w[1] * z[2] - w[2] * z[1], w[2] * z[0] - w[0] * z[2], w[0] * z[1] - w[1] * z[0])
            self.initialise(z, v)
            self.updates += 1
            return True
        r = sigma_m * sigma_m
        for k in range(3):
            ax = self.axes[k]
            innov = z[k] - ax.x[0]
            if innov * innov > gate_sigma * gate_sigma * (ax.p[0] + r):
                self.rejected += 1
                return False
        for k in range(3):
            self.axes[k].update(z[k], r)
        self.updates += 1
        return True

    def position_i(self) -> tuple:
        a = self.axes
        return (a[0].x[0], a[1].x[0], a[2].x[0])

    def velocity_i(self) -> tuple:
        a = self.axes
        return (a[0].x[1], a[1].x[1], a[2].x[1])

    def pos_sigma_m(self) -> tuple:
        return tuple(math.sqrt(max(a.p[0], 0.0)) for a in self.axes)

    def vel_sigma_mps(self) -> tuple:
        return tuple(math.sqrt(max(a.p[3], 0.0)) for a in self.axes)


class Navigator:
    """Both filters behind one interface for guidance, control and telemetry."""

    def __init__(self, attitude: AttitudeFilter, translation: TranslationFilter):
        self.attitude = attitude
        self.translation = translation

    def on_imu(self, accel_sc: tuple, rate_sc: tuple, dt_s: float) -> None:
        self.attitude.propagate(rate_sc, dt_s)
        if self.translation.initialised:
            f_i = q_rotate(self.attitude.q_i_to_sc, accel_sc)
            self.translation.propagate(f_i, dt_s)

    @property
    def ready(self) -> bool:
        return self.attitude.initialised and self.translation.initialised
