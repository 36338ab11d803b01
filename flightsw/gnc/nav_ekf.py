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
        d = np.sqrt(np.maximum(np.diag(self.P)[0:3], 0.0))
        return (float(d[0]), float(d[1]), float(d[2]))

    def vel_sigma_mps(self) -> tuple:
        d = np.sqrt(np.maximum(np.diag(self.P)[3:6], 0.0))
        return (float(d[0]), float(d[1]), float(d[2]))

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
        b = self.x[6:9]
        f = (specific_force_sc[0] - b[0], specific_force_sc[1] - b[1],
             specific_force_sc[2] - b[2])
        f_i = q_rotate(q_i_to_sc, f)
        g = self.gravity_i(self.position_i())
        a = (f_i[0] + g[0], f_i[1] + g[1], f_i[2] + g[2])
        h2 = 0.5 * dt_s * dt_s
        x = self.x
        for k in range(3):
            x[k] += x[3 + k] * dt_s + a[k] * h2
            x[3 + k] += a[k] * dt_s
        rot = _dcm_i_from_sc(q_i_to_sc)
        phi = np.eye(N_STATE)
        phi[0:3, 3:6] = np.eye(3) * dt_s
        phi[0:3, 6:9] = -rot * h2
        phi[3:6, 6:9] = -rot * dt_s
        q = np.zeros((N_STATE, N_STATE))
        s = self.accel_noise ** 2
        q[0:3, 0:3] = np.eye(3) * (s * h2 * h2)
        q[0:3, 3:6] = q[3:6, 0:3] = np.eye(3) * (s * h2 * dt_s)
        q[3:6, 3:6] = np.eye(3) * (s * dt_s * dt_s + self.acc_walk ** 2 * dt_s)
        q[6:9, 6:9] = np.eye(3) * (self.bias_walk ** 2 * dt_s)
        self.P = phi @ self.P @ phi.T + q

    # -- updates -------------------------------------------------------------------
    def _apply(self, innov: np.ndarray, h: np.ndarray, r: np.ndarray) -> None:
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
                         attitude_sigma_rad: float = 0.0) -> int:
        """Bearing updates; observations = [(landmark_bf_m, los_sc unit vector)]. Returns used."""
        if not self.initialised:
            if self.initialise_from_bearings(t_s, observations, q_i_to_sc):
                self.updates += 1
            return 0
        rot_bf = np.array(self.body.rotation_bf_to_i(t_s))
        rot_sc = _dcm_i_from_sc(q_i_to_sc)
        var = sigma_rad ** 2 + attitude_sigma_rad ** 2
        rows, innovs = [], []
        r_i = self.x[0:3]
        for landmark_bf, los_sc in observations:
            d = rot_bf @ np.asarray(landmark_bf) - r_i
            rho = float(np.linalg.norm(d))
            if rho < 1e-3:
                continue
            u_pred_i = d / rho
            u_meas_i = rot_sc @ np.asarray(los_sc)
            # Tangent basis perpendicular to the predicted line of sight.
            helper = np.array([1.0, 0.0, 0.0]) if abs(u_pred_i[0]) < 0.9 else np.array(
                [0.0, 1.0, 0.0])
            e1 = np.cross(u_pred_i, helper)
            e1 /= np.linalg.norm(e1)
            e2 = np.cross(u_pred_i, e1)
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
        if not rows:
            return 0
        h = np.vstack(rows)
        innov = np.concatenate(innovs)
        self._apply(innov, h, np.eye(len(innov)) * var)
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
        s = h @ self.P @ h.T + r
        if float(innov @ np.linalg.solve(s, innov)) > CHI2_2DOF_GATE + 5.0:
            self.rejected += 1
            return False
        self._apply(innov, h, r)
        return True
