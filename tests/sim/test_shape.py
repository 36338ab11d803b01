"""Tests of sim.shape: the Bennu top mesh and the mesh geometry helpers."""

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.shape import (
    BENNU_EXTENT_M,
    MeshRayCaster,
    altitude_above_surface_m,
    bennu_top_shape,
    circumscribing_radius_m,
    icosphere,
    mesh_signed_volume_m3,
    mesh_volume_m3,
    point_mesh_distance_m,
    ray_mesh_distance_m,
    surface_radius_m,
)

METER = 1.0
KM3 = 1e9  # m³
ROUNDOFF_M = 1e-9 * METER  # float64 round-off on ~1 km lengths


@cache
def _bennu(subdivisions: int = 3):
    return bennu_top_shape(subdivisions)


@cache
def _sphere(radius_m: float, subdivisions: int):
    v, f = icosphere(subdivisions)
    return v * radius_m, f


def _directed_edges(faces):
    return np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])


def _unit(vec):
    v = np.asarray(vec, dtype=float)
    return v / np.linalg.norm(v)


unit_vectors = (
    st.tuples(*[st.floats(-1.0, 1.0) for _ in range(3)])
    .filter(lambda t: 0.1 < math.hypot(*t) <= 1.0)
    .map(_unit)
)


@pytest.mark.parametrize("subdivisions", [3, 4])
def test_mesh_is_closed_with_opposite_orientation_on_every_edge(subdivisions):
    _, f = _bennu(subdivisions)
    directed = [tuple(e) for e in _directed_edges(f).tolist()]
    # Each directed edge once, and its reverse exactly once: every undirected edge is
    # shared by exactly two faces that traverse it in opposite directions.
    assert len(set(directed)) == len(directed)
    assert set(directed) == {(j, i) for i, j in directed}


@pytest.mark.parametrize("subdivisions, n_faces", [(0, 20), (3, 1280), (4, 5120)])
def test_face_count_and_euler_characteristic(subdivisions, n_faces):
    v, f = _bennu(subdivisions) if subdivisions else icosphere(0)
    n_edges = len({tuple(sorted(e)) for e in _directed_edges(f).tolist()})
    assert f.shape == (n_faces, 3)
    assert f.dtype == np.int64 and v.dtype == np.float64
    assert len(v) - n_edges + len(f) == 2
    assert len(np.unique(f)) == len(v)  # no unused vertex


@pytest.mark.parametrize("subdivisions", [3, 4])
def test_mesh_is_outward_and_star_shaped(subdivisions):
    v, f = _bennu(subdivisions)
    assert mesh_signed_volume_m3(v, f) > 0.0
    assert mesh_signed_volume_m3(v, f[:, ::-1]) == pytest.approx(-mesh_volume_m3(v, f))
    # Every face faces away from the origin: rays from the origin cross the surface once.
    det = np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]]))
    assert np.all(det > 0.0)


@pytest.mark.parametrize("subdivisions", [3, 4])
def test_extent_is_bennus_bounding_box(subdivisions):
    v, _ = _bennu(subdivisions)
    extent_m = v.max(axis=0) - v.min(axis=0)
    np.testing.assert_allclose(extent_m, BENNU_EXTENT_M, rtol=0, atol=0.5 * METER)
    np.testing.assert_allclose(extent_m, (565.0, 535.0, 508.0), rtol=0, atol=0.5 * METER)
    # Centred: the box is symmetric about the origin (centre of mass of the body).
    np.testing.assert_allclose(v.max(axis=0), -v.min(axis=0), atol=ROUNDOFF_M)
    assert circumscribing_radius_m(v) == pytest.approx(565.0 / 2, abs=0.5 * METER)


@pytest.mark.parametrize("subdivisions", [3, 4])
def test_volume_is_plausible_for_bennu(subdivisions):
    # Bennu: 7.329e10 kg / 1190 kg/m³ = 0.0616 km³.
    v, f = _bennu(subdivisions)
    assert 0.05 * KM3 < mesh_volume_m3(v, f) < 0.08 * KM3
    assert mesh_volume_m3(v, f) == pytest.approx(0.0616 * KM3, rel=0.05)


def test_top_shape_has_an_equatorial_ridge():
    v, f = _bennu()
    caster = MeshRayCaster(v, f)
    r_pole = caster.surface_radius_m([0, 0, 1])
    r_mid = caster.surface_radius_m([1, 0, 1])  # 45° latitude
    r_eq = caster.surface_radius_m([1, 0, 0])
    assert r_pole == pytest.approx(254.0, abs=ROUNDOFF_M)
    assert r_eq == pytest.approx(282.5, abs=ROUNDOFF_M)
    # Flanks well inside the ellipsoid through the pole and the ridge: a top, not an egg.
    ellipsoid_m = 1.0 / math.sqrt(0.5 / 282.5**2 + 0.5 / 254.0**2)
    assert r_mid < ellipsoid_m - 20.0 * METER


def test_icosphere_vertices_on_unit_sphere_and_pole_vertex():
    v, f = icosphere(2)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-15)
    assert np.any(np.all(np.isclose(v, [0.0, 0.0, 1.0], atol=1e-15), axis=1))
    assert mesh_signed_volume_m3(v, f) > 0.0


def test_ray_through_vertex_hits_at_analytic_distance():
    radius_m = 100.0
    v, f = _sphere(radius_m, 3)
    origin = np.array([0.0, 0.0, 1000.0])
    for vertex in v[[0, 7, 100, 400]]:
        expected_m = np.linalg.norm(vertex - origin)
        if vertex @ (vertex - origin) > 0:  # vertex on the far side: ray hits nearer first
            continue
        assert ray_mesh_distance_m(v, f, origin, vertex - origin) == pytest.approx(
            expected_m, abs=ROUNDOFF_M
        )


@settings(max_examples=60, deadline=None)
@given(
    direction=unit_vectors,
    aim=st.tuples(st.floats(-60.0, 60.0), st.floats(-60.0, 60.0)),
    range_m=st.floats(150.0, 5000.0),
)
def test_ray_cast_matches_sphere_within_the_facet_sag(direction, aim, range_m):
    """A fine icosphere is a sphere to within its sag: the inscribed mesh lies between the
    sphere of radius R and the sphere through the face centres' nearest point."""
    radius_m = 100.0
    v, f = _sphere(radius_m, 5)
    # Smallest distance from the centre to the mesh (a face plane), from the face normals.
    n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    inner_m = float(np.min(np.einsum("ij,ij->i", v[f[:, 0]], n) / np.linalg.norm(n, axis=1)))
    assert radius_m - inner_m < 0.1 * METER  # the test needs a fine mesh

    origin = direction * range_m
    # Aim at a point in the plane through the centre, offset by `aim` (may miss the sphere).
    e1 = _unit(np.cross(direction, [0.3, 0.5, 0.81]))
    e2 = np.cross(direction, e1)
    ray = aim[0] * e1 + aim[1] * e2 - origin
    d = _unit(ray)
    # Analytic intersections of the ray with spheres of radius rad about the centre.
    b = origin @ d
    miss_distance_m = math.sqrt(max(origin @ origin - b * b, 0.0))

    def sphere_hit(rad):
        disc = b * b - (origin @ origin - rad * rad)
        return math.inf if disc < 0 else -b - math.sqrt(disc)

    got = ray_mesh_distance_m(v, f, origin, ray)
    if miss_distance_m > radius_m:
        assert got == math.inf
    elif miss_distance_m < inner_m - 1e-6:
        assert sphere_hit(radius_m) - ROUNDOFF_M <= got <= sphere_hit(inner_m) + ROUNDOFF_M


def test_ray_pointing_away_misses():
    v, f = _bennu()
    assert ray_mesh_distance_m(v, f, [0.0, 0.0, 1000.0], [0.0, 0.0, 1.0]) == math.inf


@given(direction=unit_vectors)
@settings(max_examples=40, deadline=None)
def test_radial_altitude_over_bennu_is_radius_minus_surface_radius(direction):
    v, f = _bennu()
    r_surface_m = surface_radius_m(v, f, direction)
    # Between the deepest point of the flanks (≈ 229 m, mid-latitudes) and the ridge.
    assert 220.0 * METER <= r_surface_m <= circumscribing_radius_m(v) + ROUNDOFF_M
    for altitude_m in (1.0, 30.0, 1000.0):
        point = direction * (r_surface_m + altitude_m)
        assert altitude_above_surface_m(v, f, point) == pytest.approx(altitude_m, abs=1e-6)
        # The nadir ray cast from above sees the same surface point.
        assert ray_mesh_distance_m(v, f, point, -point) == pytest.approx(altitude_m, abs=1e-6)
        # The shortest distance to the surface is never longer than the radial altitude.
        assert point_mesh_distance_m(v, f, point) <= altitude_m + ROUNDOFF_M
    assert altitude_above_surface_m(v, f, 0.5 * r_surface_m * direction) < 0.0


def test_distance_to_surface_over_pole_and_ridge():
    v, f = _bennu()
    assert point_mesh_distance_m(v, f, [0.0, 0.0, 1254.0]) == pytest.approx(1000.0, abs=1e-6)
    assert point_mesh_distance_m(v, f, [1282.5, 0.0, 0.0]) == pytest.approx(1000.0, abs=1e-6)


def test_distance_to_sphere_mesh_within_sag():
    radius_m = 100.0
    v, f = _sphere(radius_m, 5)
    rng = np.random.default_rng(7)
    for _ in range(20):
        u = _unit(rng.normal(size=3))
        for r_m in (50.0, 101.0, 300.0):
            got = point_mesh_distance_m(v, f, u * r_m)
            assert abs(got - abs(r_m - radius_m)) <= 0.1 * METER


@pytest.mark.parametrize(
    "call",
    [
        lambda v, f: mesh_signed_volume_m3(v[:, :2], f),
        lambda v, f: mesh_signed_volume_m3(v, f + len(v)),
        lambda v, f: mesh_signed_volume_m3(v, f.astype(float)),
        lambda v, f: ray_mesh_distance_m(v, f, [0, 0, 1000], [0, 0, 0]),
        lambda v, f: ray_mesh_distance_m(v, f, [0, 0, math.nan], [0, 0, -1]),
        lambda v, f: altitude_above_surface_m(v, f, [0, 0, 0]),
        lambda v, f: surface_radius_m(v + 1000.0, f, [0, 0, 1]),
    ],
)
def test_bad_arguments_raise_value_error(call):
    v, f = _bennu()
    with pytest.raises(ValueError):
        call(v, f)


@pytest.mark.parametrize("bad", [-1, 8, 2.0, True])
def test_bad_subdivisions_rejected(bad):
    with pytest.raises((ValueError, TypeError)):
        bennu_top_shape(bad)


def test_ray_cache_sees_in_place_edits():
    v, f = _sphere(100.0, 2)
    v = v.copy()
    assert ray_mesh_distance_m(v, f, [0, 0, 1000], [0, 0, -1]) == pytest.approx(900.0)
    v *= 2.0
    assert ray_mesh_distance_m(v, f, [0, 0, 1000], [0, 0, -1]) == pytest.approx(800.0)


@given(start=unit_vectors, steps=st.lists(unit_vectors, min_size=1, max_size=8),
       step_size=st.sampled_from([1e-4, 1e-2, 1.0]))
@settings(max_examples=60, deadline=None)
def test_surface_radius_fast_path_gives_the_same_bits_as_the_whole_mesh(start, steps,
                                                                        step_size):
    """surface_radius_m tries the face it found last first; a probe drifting slowly or
    jumping anywhere must get exactly what a cast against every face gives."""
    v, f = _bennu()
    fast, full = MeshRayCaster(v, f), MeshRayCaster(v, f)
    direction = np.asarray(start)
    for step in steps:
        direction = direction + step_size * np.asarray(step)
        if np.linalg.norm(direction) < 1e-3:
            continue
        assert fast.surface_radius_m(direction) == full.distance_m((0.0, 0.0, 0.0), direction)


def _every_face_ray_m(v, f, origin, direction) -> float:
    """Oracle: Moller-Trumbore against every face at once (numpy), no culling."""
    o = np.asarray(origin, dtype=float)
    d = _unit(direction)
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    e1, e2 = b - a, c - a
    p = np.cross(d, e2)
    det = np.einsum("ij,ij->i", e1, p)
    det_scale = np.einsum("ij,ij->i", e1, e1) * np.linalg.norm(e2, axis=1)
    ok = np.abs(det) > 1e-14 * det_scale
    inv = np.divide(1.0, det, out=np.zeros_like(det), where=ok)
    s = o - a
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    w = (q @ d) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    eps = 1e-10
    hit = ok & (u >= -eps) & (w >= -eps) & (u + w <= 1.0 + eps) & (t > 0.0)
    return float(t[hit].min()) if hit.any() else math.inf


@given(origin_dir=unit_vectors, range_m=st.floats(0.0, 3000.0), aim=unit_vectors,
       toward_body=st.booleans())
@settings(max_examples=150, deadline=None)
def test_culled_ray_cast_agrees_with_every_face(origin_dir, range_m, aim, toward_body):
    """distance_m tests only the faces whose bounding sphere the ray passes: it must find
    the same hit as a test against every face (to rounding: the oracle sums in another
    order), from inside, near and far, aimed at the body or anywhere."""
    v, f = _bennu()
    origin = np.asarray(origin_dir) * range_m
    direction = aim if not toward_body or range_m == 0.0 else \
        _unit(-origin + 100.0 * np.asarray(aim))
    got = MeshRayCaster(v, f).distance_m(origin, direction)
    want = _every_face_ray_m(v, f, origin, direction)
    if math.isinf(want):
        assert math.isinf(got)
    else:
        assert got == pytest.approx(want, rel=0.0, abs=ROUNDOFF_M * max(1.0, want))
