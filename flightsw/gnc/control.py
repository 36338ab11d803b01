"""Control: reaction-wheel attitude control and pulse-modulated thrusters.

Attitude: PD on the small-angle error with gyroscopic compensation, torque
allocated to the wheels (minimum norm) and clipped at the motor limit.
Translation: PD on position and velocity about the guidance reference with
the reference acceleration and on-board gravity as feed-forward.  The
commanded acceleration becomes thruster on-times in the spacecraft frame;
impulses below the minimum impulse bit are accumulated (sigma-delta) rather
than dropped, so the average thrust follows the command.
"""

import math

from flightsw.geometry.quat import Quat, Vec3, q_mul, q_rotate_inv, q_to_rotvec
from flightsw.gnc.allocation import wheel_torque_allocation


class AttitudeController:
    def __init__(self, inertia_kgm2: Vec3, wheel_axes: list, bandwidth_radps: float,
                 damping: float, max_wheel_torque_nm: float):
        self.inertia = inertia_kgm2
        self.wheel_axes = wheel_axes
        self.alloc = wheel_torque_allocation(wheel_axes)
        self.max_torque = max_wheel_torque_nm
        self.max_slew_radps = 0.01
        self.set_gains(bandwidth_radps, damping)
        self.saturated_count = 0

    def isolate_wheels(self, failed: frozenset) -> None:
        """Allocate over the wheels not in `failed` (indices); those get zero torque.
        Any three wheels of the pyramid span the three axes."""
        active = [j for j in range(len(self.wheel_axes)) if j not in failed]
        rows = wheel_torque_allocation([self.wheel_axes[j] for j in active])
        alloc = [(0.0, 0.0, 0.0)] * len(self.wheel_axes)
        for j, row in zip(active, rows, strict=True):
            alloc[j] = row
        self.alloc = alloc

    def set_gains(self, bandwidth_radps: float, damping: float) -> None:
        self.kp = tuple(i * bandwidth_radps ** 2 for i in self.inertia)
        self.kd = tuple(2.0 * damping * bandwidth_radps * i for i in self.inertia)

    def pointing_error_rad(self, q_est: Quat, q_ref: Quat) -> Vec3:
        conj = (q_est[0], -q_est[1], -q_est[2], -q_est[3])
        return q_to_rotvec(q_mul(conj, q_ref))  # rotation from estimate to reference, sc

    def wheel_torques(self, q_est: Quat, rate_est: Vec3, q_ref: Quat, rate_ref_sc: Vec3,
                      wheel_momentum_nms: tuple) -> tuple:
        err = self.pointing_error_rad(q_est, q_ref)
        # PD written as a rate loop around a slew-limited rate command: the same
        # as PD for small errors, and a bounded slew for large ones (a spin test
        # can leave the probe far from its pointing).
        cmd = [self.kp[k] / self.kd[k] * err[k] for k in range(3)]
        size = math.sqrt(cmd[0] ** 2 + cmd[1] ** 2 + cmd[2] ** 2)
        if size > self.max_slew_radps:
            cmd = [c * self.max_slew_radps / size for c in cmd]
        ref = (rate_ref_sc[0] + cmd[0], rate_ref_sc[1] + cmd[1], rate_ref_sc[2] + cmd[2])
        return self.rate_torques(rate_est, ref, wheel_momentum_nms)

    def rate_torques(self, rate_est: Vec3, rate_ref_sc: Vec3, wheel_momentum_nms: tuple) -> tuple:
        """Rate loop (the inner loop of pointing; alone while spinning for the mass test)."""
        w = rate_est
        i = self.inertia
        # Gyroscopic compensation: cancel w x (I w + h_wheels).
        hx = hy = hz = 0.0
        for a, h in zip(self.wheel_axes, wheel_momentum_nms, strict=False):
            hx += a[0] * h
            hy += a[1] * h
            hz += a[2] * h
        lx, ly, lz = i[0] * w[0] + hx, i[1] * w[1] + hy, i[2] * w[2] + hz
        gyro = (w[1] * lz - w[2] * ly, w[2] * lx - w[0] * lz, w[0] * ly - w[1] * lx)
        torque = tuple(self.kd[k] * (rate_ref_sc[k] - w[k]) + gyro[k] for k in range(3))
        return self._allocate(torque)

    def _allocate(self, torque: Vec3) -> tuple:
        cmds = []
        for row in self.alloc:
            tau = row[0] * torque[0] + row[1] * torque[1] + row[2] * torque[2]
            if tau > self.max_torque:
                tau = self.max_torque
                self.saturated_count += 1
            elif tau < -self.max_torque:
                tau = -self.max_torque
                self.saturated_count += 1
            cmds.append(tau)
        return tuple(cmds)


class TranslationController:
    def __init__(self, mass_kg: float, thrust_n: float, min_impulse_bit_ns: float,
                 bandwidth_radps: float, damping: float):
        self.mass_kg = mass_kg
        self.thrust_n = thrust_n
        self.mib_ns = min_impulse_bit_ns
        self.set_gains(bandwidth_radps, damping)
        self.max_close_mps = 0.5
        self._residual_ns = [0.0, 0.0, 0.0]
        self.dv_total_mps = 0.0

    def set_gains(self, bandwidth_radps: float, damping: float) -> None:
        self.kp = bandwidth_radps ** 2
        self.kd = 2.0 * damping * bandwidth_radps

    def accel_command_i(self, pos_est: Vec3, vel_est: Vec3, ref_pos: Vec3, ref_vel: Vec3,
                        ref_acc: Vec3, gravity_i: Vec3) -> Vec3:
        """PD written as a velocity loop around a closing-speed-limited position loop: the
        same as PD for small errors; for a large one (a probe kilometres off its point) it
        closes at max_close_mps instead of building up tens of m/s it cannot shed in time
        (an unlimited PD at 0.03 rad/s asks 33 m/s for a 2 km error and overshoots into
        the body)."""
        kp, kd = self.kp, self.kd
        gain = kp / kd
        close = [gain * (ref_pos[k] - pos_est[k]) for k in range(3)]
        size = math.sqrt(close[0] ** 2 + close[1] ** 2 + close[2] ** 2)
        if size > self.max_close_mps:
            close = [c * self.max_close_mps / size for c in close]
        return tuple(ref_acc[k] - gravity_i[k] + kd * (ref_vel[k] + close[k] - vel_est[k])
                     for k in range(3))

    def on_times(self, accel_i: Vec3, q_est: Quat, cycle_s: float) -> tuple:
        """Six on-times (+x, -x, +y, -y, +z, -z thrusters) for the coming cycle."""
        a_sc = q_rotate_inv(q_est, accel_i)
        out = [0.0] * 6
        f, m, mib = self.thrust_n, self.mass_kg, self.mib_ns
        for k in range(3):
            impulse = a_sc[k] * m * cycle_s + self._residual_ns[k]
            magnitude = abs(impulse)
            fire = min(magnitude, f * cycle_s)
            if fire < mib:
                fire = 0.0
            # What we could not deliver now is owed to later cycles.
            delivered = math.copysign(fire, impulse)
            self._residual_ns[k] = max(-f * cycle_s, min(f * cycle_s, impulse - delivered))
            if fire > 0.0:
                out[2 * k + (0 if impulse > 0 else 1)] = fire / f
                self.dv_total_mps += fire / m
        return tuple(out)
