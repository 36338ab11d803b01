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

Determinism across machines: no BLAS or LAPACK call (``@``, ``np.dot``,
``np.linalg.solve``/``norm``) and no numpy reduction touches the state.  Their
kernels are chosen at run time for the CPU (OpenBLAS ``DYNAMIC_ARCH``, numpy's
AVX2/AVX-512 dispatch) and sum in different orders, so a log recorded on one
machine replayed a few ULPs apart on another (found by the golden logs).
Matrix products here are sums of elementwise products in a fixed order
(``_matmul``) and vectors are Python floats.  Landmark bearings are applied in
one batch through their information (a 3x3 inverse by cofactors, see
``_apply_position_information``); the few other measurements as sequential
scalar updates (Joseph form), which need no inverse at all.
"""

import math

import numpy as np

from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.quat import Quat, mat_vec, q_rotate

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


def _tangent_basis(u: tuple) -> tuple[tuple, tuple]:
    """Two unit vectors perpendicular to unit u and to each other (no np.cross: slow)."""
    ux, uy, uz = u
    # cross(u, helper) with helper = x or y axis, whichever is further from u.
    if abs(ux) < 0.9:
        e1 = (0.0, uz, -uy)
    else:
        e1 = (-uz, 0.0, ux)
    n = math.sqrt(e1[0] ** 2 + e1[1] ** 2 + e1[2] ** 2)
    e1 = (e1[0] / n, e1[1] / n, e1[2] / n)
    e2 = (uy * e1[2] - uz * e1[1], uz * e1[0] - ux * e1[2], ux * e1[1] - uy * e1[0])
    return e1, e2


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b summed column by column in a fixed order: the same bits on every CPU."""
    out = a[:, 0:1] * b[0:1, :]
    for j in range(1, a.shape[1]):
        out += a[:, j:j + 1] * b[j:j + 1, :]
    return out


def _inverse3(a) -> list:
    """Inverse of a 3x3 matrix by cofactors (Python floats)."""
    (a00, a01, a02), (a10, a11, a12), (a20, a21, a22) = a
    c00, c01, c02 = a11 * a22 - a12 * a21, a12 * a20 - a10 * a22, a10 * a21 - a11 * a20
    det = a00 * c00 + a01 * c01 + a02 * c02
    return [[c00 / det, (a02 * a21 - a01 * a22) / det, (a01 * a12 - a02 * a11) / det],
            [c01 / det, (a00 * a22 - a02 * a20) / det, (a02 * a10 - a00 * a12) / det],
            [c02 / det, (a01 * a20 - a00 * a21) / det, (a00 * a11 - a01 * a10) / det]]


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

    def accel_bias_sigma_mps2(self) -> tuple:
        self._flush_covariance()
        d = np.sqrt(np.maximum(np.diag(self.P)[6:9], 0.0))
        return (float(d[0]), float(d[1]), float(d[2]))

    def widen(self, pos_sigma_m: float, vel_sigma_mps: float) -> None:
        """Raise the position and velocity variances to at least these sigmas (a
        positive diagonal added: the covariance stays positive definite).  For
        re-acquisition: an estimate that rejects every fix is surer than it is right."""
        self._flush_covariance()
        p = self.P.copy()
        for i, floor in ((0, pos_sigma_m), (1, pos_sigma_m), (2, pos_sigma_m),
                         (3, vel_sigma_mps), (4, vel_sigma_mps), (5, vel_sigma_mps)):
            p[i, i] = max(p[i, i], floor * floor)
        self.P = p

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
        # Python floats, not numpy scalars: the same IEEE arithmetic, 3x cheaper at 10 Hz.
        x0, x1, x2, v0, v1, v2, b0, b1, b2 = self.x.tolist()
        f_i = q_rotate(q_i_to_sc, (specific_force_sc[0] - b0, specific_force_sc[1] - b1,
                                   specific_force_sc[2] - b2))
        g = self.gravity_i((x0, x1, x2))
        a = (f_i[0] + g[0], f_i[1] + g[1], f_i[2] + g[2])
        h2 = 0.5 * dt_s * dt_s
        self.x[0:6] = (x0 + v0 * dt_s + a[0] * h2, x1 + v1 * dt_s + a[1] * h2,
                       x2 + v2 * dt_s + a[2] * h2,
                       v0 + a[0] * dt_s, v1 + a[1] * dt_s, v2 + a[2] * dt_s)
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
        self.P = _matmul(_matmul(phi, self.P), phi.T) + q

    # -- updates -------------------------------------------------------------------
    def _pos_block(self) -> tuple:
        """The 3x3 position covariance as Python floats (for gating)."""
        p = self.P
        return ((float(p[0, 0]), float(p[0, 1]), float(p[0, 2])),
                (float(p[1, 0]), float(p[1, 1]), float(p[1, 2])),
                (float(p[2, 0]), float(p[2, 1]), float(p[2, 2])))

    def _apply_position_information(self, info, info_vec) -> None:
        """Batch update by many position-only rows, given as their information.

        With Y = H' R^-1 H and y = H' R^-1 z (3x3 and 3, position block), the
        Kalman update needs no inverse larger than 3x3 (push-through identity):
        M = I + Y Ppp, x += P[:, :3] M^-1 y, P -= P[:, :3] M^-1 Y P[:3, :].
        Eight landmarks cost one 3x3 inverse instead of sixteen scalar updates.
        """
        self._flush_covariance()
        pp = self._pos_block()
        m = [[(1.0 if i == j else 0.0) + sum(info[i][k] * pp[k][j] for k in range(3))
              for j in range(3)] for i in range(3)]
        m_inv = _inverse3(m)
        a = [[sum(m_inv[i][k] * info[k][j] for k in range(3)) for j in range(3)]
             for i in range(3)]
        b = [sum(m_inv[i][k] * info_vec[k] for k in range(3)) for i in range(3)]
        P = self.P
        c0, c1, c2 = P[:, 0:1], P[:, 1:2], P[:, 2:3]  # P[:, :3] as columns
        self.x = self.x + (c0[:, 0] * b[0] + c1[:, 0] * b[1] + c2[:, 0] * b[2])
        # W = P[:, :3] A (9x3), then W P[:3, :] (9x9), summed in a fixed order.
        w = c0 * np.array(a[0]) + c1 * np.array(a[1]) + c2 * np.array(a[2])
        P = P - (w[:, 0:1] * P[0:1, :] + w[:, 1:2] * P[1:2, :] + w[:, 2:3] * P[2:3, :])
        self.P = 0.5 * (P + P.T)
        self.updates += 1

    def _apply_position_rows(self, rows) -> None:
        """Apply scalar measurements [(h_pos (3 floats), innovation, variance)], in order.

        Every h touches the position only.  The innovations were all formed at the
        prior state, so each is corrected by h (x - x_prior) before use: the sequence
        then equals the batch linear update.  Joseph form, expanded for a scalar:
        P' = P - k ph' - ph k' + s k k', with ph = P h and s = h' P h + r.
        """
        self._flush_covariance()
        x = self.x
        x_prior = (float(x[0]), float(x[1]), float(x[2]))
        P = self.P
        outer = np.multiply.outer
        for (h0, h1, h2), innov, var in rows:
            ph = P[:, 0] * h0 + P[:, 1] * h1 + P[:, 2] * h2
            s = (h0 * float(ph[0]) + h1 * float(ph[1])) + h2 * float(ph[2]) + var
            k = ph / s
            dx = (h0 * (float(x[0]) - x_prior[0]) + h1 * (float(x[1]) - x_prior[1])
                  + h2 * (float(x[2]) - x_prior[2]))
            x = x + k * (innov - dx)
            kph = outer(k, ph)
            P = (P - kph) - kph.T + outer(k, k) * s
        self.x = x
        self.P = 0.5 * (P + P.T)  # exactly symmetric (the two subtractions round apart)
        self.updates += 1

    def initialise_from_bearings(self, t_s: float, observations, q_i_to_sc: Quat) -> bool:
        """Least-squares triangulation of the position from >= 2 landmark bearings."""
        rot = self.body.rotation_bf_to_i(t_s)
        a = [[0.0] * 3 for _ in range(3)]
        rhs = [0.0, 0.0, 0.0]
        for landmark_bf, los_sc in observations:
            u = q_rotate(q_i_to_sc, los_sc)
            n = math.sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2])
            u = (u[0] / n, u[1] / n, u[2] / n)
            land_i = mat_vec(rot, landmark_bf)
            along = u[0] * land_i[0] + u[1] * land_i[1] + u[2] * land_i[2]
            for i in range(3):
                for j in range(3):
                    a[i][j] += (1.0 if i == j else 0.0) - u[i] * u[j]
                rhs[i] += land_i[i] - u[i] * along  # (I - u u') land_i
        # The condition number only gates (a boolean with a wide margin), so LAPACK is fine.
        if len(observations) < 2 or np.linalg.cond(np.array(a)) > 1e8:
            return False
        pos = mat_vec(_inverse3(a), rhs)
        w = self.body.spin_vector_i()
        vel = (w[1] * pos[2] - w[2] * pos[1], w[2] * pos[0] - w[0] * pos[2],
               w[0] * pos[1] - w[1] * pos[0])
        self.initialise(pos, vel)  # near co-rotation: a hover
        return True

    def update_landmarks(self, t_s: float, observations, q_i_to_sc: Quat, sigma_rad: float,
                         attitude_sigma_rad: float = 0.0, catalogue_sigma_m: float = 0.0) -> int:
        """Bearing updates; observations = [(landmark_bf_m, los_sc unit vector)]. Returns used."""
        if not self.initialised:
            if self.initialise_from_bearings(t_s, observations, q_i_to_sc):
                self.updates += 1
            return 0
        self._flush_covariance()
        rot_bf = self.body.rotation_bf_to_i(t_s)
        rot_sc = _dcm_i_from_sc(q_i_to_sc).tolist()
        var_angle = sigma_rad ** 2 + attitude_sigma_rad ** 2
        (p00, p01, p02), (p10, p11, p12), (p20, p21, p22) = self._pos_block()
        rx, ry, rz = float(self.x[0]), float(self.x[1]), float(self.x[2])
        info = [[0.0] * 3 for _ in range(3)]
        info_vec = [0.0, 0.0, 0.0]
        used = 0
        for landmark_bf, los_sc in observations:
            lx, ly, lz = mat_vec(rot_bf, landmark_bf)
            dx, dy, dz = lx - rx, ly - ry, lz - rz
            rho = math.sqrt(dx * dx + dy * dy + dz * dz)
            if rho < 1e-3:
                continue
            u_pred = (dx / rho, dy / rho, dz / rho)
            # A catalogue position error looks like an angle of error / range.
            var = var_angle + (catalogue_sigma_m / rho) ** 2
            mx, my, mz = mat_vec(rot_sc, los_sc)
            # Tangent basis perpendicular to the predicted line of sight; the
            # measurement rows are h = -e / rho on the position.
            e1, e2 = _tangent_basis(u_pred)
            z1 = e1[0] * mx + e1[1] * my + e1[2] * mz
            z2 = e2[0] * mx + e2[1] * my + e2[2] * mz
            h1 = (-e1[0] / rho, -e1[1] / rho, -e1[2] / rho)
            h2 = (-e2[0] / rho, -e2[1] / rho, -e2[2] / rho)
            # Gate on the prior: S = H P H' + var I (2x2), NIS = z' S^-1 z.
            q1 = (p00 * h1[0] + p01 * h1[1] + p02 * h1[2],
                  p10 * h1[0] + p11 * h1[1] + p12 * h1[2],
                  p20 * h1[0] + p21 * h1[1] + p22 * h1[2])
            q2 = (p00 * h2[0] + p01 * h2[1] + p02 * h2[2],
                  p10 * h2[0] + p11 * h2[1] + p12 * h2[2],
                  p20 * h2[0] + p21 * h2[1] + p22 * h2[2])
            s11 = h1[0] * q1[0] + h1[1] * q1[1] + h1[2] * q1[2] + var
            s12 = h1[0] * q2[0] + h1[1] * q2[1] + h1[2] * q2[2]
            s22 = h2[0] * q2[0] + h2[1] * q2[1] + h2[2] * q2[2] + var
            det = s11 * s22 - s12 * s12
            nis = (s22 * z1 * z1 - 2.0 * s12 * z1 * z2 + s11 * z2 * z2) / det
            if nis > CHI2_2DOF_GATE:
                self.rejected += 1
                continue
            # Information of the two rows: Y += h h' / var, y += h z / var.
            w = 1.0 / var
            for i in range(3):
                info_vec[i] += (h1[i] * z1 + h2[i] * z2) * w
                for j in range(i, 3):
                    info[i][j] += (h1[i] * h1[j] + h2[i] * h2[j]) * w
            used += 1
        if not used:
            return 0
        for i in range(3):
            for j in range(i):
                info[i][j] = info[j][i]
        self._apply_position_information(info, info_vec)
        self.landmarks_used += used
        return used

    def update_range_to_plane(self, range_m: float, sigma_m: float, boresight_sc: tuple,
                              q_i_to_sc: Quat, t_s: float, plane_point_bf: tuple,
                              plane_normal_bf: tuple) -> bool:
        """Lidar range along the boresight to the local plane of the target site."""
        if not self.initialised:
            return False
        b_i = q_rotate(q_i_to_sc, boresight_sc)
        rot_bf = self.body.rotation_bf_to_i(t_s)
        n_i = mat_vec(rot_bf, plane_normal_bf)
        p_i = mat_vec(rot_bf, plane_point_bf)
        cos_incidence = n_i[0] * b_i[0] + n_i[1] * b_i[1] + n_i[2] * b_i[2]
        if cos_incidence > -0.5:  # looking along the surface, not at it
            return False
        x = self.x
        gap = (p_i[0] - float(x[0]), p_i[1] - float(x[1]), p_i[2] - float(x[2]))
        predicted = (n_i[0] * gap[0] + n_i[1] * gap[1] + n_i[2] * gap[2]) / cos_incidence
        h = (-n_i[0] / cos_incidence, -n_i[1] / cos_incidence, -n_i[2] / cos_incidence)
        var = sigma_m ** 2
        innov = range_m - predicted
        self._flush_covariance()
        (p00, p01, p02), (p10, p11, p12), (p20, p21, p22) = self._pos_block()
        s = (h[0] * (p00 * h[0] + p01 * h[1] + p02 * h[2])
             + h[1] * (p10 * h[0] + p11 * h[1] + p12 * h[2])
             + h[2] * (p20 * h[0] + p21 * h[1] + p22 * h[2]) + var)
        self.last_nis = innov * innov / s
        if self.last_nis > CHI2_1DOF_GATE:
            self.rejected += 1
            return False
        self._apply_position_rows([(h, innov, var)])
        return True

    def update_position_bf(self, t_s: float, pos_bf: tuple, sigma_m: float) -> bool:
        z = self.body.bf_to_i(t_s, pos_bf)
        if not self.initialised:
            w = self.body.spin_vector_i()
            self.initialise(z, (w[1] * z[2] - w[2] * z[1], w[2] * z[0] - w[0] * z[2],
                                w[0] * z[1] - w[1] * z[0]))
            self.updates += 1
            return True
        var = sigma_m ** 2
        x = self.x
        innov = (z[0] - float(x[0]), z[1] - float(x[1]), z[2] - float(x[2]))
        self._flush_covariance()
        pp = self._pos_block()
        s = tuple(tuple(pp[i][j] + (var if i == j else 0.0) for j in range(3)) for i in range(3))
        nis = sum(innov[i] * v for i, v in enumerate(mat_vec(_inverse3(s), innov)))
        if nis > CHI2_2DOF_GATE + 5.0:
            self.rejected += 1
            return False
        rows = [((1.0, 0.0, 0.0), innov[0], var), ((0.0, 1.0, 0.0), innov[1], var),
                ((0.0, 0.0, 1.0), innov[2], var)]
        self._apply_position_rows(rows)
        return True
