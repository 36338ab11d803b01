"""The on-board shape model against sim.shape.MeshRayCaster (an independent oracle)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.prospect.shape_model import ShapeModel, ShapeModelError
from sim.shape import MeshRayCaster, bennu_top_shape

METRE = 1.0
_V, _F = bennu_top_shape(3)
_SHAPE = ShapeModel(_V, _F)
_EXACT = ShapeModel(_V, _F, cache_tolerance_deg=0.0)
_CASTER = MeshRayCaster(_V, _F)

_unit = st.tuples(*[st.floats(-1.0, 1.0)] * 3).filter(lambda v: math.hypot(*v) > 0.1)


@settings(max_examples=30, deadline=None)
@given(origin_dir=_unit, jitter=st.lists(_unit, min_size=8, max_size=8),
       spread=st.floats(0.0, 0.4), range_m=st.floats(700.0, 2000.0))
def test_ray_hits_match_the_mesh_ray_caster(origin_dir, jitter, spread, range_m):
    o = np.array(origin_dir) / np.linalg.norm(origin_dir) * range_m
    dirs = np.array([-o / range_m + spread * np.array(j) for j in jitter])
    dirs = dirs[np.linalg.norm(dirs, axis=1) > 1e-3]
    origins = np.repeat(o[None], len(dirs), axis=0)
    ids, dist = _SHAPE.ray_hits(origins, dirs)
    for k in range(len(dirs)):
        expect = _CASTER.distance_m(o, dirs[k])
        if math.isinf(expect):
            assert ids[k] == -1 and math.isinf(dist[k])
        else:
            assert dist[k] == pytest.approx(expect, abs=1e-6 * METRE)
            assert ids[k] == _CASTER.last_face


def test_rays_from_inside_hit_the_surface_once():
    rng = np.random.default_rng(3)
    d = rng.normal(size=(200, 3))
    ids, dist = _SHAPE.ray_hits(np.zeros((200, 3)), d)
    assert np.all(ids >= 0)
    for k in range(0, 200, 20):
        assert dist[k] == pytest.approx(_CASTER.distance_m((0, 0, 0), d[k]), abs=1e-6)


def test_candidates_restrict_the_facets():
    o = np.array([[1500.0, 0.0, 0.0]])
    d = np.array([[-1.0, 0.0, 0.0]])
    ids, _ = _SHAPE.ray_hits(o, d)
    other = np.setdiff1d(np.arange(_SHAPE.n_sites), ids)
    ids2, dist2 = _SHAPE.ray_hits(o, d, candidates=other)
    assert ids2[0] != ids[0]
    ids3, _ = _SHAPE.ray_hits(o, d, candidates=[])
    assert ids3[0] == -1


def test_facet_geometry():
    assert _SHAPE.n_sites == 1280
    assert np.allclose(np.linalg.norm(_SHAPE.normals, axis=1), 1.0)
    assert np.all((_SHAPE.normals * _SHAPE.centroids).sum(axis=1) > 0.0)  # outward
    assert _SHAPE.areas_m2.sum() > 4 * math.pi * 250.0 ** 2 * 0.8
    lat, lon = _SHAPE.lat_lon_deg()
    assert np.all(np.abs(lat) <= 90.0) and np.all(np.abs(lon) <= 180.0)
    # Default 'down' is minus the centroid direction: slope is the normal's tilt from radial.
    assert np.all(_SHAPE.slope_deg >= 0.0) and np.median(_SHAPE.slope_deg) < 40.0


def test_contains():
    assert list(_SHAPE.contains([[0, 0, 0], [200, 0, 0], [400, 0, 0], [0, 0, 300]])) == \
        [True, True, False, False]


def _brute_lit(sun, max_inc_deg):
    lim = math.cos(math.radians(max_inc_deg))
    out = np.zeros(_SHAPE.n_sites, dtype=bool)
    for k in range(_SHAPE.n_sites):
        if _SHAPE.normals[k] @ sun < lim:
            continue
        o = _SHAPE.centroids[k] + 0.01 * _SHAPE.normals[k]
        out[k] = math.isinf(_CASTER.distance_m(o, sun))
    return out


def _brute_observable(pos, max_emi_deg):
    lim = math.cos(math.radians(max_emi_deg))
    out = np.zeros(_SHAPE.n_sites, dtype=bool)
    for k in range(_SHAPE.n_sites):
        view = pos - _SHAPE.centroids[k]
        dist = np.linalg.norm(view)
        if _SHAPE.normals[k] @ view / dist < lim:
            continue
        t = _CASTER.distance_m(pos, -view)
        out[k] = t >= dist - 1e-3 or _CASTER.last_face == k
    return out


@pytest.mark.parametrize("sun", [(1.0, 0.0, 0.0), (0.3, 0.5, 0.81), (0.2, -0.1, -0.97)])
def test_lit_matches_brute_force(sun):
    s = np.array(sun) / np.linalg.norm(sun)
    assert np.array_equal(_EXACT.lit(s, 80.0), _brute_lit(s, 80.0))


@pytest.mark.parametrize("pos", [(1200.0, 0.0, 0.0), (300.0, 700.0, 900.0),
                                 (0.0, -600.0, -500.0)])
def test_observable_matches_brute_force(pos):
    p = np.array(pos)
    assert np.array_equal(_EXACT.observable(p, 80.0), _brute_observable(p, 80.0))


def test_a_concave_mesh_has_shadows_and_hidden_facets():
    # Two unit-ish boxes joined at a step: a tall block next to a low one (an L shape).
    v = np.array([[0, 0, 0], [2, 0, 0], [2, 1, 0], [0, 1, 0],
                  [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1],
                  [1, 0, 2], [2, 0, 2], [2, 1, 2], [1, 1, 2]], dtype=float) * 100.0 - \
        np.array([100.0, 50.0, 100.0])
    f = np.array([[0, 2, 1], [0, 3, 2],  # bottom
                  [4, 5, 6], [4, 6, 7],  # low top (z = 1)
                  [8, 9, 10], [8, 10, 11],  # high top (z = 2)
                  [5, 8, 11], [5, 11, 6],  # the step's wall, facing -x
                  [0, 4, 7], [0, 7, 3],  # -x side
                  [1, 2, 10], [1, 10, 9],  # +x side
                  [0, 1, 9], [0, 9, 8], [0, 8, 5], [0, 5, 4],  # -y side
                  [3, 7, 6], [3, 6, 11], [3, 11, 10], [3, 10, 2]])  # +y side
    shape = ShapeModel(v, f, cache_tolerance_deg=0.0)
    assert shape.contains([[-50.0, 0.0, -50.0]])[0]
    # Sun low from +x: the low top (faces 2, 3) is in the block's shadow.
    sun = np.array([1.0, 0.0, 0.3])
    sun /= np.linalg.norm(sun)
    lit = shape.lit(sun, 89.0)
    assert not lit[2] and not lit[3] and lit[4] and lit[5]
    # Seen from far along -x and just above, the low top is visible, from +x it is hidden.
    assert shape.observable([-5000.0, 0.0, 600.0], 89.0)[2]
    assert not shape.observable([5000.0, 0.0, 600.0], 89.0)[2]


def test_bad_input_is_rejected():
    with pytest.raises(ShapeModelError):
        ShapeModel(_V, _F, down_bf=np.ones((3, 3)))
    with pytest.raises(ShapeModelError):
        _SHAPE.ray_hits(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ShapeModelError):
        _SHAPE.observable([10.0, 0.0, 0.0], 70.0)  # inside the body
