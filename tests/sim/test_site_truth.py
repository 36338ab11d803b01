"""The simulator's truth about sites (sim/site_truth.py) against brute-force oracles.

Safety by a loop over facets; the best light of a rotation by sweeping the Sun's azimuth in
0.05 deg steps (no closed form) and casting the shadow ray against every face (no cull);
the climb to safe-home by an every-face cast, and safe-home outside the body by the parity
of the faces above it; the rank by sorting.  One more test compares the truth with the flight
software's own rules (flightsw.prospect.sites) on the same inputs: the same definitions,
written twice.
"""

import math
from functools import cache
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.geometry.mesh import TriangleMesh
from flightsw.prospect.shape_model import ShapeModel
from flightsw.prospect.sites import deliverable_mask, safe_mask
from sim.shape import bennu_top_shape, icosphere
from sim.site_truth import SiteRequirements, SiteTruth

DEG = 1.0
GM_M3S2 = 4.892
SPIN_RADPS = 4.06e-4
REQ = SiteRequirements(slope_max_deg=15.0, relief_max_m=0.5, lat_max_deg=60.0,
                       incidence_max_deg=70.0, home_height_m=1000.0)
SUN_BF = np.array([0.9, 0.3, 0.25])


@cache
def _mesh(moon: bool = False):
    """The top; with a moon of 60 m radius hovering over its northern flank on +x: the moon's
    shadow and bulk block light and climbs."""
    v, f = bennu_top_shape(3)
    if moon:
        mv, mf = icosphere(2)
        v, f = np.vstack([v, mv * 60.0 + [380.0, 0.0, 160.0]]), np.vstack([f, mf + len(v)])
    return v, f, TriangleMesh(v, f)


@cache
def _down(moon: bool = False):
    """Point-mass gravity plus the spin's centrifugal term, written out (unit, per facet)."""
    _, _, mesh = _mesh(moon)
    p = mesh.centroids + 0.01 * mesh.normals
    r = np.linalg.norm(p, axis=1)[:, None]
    g = -GM_M3S2 * p / r ** 3
    g[:, :2] += SPIN_RADPS ** 2 * p[:, :2]
    return g / np.linalg.norm(g, axis=1)[:, None]


def _relief(seed=0, n=1280):
    rng = np.random.default_rng(seed)
    return np.where(rng.uniform(size=n) < 0.15, rng.uniform(0.2, 3.0, n), 0.0)


def _every_face_t(v, f, o, d) -> np.ndarray:
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    e1, e2 = b - a, c - a
    p = np.cross(d, e2)
    det = np.einsum("ij,ij->i", e1, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = o - a
        u = np.einsum("ij,ij->i", s, p) / det
        q = np.cross(s, e1)
        w = (q @ d) / det
        t = np.einsum("ij,ij->i", e2, q) / det
    hit = (np.abs(det) > 1e-12) & (u >= -1e-10) & (w >= -1e-10) & (u + w <= 1 + 1e-10) & (t > 0)
    return np.where(hit, t, np.inf)


def test_safe_is_slope_and_relief_within_the_requirements_facet_by_facet():
    v, f, mesh = _mesh()
    relief = _relief()
    truth = SiteTruth(mesh, _down(), relief, REQ, SUN_BF)
    for k in range(len(f)):
        a, b, c = v[f[k]]
        n = np.cross(b - a, c - a)
        n = n / math.sqrt(float(n @ n))
        slope = math.degrees(math.acos(max(-1.0, min(1.0, -float(n @ _down()[k])))))
        assert truth.slope_deg[k] == pytest.approx(slope, abs=1e-9 * DEG)
        if abs(slope - REQ.slope_max_deg) > 1e-9:
            assert truth.safe[k] == (slope <= REQ.slope_max_deg and relief[k] <= 0.5)
    assert 0 < truth.safe.sum() < len(f)


@given(dec_deg=st.floats(-80.0, 80.0), inc_max=st.floats(20.0, 85.0),
       lat_max=st.floats(10.0, 90.0), moon=st.booleans())
@settings(max_examples=12, deadline=None)
def test_deliverable_is_the_brute_force_sweep_of_a_rotation(dec_deg, inc_max, lat_max, moon):
    v, f, mesh = _mesh(moon)
    dec = math.radians(dec_deg)
    sun = np.array([math.cos(dec), 0.0, math.sin(dec)])
    req = SiteRequirements(15.0, 0.5, lat_max, inc_max, 1000.0)
    truth = SiteTruth(mesh, _down(moon), _relief(n=len(f)), req, sun)
    az = np.radians(np.arange(0.0, 360.0, 0.05))
    sweep = np.column_stack([math.cos(dec) * np.cos(az), math.cos(dec) * np.sin(az),
                             np.full(az.size, math.sin(dec))])
    cos_i = mesh.normals @ sweep.T  # (faces, azimuths)
    best = np.argmax(cos_i, axis=1)
    limit = math.cos(math.radians(inc_max))
    rng = np.random.default_rng(int(dec_deg * 1000) % 2**31)
    # Every facet of the top under the moon, and a sample of the rest.
    c = mesh.centroids[:1280]
    under = np.flatnonzero((c[:, 0] > 150.0) & (c[:, 2] > 0.0)) if moon else np.zeros(0, int)
    for k in np.union1d(under, rng.choice(1280, 150, replace=False)):
        c, n = mesh.centroids[k], mesh.normals[k]
        lat = math.degrees(math.asin(c[2] / np.linalg.norm(c)))
        if abs(abs(lat) - lat_max) < 1e-9 or abs(cos_i[k, best[k]] - limit) < 2e-6:
            continue  # on a limit: the sweep's resolution cannot tell
        lit = cos_i[k, best[k]] >= limit
        if lit:
            shadows = [bool(np.isfinite(_every_face_t(v, f, c + 0.01 * n, sweep[j]).min()))
                       for j in ((best[k] - 1) % az.size, best[k], (best[k] + 1) % az.size)]
            if len(set(shadows)) > 1:
                continue  # the shadow's edge passes the best light: too close to call
            lit = not shadows[1]
        climb = _every_face_t(v, f, c + 0.01 * n, n).min()
        clear = climb > 1000.0
        if clear:  # safe-home is outside the body: an even number of faces crossed by a
            # ray from it (skewed off the mesh's planes of symmetry, never along an edge)
            skew = np.array([0.1234, 0.2345, 0.9645])
            assert np.isfinite(_every_face_t(v, f, c + 1000.0 * n, skew / np.linalg.norm(skew))
                               ).sum() % 2 == 0
        want = abs(lat) <= lat_max and lit and clear
        assert truth.deliverable[k] == want, k


@given(seed=st.integers(0, 2**16), picks=st.lists(st.integers(0, 1279), min_size=1,
                                                  max_size=20))
@settings(max_examples=30, deadline=None)
def test_rank_is_the_position_among_the_eligible_sites_sorted_by_resource(seed, picks):
    _, f, mesh = _mesh()
    truth = SiteTruth(mesh, _down(), _relief(), REQ, SUN_BF)
    rng = np.random.default_rng(seed)
    resource = np.round(rng.uniform(size=len(f)), 2)  # ties happen
    eligible = sorted((float(resource[k]) for k in range(len(f)) if truth.eligible[k]),
                      reverse=True)
    for site in picks:
        if truth.eligible[site]:
            assert truth.rank(resource, site) == 1 + eligible.index(float(resource[site]))
        else:
            assert truth.rank(resource, site) == -1


def test_bad_arguments_are_refused():
    _, _, mesh = _mesh()
    truth = SiteTruth(mesh, _down(), _relief(), REQ, SUN_BF)
    with pytest.raises(ValueError, match="site_id"):
        truth.rank(np.zeros(1280), 1280)
    with pytest.raises(ValueError, match="resource_truth"):
        truth.rank(np.zeros(12), 0)
    with pytest.raises(ValueError, match="down_bf"):
        SiteTruth(mesh, _down()[:-1], _relief(), REQ, SUN_BF)
    with pytest.raises(ValueError, match="incidence_max_deg"):
        SiteRequirements(15.0, 0.5, 60.0, 95.0, 1000.0)


@pytest.mark.parametrize("moon", [False, True])
def test_the_truth_and_the_flights_rules_agree_on_the_same_inputs(moon):
    """Two codes for one definition: the simulator's truth and the probe's rules, given the
    truth's inputs (slope, relief, enough lidar points), call the same sites safe and
    deliverable."""
    v, f, mesh = _mesh(moon)
    relief = _relief(n=len(f))
    truth = SiteTruth(mesh, _down(moon), relief, REQ, SUN_BF)
    shape = ShapeModel(v, f, _down(moon))
    rules = SimpleNamespace(slope_max_deg=REQ.slope_max_deg, boulder_max_m=REQ.relief_max_m,
                            min_lidar_points=1, lat_max_deg=REQ.lat_max_deg,
                            max_incidence_deg=REQ.incidence_max_deg,
                            home_height_m=REQ.home_height_m)
    assert np.array_equal(truth.safe, safe_mask(shape.slope_deg, relief, np.full(len(f), 10),
                                                rules))
    assert np.array_equal(truth.deliverable, deliverable_mask(shape, rules, SUN_BF))
