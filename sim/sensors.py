"""Sensor models: truth in, ICD messages out (noise, bias, rate, dropout).

Each model is called by the world at its own rate and returns a generated
MAVLink message, or None when the sample drops out.  Truth comes in SI units;
values leave rounded to the message's field types by the packing itself.
"""

import math

from flightsw.geometry.quat import q_from_rotvec, q_mul, q_rotate, q_rotate_inv
from flightsw.icd import mavlink
from sim.noise import NoiseStream

ARCSEC_RAD = math.pi / (180.0 * 3600.0)
_IMU_FIELDS_UPDATED = 0b111111  # accelerometer and gyro axes


class ImuModel:
    def __init__(self, noise: NoiseStream, accel_noise_mps2: float, accel_bias_sigma_mps2: float,
                 gyro_noise_radps: float, gyro_bias_sigma_radps: float, dropout_prob: float,
                 accel_bias_sc_mps2=None, gyro_bias_sc_radps=None):
        self.noise = noise
        self.accel_noise = accel_noise_mps2
        self.gyro_noise = gyro_noise_radps
        self.dropout_prob = dropout_prob
        # Turn-on biases: constant over a run, drawn once from the seed; biases given (a
        # sweep's declared ones) stand in for the draws, made all the same so that the
        # noise that follows is the seed's.
        self.accel_bias_sc_mps2 = noise.gauss3(accel_bias_sigma_mps2)
        self.gyro_bias_sc_radps = noise.gauss3(gyro_bias_sigma_radps)
        if accel_bias_sc_mps2 is not None:
            self.accel_bias_sc_mps2 = tuple(float(x) for x in accel_bias_sc_mps2)
        if gyro_bias_sc_radps is not None:
            self.gyro_bias_sc_radps = tuple(float(x) for x in gyro_bias_sc_radps)

    def measure(self, t_us: int, specific_force_sc: tuple, rate_sc: tuple):
        if self.dropout_prob and self.noise.uniform() < self.dropout_prob:
            return None
        g = self.noise.gauss
        ab, gb = self.accel_bias_sc_mps2, self.gyro_bias_sc_radps
        an, gn = self.accel_noise, self.gyro_noise
        return mavlink.MAVLink_highres_imu_message(
            t_us,
            specific_force_sc[0] + ab[0] + g(an),
            specific_force_sc[1] + ab[1] + g(an),
            specific_force_sc[2] + ab[2] + g(an),
            rate_sc[0] + gb[0] + g(gn),
            rate_sc[1] + gb[1] + g(gn),
            rate_sc[2] + gb[2] + g(gn),
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 20.0, _IMU_FIELDS_UPDATED, 0,
        )


class StarTrackerModel:
    def __init__(self, noise: NoiseStream, sigma_arcsec: float, dropout_prob: float):
        self.noise = noise
        self.sigma_rad = sigma_arcsec * ARCSEC_RAD
        self.dropout_prob = dropout_prob

    def measure(self, t_us: int, q_i_to_sc: tuple):
        if self.dropout_prob and self.noise.uniform() < self.dropout_prob:
            return mavlink.MAVLink_probe_star_tracker_message(t_us, [1.0, 0.0, 0.0, 0.0],
                                                              self.sigma_rad, 0)
        err = q_from_rotvec(self.noise.gauss3(self.sigma_rad))
        q = q_mul(q_i_to_sc, err)
        return mavlink.MAVLink_probe_star_tracker_message(t_us, list(q), self.sigma_rad, 1)


class LidarModel:
    """Range along the instrument boresight to the shape mesh (ray cast)."""

    def __init__(self, noise: NoiseStream, sigma_m: float, max_range_m: float,
                 dropout_prob: float, ray_cast):
        self.noise = noise
        self.sigma_m = sigma_m
        self.max_range_m = max_range_m
        self.dropout_prob = dropout_prob
        self.ray_cast = ray_cast  # (origin_bf, direction_bf) -> distance_m or None

    def measure(self, t_us: int, pos_bf: tuple, boresight_bf: tuple):
        dropped = self.dropout_prob and self.noise.uniform() < self.dropout_prob
        distance = None if dropped else self.ray_cast(pos_bf, boresight_bf)
        if distance is None or distance > self.max_range_m:
            return mavlink.MAVLink_probe_lidar_range_message(t_us, 0.0, self.sigma_m, 0)
        return mavlink.MAVLink_probe_lidar_range_message(
            t_us, distance + self.noise.gauss(self.sigma_m), self.sigma_m, 1)


class WheelTachModel:
    """Tachometers, and each drive's torque from its motor-current sense."""

    # Current-sense noise as torque, 1 sigma: a few per cent of the smallest hover
    # torques (1e-4 to 1e-3 N m), so that a drive applying nothing shows.
    DRIVE_TORQUE_SIGMA_NM = 2e-6

    def __init__(self, noise: NoiseStream, sigma_radps: float, wheel_inertia_kgm2: float,
                 current_noise: NoiseStream | None = None):
        self.noise = noise
        self.sigma = sigma_radps
        self.wheel_inertia = wheel_inertia_kgm2
        self.current_noise = current_noise  # its own stream: the speeds' draws unchanged

    def measure(self, t_us: int, wheel_momentum_nms: tuple, drive_torque_nm=None):
        speeds = [h / self.wheel_inertia + self.noise.gauss(self.sigma)
                  for h in wheel_momentum_nms]
        speeds += [0.0] * (4 - len(speeds))
        if drive_torque_nm is None or self.current_noise is None:
            return mavlink.MAVLink_probe_wheel_status_message(t_us, speeds)
        torques = [t + self.current_noise.gauss(self.DRIVE_TORQUE_SIGMA_NM)
                   for t in drive_torque_nm]
        torques += [0.0] * (4 - len(torques))
        return mavlink.MAVLink_probe_wheel_status_message(t_us, speeds, torques)


class PowerThermalModel:
    """Housekeeping: array output from the sun angle, a battery, four temperatures."""

    def __init__(self, noise: NoiseStream, array_power_w: float = 3000.0,
                 load_power_w: float = 1400.0, battery_wh: float = 1800.0):
        self.noise = noise
        self.array_power_w = array_power_w
        self.load_power_w = load_power_w
        self.battery_wh = battery_wh
        self.soc = 0.95
        self._last_t_s = None

    def measure(self, t_us: int, sun_sc: tuple):
        t_s = t_us * 1e-6
        # Arrays on the -z face (away from the instruments): cosine of sun angle.
        solar = max(0.0, -sun_sc[2]) * self.array_power_w
        if self._last_t_s is not None:
            net_wh = (solar - self.load_power_w) * (t_s - self._last_t_s) / 3600.0
            self.soc = min(1.0, max(0.0, self.soc + net_wh / self.battery_wh))
        self._last_t_s = t_s
        g = self.noise.gauss
        temps = [22.0 + g(0.2), 18.0 + g(0.2), -60.0 + g(0.1), 15.0 + g(0.2)]
        return mavlink.MAVLink_probe_power_thermal_message(
            t_us, 28.0 + 0.5 * self.soc + g(0.02), self.soc, solar, self.load_power_w + g(5.0),
            temps)


def boresight_bf(q_i_to_sc: tuple, boresight_sc: tuple, rotation_bf_to_i) -> tuple:
    """Instrument boresight in the body-fixed frame."""
    b_i = q_rotate(q_i_to_sc, boresight_sc)
    m = rotation_bf_to_i
    return (m[0][0] * b_i[0] + m[1][0] * b_i[1] + m[2][0] * b_i[2],
            m[0][1] * b_i[0] + m[1][1] * b_i[1] + m[2][1] * b_i[2],
            m[0][2] * b_i[0] + m[1][2] * b_i[1] + m[2][2] * b_i[2])



class LandmarkCameraModel:
    """Natural Feature Tracking: lines of sight to catalogue landmarks in view.

    A landmark is seen when it is inside the camera's field of view about the
    boresight, faces the camera (radial normal) and is more than 1 m away;
    the max_landmarks nearest the boresight are reported, each with angular
    noise.  Occlusion by other terrain is not modelled.
    """

    def __init__(self, noise: NoiseStream, catalogue_bf_m, sigma_rad: float,
                 fov_half_deg: float, max_landmarks: int, dropout_prob: float):
        import numpy as np

        self._np = np
        self.noise = noise
        self.catalogue = np.asarray(catalogue_bf_m, dtype=float)
        norms = np.linalg.norm(self.catalogue, axis=1)
        # (3, N) component rows: elementwise arithmetic on contiguous rows is what makes
        # the visibility pass over ~1000 landmarks cheap.
        self._rows = np.ascontiguousarray(self.catalogue.T)
        self._normal_rows = np.ascontiguousarray((self.catalogue / norms[:, None]).T)
        self.sigma_rad = sigma_rad
        self.cos_fov = math.cos(math.radians(fov_half_deg))
        self.max_landmarks = max_landmarks
        self.dropout_prob = dropout_prob
        self._pick = np.random.Generator(np.random.PCG64(int(noise.uniform() * 2 ** 63)))

    def measure(self, t_us: int, pos_bf: tuple, boresight_bf: tuple, q_i_to_sc: tuple,
                rotation_bf_to_i) -> list:
        if self.dropout_prob and self.noise.uniform() < self.dropout_prob:
            return [self._empty_image(t_us)]
        np = self._np
        cx, cy, cz = self._rows
        px, py, pz = pos_bf
        dx, dy, dz = cx - px, cy - py, cz - pz
        rng = np.sqrt(dx * dx + dy * dy + dz * dz)
        # In view: angle off the boresight inside the field of view (d.b > cos_fov |d|);
        # facing the camera (d.n < -0.2 |d|); not touching it.  Elementwise, not a matrix
        # product: BLAS kernels differ between CPUs and the same seed must give the same
        # log on every machine.
        bx, by, bz = boresight_bf
        nx, ny, nz = self._normal_rows
        along = dx * bx + dy * by + dz * bz
        toward = dx * nx + dy * ny + dz * nz
        visible = np.flatnonzero((along > self.cos_fov * rng) & (toward < -0.2 * rng)
                                 & (rng > 1.0))
        if visible.size == 0:
            return [self._empty_image(t_us)]
        # A random subset of what is in view, not the ones nearest the boresight: the
        # nearest are the same few, closely spaced landmarks image after image, whose
        # common catalogue errors would then look like a range error.
        if visible.size > self.max_landmarks:
            order = np.sort(self._pick.choice(visible, self.max_landmarks, replace=False))
        else:
            order = visible
        m = rotation_bf_to_i
        seen = []
        for k in order.tolist():
            r = float(rng[k])
            ux, uy, uz = float(dx[k]) / r, float(dy[k]) / r, float(dz[k]) / r
            # Angular noise: a small random tilt perpendicular to the line of sight.
            e1 = (0.0, uz, -uy) if abs(ux) < 0.9 else (-uz, 0.0, ux)
            n1 = math.sqrt(e1[0] ** 2 + e1[1] ** 2 + e1[2] ** 2)
            e1 = (e1[0] / n1, e1[1] / n1, e1[2] / n1)
            e2 = (uy * e1[2] - uz * e1[1], uz * e1[0] - ux * e1[2], ux * e1[1] - uy * e1[0])
            a, b = self.noise.gauss(self.sigma_rad), self.noise.gauss(self.sigma_rad)
            noisy = (ux + a * e1[0] + b * e2[0], uy + a * e1[1] + b * e2[1],
                     uz + a * e1[2] + b * e2[2])
            nn = math.sqrt(noisy[0] ** 2 + noisy[1] ** 2 + noisy[2] ** 2)
            noisy = (noisy[0] / nn, noisy[1] / nn, noisy[2] / nn)
            u_i = (m[0][0] * noisy[0] + m[0][1] * noisy[1] + m[0][2] * noisy[2],
                   m[1][0] * noisy[0] + m[1][1] * noisy[1] + m[1][2] * noisy[2],
                   m[2][0] * noisy[0] + m[2][1] * noisy[1] + m[2][2] * noisy[2])
            seen.append((k, q_rotate_inv(q_i_to_sc, u_i)))
        return landmark_messages(t_us, seen, self.sigma_rad)

    def _empty_image(self, t_us: int):
        """An image with no landmark found (a bad frame, nothing in view): the camera
        still reports, so the flight software can tell it from a dead camera."""
        return mavlink.MAVLink_probe_navcam_landmarks_message(
            t_us, 0, [0] * LANDMARKS_PER_MESSAGE, [0.0] * (3 * LANDMARKS_PER_MESSAGE),
            self.sigma_rad)


LANDMARKS_PER_MESSAGE = 8  # PROBE_NAVCAM_LANDMARKS holds up to 8


def landmark_messages(t_us: int, seen: list, sigma_rad: float) -> list:
    """(landmark id, unit line of sight in the spacecraft frame) pairs of one image as
    PROBE_NAVCAM_LANDMARKS messages, 8 to a message."""
    out = []
    for start in range(0, len(seen), LANDMARKS_PER_MESSAGE):
        chunk = seen[start:start + LANDMARKS_PER_MESSAGE]
        pad = LANDMARKS_PER_MESSAGE - len(chunk)
        ids = [k for k, _ in chunk] + [0] * pad
        los = [c for _, u in chunk for c in u] + [0.0] * (3 * pad)
        out.append(mavlink.MAVLink_probe_navcam_landmarks_message(
            t_us, len(chunk), ids, los, sigma_rad))
    return out


class SamplerStatusModel:
    """The sampler's telemetry: arm, contact sensor (a force threshold), gas bottles."""

    CONTACT_FORCE_N = 0.5

    def __init__(self, noise: NoiseStream, switch_failed: bool = False):
        self.noise = noise
        self.switch_failed = switch_failed  # fault injection: the switch never closes

    def measure(self, t_us: int, sampler, head_force_n: float):
        force = max(0.0, head_force_n + self.noise.gauss(0.05))
        closed = force > self.CONTACT_FORCE_N and not self.switch_failed
        return mavlink.MAVLink_probe_sampler_status_message(
            t_us, force, 1.5708 if sampler.deployed else 0.0, int(sampler.deployed),
            int(closed), sampler.bottles_left)
