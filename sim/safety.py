"""The judge's truth of survival: how close the spacecraft came to the surface, every time
it touched it, and whether it left for good.

The spacecraft, as judged: a sphere of `spacecraft.bounding_radius_m` about the centre of
mass (the bus, arrays stowed for proximity operations) and the sampler head at the end of
its arm.  Its clearance is the shortest distance to the shape model (sim.shape's mesh,
`TriangleMesh.distance_to_surface_m`, negative inside), and near a touch-and-go site also
the height above the site's plane and boulders (the contact model's surface), the
smaller of the two.

Exact distances cost ~170 us, so they are taken when they could have changed enough to
matter: after every check the watch accumulates a bound on how far any part could have
moved relative to the rotating surface (centre-of-mass speed relative to the surface,
plus the arm's length times the spacecraft's and the body's rates), and checks again
once that reaches PATH_FRACTION of the last clearance, or every step within
NEAR_SURFACE_M.  Between checks the true clearance is at least (1 - PATH_FRACTION) of
the last, so the minimum is within 10 % far from the surface and exact near it, and no
contact is missed.

What it keeps: per second of mission time with a check, the smallest clearance of the
bus and of the head (so that the scorer can leave out the head's planned contact by the
flight's reported mode); every interval of contact of the bus and of the head; the
largest distance from the body's centre; and, at the end, the two-body energy, the
radial speed and the local escape speed sqrt(2 GM / r).

Escape: the probe went beyond ESCAPE_RADIUS_M, or it ends the run receding faster than
the local escape speed.  Not "positive energy and moving away": a probe holding a
body-fixed hover point far above the synchronous radius (310 m at Bennu) co-rotates
faster than the escape speed (0.44 m/s at 1.25 km against 0.09 m/s), so its two-body
energy is positive while its thrusters hold it.  Receding faster than the escape speed
makes the energy positive from the radial motion alone, and a coasting probe past
periapsis with positive energy never comes back.
"""

from __future__ import annotations

import math

import numpy as np

# Beyond this distance from the body's centre the probe has left: Bennu's Hill sphere is
# ~30 km, and SAFE is to hold it within 5 km.
ESCAPE_RADIUS_M = 20_000.0
NEAR_SURFACE_M = 10.0
PATH_FRACTION = 0.1
# A touch-and-go site's plane and boulders stand for the surface this close to the site.
SITE_REACH_M = 100.0


def _norm(v) -> float:
    return math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])


class SafetyWatch:
    def __init__(self, mesh, bounding_radius_m: float, arm_length_m: float, gm_m3s2: float):
        self.mesh = mesh
        self.bounding_radius_m = bounding_radius_m
        self.arm_length_m = arm_length_m
        self.gm_m3s2 = gm_m3s2
        self.max_radius_m = 0.0
        self.checks = 0
        self._path_m = 0.0
        self._budget_m = 0.0  # check at the first step
        self._buckets: dict[int, list[float]] = {}
        self.bus_contacts: list[list] = []  # [start_s, end_s or None]
        self.head_contacts: list[list] = []
        self._bus_touching = False
        self._head_touching = False

    def after_step(self, world, dt_s: float) -> None:
        """Called after each integration step with the world at its new state."""
        st = world.state
        p = st.pos_i_m
        r = _norm(p)
        if r > self.max_radius_m:
            self.max_radius_m = r
        body = world.body
        v_rel = body.relative_velocity_i(p, st.vel_i_mps)
        speed = _norm(v_rel) + self.arm_length_m * (_norm(st.rate_sc_radps) + body.rate_radps)
        self._path_m += speed * dt_s
        if self._path_m >= self._budget_m:
            self.check(world)

    def check(self, world) -> None:
        """Exact clearances now."""
        t_s = world.state.t_s
        bus = self.clearance_m(world.position_bf(), world.site) - self.bounding_radius_m
        head = self.clearance_m(world.head_position_bf(), world.site)
        self.checks += 1
        second = int(math.floor(t_s))
        b = self._buckets.get(second)
        if b is None:
            self._buckets[second] = [bus, head]
        else:
            b[0] = min(b[0], bus)
            b[1] = min(b[1], head)
        self._bus_touching = _edge(self.bus_contacts, self._bus_touching, bus <= 0.0, t_s)
        self._head_touching = _edge(self.head_contacts, self._head_touching, head <= 0.0, t_s)
        least = min(bus, head)
        self._path_m = 0.0
        self._budget_m = 0.0 if least < NEAR_SURFACE_M else PATH_FRACTION * least

    def clearance_m(self, p_bf, site) -> float:
        """Signed distance from a body-fixed point to the surface (negative inside)."""
        d = self.mesh.distance_to_surface_m(p_bf)
        if self.mesh.altitude_m(p_bf) < 0.0:
            d = -d
        if site is not None:
            c = site.point_bf_m
            if (p_bf[0] - c[0]) ** 2 + (p_bf[1] - c[1]) ** 2 + (p_bf[2] - c[2]) ** 2 \
                    < SITE_REACH_M ** 2:
                d = min(d, site.plane_height_m(p_bf) - site.surface_height_m(p_bf))
        return d

    def record(self, world) -> tuple[dict, dict]:
        """(scalars, arrays) for the truth record, with the end state's energy."""
        st = world.state
        r = _norm(st.pos_i_m)
        v = st.vel_i_mps
        energy = 0.5 * (v[0] ** 2 + v[1] ** 2 + v[2] ** 2) - self.gm_m3s2 / r
        radial = (st.pos_i_m[0] * v[0] + st.pos_i_m[1] * v[1] + st.pos_i_m[2] * v[2]) / r
        scalars = {"bounding_radius_m": self.bounding_radius_m,
                   "escape_radius_m": ESCAPE_RADIUS_M,
                   "max_radius_m": self.max_radius_m, "final_radius_m": r,
                   "final_energy_j_per_kg": energy, "final_radial_speed_mps": radial,
                   "final_escape_speed_mps": math.sqrt(2.0 * self.gm_m3s2 / r),
                   "bus_contacts": [list(c) for c in self.bus_contacts],
                   "head_contacts": [list(c) for c in self.head_contacts],
                   "clearance_checks": self.checks}
        seconds = sorted(self._buckets)
        arrays = {"t_s": np.array(seconds, dtype=np.int64),
                  "bus_m": np.array([self._buckets[s][0] for s in seconds], dtype=float),
                  "head_m": np.array([self._buckets[s][1] for s in seconds], dtype=float)}
        return scalars, arrays


def _edge(intervals: list, was: bool, now: bool, t_s: float) -> bool:
    if now and not was:
        intervals.append([t_s, None])
    elif was and not now:
        intervals[-1][1] = t_s
    return now
