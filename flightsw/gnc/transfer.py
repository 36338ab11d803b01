"""References for moving between stations: an inertial station and a smooth blend.

A survey station is fixed in the inertial frame (the body turns beneath it);
a hover point is fixed in the body-fixed frame.  Going from one to the other
is a blend of the two references with a smoothstep weight s(t) over a fixed
duration, so position, velocity and acceleration of the reference are all
continuous and the feed-forward stays within what the thrusters can give:
for a separation d over T seconds the blend needs about 6 d / T^2 (plus the
velocity change between the references over T).
"""

from collections.abc import Callable

from flightsw.gnc.guidance import HoverReference, attitude_with_boresight
from flightsw.gnc.quat import Vec3, cross, q_rotate_inv, unit

ReferenceFn = Callable[[float], HoverReference]


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


class BlendedReference:
    """From reference `a` to reference `b` between t0_s and t0_s + duration_s."""

    def __init__(self, a: ReferenceFn, b: ReferenceFn, t0_s: float, duration_s: float,
                 attitude: ReferenceFn | None = None):
        self.a, self.b = a, b
        self.t0_s = t0_s
        self.duration_s = max(duration_s, 1e-3)
        self.attitude = attitude  # whose attitude to fly (default: b's after halfway)

    def done(self, t_s: float) -> bool:
        return t_s >= self.t0_s + self.duration_s

    def __call__(self, t_s: float) -> HoverReference:
        ra, rb = self.a(t_s), self.b(t_s)
        s, ds, dds = smoothstep((t_s - self.t0_s) / self.duration_s)
        ds /= self.duration_s
        dds /= self.duration_s ** 2
        dp = [rb.pos_i_m[k] - ra.pos_i_m[k] for k in range(3)]
        dv = [rb.vel_i_mps[k] - ra.vel_i_mps[k] for k in range(3)]
        pos = tuple(ra.pos_i_m[k] + s * dp[k] for k in range(3))
        vel = tuple(ra.vel_i_mps[k] + s * dv[k] + ds * dp[k] for k in range(3))
        acc = tuple(ra.acc_i_mps2[k] + s * (rb.acc_i_mps2[k] - ra.acc_i_mps2[k])
                    + 2.0 * ds * dv[k] + dds * dp[k] for k in range(3))
        att = self.attitude(t_s) if self.attitude is not None else (rb if s >= 0.5 else ra)
        return HoverReference(pos, vel, acc, att.q_i_to_sc, att.rate_sc_radps)


def aim_reference(pos_i: Vec3, target_i: Vec3, target_next_i: Vec3, dt_s: float,
                  pole_i: Vec3) -> tuple:
    """Attitude with the boresight on a target, and the rate that keeps it there.

    target_next_i is where the target (and pos_i the spacecraft) will be dt_s
    later, so the rate follows a target that turns with the body.
    """
    b0 = unit(tuple(target_i[k] - pos_i[k] for k in range(3)))
    b1 = unit(tuple(target_next_i[k] - pos_i[k] for k in range(3)))
    q = attitude_with_boresight(b0, pole_i)
    w_i = tuple(c / dt_s for c in cross(b0, b1))
    return q, q_rotate_inv(q, w_i)


def station_reference(pos_i: Vec3, q_i_to_sc, rate_sc) -> HoverReference:
    """An inertial station: no motion of the point itself (gravity is the controller's)."""
    return HoverReference(tuple(pos_i), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), q_i_to_sc, rate_sc)
