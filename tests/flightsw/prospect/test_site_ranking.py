"""Site ranking (flightsw/prospect/sites.py) against brute-force oracles.

Deliverability is recomputed site by site with one ray at a time (the shared mesh's
single-ray cast, not the shape model's batched one), from the rule as sites.py's
docstring states it; the ranking is a plain loop over sites with the score written
out.  Hypothesis draws the maps, including the NaN and infinite entries the flight maps
hold for unmeasured sites.
"""

import math
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.geometry.mesh import TriangleMesh
from flightsw.prospect.shape_model import ShapeModel
from flightsw.prospect.sites import SIGMA_PENALTY, deliverable_mask, rank_sites, safe_mask
from sim.shape import bennu_top_shape

V, F = bennu_top_shape(3)
V = V * (np.array([565.0, 535.0, 508.0]) / (V.max(axis=0) - V.min(axis=0)))
SHAPE = ShapeModel(V, F)
CASTER = TriangleMesh(V, F)
N = len(F)


def _facet(k):
    v = V[F[k]]
    c = v.mean(axis=0)
    n = np.cross(v[1] - v[0], v[2] - v[0])
    n /= np.linalg.norm(n)
    return c, (n if n @ c > 0.0 else -n)


FACETS = [_facet(k) for k in range(N)]


def _deliverable_oracle(lat_max_deg, home_height_m, max_incidence_deg, sun_dec_deg):
    """Per site, in words: latitude of the centroid within lat_max_deg; at the site's noon
    (the Sun at the azimuth of its normal, at the Sun's declination) lit within
    max_incidence_deg and no facet between it and the Sun; the straight path up the
    normal from 0.5 m above the site to safe-home (home_height_m) free of the body."""
    dec = math.radians(sun_dec_deg)
    out = np.zeros(N, dtype=bool)
    for k, (c, n) in enumerate(FACETS):
        lat = math.degrees(math.asin(c[2] / np.linalg.norm(c)))
        if abs(lat) > lat_max_deg:
            continue
        horizontal = math.hypot(n[0], n[1])
        az = (n[0] / horizontal, n[1] / horizontal) if horizontal > 1e-9 else (1.0, 0.0)
        noon = np.array([math.cos(dec) * az[0], math.cos(dec) * az[1], math.sin(dec)])
        if n @ noon < math.cos(math.radians(max_incidence_deg)):
            continue
        if math.isfinite(CASTER.distance_m(tuple(c + 0.01 * n), tuple(noon))):
            continue  # in a facet's shadow
        if CASTER.distance_m(tuple(c + 0.5 * n), tuple(n)) < home_height_m - 0.5:
            continue  # the back-away path runs into the body
        out[k] = True
    return out


RULES = [  # (lat_max_deg, home_height_m, max_incidence_deg, sun declination deg)
    (60.0, 1000.0, 70.0, 5.0),
    (30.0, 200.0, 50.0, -25.0),
    (90.0, 5000.0, 89.0, 40.0),
]
ORACLE = {rule: _deliverable_oracle(*rule) for rule in RULES}


def _sun_bf(dec_deg):
    d = math.radians(dec_deg)
    return np.array([math.cos(d), 0.0, math.sin(d)])


def test_deliverability_matches_the_ray_cast_oracle_site_by_site():
    for rule in RULES:
        lat, home, inc, dec = rule
        params = SimpleNamespace(lat_max_deg=lat, home_height_m=home, max_incidence_deg=inc)
        got = deliverable_mask(SHAPE, params, _sun_bf(dec))
        want = ORACLE[rule]
        assert 0 < want.sum() < N, rule  # the rule keeps some sites and drops others
        assert np.array_equal(got, want), (rule, np.flatnonzero(got != want))


@st.composite
def maps(draw):
    """Resource and hazard maps with unmeasured entries, and ranking parameters.  The
    per-site entries are drawn by a seeded generator from pools that hold the edge cases
    (values on the limits and just past them, NaN and inf); the values come from a small
    grid so that ties of score happen and must go to the lower site id."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    nan, inf = math.nan, math.inf

    def pick(pool):
        return rng.choice(np.array(pool, dtype=float), N)

    value = pick([0.1, 0.2, 0.3, 0.4, nan])
    sigma = pick([0.0, 0.02, 0.2, nan, inf])
    n_spectra = rng.integers(0, 5, N)
    slope = pick([0.0, 10.0, 15.0, 15.01, 40.0, nan, inf])
    rough = pick([0.0, 0.3, 0.5, 0.51, 3.0, nan, inf])
    n_points = rng.choice([0, 29, 30, 500], N)
    rule = draw(st.sampled_from(RULES))
    lat, home, inc, dec = rule
    params = SimpleNamespace(slope_max_deg=15.0, boulder_max_m=0.5, lat_max_deg=lat,
                             min_lidar_points=30, min_spectra=draw(st.integers(1, 3)),
                             n_candidates=draw(st.integers(1, 10)), home_height_m=home,
                             max_incidence_deg=inc)
    return value, sigma, n_spectra, slope, rough, n_points, params, rule


@settings(max_examples=30, deadline=None)
@given(maps())
def test_ranking_is_the_brute_force_ranking(m):
    value, sigma, n_spectra, slope, rough, n_points, params, rule = m
    got = rank_sites(value, sigma, n_spectra, slope, rough, n_points, SHAPE, params,
                     _sun_bf(rule[3]))
    deliverable = ORACLE[rule]
    eligible = []
    for k in range(N):
        measured = (math.isfinite(value[k]) and n_spectra[k] >= params.min_spectra
                    and math.isfinite(sigma[k]))
        safe = (n_points[k] >= params.min_lidar_points and math.isfinite(slope[k])
                and slope[k] <= params.slope_max_deg and math.isfinite(rough[k])
                and rough[k] <= params.boulder_max_m)
        if measured and safe and deliverable[k]:
            eligible.append((-(value[k] - SIGMA_PENALTY * sigma[k]), k))
    want = [k for _, k in sorted(eligible)][:params.n_candidates]
    assert [c.site_id for c in got] == want
    assert [c.rank for c in got] == list(range(1, len(want) + 1))
    for c in got:
        k = c.site_id
        assert c.score == value[k] - SIGMA_PENALTY * sigma[k]
        assert (c.resource, c.resource_sigma, c.slope_deg, c.roughness_m) == (
            value[k], sigma[k], slope[k], rough[k])
        assert c.point_bf_m == tuple(SHAPE.centroids[k])
        assert c.safe and c.deliverable


@settings(max_examples=40, deadline=None)
@given(slope=st.floats(allow_nan=True), rough=st.floats(allow_nan=True),
       n_points=st.integers(0, 100))
def test_safe_is_known_safe(slope, rough, n_points):
    params = SimpleNamespace(slope_max_deg=15.0, boulder_max_m=0.5, min_lidar_points=30)
    got = bool(safe_mask([slope], [rough], [n_points], params)[0])
    # Unknown is unsafe: too few points, or a slope or relief that is not a finite number.
    want = n_points >= 30 and math.isfinite(slope) and slope <= 15.0 and \
        math.isfinite(rough) and rough <= 0.5
    assert got == want
