"""Navigation: position, velocity, attitude and rate, with covariance.

Two filters: the attitude filter below (plain floats: the 10 Hz cycle cannot
afford numpy on 3-vectors) and the translational EKF of nav_ekf.py.

- Attitude: a multiplicative filter on the small-angle error and the gyro
  bias, one 2-state Kalman filter per spacecraft axis.  The axes decouple
  because the error dynamics d(dtheta)/dt = -dbias + noise couple axes only
  through w x dtheta, and the probe turns at ~4e-4 rad/s (the body's spin):
  the neglected term is < 1e-6 of the kept ones per step.
- Translation: TranslationEKF (nav_ekf.py): position, velocity and the
  accelerometer bias from the IMU, landmark bearings, lidar and fixes.
"""

import math

from flightsw.geometry.quat import IDENTITY, q_from_rotvec, q_mul, q_normalize, q_to_rotvec
from flightsw.gnc.nav_ekf import TranslationEKF


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
        self.last_innovation_rad = 0.0  # largest axis of the last star-tracker innovation
        # While spinning fast (the mass test), the per-axis decoupling above no longer
        # holds and the bias estimate drifts; holding it keeps the rate unbiased.
        self.bias_frozen = False

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
        self.last_innovation_rad = max(abs(dtheta[0]), abs(dtheta[1]), abs(dtheta[2]))
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
            if self.bias_frozen:
                self.cov[k] = [(1.0 - ka) * paa, (1.0 - ka) * pab, pbb]
                continue
            self.bias_sc_radps[k] += kb * dtheta[k]
            self.cov[k] = [(1.0 - ka) * paa, (1.0 - ka) * pab, pbb - kb * pab]
        self.q_i_to_sc = q_normalize(q_mul(self.q_i_to_sc, q_from_rotvec(tuple(correction_angle))))
        self.updates += 1
        return True

    def relearn_bias(self, angle_sigma_rad: float, bias_sigma_radps: float) -> None:
        """After a gyro bias jump: widen the attitude and bias uncertainty so that the
        star tracker is let through again and the bias is learnt anew (fault
        protection's response; the gate would otherwise reject every measurement)."""
        for k in range(3):
            self.cov[k] = [angle_sigma_rad ** 2, 0.0, bias_sigma_radps ** 2]

    def bias_sigma_radps(self) -> tuple[float, float, float]:
        """One-sigma of the gyro bias estimate per spacecraft axis."""
        return tuple(math.sqrt(max(p[2], 0.0)) for p in self.cov)

    def angle_sigma_rad(self) -> tuple[float, float, float]:
        return tuple(math.sqrt(max(p[0], 0.0)) for p in self.cov)


class Navigator:
    """Both filters behind one interface for guidance, control and telemetry."""

    def __init__(self, attitude: AttitudeFilter, translation: TranslationEKF):
        self.attitude = attitude
        self.translation = translation

    def on_imu(self, accel_sc: tuple, rate_sc: tuple, dt_s: float) -> None:
        self.attitude.propagate(rate_sc, dt_s)
        if self.translation.initialised:
            self.translation.propagate(accel_sc, self.attitude.q_i_to_sc, dt_s)

    @property
    def ready(self) -> bool:
        return self.attitude.initialised and self.translation.initialised
