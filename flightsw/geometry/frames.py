"""The target body's spin state: body-fixed <-> inertial frame transforms, and the
effective gravity felt on its turning surface.

IAU convention: the body-fixed z axis is the spin pole (right ascension,
declination in the inertial ICRF axes); the prime meridian is at angle
W = W0 + omega * t from the node of the body's equator on the ICRF equator.
Pure functions of time and parameters; the flight software holds its own copy
of the spin state as parameters, the simulator holds the truth.
"""

import math

from flightsw.geometry.quat import Vec3, cross, mat_t_vec, mat_vec


class SpinningBody:
    def __init__(self, pole_ra_deg: float, pole_dec_deg: float, period_s: float,
                 w0_deg: float = 0.0):
        if period_s <= 0.0:
            raise ValueError(f"rotation period must be > 0 s, got {period_s}")
        self.rate_radps = 2.0 * math.pi / period_s
        self.w0_rad = math.radians(w0_deg)
        ra = math.radians(pole_ra_deg)
        dec = math.radians(pole_dec_deg)
        # Node direction (x0) and the pole (z): columns of the pole frame.
        self.pole_i: Vec3 = (math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra),
                             math.sin(dec))
        self._x0: Vec3 = (-math.sin(ra), math.cos(ra), 0.0)
        self._y0: Vec3 = cross(self.pole_i, self._x0)
        self._cache_t_s = None
        self._cache_m = None

    def rotation_bf_to_i(self, t_s: float) -> tuple[Vec3, Vec3, Vec3]:
        """Row-major matrix M with v_i = M v_bf at mission time t_s."""
        # The same instant is asked for many times per cycle (gravity, sensors, guidance).
        if t_s == self._cache_t_s:
            return self._cache_m
        w = self.w0_rad + self.rate_radps * t_s
        c, s = math.cos(w), math.sin(w)
        x0, y0, z = self._x0, self._y0, self.pole_i
        # Body x and y axes in inertial: rotate node frame by W about the pole.
        xb = (c * x0[0] + s * y0[0], c * x0[1] + s * y0[1], c * x0[2] + s * y0[2])
        yb = (-s * x0[0] + c * y0[0], -s * x0[1] + c * y0[1], -s * x0[2] + c * y0[2])
        m = ((xb[0], yb[0], z[0]), (xb[1], yb[1], z[1]), (xb[2], yb[2], z[2]))
        self._cache_t_s, self._cache_m = t_s, m
        return m

    def bf_to_i(self, t_s: float, v_bf: Vec3) -> Vec3:
        return mat_vec(self.rotation_bf_to_i(t_s), v_bf)

    def i_to_bf(self, t_s: float, v_i: Vec3) -> Vec3:
        return mat_t_vec(self.rotation_bf_to_i(t_s), v_i)

    def relative_velocity_i(self, pos_i: Vec3, vel_i: Vec3) -> Vec3:
        """Velocity relative to the rotating body (v - w x r), inertial axes."""
        w = self.spin_vector_i()
        return (vel_i[0] - (w[1] * pos_i[2] - w[2] * pos_i[1]),
                vel_i[1] - (w[2] * pos_i[0] - w[0] * pos_i[2]),
                vel_i[2] - (w[0] * pos_i[1] - w[1] * pos_i[0]))

    def spin_vector_i(self) -> Vec3:
        """Angular velocity of the body-fixed frame, inertial axes, rad/s."""
        r = self.rate_radps
        return (self.pole_i[0] * r, self.pole_i[1] * r, self.pole_i[2] * r)


def effective_gravity_bf(gravity_bf, point_bf, spin_rate_radps: float) -> Vec3:
    """Gravity plus the centrifugal acceleration at a point of the body-fixed frame, which
    turns about its +z axis at spin_rate_radps: what a mass resting on the surface feels
    (its direction is the local 'down' against which slopes are measured).  m/s^2."""
    w2 = spin_rate_radps ** 2
    return (float(gravity_bf[0]) + w2 * float(point_bf[0]),
            float(gravity_bf[1]) + w2 * float(point_bf[1]), float(gravity_bf[2]))
