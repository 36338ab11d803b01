"""On-board shape model, survey planner, lidar hazard map and site ranking."""

import math
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.geometry.mesh import TriangleMesh
from flightsw.prospect.hazard import HazardMap, scan_directions
from flightsw.prospect.shape_model import ShapeModel
from flightsw.prospect.sites import (
    contact_time_s,
    lit_at_noon,
    noon_sun_bf,
    rank_sites,
)
from flightsw.prospect.survey import SurveyPlanner
from sim.noise import NoiseStream
from sim.relief import BoulderField, FlashLidarModel
from sim.shape import bennu_top_shape

V, F = bennu_top_shape(3)
V = V * (np.array([565.0, 535.0, 508.0]) / (V.max(axis=0) - V.min(axis=0)))
SHAPE = ShapeModel(V, F)
CASTER = TriangleMesh(V, F)


@settings(max_examples=40, deadline=None)
@given(st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1), st.floats(-0.2, 0.2),
       st.floats(-0.2, 0.2))
def test_ray_hits_agree_with_the_simulators_ray_caster(x, y, z, dx, dy):
    origin = np.array([x, y, z])
    if np.linalg.norm(origin) < 0.1:
        origin = np.array([1.0, 0.0, 0.0])
    origin = 1500.0 * origin / np.linalg.norm(origin)
    d = -origin / np.linalg.norm(origin) + np.array([dx, dy, 0.0])
    d /= np.linalg.norm(d)
    ids, dist = SHAPE.ray_hits(origin[None], d[None])
    oracle = CASTER.distance_m(tuple(origin), tuple(d))
    if not math.isfinite(oracle):
        assert ids[0] == -1
    else:
        assert abs(dist[0] - oracle) < 1e-6  # m (on an edge either facet is right)


def _axes_looking_at(pos, target):
    z = (target - pos) / np.linalg.norm(target - pos)
    x = np.cross([0.0, 0.0, 1.0], z)
    x /= np.linalg.norm(x)
    return x, np.cross(z, x), z


def test_a_lidar_scan_of_a_bare_facet_gives_its_slope_and_no_relief():
    boulders = BoulderField(CASTER, 1, 0.0, (3.0, 8.0), (0.6, 3.0))
    lidar = FlashLidarModel(NoiseStream(1, "t"), CASTER, boulders, 7, 0.02, 0.0, 5000.0)
    site = 200
    target = SHAPE.centroids[site]
    pos = target + 1000.0 * SHAPE.normals[site]
    hazard = HazardMap(SHAPE)
    for k in range(5):
        jitter = np.array([0.3 * k, -0.2 * k, 0.1 * k])
        axes = _axes_looking_at(pos + jitter, target)
        msg = lidar.measure(0, pos + jitter, axes)
        hazard.add_scan(pos + jitter, axes, msg.fov_full_rad, msg.grid_n, msg.ranges_m)
    assert hazard.n_points[site] >= 30
    assert abs(hazard.slope_deg[site] - SHAPE.slope_deg[site]) < 0.5  # deg
    assert hazard.roughness_m[site] < 0.05  # m


def test_a_boulder_in_the_scan_shows_as_relief_of_its_height():
    boulders = BoulderField(CASTER, 3, 1.0, (6.0, 6.0), (2.0, 2.0))
    lidar = FlashLidarModel(NoiseStream(1, "t"), CASTER, boulders, 7, 0.03, 0.02, 5000.0)
    site = 321
    centre = boulders.by_face[site][0]
    pos = centre + 900.0 * SHAPE.normals[site]
    hazard = HazardMap(SHAPE)
    for k in range(8):
        jitter = np.array([math.cos(k), math.sin(k), 0.0]) * 2.0
        axes = _axes_looking_at(pos, centre + jitter)
        msg = lidar.measure(0, pos, axes)
        hazard.add_scan(pos, axes, msg.fov_full_rad, msg.grid_n, msg.ranges_m)
    assert abs(hazard.roughness_m[site] - 2.0) < 0.3  # m


def test_scan_directions_are_unit_and_centred_on_the_boresight():
    axes = (np.array([1.0, 0, 0]), np.array([0, 1.0, 0]), np.array([0, 0, 1.0]))
    d = scan_directions(axes, 0.02, 7)
    assert np.allclose(np.linalg.norm(d, axis=1), 1.0)
    assert np.allclose(d[24], [0, 0, 1.0])
    assert math.isclose(math.atan2(d[0][0], d[0][2]), -0.01, rel_tol=1e-9)


def test_an_idealised_survey_covers_the_lit_surface_in_one_rotation():
    planner = SurveyPlanner(SHAPE, 70.0, 70.0, 2)
    sun_i = np.array([1.0, 0.0, 0.0])
    station = planner.station_position_i(sun_i, np.array([0, 0, 1.0]), 1200.0, 10.0)
    boresight = -station / np.linalg.norm(station)
    period_s = 4.3 * 3600.0
    for t in range(0, int(period_s), 4):  # one spectrum every 4 s: a slew and settle
        a = 2 * math.pi * t / period_s
        rot = np.array([[math.cos(a), math.sin(a), 0], [-math.sin(a), math.cos(a), 0],
                        [0, 0, 1.0]])  # inertial -> body-fixed
        pos, sun = rot @ station, rot @ sun_i
        planner.update(pos, sun)
        site = planner.next_target(pos, boresight, sun)
        if site is not None:
            boresight = SHAPE.centroids[site] - pos
            boresight /= np.linalg.norm(boresight)
            planner.record(site)
    assert planner.n_illuminated > 500
    assert planner.coverage >= 0.95


def test_ranking_never_returns_an_unsafe_site_and_picks_the_best():
    n = SHAPE.n_sites
    value = np.linspace(0.0, 1.0, n)
    slope = np.full(n, 5.0)
    rough = np.full(n, 0.1)
    rough[n - 1] = 2.0  # the richest site carries a boulder
    params = SimpleNamespace(slope_max_deg=15.0, boulder_max_m=0.5, lat_max_deg=90.0,
                             min_lidar_points=3, min_spectra=1, n_candidates=5,
                             home_height_m=1000.0, max_incidence_deg=89.0)
    sun = np.array([1.0, 0.0, 0.0])
    cands = rank_sites(value, np.full(n, 0.01), np.full(n, 3), slope, rough, np.full(n, 40),
                       SHAPE, params, sun)
    lit = lit_at_noon(SHAPE, sun, 89.0)
    best = max((k for k in range(n - 1) if lit[k]), key=lambda k: value[k])
    assert cands[0].site_id == best
    assert all(rough[c.site_id] <= 0.5 for c in cands)
    safe = rough <= 0.5
    # The second candidate is the next best of the safe sites lit at noon.
    assert cands[1].site_id == max((k for k in range(n) if lit[k] and safe[k] and k != best),
                                   key=lambda k: value[k])


def _sun_at(dec_deg: float, rate_radps: float):
    """Sun in bf for a body spinning about +z_bf under a Sun fixed in inertial space."""
    d = math.radians(dec_deg)

    def sun_bf(t_s: float) -> np.ndarray:
        a = -rate_radps * t_s
        return np.array([math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d)])
    return sun_bf


@settings(max_examples=15, deadline=None)
@given(st.floats(-60.0, 60.0))
def test_noon_is_the_best_light_of_a_rotation(dec_deg):
    # Oracle: brute force over a rotation in 0.25 deg steps.
    sun_at = _sun_at(dec_deg, 1.0)
    best = np.full(SHAPE.n_sites, -2.0)
    for a in np.radians(np.arange(0.0, 360.0, 0.25)):
        best = np.maximum(best, SHAPE.normals @ sun_at(a))
    noon = noon_sun_bf(SHAPE, sun_at(0.0))
    cos_noon = (SHAPE.normals * noon).sum(axis=1)
    assert np.allclose(np.linalg.norm(noon, axis=1), 1.0)
    # 0.25 deg azimuth steps miss the peak by at most 1 - cos(0.125 deg) ~ 2.4e-6.
    assert np.all(cos_noon >= best - 1e-9)
    assert np.all(cos_noon - best <= 3e-6)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, SHAPE.n_sites - 1), st.floats(-30.0, 30.0), st.floats(0.0, 20000.0))
def test_contact_is_timed_for_the_first_good_light(site, dec_deg, t_min):
    rate = 2.0 * math.pi / 15466.0
    sun_at = _sun_at(dec_deg, rate)
    max_inc, margin, step = 70.0, 10.0, 1.0
    if not lit_at_noon(SHAPE, sun_at(0.0), max_inc)[site]:
        return  # never well lit: nothing to time (the ranking excludes it)
    t, inc = contact_time_s(SHAPE, site, sun_at, rate, t_min, max_inc, margin, step)
    assert t_min <= t <= t_min + 2.0 * math.pi / rate + 1.0
    n = SHAPE.normals[site]
    assert abs(inc - math.degrees(math.acos(min(1.0, float(n @ sun_at(t)))))) < 1e-9
    # The whole-model shadow pass (a different code path) agrees the site is lit then.
    assert not SHAPE.shadowed(sun_at(t))[site]
    want = math.cos(math.radians(max_inc - margin))
    if inc <= max_inc - margin:
        # No earlier step of the grid had the site lit that well and unshadowed.
        dt = math.radians(step) / rate
        for k in range(int(round((t - t_min) / dt))):
            s = sun_at(t_min + k * dt)
            assert float(n @ s) < want or SHAPE.shadowed(s)[site]
    else:
        assert inc <= max_inc  # the site's best light, still within the limit
