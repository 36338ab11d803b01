"""Touch-and-go guidance: descent from safe-home to contact, as OSIRIS-REx flew it.

Everything is relative to the target site's local plane (point p_t, unit
normal n, body-fixed frame).  The sampler head hangs arm_length_m below the
spacecraft's centre of mass along the instrument boresight (+z spacecraft),
which points down the normal during the descent, so the head's height above
the plane is h = n . (r_bf - p_t) - arm_length_m.

The reference is a height profile h_ref(t) with rate-limited acceleration:
the descent speed steps at Checkpoint (~125 m) and Matchpoint (~54 m) are the
"burns"; each is an event with the delta-v it asked for.  Laterally the
reference holds the target's vertical and co-rotates with the body, so
Matchpoint's "match the surface's rotation" is built into the reference;
the position loop closes on the navigation estimate all the way down.
"""

import math
from dataclasses import dataclass
from enum import IntEnum

from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.quat import Vec3, add, cross, dot, q_rotate_inv, scale, sub
from flightsw.gnc.guidance import HoverReference, attitude_with_boresight
from flightsw.icd import mavlink


class TagPhase(IntEnum):
    """Phase of the touch-and-go sequence; its values travel as the ICD's PROBE_TAG_PHASE.
    The descent guidance here runs IDLE to FINAL; the sequence adds the rest."""

    IDLE = mavlink.PROBE_TAG_PHASE_IDLE
    TO_CHECKPOINT = mavlink.PROBE_TAG_PHASE_TO_CHECKPOINT
    TO_MATCHPOINT = mavlink.PROBE_TAG_PHASE_TO_MATCHPOINT
    FINAL = mavlink.PROBE_TAG_PHASE_FINAL
    CONTACT = mavlink.PROBE_TAG_PHASE_CONTACT
    BACKAWAY_BURN = mavlink.PROBE_TAG_PHASE_BACKAWAY_BURN
    CLIMB = mavlink.PROBE_TAG_PHASE_CLIMB
    DONE = mavlink.PROBE_TAG_PHASE_DONE


@dataclass(frozen=True)
class TagProfile:
    """Descent numbers (defaults from FACTS.md), all flight parameters."""

    checkpoint_height_m: float
    matchpoint_height_m: float
    descent_speed_mps: float  # safe-home to Checkpoint
    checkpoint_to_matchpoint_s: float
    contact_speed_mps: float
    accel_limit_mps2: float

    def expected_duration_s(self, start_head_height_m: float) -> float:
        """Descent start to contact: the three constant-rate legs (the burns' speed
        changes take tens of seconds of a descent of hours, and are left out)."""
        to_cp = max(0.0, start_head_height_m - self.checkpoint_height_m) / self.descent_speed_mps
        return to_cp + self.checkpoint_to_matchpoint_s + \
            self.matchpoint_height_m / self.contact_speed_mps


class TagGuidance:
    def __init__(self, body: SpinningBody, target_bf_m: Vec3, normal_bf: Vec3,
                 arm_length_m: float):
        self.body = body
        self.target_bf_m = target_bf_m
        self.normal_bf = normal_bf
        self.arm_length_m = arm_length_m
        self.phase = TagPhase.IDLE
        self.h_ref_m = 0.0
        self.hdot_ref_mps = 0.0
        self.hddot_ref_mps2 = 0.0
        self._t_last_s = None

    # -- geometry --------------------------------------------------------------------
    def head_height_m(self, pos_bf: Vec3) -> float:
        return dot(self.normal_bf, sub(pos_bf, self.target_bf_m)) - self.arm_length_m

    def lateral_offset_bf(self, pos_bf: Vec3) -> Vec3:
        """Position relative to the target's vertical, in the plane."""
        d = sub(pos_bf, self.target_bf_m)
        return sub(d, scale(self.normal_bf, dot(self.normal_bf, d)))

    def home_point_bf(self, head_height_m: float) -> Vec3:
        """Centre-of-mass point that puts the head head_height_m above the target."""
        return add(self.target_bf_m, scale(self.normal_bf, head_height_m + self.arm_length_m))

    # -- the sequence ----------------------------------------------------------------
    def start(self, t_s: float, head_height_m: float) -> None:
        self.phase = TagPhase.TO_CHECKPOINT
        self.h_ref_m = head_height_m
        self.hdot_ref_mps = 0.0
        self.hddot_ref_mps2 = 0.0
        self._t_last_s = t_s

    def stop(self) -> None:
        self.phase = TagPhase.IDLE
        self._t_last_s = None

    def commanded_rate_mps(self, profile: TagProfile) -> float:
        if self.phase == TagPhase.TO_CHECKPOINT:
            return -profile.descent_speed_mps
        if self.phase == TagPhase.TO_MATCHPOINT:
            drop = profile.checkpoint_height_m - profile.matchpoint_height_m
            return -drop / profile.checkpoint_to_matchpoint_s
        if self.phase == TagPhase.FINAL:
            return -profile.contact_speed_mps
        return 0.0

    def advance(self, t_s: float, profile: TagProfile) -> str | None:
        """Integrate the height reference to t_s; returns 'checkpoint'/'matchpoint' on a burn."""
        if self.phase == TagPhase.IDLE or self._t_last_s is None:
            return None
        dt = t_s - self._t_last_s
        self._t_last_s = t_s
        if dt <= 0.0:
            return None
        event = None
        if self.phase == TagPhase.TO_CHECKPOINT and self.h_ref_m <= profile.checkpoint_height_m:
            self.phase, event = TagPhase.TO_MATCHPOINT, "checkpoint"
        elif self.phase == TagPhase.TO_MATCHPOINT and self.h_ref_m <= profile.matchpoint_height_m:
            self.phase, event = TagPhase.FINAL, "matchpoint"
        target_rate = self.commanded_rate_mps(profile)
        lim = profile.accel_limit_mps2
        # Braking curve: never faster than what can still slow to the contact speed by
        # h = 0 at 80% of the acceleration limit, whatever the phase speeds are.
        brake = math.sqrt(profile.contact_speed_mps ** 2 + 1.6 * lim * max(self.h_ref_m, 0.0))
        target_rate = max(target_rate, -brake)
        # Rate-limited approach to the commanded descent rate, the thrusters' reach.
        acc = max(-lim, min(lim, (target_rate - self.hdot_ref_mps) / max(dt, 1e-6)))
        self.hddot_ref_mps2 = acc
        self.hdot_ref_mps += acc * dt
        self.h_ref_m += self.hdot_ref_mps * dt
        return event

    def reference(self, t_s: float, pole_i: Vec3) -> HoverReference:
        """Position, velocity, acceleration and attitude references, inertial frame."""
        n = self.normal_bf
        p_bf = self.home_point_bf(self.h_ref_m)
        v_bf = scale(n, self.hdot_ref_mps)
        a_bf = scale(n, self.hddot_ref_mps2)
        body = self.body
        w = body.spin_vector_i()
        r_i = body.bf_to_i(t_s, p_bf)
        v_rot_i = body.bf_to_i(t_s, v_bf)
        v_i = add(v_rot_i, cross(w, r_i))
        a_i = add(add(body.bf_to_i(t_s, a_bf), scale(cross(w, v_rot_i), 2.0)),
                  cross(w, cross(w, r_i)))
        down_i = body.bf_to_i(t_s, scale(n, -1.0))
        q = attitude_with_boresight(down_i, pole_i)
        return HoverReference(r_i, v_i, a_i, q, q_rotate_inv(q, w))

    def predicted_contact_bf(self, pos_bf: Vec3, vel_bf: Vec3) -> tuple[Vec3, float]:
        """Where the head would meet the plane at the current velocity; and time to go."""
        h = self.head_height_m(pos_bf)
        hdot = dot(self.normal_bf, vel_bf)
        t_go = h / max(-hdot, 0.01) if h > 0.0 else 0.0
        lateral = add(self.lateral_offset_bf(pos_bf),
                      scale(sub(vel_bf, scale(self.normal_bf, hdot)), t_go))
        return add(self.target_bf_m, lateral), t_go


def hazard_clearance_m(point_bf: Vec3, hazards) -> float:
    """Distance from point to the nearest mapped hazard's edge (inf with no hazards)."""
    best = math.inf
    for center, radius in hazards:
        d = math.dist(point_bf, center) - radius
        best = min(best, d)
    return best
