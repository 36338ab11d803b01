"""6-DOF rigid spacecraft with reaction wheels and thrusters near a spinning body.

Integration frame: asteroid-centred inertial (ICRF axes, origin at the body's
centre of mass), chosen because Newton's law needs no fictitious forces there;
gravity is evaluated in the body-fixed frame (where the polyhedron is fixed)
and rotated back.  Attitude is q_i_to_sc (see flightsw.geometry.quat), rates in the
spacecraft frame.  Plain Python floats throughout: one RK4 step costs tens of
microseconds instead of hundreds with small numpy arrays.

Model assumptions (documented, not hidden):
- thrusters act through the centre of mass (no thruster torque), their force
  averaged over the control cycle (on-time / cycle);
- wheels: axial momentum h_j changes by the motor torque; the spacecraft feels
  the reaction -a_j * torque_j; wheel transverse inertia is in the body inertia;
- constant mass (propellant use over hours is < 0.1% of the mass).
"""

from collections.abc import Callable
from dataclasses import dataclass

from flightsw.geometry.frames import SpinningBody

GravityBf = Callable[[float, float, float], tuple[float, float, float]]


@dataclass
class SpacecraftState:
    t_s: float
    pos_i_m: tuple[float, float, float]
    vel_i_mps: tuple[float, float, float]
    q_i_to_sc: tuple[float, float, float, float]
    rate_sc_radps: tuple[float, float, float]
    wheel_momentum_nms: tuple[float, ...]


class RigidBodyDynamics:
    def __init__(self, mass_kg: float, inertia_kgm2: tuple[float, float, float],
                 wheel_axes_sc: list[tuple[float, float, float]], body: SpinningBody,
                 gravity_bf: GravityBf):
        self.mass_kg = mass_kg
        self.inertia = tuple(float(x) for x in inertia_kgm2)
        self.wheel_axes = [tuple(a) for a in wheel_axes_sc]
        self.body = body
        self.gravity_bf = gravity_bf
        self.gravity_evaluations = 0

    def _deriv(self, t, s, thrust_i, wheel_torque_sc, motor_torque):
        # s = [x, y, z, vx, vy, vz, qw, qx, qy, qz, wx, wy, wz, h0..hn]
        # Gravity: position to body-fixed (M^T r), the field there, back to inertial
        # (M a).  Written out because this runs four times per step and helper calls
        # would cost more than the arithmetic.
        m0, m1, m2 = self.body.rotation_bf_to_i(t)
        x, y, z = s[0], s[1], s[2]
        bx, by, bz = self.gravity_bf(m0[0] * x + m1[0] * y + m2[0] * z,
                                     m0[1] * x + m1[1] * y + m2[1] * z,
                                     m0[2] * x + m1[2] * y + m2[2] * z)
        self.gravity_evaluations += 1
        gx = m0[0] * bx + m0[1] * by + m0[2] * bz
        gy = m1[0] * bx + m1[1] * by + m1[2] * bz
        gz = m2[0] * bx + m2[1] * by + m2[2] * bz
        qw, qx, qy, qz = s[6], s[7], s[8], s[9]
        wx, wy, wz = s[10], s[11], s[12]
        ix, iy, iz = self.inertia
        hx = hy = hz = 0.0
        for a, h in zip(self.wheel_axes, s[13:], strict=True):
            hx += a[0] * h
            hy += a[1] * h
            hz += a[2] * h
        lx, ly, lz = ix * wx + hx, iy * wy + hy, iz * wz + hz
        # Euler: I w' = -w x (I w + A h) + reaction of the wheel motors
        tx = -(wy * lz - wz * ly) + wheel_torque_sc[0]
        ty = -(wz * lx - wx * lz) + wheel_torque_sc[1]
        tz = -(wx * ly - wy * lx) + wheel_torque_sc[2]
        return [
            s[3], s[4], s[5],
            gx + thrust_i[0], gy + thrust_i[1], gz + thrust_i[2],
            0.5 * (-qx * wx - qy * wy - qz * wz),
            0.5 * (qw * wx + qy * wz - qz * wy),
            0.5 * (qw * wy - qx * wz + qz * wx),
            0.5 * (qw * wz + qx * wy - qy * wx),
            tx / ix, ty / iy, tz / iz,
            *motor_torque,
        ]

    def step(self, state: SpacecraftState, dt_s: float, thrust_accel_i: tuple,
             motor_torque_nm: tuple, ext_torque_sc: tuple = (0.0, 0.0, 0.0)) -> SpacecraftState:
        """Advance by dt_s with constant thrust acceleration, wheel motor torques and an
        external torque (spacecraft frame, e.g. surface contact), RK4."""
        wheel_torque_sc = [ext_torque_sc[0], ext_torque_sc[1], ext_torque_sc[2]]
        for a, tau in zip(self.wheel_axes, motor_torque_nm, strict=True):
            wheel_torque_sc[0] -= a[0] * tau
            wheel_torque_sc[1] -= a[1] * tau
            wheel_torque_sc[2] -= a[2] * tau
        s0 = [*state.pos_i_m, *state.vel_i_mps, *state.q_i_to_sc, *state.rate_sc_radps,
              *state.wheel_momentum_nms]
        t0 = state.t_s
        h = dt_s
        hh = 0.5 * h
        args = (thrust_accel_i, wheel_torque_sc, motor_torque_nm)
        deriv = self._deriv
        k1 = deriv(t0, s0, *args)
        k2 = deriv(t0 + hh, [a + hh * b for a, b in zip(s0, k1, strict=True)], *args)
        k3 = deriv(t0 + hh, [a + hh * b for a, b in zip(s0, k2, strict=True)], *args)
        k4 = deriv(t0 + h, [a + h * b for a, b in zip(s0, k3, strict=True)], *args)
        h6 = h / 6.0
        s = [a + h6 * (b1 + 2.0 * (b2 + b3) + b4)
             for a, b1, b2, b3, b4 in zip(s0, k1, k2, k3, k4, strict=True)]
        qn = (s[6] * s[6] + s[7] * s[7] + s[8] * s[8] + s[9] * s[9]) ** 0.5
        if s[6] < 0.0:
            qn = -qn
        return SpacecraftState(
            t0 + h,
            (s[0], s[1], s[2]),
            (s[3], s[4], s[5]),
            (s[6] / qn, s[7] / qn, s[8] / qn, s[9] / qn),
            (s[10], s[11], s[12]),
            tuple(s[13:]),
        )
