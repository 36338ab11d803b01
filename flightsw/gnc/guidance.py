"""Hover guidance: a point fixed in the body-fixed frame, instruments at the surface.

The hover point turns with the asteroid, so in the inertial frame it moves on
a circle about the spin pole: the reference carries the point's inertial
velocity (w x r) and centripetal acceleration (w x (w x r)) as feed-forward.
The desired attitude points the instrument boresight (+z spacecraft) at the
body's centre, with +x in the plane of the pole (so the frame turns exactly
with the body, at the body's spin rate).
"""

from dataclasses import dataclass

from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.quat import Quat, Vec3, cross, norm, q_from_dcm_columns, q_rotate_inv, unit


@dataclass(frozen=True, slots=True)
class HoverReference:
    pos_i_m: Vec3
    vel_i_mps: Vec3
    acc_i_mps2: Vec3
    q_i_to_sc: Quat
    rate_sc_radps: Vec3


def pointing_attitude(pos_i: Vec3, pole_i: Vec3, fallback_i: Vec3 = (1.0, 0.0, 0.0)) -> Quat:
    """Attitude with +z_sc toward the body centre and +x_sc toward the pole side."""
    return attitude_with_boresight((-pos_i[0], -pos_i[1], -pos_i[2]), pole_i, fallback_i)


def attitude_with_boresight(boresight_i: Vec3, pole_i: Vec3,
                            fallback_i: Vec3 = (1.0, 0.0, 0.0)) -> Quat:
    """Attitude with +z_sc along boresight_i and +x_sc toward the pole side."""
    z_sc = unit(boresight_i)
    y_raw = cross(z_sc, pole_i)
    if norm(y_raw) < 1e-6:  # over a pole: any azimuth will do, pick a fixed one
        y_raw = cross(z_sc, fallback_i)
    y_sc = unit(y_raw)
    x_sc = cross(y_sc, z_sc)
    return q_from_dcm_columns(x_sc, y_sc, z_sc)


class HoverGuidance:
    def __init__(self, body: SpinningBody, target_bf_m: Vec3):
        self.body = body
        self.target_bf_m = target_bf_m

    def set_target(self, target_bf_m: Vec3) -> None:
        self.target_bf_m = target_bf_m

    def reference(self, t_s: float) -> HoverReference:
        w = self.body.spin_vector_i()
        r = self.body.bf_to_i(t_s, self.target_bf_m)
        v = cross(w, r)
        a = cross(w, v)
        q = pointing_attitude(r, self.body.pole_i)
        # The reference frame turns rigidly with the body: rate = spin vector.
        rate_sc = q_rotate_inv(q, w)
        return HoverReference(r, v, a, q, rate_sc)
