"""Translational navigation EKF: landmark bearings, lidar range, position fixes.

State (9): position r_i and velocity v_i in the inertial frame, accelerometer
bias b_sc in the spacecraft frame.  Propagation uses the IMU's specific force
rotated with the attitude filter's estimate, and the on-board point-mass
gravity; the covariance is propagated with the same step (numpy on 9x9: a few
microseconds, affordable at 10 Hz, unlike numpy on 3-vectors).

Measurements:
- landmark bearings (Natural Feature Tracking): a unit line of sight in the
  spacecraft frame to a landmark of the on-board catalogue (body-fixed
  position); each gives two tangent-plane components, gated one landmark at a
  time with a chi-square test;
- lidar range along the instrument boresight to the target site's local plane
  (used near the target only, where the plane is a good model of the surface);
- body-fixed position fixes (PROBE_NAVCAM_FIX), if a camera provides them.
The star tracker's attitude error is added to the bearing noise; the
attitude itself is estimated by AttitudeFilter (navigation.py).
"""

import math

import numpy as np

from flightsw.gnc.body_frame import SpinningBody
from flightsw.gnc.quat import Quat, q_rotate

N_STATE = 9
CHI2_2DOF_GATE = 25.0  # ~ 5 sigma for two degrees of freedom
CHI2_1DOF_GATE = 25.0


def _dcm_i_from_sc(q: Quat) -> np.ndarray:
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def _tangent_basis(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors perpendicular to unit u and to each other (no np.cross: slow)."""
    ux, uy, uz = float(u[0]), float(u[1]), float(u[2])
    # cross(u, helper) with helper = x or y axis, whichever is further from u.
    if abs(ux) < 0.9:
        e1 = (0.0, uz, -uy)
    else:
        e1 = (-uz, 0.0, ux)
    n = math.sqrt(e1[0] ** 2 + e1[1] ** 2 + e1[2] ** 2)
    e1 = (e1[0] / n, e1[1] / n, e1[2] / n)
    e2 = (uy * e1[2] - uz * e1[1], uz * e1[0] - ux * e1[2], ux * e1[1] - uy * e1[0])
    return np.array(e1), np.array(e2)


class TranslationEKF:
    def __init__(self, body: SpinningBody, gm_m3s2: float, accel_noise_mps2: float,
                 unmodelled_accel_walk: float, accel_bias_walk: float = 1e-8,
                 initial_pos_sigma_m: float = 50.0, initial_vel_sigma_mps: float = 0.05,
                 initial_bias_sigma_mps2: float = 5e-5):
        self.body = body
        self.gm = gm_m3s2
        self.accel_noise = accel_noise_mps2
        self.acc_walk = unmodelled_accel_walk
        self.bias_walk = accel_bias_walk
        self.x = np.zeros(N_STATE)
        self.P = np.diag([initial_pos_sigma_m ** 2] * 3 + [initial_vel_sigma_mps ** 2] * 3
                         + [initial_bias_sigma_mps2 ** 2] * 3)
        self.initialised = False
        self.updates = 0
        self.rejected = 0
        self.landmarks_used = 0
        self.last_nis = 0.0
        self._pending_dt_s = 0.0
        self._pending_q = (1.0, 0.0, 0.0, 0.0)
        self._sample_dt_s = 0.1
        self._eye3 = np.eye(3)
        self._phi = np.eye(N_STATE)
        self._q = np.zeros((N_STATE, N_STATE))

    # -- state access --------------------------------------------------------------
    def position_i(self) -> tuple:
        x = self.x
        return (float(x[0]), float(x[1]), float(x[2]))

    def velocity_i(self) -> tuple:
        x = self.x
        return (float(x[3]), float(x[4]), float(x[5]))

    def accel_bias_sc(self) -> tuple:
        x = self.x
        return (float(x[6]), float(x[7]), float(x[8]))

    def pos_sigma_m(self) -> tuple:
        self._flush_covariance()
        d = np.sqrt(np.maximum(np.diag(self.P)[0:3], 0.0))
        return (float(d[0]), float(d[1]), float(d[2]))

    def vel_sigma_mps(self) -> tuple:
        self._flush_covariance()
        d = np.sqrt(np.maximum(np.diag(self.P)[3:6], 0.0))
        return (float(d[0]), float(d[1]), float(d[2]))

    def covariance(self) -> np.ndarray:
        """The 9x9 covariance, propagated to now."""
        self._flush_covariance()
        return self.P

    def gravity_i(self, pos_i: tuple) -> tuple:
        r2 = pos_i[0] ** 2 + pos_i[1] ** 2 + pos_i[2] ** 2
        k = -self.gm / (r2 * math.sqrt(r2))
        return (k * pos_i[0], k * pos_i[1], k * pos_i[2])

    def initialise(self, pos_i, vel_i) -> None:
        self.x[0:3] = pos_i
        self.x[3:6] = vel_i
        self.initialised = True

    # -- propagation ---------------------------------------------------------------
    def propagate(self, specific_force_sc: tuple, q_i_to_sc: Quat, dt_s: float) -> None:
        """State now (plain floats); covariance deferred to the next update or sigma read.

        The covariance is only needed at measurement times (1 Hz) and for telemetry,
        so it is propagated over the accumulated interval in one numpy step: the
        rotation to the inertial frame barely moves within a second.
        """
        b = self.x[6:9]
        f = (specific_force_sc[0] - b[0], specific_force_sc[1] - b[1],
             specific_force_sc[2] - b[2])
        f_i = q_rotate(q_i_to_sc, f)
        x = self.x
        g = self.gravity_i((x[0], x[1], x[2]))
        a = (f_i[0] + g[0], f_i[1] + g[1], f_i[2] + g[2])
        h2 = 0.5 * dt_s * dt_s
        x0, x1, x2 = x[0] + x[3] * dt_s + a[0] * h2, x[1] + x[4] * dt_s + a[1] * h2, \
            x[2] + x[5] * dt_s + a[2] * h2
        x[0], x[1], x[2] = x0, x1, x2
        x[3] += a[0] * dt_s
        x[4] += a[1] * dt_s
        x[5] += a[2] * dt_s
        self._pending_dt_s += dt_s
        self._pending_q = q_i_to_sc
        self._sample_dt_s = dt_s

    def _flush_covariance(self) -> None:
        t = self._pending_dt_s
        if t <= 0.0:
            return
        self._pending_dt_s = 0.0
        rot = _dcm_i_from_sc(self._pending_q)
        phi = self._phi
        phi[0:3, 3:6] = self._eye3 * t
        phi[0:3, 6:9] = -rot * (0.5 * t * t)
        phi[3:6, 6:9] = -rot * t
        # White acceleration noise of spectral density sigma^2 * (sample period),
        # plus the unmodelled-acceleration and bias random walks.
        qc = self.accel_noise ** 2 * self._sample_dt_s
        q = self._q
        q[0:3, 0:3] = self._eye3 * (qc * t ** 3 / 3.0)
        q[0:3, 3:6] = q[3:6, 0:3] = self._eye3 * (qc * t * t / 2.0)
        q[3:6, 3:6] = self._eye3 * (qc * t + self.acc_walk ** 2 * t)
        q[6:9, 6:9] = self._eye3 * (self.bias_walk ** 2 * t)
        self.P = phi @ self.P @ phi.T + q

    # -- updates -------------------------------------------------------------------
    def _apply(self, innov: np.ndarray, h: np.ndarray, r: np.ndarray) -> None:
        self._flush_covariance()
        s = h @ self.P @ h.T + r
        k = np.linalg.solve(s, h @ self.P).T
        self.x = self.x + k @ innov
        ikh = np.eye(N_STATE) - k @ h
        # Joseph form: keeps P symmetric and positive through many updates.
        self.P = ikh @ self.P @ ikh.T + k @ r @ k.T
        self.updates += 1

    def initialise_from_bearings(self, t_s: float, observations, q_i_to_sc: Quat) -> bool:
        """Least-squares triangulation of the position from >= 2 landmark bearings."""
        rot = self.body.rotation_bf_to_i(t_s)
        a = np.zeros((3, 3))
        rhs = np.zeros(3)
        for landmark_bf, los_sc in observations:
            u = np.array(q_rotate(q_i_to_sc, los_sc))
            u /= np.linalg.norm(u)
            proj = np.eye(3) - np.outer(u, u)
            land_i = np.array(rot) @ np.asarray(landmark_bf)
            a += proj
            rhs += proj @ land_i
        if len(observations) < 2 or np.linalg.cond(a) > 1e8:
            return False
        pos = np.linalg.solve(a, rhs)
        w = np.array(self.body.spin_vector_i())
        self.initialise(pos, np.cross(w, pos))  # near co-rotation: a hover
        return True

    def update_landmarks(self, t_s: float, observations, q_i_to_sc: Quat, sigma_rad: float,
                         attitude_sigma_rad: float = 0.0, catalogue_sigma_m: float = 0.0) -> int:
        """Bearing updates; observations = [(landmark_bf_m, los_sc unit vector)]. Returns used."""
        if not self.initialised:
            if self.initialise_from_bearings(t_s, observations, q_i_to_sc):
                self.updates += 1
            return 0
        self._flush_covariance()
        rot_bf = np.array(self.body.rotation_bf_to_i(t_s))
        rot_sc = _dcm_i_from_sc(q_i_to_sc)
        var_angle = sigma_rad ** 2 + attitude_sigma_rad ** 2
        rows, innovs, variances = [], [], []
        r_i = self.x[0:3]
        for landmark_bf, los_sc in observations:
            d = rot_bf @ np.asarray(landmark_bf) - r_i
            rho = float(np.linalg.norm(d))
            if rho < 1e-3:
                continue
            u_pred_i = d / rho
            # A catalogue position error looks like an angle of error / range.
            var = var_angle + (catalogue_sigma_m / rho) ** 2
            u_meas_i = rot_sc @ np.asarray(los_sc)
            # Tangent basis perpendicular to the predicted line of sight.
            e1, e2 = _tangent_basis(u_pred_i)
            z = np.array([e1 @ u_meas_i, e2 @ u_meas_i])
            h = np.zeros((2, N_STATE))
            h[0, 0:3] = -e1 / rho
            h[1, 0:3] = -e2 / rho
            s = h @ self.P @ h.T + np.eye(2) * var
            nis = float(z @ np.linalg.solve(s, z))
            if nis > CHI2_2DOF_GATE:
                self.rejected += 1
                continue
            rows.append(h)
            innovs.append(z)
            variances.extend((var, var))
        if not rows:
            return 0
        h = np.vstack(rows)
        innov = np.concatenate(innovs)
        self._apply(innov, h, np.diag(variances))
        self.landmarks_used += len(rows)
        return len(rows)

    def update_range_to_plane(self, range_m: float, sigma_m: float, boresight_sc: tuple,
                              q_i_to_sc: Quat, t_s: float, plane_point_bf: tuple,
                              plane_normal_bf: tuple) -> bool:
        """Lidar range along the boresight to the local plane of the target site."""
        if not self.initialised:
            return False
        b_i = np.array(q_rotate(q_i_to_sc, boresight_sc))
        rot_bf = np.array(self.body.rotation_bf_to_i(t_s))
        n_i = rot_bf @ np.asarray(plane_normal_bf)
        p_i = rot_bf @ np.asarray(plane_point_bf)
        cos_incidence = float(n_i @ b_i)
        if cos_incidence > -0.5:  # looking along the surface, not at it
            return False
        predicted = float(n_i @ (p_i - self.x[0:3])) / cos_incidence
        h = np.zeros((1, N_STATE))
        h[0, 0:3] = -n_i / cos_incidence
        r = np.array([[sigma_m ** 2]])
        innov = np.array([range_m - predicted])
        self._flush_covariance()
        s = float((h @ self.P @ h.T + r)[0, 0])
        self.last_nis = float(innov[0] ** 2 / s)
        if self.last_nis > CHI2_1DOF_GATE:
            self.rejected += 1
            return False
        self._apply(innov, h, r)
        return True

    def update_position_bf(self, t_s: float, pos_bf: tuple, sigma_m: float) -> bool:
        z = np.array(self.body.bf_to_i(t_s, pos_bf))
        if not self.initialised:
            w = np.array(self.body.spin_vector_i())
            self.initialise(z, np.cross(w, z))
            self.updates += 1
            return True
        h = np.zeros((3, N_STATE))
        h[:, 0:3] = np.eye(3)
        r = np.eye(3) * sigma_m ** 2
        innov = z - self.x[0:3]
        self._flush_covariance()
        s = h @ self.P @ h.T + r
        if float(innov @ np.linalg.solve(s, innov)) > CHI2_2DOF_GATE + 5.0:
            self.rejected += 1
            return False
        self._apply(innov, h, r)
        return True
