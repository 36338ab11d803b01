"""SAFE's trajectory: climb to a safe distance, then a circular terminator-plane orbit.

A probe that only silences its thrusters near a small body either falls (hovering
below the distance where the body's pull is balanced) or escapes (a body-fixed hover
point 1.25 km from Bennu moves at ~0.5 m/s inertially, five times the escape speed).
A circular orbit in the terminator plane (the plane facing the Sun, as OSIRIS-REx's
Orbit A and B at Bennu) needs no thrust and no navigation to keep: at 1 km from Bennu
its period is about 25 h and its speed 7 cm/s.
"""

import math

from flightsw.geometry.quat import Vec3, cross, dot, norm, unit

# Below this, the Sun or the pole is too close to the radial direction to fix a plane.
MIN_PLANE_NORM = 0.1


def climb_target_i(pos_i: Vec3, r_min_m: float) -> Vec3:
    """The point straight above the probe (radially) at r_min_m, or where it is if higher."""
    r = norm(pos_i)
    scale = max(r_min_m, r) / r
    return (pos_i[0] * scale, pos_i[1] * scale, pos_i[2] * scale)


def orbit_normal_i(pos_i: Vec3, sun_i: Vec3, pole_i: Vec3) -> Vec3:
    """The orbit's normal: the Sun's direction made perpendicular to the radius (a
    terminator-plane orbit); the pole's when the Sun is near the radius."""
    r_hat = unit(pos_i)
    for ref in (sun_i, pole_i, (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)):
        s = dot(ref, r_hat)
        n = (ref[0] - s * r_hat[0], ref[1] - s * r_hat[1], ref[2] - s * r_hat[2])
        if norm(n) > MIN_PLANE_NORM:
            return unit(n)
    raise ValueError("no orbit plane")  # pragma: no cover - the axes cannot all be radial


def circular_velocity_i(pos_i: Vec3, gm_m3s2: float, sun_i: Vec3, pole_i: Vec3) -> Vec3:
    """Inertial velocity of the circular orbit through pos_i in the terminator plane,
    turning the same way as the body (prograde about the normal nearest the pole)."""
    n = orbit_normal_i(pos_i, sun_i, pole_i)
    if dot(n, pole_i) < 0.0:
        n = (-n[0], -n[1], -n[2])
    speed = math.sqrt(gm_m3s2 / norm(pos_i))
    t = unit(cross(n, pos_i))
    return (t[0] * speed, t[1] * speed, t[2] * speed)
