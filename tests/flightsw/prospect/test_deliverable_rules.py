"""Deliverability's rules one at a time (flightsw/prospect/sites.py), on a stand-in shape.

The stand-in: flat sites facing +z far apart on the plane z = 0 (the body below it),
each optionally under a horizontal "ceiling" disc at a given height (the oracle's ray
cast is the plane intersection written here; a hit is reported as facet 0).  Pinned:
the latitude limit is included; a site is lit at noon down to exactly max_incidence_deg;
a ceiling in the Sun's way shadows the site; the back-away path, from 0.5 m above the
site up the normal, is blocked by anything nearer than safe-home, and a ceiling exactly
at safe-home's height does not block (both the start height and the limit matter).
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from flightsw.prospect.sites import deliverable_mask, lit_at_noon

HOME_M = 50.0
SUN_45 = np.array([math.sqrt(0.5), 0.0, math.sqrt(0.5)])  # declination 45 deg


class Plain:
    """Sites k at (1000 k, 0, 0), normal +z; ceilings: {site: (height_m, radius_m, dx_m)}
    (a disc centred dx_m along +x from above the site)."""

    def __init__(self, n_sites, ceilings=None, lat_deg=None):
        self.n_sites = n_sites
        self.centroids = np.array([[1000.0 * k, 0.0, 0.0] for k in range(n_sites)])
        self.normals = np.tile([0.0, 0.0, 1.0], (n_sites, 1))
        self.lat_deg = np.zeros(n_sites) if lat_deg is None else np.asarray(lat_deg, float)
        self.ceilings = ceilings or {}

    def contains(self, points):
        return np.asarray(points)[:, 2] < 0.0

    def ray_hits(self, starts, dirs):
        hits, dists = [], []
        for o, d in zip(np.asarray(starts, float), np.asarray(dirs, float), strict=True):
            d = d / np.linalg.norm(d)
            best = math.inf
            for k, (h, r, dx) in self.ceilings.items():
                if d[2] <= 0.0:
                    continue
                t = (h - o[2]) / d[2]
                p = o + t * d
                if t > 0.0 and math.hypot(p[0] - (1000.0 * k + dx), p[1]) <= r:
                    best = min(best, t)
            hits.append(0 if math.isfinite(best) else -1)
            dists.append(best)
        return np.array(hits), np.array(dists)


def params(**kw):
    base = dict(lat_max_deg=30.0, max_incidence_deg=60.0, home_height_m=HOME_M)
    base.update(kw)
    return SimpleNamespace(**base)


@pytest.mark.parametrize(("offset_m", "blocked"), [
    (-0.75, True), (-0.01, True), (0.0, False), (0.25, False), (0.75, False), (1.0, False)])
def test_the_back_away_path_is_blocked_below_safe_home_only(offset_m, blocked):
    """A ceiling right above site 1 at safe-home's height plus offset_m (site 0 free)."""
    shape = Plain(2, {1: (HOME_M + offset_m, 5.0, 0.0)})
    ok = deliverable_mask(shape, params(), SUN_45)
    assert ok[0] and ok[1] == (not blocked)


def test_latitude_limit_is_included():
    shape = Plain(3, lat_deg=[30.0, -30.0, 30.01])
    assert list(deliverable_mask(shape, params(), SUN_45)) == [True, True, False]


def test_lit_at_noon_down_to_exactly_the_incidence_limit():
    """A pole-facing site sees the noon Sun at its declination: sin(dec) equal to
    cos(60 deg) in floating point is lit at 60 deg, a hair lower is not."""
    w = math.cos(math.radians(60.0))
    sun = np.array([0.8660254037844386, 0.0, w])
    assert np.linalg.norm(sun) == 1.0
    assert lit_at_noon(Plain(1), sun, 60.0)[0]
    lower = np.array([0.8660254037844387, 0.0, w - 1e-12])
    assert not lit_at_noon(Plain(1), lower, 60.0)[0]


def test_a_ceiling_in_the_suns_way_shadows_the_site():
    """The Sun at 45 deg: a disc 20 m up and 20 m toward the Sun from site 1 is in the way
    (the shadowing facet reported as facet 0 counts like any other)."""
    shape = Plain(2, {1: (20.0, 3.0, 20.0)})
    assert list(lit_at_noon(shape, SUN_45, 60.0)) == [True, False]
    assert list(deliverable_mask(shape, params(), SUN_45)) == [True, False]


def test_the_noon_sun_of_a_pole_facing_site_is_at_the_suns_declination():
    """A normal with no horizontal part (or 1e-9 of it, the limit) has no azimuth of its
    own: noon is taken toward +x, a unit vector at the Sun's declination; only the Sun's
    direction counts, not the length it is given with."""
    from flightsw.prospect.sites import noon_sun_bf

    shape = Plain(2)
    shape.normals = np.array([[0.0, 0.0, 1.0], [1e-9, 0.0, 1.0]])
    want = np.array([math.sqrt(0.5), 0.0, math.sqrt(0.5)])
    for sun in (SUN_45, 3.0 * SUN_45, [0.2 * math.sqrt(0.5), 0.0, 0.2 * math.sqrt(0.5)]):
        noon = noon_sun_bf(shape, sun)
        assert np.allclose(noon, [want, want], rtol=0, atol=1e-15)
    assert list(lit_at_noon(Plain(2, {1: (20.0, 3.0, 20.0)}), 5.0 * SUN_45, 60.0)) == \
        [True, False]


def test_safety_takes_plain_lists_with_none_for_unknown():
    from flightsw.prospect.sites import safe_mask

    p = SimpleNamespace(slope_max_deg=15.0, boulder_max_m=0.5, min_lidar_points=30)
    got = safe_mask([0, None, 10, 5], [0.1, 0.1, None, 0], [100, 100, 100, 100], p)
    assert list(got) == [True, False, False, True]
