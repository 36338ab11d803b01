"""References for moving between stations: an inertial station and a smooth blend.

A survey station is fixed in the inertial frame (the body turns beneath it);
a hover point is fixed in the body-fixed frame.  Going from one to the other
blends the two references with a smoothstep weight s(t) over a fixed
duration.  The blend is spherical: the direction from the body centre is
slerped and the radius interpolated, so the path goes around the asteroid
at no less than the smaller of the two radii.  (A straight inertial line
between a point turning with the body and a fixed station can pass through
the body: the first version of this blend took the probe to 56 m over Bennu.)

Velocity and acceleration of the blended point are central differences of
the blended position (step 0.5 s: the error is ~h^2/12 of the jerk, far below
a micrometre per second squared for transfers of thousands of seconds).  The
attitude keeps the boresight on the body centre from the blended point, the
same attitude both a hover reference and a station without a target fly, so
it is continuous at both ends.
"""

import math
from collections.abc import Callable

from flightsw.geometry.quat import Vec3, cross, dot, norm, q_rotate_inv, unit
from flightsw.gnc.guidance import HoverReference, attitude_with_boresight

ReferenceFn = Callable[[float], HoverReference]
_DIFF_STEP_S = 0.5


def smoothstep(x: float) -> tuple[float, float, float]:
    """s, ds/dx, d2s/dx2 of the quintic smoothstep on [0, 1] (flat at both ends)."""
    if x <= 0.0:
        return 0.0, 0.0, 0.0
    if x >= 1.0:
        return 1.0, 0.0, 0.0
    s = x * x * x * (10.0 - 15.0 * x + 6.0 * x * x)
    ds = 30.0 * x * x * (1.0 - x) ** 2
    dds = 60.0 * x * (1.0 - x) * (1.0 - 2.0 * x)
    return s, ds, dds


def spherical_blend(pa: Vec3, pb: Vec3, s: float, pole_i: Vec3) -> Vec3:
    """The point a fraction s of the way from pa to pb along the great circle about the
    origin (slerp of the direction, linear radius).  Nearly opposite points turn about
    the axis perpendicular to pa in the plane of pa and the pole (any plane would do; a
    fixed rule keeps the path continuous)."""
    ra, rb = norm(pa), norm(pb)
    ua, ub = unit(pa), unit(pb)
    r = ra + s * (rb - ra)
    c = max(-1.0, min(1.0, dot(ua, ub)))
    theta = math.acos(c)
    if theta < 1e-9:
        return tuple(r * (ua[k] + s * (ub[k] - ua[k])) for k in range(3))
    if math.pi - theta < 1e-6:
        axis = cross(ua, pole_i)
        if norm(axis) < 1e-6:
            axis = cross(ua, (1.0, 0.0, 0.0))
        w = unit(cross(unit(axis), ua))  # perpendicular to ua: the way round
        a = s * theta
        return tuple(r * (math.cos(a) * ua[k] + math.sin(a) * w[k]) for k in range(3))
    sin_t = math.sin(theta)
    wa, wb = math.sin((1.0 - s) * theta) / sin_t, math.sin(s * theta) / sin_t
    # Renormalised: near opposite points the weights are large and cancel, and the
    # direction's length strays from 1 (hypothesis found 3e-5 m of radius at 800 m).
    u = unit(tuple(wa * ua[k] + wb * ub[k] for k in range(3)))
    return tuple(r * u[k] for k in range(3))


def transfer_duration_s(pa: Vec3, pb: Vec3, accel_mps2: float, min_s: float) -> float:
    """A blend duration whose feed-forward stays near accel_mps2 (and no shorter than min_s).

    Along the arc of length L, the quintic smoothstep peaks at 5.77 L / T^2 of tangential
    and (1.875 L / T)^2 / r of centripetal acceleration; T is set so the larger of the
    two is accel_mps2.  (A 180 deg transfer at 1.2 km with 4.4 N on 1500 kg takes ~1.5 h.)
    """
    ra, rb = norm(pa), norm(pb)
    theta = math.acos(max(-1.0, min(1.0, dot(unit(pa), unit(pb)))))
    r = max(min(ra, rb), 1.0)
    length = math.hypot(theta * 0.5 * (ra + rb), rb - ra)
    t_tan = math.sqrt(5.77 * length / accel_mps2)
    t_cen = 1.875 * length / math.sqrt(accel_mps2 * r)
    return max(min_s, t_tan, t_cen)


class BlendedReference:
    """From reference `a` to reference `b` between t0_s and t0_s + duration_s."""

    def __init__(self, a: ReferenceFn, b: ReferenceFn, t0_s: float, duration_s: float,
                 pole_i: Vec3):
        self.a, self.b = a, b
        self.t0_s = t0_s
        self.duration_s = max(duration_s, 1e-3)
        self.pole_i = pole_i

    def done(self, t_s: float) -> bool:
        return t_s >= self.t0_s + self.duration_s

    def position_i(self, t_s: float) -> Vec3:
        s = smoothstep((t_s - self.t0_s) / self.duration_s)[0]
        return spherical_blend(self.a(t_s).pos_i_m, self.b(t_s).pos_i_m, s, self.pole_i)

    def __call__(self, t_s: float) -> HoverReference:
        h = _DIFF_STEP_S
        p0 = self.position_i(t_s - h)
        p1 = self.position_i(t_s)
        p2 = self.position_i(t_s + h)
        vel = tuple((p2[k] - p0[k]) / (2.0 * h) for k in range(3))
        acc = tuple((p2[k] - 2.0 * p1[k] + p0[k]) / (h * h) for k in range(3))
        q, rate = aim_reference(p1, (0.0, 0.0, 0.0), p2, (0.0, 0.0, 0.0), h, self.pole_i)
        return HoverReference(p1, vel, acc, q, rate)


def aim_reference(pos_i: Vec3, target_i: Vec3, pos_next_i: Vec3, target_next_i: Vec3,
                  dt_s: float, pole_i: Vec3) -> tuple:
    """Attitude with the boresight on a target, and the rate that keeps it there.

    pos_next_i and target_next_i are where the spacecraft and the target will be
    dt_s later, so the rate follows a target that turns with the body.
    """
    b0 = unit(tuple(target_i[k] - pos_i[k] for k in range(3)))
    b1 = unit(tuple(target_next_i[k] - pos_next_i[k] for k in range(3)))
    q = attitude_with_boresight(b0, pole_i)
    w_i = tuple(c / dt_s for c in cross(b0, b1))
    return q, q_rotate_inv(q, w_i)


def station_reference(pos_i: Vec3, q_i_to_sc, rate_sc) -> HoverReference:
    """An inertial station: no motion of the point itself (gravity is the controller's)."""
    return HoverReference(tuple(pos_i), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), q_i_to_sc, rate_sc)
