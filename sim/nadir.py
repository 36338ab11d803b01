"""Nadir pointing as the world judges it: the simulator's own definition.

The probe is meant to look at the body: its instrument boresight (+z_sc) toward
the body's centre of mass, and, about that boresight, +x_sc toward the spin
pole's side (the frame then turns with the body at its spin rate).  Over a pole
(the pole within 1e-6 rad of the line of sight) the pole gives no direction and
inertial +x takes its place (inertial +y if that is along the sight too).

The truth pointing error is the angle between where the boresight looks and the
body's centre; the initial attitude of a run is nadir pointing plus the
scenario's dispersion.  Written here from that definition, with the shared
quaternion algebra (flightsw.geometry.quat) and not the flight guidance law.
"""

import math

from flightsw.geometry.quat import Quat, Vec3, q_from_dcm_columns, q_rotate

POLE_BLIND_RAD = 1e-6  # nearer the line of sight than this the pole sets no azimuth


def _unit(v: Vec3) -> Vec3:
    length = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    if not length > 0.0:
        raise ValueError(f"a direction needs a non-zero, finite vector, got {v!r}")
    return (v[0] / length, v[1] / length, v[2] / length)


def nadir_direction_i(pos_i_m: Vec3) -> Vec3:
    """Unit vector from the probe toward the body's centre (inertial)."""
    return _unit((-pos_i_m[0], -pos_i_m[1], -pos_i_m[2]))


def nadir_attitude(pos_i_m: Vec3, pole_i: Vec3) -> Quat:
    """q_i_to_sc with +z_sc toward the body's centre and +x_sc toward the pole's side."""
    z = nadir_direction_i(pos_i_m)
    # +x: the part of the pole across the line of sight (pole minus its component along z).
    px, py, pz = pole_i
    along = px * z[0] + py * z[1] + pz * z[2]
    x = (px - along * z[0], py - along * z[1], pz - along * z[2])
    if math.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]) < \
            POLE_BLIND_RAD * math.sqrt(px * px + py * py + pz * pz):
        x = (1.0 - z[0] * z[0], -z[0] * z[1], -z[0] * z[2])  # inertial +x across the sight
        if math.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]) < POLE_BLIND_RAD:
            x = (-z[1] * z[0], 1.0 - z[1] * z[1], -z[1] * z[2])  # +x along the sight too: +y
    x = _unit(x)
    # Near the pole x is the difference of nearly equal vectors: its rounding leaves it a
    # little off square with z; once more makes the frame orthonormal to rounding.
    along = x[0] * z[0] + x[1] * z[1] + x[2] * z[2]
    x = _unit((x[0] - along * z[0], x[1] - along * z[1], x[2] - along * z[2]))
    y = (z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0])
    return q_from_dcm_columns(x, y, z)


def pointing_error_rad(q_i_to_sc: Quat, boresight_sc: Vec3, pos_i_m: Vec3) -> float:
    """Angle between the boresight (spacecraft axes, unit) and the body's centre, rad."""
    b = q_rotate(q_i_to_sc, boresight_sc)
    n = nadir_direction_i(pos_i_m)
    c = (b[1] * n[2] - b[2] * n[1], b[2] * n[0] - b[0] * n[2], b[0] * n[1] - b[1] * n[0])
    # atan2(|b x n|, b . n): exact for the tiny angles a good controller leaves.
    return math.atan2(math.sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]),
                      b[0] * n[0] + b[1] * n[1] + b[2] * n[2])
