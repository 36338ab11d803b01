"""When to touch a site (flightsw/prospect/sites.contact_time_s), on a scripted Sun.

One site on a stand-in shape model: its facet at the origin with a tilted normal, and
an optional spherical boulder that can shadow it (ray-sphere intersection, written here
as the oracle).  The Sun turns about the site in a plane through its normal at a known
rate, so each grid step's incidence is known by hand.  Pinned: the first grid time
(1 degree of spin by default) at which the site is lit within max_incidence_deg -
margin_deg and not shadowed; the best-lit unshadowed time otherwise, over exactly one
rotation; a limit at or below the margin asks for the Sun overhead; the shadow ray
starts just above the facet along its normal.
"""

import math

import numpy as np
import pytest

from flightsw.prospect.sites import contact_time_s

DEG = math.pi / 180.0
RATE = 4e-4  # rad/s of spin
STEP_S = DEG / RATE  # one degree of spin
NORMAL = np.array([0.6, 0.0, 0.8])
AXIS = np.array([0.0, 1.0, 0.0])  # the Sun turns about this axis, perpendicular to NORMAL


class StandInShape:
    """One facet at the origin; optionally a boulder (centre, radius) that casts shadow,
    reported as the hit of facet hit_id."""

    def __init__(self, boulder=None, normal=NORMAL, hit_id=7):
        self.normals = np.asarray(normal, dtype=float)[None, :]
        self.centroids = np.zeros((1, 3))
        self.boulder = boulder
        self.hit_id = hit_id
        self.origins = []

    def ray_hits(self, origins, dirs):
        self.origins.append(np.array(origins[0]))
        if self.boulder is None:
            return np.array([-1]), np.array([np.inf])
        c, r = self.boulder
        o, d = origins[0], dirs[0] / np.linalg.norm(dirs[0])
        b = d @ (o - c)
        disc = b * b - (o - c) @ (o - c) + r * r
        if disc >= 0.0 and -b + math.sqrt(disc) > 0.0:
            return np.array([self.hit_id]), np.array([-b - math.sqrt(disc)])
        return np.array([-1]), np.array([np.inf])


def rotate(v, angle):
    """v turned by angle about AXIS (Rodrigues)."""
    return (v * math.cos(angle) + np.cross(AXIS, v) * math.sin(angle)
            + AXIS * (AXIS @ v) * (1.0 - math.cos(angle)))


def sun_from(start_incidence_deg, per_degree_of_spin=-1.0):
    """The Sun at start_incidence_deg from the normal at t = 0, moving by
    per_degree_of_spin degrees of incidence per degree of spin (periodic, one rotation)."""

    def sun_at(t):
        spin_deg = (t * RATE / DEG) % 360.0
        return rotate(NORMAL, (start_incidence_deg + per_degree_of_spin * spin_deg) * DEG)

    return sun_at


def incidence_deg(sun):
    return math.degrees(math.acos(min(1.0, float(NORMAL @ sun / np.linalg.norm(sun)))))


def test_the_first_good_light_on_a_one_degree_grid():
    """Incidence 64.5 deg falling 1 deg per degree of spin; good below 70 - 10 = 60 deg:
    first at the fifth step (59.5 deg)."""
    t, inc = contact_time_s(StandInShape(), 0, sun_from(64.5), RATE, 0.0, 70.0)
    assert t == pytest.approx(5 * STEP_S)
    assert inc == pytest.approx(59.5, abs=1e-9)


def test_a_limit_at_or_below_the_margin_asks_for_the_sun_overhead():
    """max_incidence_deg 10, margin 10: nothing short of 0 deg is good enough, so the
    best light (0.1 deg, third step) is taken, not the first within 1 deg (0.9 deg)."""
    t, inc = contact_time_s(StandInShape(), 0, sun_from(2.9), RATE, 0.0, 10.0)
    assert t == pytest.approx(3 * STEP_S)
    assert inc == pytest.approx(0.1, abs=1e-6)


def test_the_grid_covers_the_whole_rotation_and_its_end():
    """Good light only 359 and 360 degrees of spin after t_min: still found."""
    sun = sun_from(61.0 + 359.0 * 0.01, per_degree_of_spin=-0.01)  # 61 deg at 359 steps
    t, inc = contact_time_s(StandInShape(), 0, sun, RATE, 0.0, 70.0, margin_deg=9.0)
    assert t == pytest.approx(359 * STEP_S)


def test_a_coarse_grid_looks_one_rotation_only():
    """7-degree steps over a narrow window (incidence below 60 deg only within a degree of
    101 deg of spin): the grid (98, 105 deg) misses it, so the answer is the best light
    of that one rotation, 64 deg at 98 deg, not a hit of the window rotations later."""

    def sun_at(t):
        spin_deg = (t * RATE / DEG) % 360.0
        return rotate(NORMAL, min(58.0 + 2.0 * abs(spin_deg - 101.0), 170.0) * DEG)

    t, inc = contact_time_s(StandInShape(), 0, sun_at, RATE, 0.0, 70.0, step_deg=7.0)
    assert t <= 360.0 * STEP_S + 1.0
    assert t == pytest.approx(98 * STEP_S)
    assert inc == pytest.approx(64.0, abs=1e-6)


@pytest.mark.parametrize("hit_id", [0, 1, 7])
def test_a_shadowed_time_is_skipped_and_the_shadow_ray_starts_just_above_the_facet(hit_id):
    """A boulder shadows the site while the incidence is 60-55 deg: the first good and
    unshadowed time comes after it (whichever facet the shadow is, facet 0 included)."""
    sun = sun_from(64.5)
    to_sun = sun(7 * STEP_S)  # incidence 57.5 deg
    boulder = (30.0 * to_sun / np.linalg.norm(to_sun), 4.0)
    shape = StandInShape(boulder, hit_id=hit_id)
    t, inc = contact_time_s(shape, 0, sun, RATE, 0.0, 70.0)
    assert incidence_deg(sun(t)) == pytest.approx(inc, abs=1e-9)
    assert t > 7 * STEP_S and shape.ray_hits(np.array([[0.01 * NORMAL[0], 0.0,
                                                        0.01 * NORMAL[2]]]),
                                             np.array([sun(t)]))[0][0] == -1
    assert np.allclose(shape.origins[0], 0.01 * NORMAL, atol=1e-12)


def scripted(incidences_deg, default_deg=80.0, scale=1.0):
    """A Sun at the listed incidences on the one-degree grid (exactly the same vector for
    equal entries), default_deg elsewhere; scale: its length (only the direction counts)."""
    vectors = {}

    def sun_at(t):
        k = round(t / STEP_S)
        inc = incidences_deg[k] if k < len(incidences_deg) else default_deg
        if inc not in vectors:
            vectors[inc] = rotate(NORMAL, inc * DEG)
        return scale * vectors[inc]

    return sun_at


def test_of_equally_lit_times_the_first_is_kept():
    """No good light (all above 60 deg); the best, 64 deg, comes twice: the first is it."""
    t, inc = contact_time_s(StandInShape(), 0, scripted([70.0, 64.0, 66.0, 64.0]), RATE, 0.0,
                            70.0)
    assert t == pytest.approx(1 * STEP_S) and inc == pytest.approx(64.0, abs=1e-6)


@pytest.mark.parametrize("scale", [1.0, 3.0, 0.25])
def test_only_the_direction_of_the_sun_counts(scale):
    t, inc = contact_time_s(StandInShape(), 0, scripted([70.0, 64.0, 59.0, 50.0], scale=scale),
                            RATE, 0.0, 70.0)
    assert t == pytest.approx(2 * STEP_S) and inc == pytest.approx(59.0, abs=1e-6)


def test_light_exactly_at_the_limit_is_good():
    """Normal +z, the Sun at exactly cos(60 deg) in floating point (and of unit length),
    then worse, then better: the first is taken."""
    w = math.cos(math.radians(60.0))
    at_limit = np.array([0.8660254037844386, 0.0, w])
    assert np.linalg.norm(at_limit) == 1.0
    table = [at_limit, rotate(np.array([0.0, 0.0, 1.0]), 61 * DEG),
             np.array([0.0, 0.0, 1.0])]

    def sun_at(t):
        return table[min(round(t / STEP_S), 2)]

    shape = StandInShape(normal=(0.0, 0.0, 1.0))
    t, inc = contact_time_s(shape, 0, sun_at, RATE, 0.0, 70.0)
    assert t == 0.0 and inc == pytest.approx(60.0, abs=1e-9)


def test_a_sun_along_the_normal_is_zero_incidence_despite_rounding():
    """This normal, divided by its length, has a dot product with itself just above 1."""
    v = np.array([0.9034701816518086, 0.09401229776087457, -0.7434992493538084])
    n = v / np.linalg.norm(v)
    assert float(n @ n) > 1.0
    t, inc = contact_time_s(StandInShape(normal=n), 0, lambda t: n, RATE, 0.0, 70.0)
    assert t == 0.0 and inc == 0.0


@pytest.mark.parametrize(("step_deg", "window_deg"), [(7.0, 11.0), (6.93, 7.29)])
def test_no_grid_point_beyond_one_rotation(step_deg, window_deg):
    """Good light only within 0.2 deg of a phase that the grid would reach only after the
    rotation (7 deg steps: 371 deg; 6.93 deg steps: 367.29 deg): not found, the best light
    of the rotation (t_min, all 80 deg) instead.  The window is hit there, as a check:"""
    dt = math.radians(step_deg) / RATE
    extra = math.ceil(360.0 / step_deg) + 1  # the first grid index past the rotation
    assert abs((extra * dt * RATE / DEG) % 360.0 - window_deg) < 0.2

    def sun_at(t):
        spin_deg = (t * RATE / DEG) % 360.0
        return rotate(NORMAL, (50.0 if abs(spin_deg - window_deg) < 0.2 else 80.0) * DEG)

    t, inc = contact_time_s(StandInShape(), 0, sun_at, RATE, 0.0, 70.0, step_deg=step_deg)
    assert t == 0.0 and inc == pytest.approx(80.0, abs=1e-9)


def test_a_site_never_lit_gets_t_min_and_180_degrees():
    """The Sun below the site's horizon all rotation long: nothing better than the start."""
    t, inc = contact_time_s(StandInShape(), 0, sun_from(120.0, per_degree_of_spin=0.0), RATE,
                            50.0, 70.0)
    assert t == 50.0 and inc == 180.0
