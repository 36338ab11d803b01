"""flightsw.geometry.mesh against brute force: every cast culls faces by bounding sphere, so
each is compared with Moller-Trumbore written again here over every face at once (numpy
cross and einsum, no culling), inside/outside with the winding number (solid angles), the
distance to the surface with dense samples of every face, and the spherical cap with the
circle through its rim and apex."""

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flightsw.geometry.mesh import (
    MeshError,
    TriangleMesh,
    spherical_cap_height_m,
)
from sim.shape import bennu_top_shape, icosphere

METER = 1.0
ROUNDOFF_M = 1e-9 * METER  # float64 round-off on ~1 km lengths
EDGE_TOL = 1e-10  # the mesh's barycentric tolerance


@cache
def _bennu():
    v, f = bennu_top_shape(3)
    return v, f, TriangleMesh(v, f)


@cache
def _sphere(radius_m: float, subdivisions: int):
    v, f = icosphere(subdivisions)
    v = v * radius_m
    return v, f, TriangleMesh(v, f)


def _unit(vec):
    v = np.asarray(vec, dtype=float)
    return v / np.linalg.norm(v)


unit_vectors = (
    st.tuples(*[st.floats(-1.0, 1.0) for _ in range(3)])
    .filter(lambda t: 0.1 < math.hypot(*t) <= 1.0)
    .map(_unit)
)


def _every_face(v, f, origin, direction, tol=EDGE_TOL, t_min=0.0) -> np.ndarray:
    """Oracle: distance of the hit on every face (inf where the ray misses it)."""
    o = np.asarray(origin, dtype=float)
    d = _unit(direction)
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    e1, e2 = b - a, c - a
    p = np.cross(d, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > 1e-14 * np.einsum("ij,ij->i", e1, e1) * np.linalg.norm(e2, axis=1)
    inv = np.divide(1.0, det, out=np.zeros_like(det), where=ok)
    s = o - a
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    w = (q @ d) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    hit = ok & (u >= -tol) & (w >= -tol) & (u + w <= 1.0 + tol) & (t > t_min)
    return np.where(hit, t, np.inf)


def _only(subset, oracle_t):
    """The oracle's hits on the candidate faces only (all: None)."""
    if subset is None:
        return oracle_t
    out = np.full(len(oracle_t), np.inf)
    out[subset] = oracle_t[subset]
    return out


def _assert_nearest(got_t, got_face, oracle_t):
    want = float(oracle_t.min())
    if math.isinf(want):
        assert math.isinf(got_t) and got_face == -1
        return
    assert got_t == pytest.approx(want, rel=0.0, abs=ROUNDOFF_M * max(1.0, want))
    # The face returned is hit there (an edge hit may name either neighbour).
    assert oracle_t[got_face] == pytest.approx(got_t, rel=0.0, abs=ROUNDOFF_M * max(1.0, want))


def _toward(origin, point, fallback):
    """Unit direction from origin to point; ``fallback`` when they coincide (a draw can put
    the origin on the point: the range equal to the point's distance along the aim)."""
    toward = np.asarray(point, dtype=float) - np.asarray(origin, dtype=float)
    return _unit(toward) if np.linalg.norm(toward) > 1e-6 else np.asarray(fallback)


def _ray(origin_dir, range_m, aim, toward_body):
    origin = np.asarray(origin_dir) * range_m
    if toward_body and range_m > 0.0:
        return origin, _toward(origin, 100.0 * np.asarray(aim), aim)
    return origin, np.asarray(aim)


rays = st.tuples(unit_vectors, st.floats(0.0, 3000.0), unit_vectors, st.booleans())


# -- one ray ------------------------------------------------------------------------------
@given(ray=rays)
@example(ray=(np.array([0.0, 1.0, 0.0]), 100.0, np.array([0.0, 1.0, 0.0]), True))
@settings(max_examples=150, deadline=None)
def test_culled_single_ray_cast_equals_a_cast_over_every_face(ray):
    """From inside, near and far, aimed at the body or anywhere."""
    v, f, mesh = _bennu()
    origin, direction = _ray(*ray)
    t, face = mesh.nearest_hit(origin, direction)
    _assert_nearest(t, face, _every_face(v, f, origin, direction))
    assert mesh.distance_m(origin, direction) == t


def test_ray_through_vertex_hits_at_analytic_distance():
    v, _, mesh = _sphere(100.0, 3)
    origin = np.array([0.0, 0.0, 1000.0])
    for vertex in v[[0, 7, 100, 400]]:
        if vertex @ (vertex - origin) > 0:  # vertex on the far side: ray hits nearer first
            continue
        expected_m = np.linalg.norm(vertex - origin)
        assert mesh.distance_m(origin, vertex - origin) == pytest.approx(expected_m,
                                                                         abs=ROUNDOFF_M)


@settings(max_examples=60, deadline=None)
@given(direction=unit_vectors, aim=st.tuples(st.floats(-60.0, 60.0), st.floats(-60.0, 60.0)),
       range_m=st.floats(150.0, 5000.0))
def test_ray_cast_matches_sphere_within_the_facet_sag(direction, aim, range_m):
    """A fine icosphere is a sphere to within its sag: the inscribed mesh lies between the
    sphere of radius R and the sphere through the face planes' nearest points."""
    radius_m = 100.0
    v, f, mesh = _sphere(radius_m, 5)
    inner_m = float(np.min(np.einsum("ij,ij->i", mesh.v0, mesh.normals)))
    assert radius_m - inner_m < 0.1 * METER  # the test needs a fine mesh
    origin = direction * range_m
    e1 = _unit(np.cross(direction, [0.3, 0.5, 0.81]))
    e2 = np.cross(direction, e1)
    ray = aim[0] * e1 + aim[1] * e2 - origin
    d = _unit(ray)
    b = origin @ d
    miss_distance_m = math.sqrt(max(origin @ origin - b * b, 0.0))

    def sphere_hit(rad):
        disc = b * b - (origin @ origin - rad * rad)
        return math.inf if disc < 0 else -b - math.sqrt(disc)

    got = mesh.distance_m(origin, ray)
    if miss_distance_m > radius_m:
        assert got == math.inf
    elif miss_distance_m < inner_m - 1e-6:
        assert sphere_hit(radius_m) - ROUNDOFF_M <= got <= sphere_hit(inner_m) + ROUNDOFF_M


def test_ray_pointing_away_misses():
    _, _, mesh = _bennu()
    assert mesh.nearest_hit([0.0, 0.0, 1000.0], [0.0, 0.0, 1.0]) == (math.inf, -1)


@given(direction=unit_vectors)
@settings(max_examples=40, deadline=None)
def test_radial_altitude_is_radius_minus_surface_radius(direction):
    v, f, mesh = _bennu()
    r_surface_m = mesh.surface_radius_m(direction)
    assert 220.0 * METER <= r_surface_m <= mesh.radius_max_m + ROUNDOFF_M
    for altitude_m in (1.0, 30.0, 1000.0):
        point = direction * (r_surface_m + altitude_m)
        assert mesh.altitude_m(point) == pytest.approx(altitude_m, abs=1e-6)
        assert mesh.distance_m(point, -point) == pytest.approx(altitude_m, abs=1e-6)
        # The shortest distance to the surface is never longer than the radial altitude.
        assert mesh.distance_to_surface_m(point) <= altitude_m + ROUNDOFF_M
    assert mesh.altitude_m(0.5 * r_surface_m * direction) < 0.0


@given(start=unit_vectors, steps=st.lists(unit_vectors, min_size=1, max_size=8),
       step_size=st.sampled_from([1e-4, 1e-2, 1.0]))
@settings(max_examples=60, deadline=None)
def test_surface_radius_fast_path_gives_the_same_bits_as_the_whole_mesh(start, steps,
                                                                        step_size):
    """surface_radius_m tries the face it found last first; a probe drifting slowly or
    jumping anywhere must get exactly what a cast against every face gives."""
    v, f, _ = _bennu()
    fast, full = TriangleMesh(v, f), TriangleMesh(v, f)
    direction = np.asarray(start)
    for step in steps:
        direction = direction + step_size * np.asarray(step)
        if np.linalg.norm(direction) < 1e-3:
            continue
        assert fast.surface_radius_m(direction) == full.distance_m((0.0, 0.0, 0.0), direction)


# -- many rays ----------------------------------------------------------------------------
@st.composite
def ray_bundles(draw):
    n = draw(st.integers(1, 12))
    origins, dirs = [], []
    for _ in range(n):
        o, d = _ray(*draw(rays))
        origins.append(o)
        dirs.append(d * draw(st.floats(0.1, 10.0)))  # any length: normalised by cast
    subset = draw(st.one_of(st.none(), st.lists(st.integers(0, 1279), max_size=300,
                                                unique=True).map(sorted)))
    t_min = draw(st.sampled_from([0.0, 1e-6, 5.0]))
    return np.array(origins), np.array(dirs), subset, t_min


@st.composite
def coherent_bundles(draw):
    """Rays close together, as a lidar grid, a footprint or its shadow rays: culled as a
    bundle first."""
    look_from, range_m = draw(unit_vectors), draw(st.floats(0.0, 3000.0))
    aim = np.asarray(draw(unit_vectors))
    toward = _toward(look_from * range_m, 150.0 * aim, aim) if range_m > 0.0 else aim
    spread_m, spread = draw(st.floats(0.0, 60.0)), draw(st.floats(0.0, 0.3))
    n = draw(st.integers(4, 140))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    origins = look_from * range_m + rng.uniform(-1.0, 1.0, (n, 3)) * spread_m / 2.0
    dirs = toward + rng.uniform(-1.0, 1.0, (n, 3)) * spread / 2.0
    subset = draw(st.one_of(st.none(), st.lists(st.integers(0, 1279), max_size=600,
                                                unique=True).map(sorted)))
    return origins, dirs, subset, draw(st.sampled_from([0.0, 1e-6]))


@given(bundle=st.one_of(ray_bundles(), coherent_bundles()))
# From 150 m along the aim, aimed at the point 150 m along it (the draw CI found): the aim.
@example(bundle=(np.tile([150.0, 0.0, 0.0], (4, 1)), np.tile([1.0, 0.0, 0.0], (4, 1)), None,
                 0.0))
@settings(max_examples=200, deadline=None)
def test_batched_cast_equals_a_cast_over_every_face(bundle):
    """Nearest hit per ray, over every face or a subset of candidates, beyond t_min; rays
    anywhere, or close together (culled as a bundle first)."""
    origins, dirs, subset, t_min = bundle
    v, f, mesh = _bennu()
    faces, dist = mesh.cast(origins, dirs, subset, t_min_m=t_min)
    for k in range(0, len(origins), 1 + len(origins) // 20):
        oracle = _only(subset, _every_face(v, f, origins[k], dirs[k], t_min=t_min))
        _assert_nearest(float(dist[k]), int(faces[k]), oracle)


@given(bundle=st.one_of(ray_bundles(), coherent_bundles()))
@settings(max_examples=80, deadline=None)
def test_ray_face_hits_are_every_hit(bundle):
    """The culled pairs are exactly the hits: none lost to the cull (a hit well inside a
    face is found), none invented (a pair found is a hit with a tolerance a little wider)."""
    origins, dirs, _, t_min = bundle
    v, f, mesh = _bennu()
    unit = dirs / np.linalg.norm(dirs, axis=1)[:, None]
    rr, ff, t = mesh.ray_face_hits(origins, unit, None, t_min)
    found = set(zip(rr.tolist(), ff.tolist(), strict=True))
    for k in range(len(origins)):
        sure = np.flatnonzero(np.isfinite(_every_face(v, f, origins[k], unit[k], -1e-7,
                                                      t_min + 1e-9)))
        maybe = np.flatnonzero(np.isfinite(_every_face(v, f, origins[k], unit[k], 1e-7,
                                                       t_min - 1e-9)))
        mine = {face for ray, face in found if ray == k}
        assert set(sure.tolist()) <= mine <= set(maybe.tolist())


@given(bundle=st.one_of(ray_bundles(), coherent_bundles()))
@settings(max_examples=80, deadline=None)
def test_one_ray_and_many_rays_give_the_same_bits(bundle):
    """The plain-float path and the numpy path are the same arithmetic, and the culls
    (per ray, per bundle) change only which faces are tested."""
    origins, dirs, _, t_min = bundle
    _, _, mesh = _bennu()
    unit = dirs / np.linalg.norm(dirs, axis=1)[:, None]
    faces, dist = mesh.cast(origins, unit, t_min_m=t_min)
    for k in range(len(origins)):
        assert mesh.nearest_hit(origins[k], unit[k], t_min) == (float(dist[k]),
                                                                int(faces[k]))
    # cast is cast_unit (no checks, no normalising) of the directions it normalises.
    again = unit / np.sqrt((unit * unit).sum(axis=1))[:, None]
    unit_faces, unit_dist = mesh.cast_unit(origins, again, t_min_m=t_min)
    assert np.array_equal(unit_faces, faces) and np.array_equal(unit_dist, dist)


@given(bundle=st.one_of(ray_bundles(), coherent_bundles()), reach_m=st.floats(1.0, 3000.0))
@settings(max_examples=60, deadline=None)
def test_any_hit_before_equals_every_face(bundle, reach_m):
    origins, dirs, subset, t_min = bundle
    v, f, mesh = _bennu()
    unit = dirs / np.linalg.norm(dirs, axis=1)[:, None]
    cand = np.arange(len(f)) if subset is None else np.asarray(subset, dtype=np.int64)
    exclude = np.arange(len(origins)) * 97 % len(f)
    t_max = np.full(len(origins), reach_m)
    got = mesh.any_hit_before(origins, unit, t_max, cand, exclude, t_min)
    for k in range(len(origins)):
        oracle = _every_face(v, f, origins[k], unit[k], t_min=t_min)
        blocking = [face for face in cand if face != exclude[k] and oracle[face] < reach_m]
        margin = [face for face in cand if face != exclude[k]
                  and abs(oracle[face] - reach_m) < ROUNDOFF_M * reach_m]
        if not margin:
            assert got[k] == bool(blocking)


def _winding_number(v, f, p) -> float:
    """Sum of the faces' solid angles seen from p over 4 pi (Van Oosterom & Strackee)."""
    a, b, c = v[f[:, 0]] - p, v[f[:, 1]] - p, v[f[:, 2]] - p
    la, lb, lc = (np.linalg.norm(x, axis=1) for x in (a, b, c))
    num = np.einsum("ij,ij->i", a, np.cross(b, c))
    den = (la * lb * lc + np.einsum("ij,ij->i", a, b) * lc + np.einsum("ij,ij->i", b, c) * la
           + np.einsum("ij,ij->i", c, a) * lb)
    return float(2.0 * np.arctan2(num, den).sum() / (4.0 * math.pi))


@given(points=st.lists(st.tuples(unit_vectors, st.floats(0.0, 400.0)), min_size=1,
                       max_size=10))
@settings(max_examples=60, deadline=None)
def test_contains_equals_the_winding_number(points):
    v, f, mesh = _bennu()
    p = np.array([u * r for u, r in points])
    got = mesh.contains(p)
    for k, q in enumerate(p):
        if mesh.distance_to_surface_m(q) < 1e-6:
            continue  # on the surface: either answer
        assert got[k] == (_winding_number(v, f, q) > 0.5)


@given(direction=unit_vectors, radius_m=st.floats(10.0, 1000.0))
@settings(max_examples=40, deadline=None)
def test_distance_to_surface_equals_dense_samples_of_every_face(direction, radius_m):
    v, f, mesh = _sphere(100.0, 2)
    point = direction * radius_m
    n = 40  # barycentric grid of every face, spacing ~ edge / 40 (edges ~ 30 m here)
    i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1))
    keep = i + j <= n
    u, w = i[keep] / n, j[keep] / n
    samples = (mesh.v0[:, None, :] + u[None, :, None] * mesh.e1[:, None, :]
               + w[None, :, None] * mesh.e2[:, None, :])
    sampled_m = float(np.linalg.norm(samples - point, axis=2).min())
    spacing_m = float(np.linalg.norm(np.concatenate([mesh.e1, mesh.e2]), axis=1).max()) / n
    got = mesh.distance_to_surface_m(point)
    assert sampled_m - spacing_m <= got <= sampled_m + ROUNDOFF_M * max(1.0, radius_m)


# -- relief -------------------------------------------------------------------------------
@given(base_m=st.floats(0.5, 20.0), height_m=st.floats(0.05, 10.0), frac=st.floats(0.0, 1.2))
def test_spherical_cap_is_the_circle_through_its_rim_and_apex(base_m, height_m, frac):
    lateral_m = frac * base_m
    got = spherical_cap_height_m(base_m, height_m, lateral_m * lateral_m)
    if lateral_m >= base_m:
        assert got == 0.0
        return
    # Oracle: the circle through (-a, 0), (a, 0), (0, h), solved as a linear system.
    pts = np.array([[-base_m, 0.0], [base_m, 0.0], [0.0, height_m]])
    lhs = np.column_stack([2.0 * pts, np.ones(3)])
    cx, cz, k = np.linalg.solve(lhs, (pts * pts).sum(axis=1))
    rad = math.sqrt(k + cx * cx + cz * cz)
    want = cz + math.sqrt(rad * rad - (lateral_m - cx) ** 2)
    assert got == pytest.approx(want, abs=1e-9 * max(1.0, rad))
    assert 0.0 <= got <= height_m + 1e-12


def test_cap_height_at_its_apex_and_rim():
    assert spherical_cap_height_m(4.0, 1.5, 0.0) == pytest.approx(1.5, abs=1e-12)
    assert spherical_cap_height_m(4.0, 1.5, 16.0) == 0.0
    assert spherical_cap_height_m(4.0, 0.0, 0.0) == 0.0


# -- arguments ----------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda m: TriangleMesh(m.vertices_m[:, :2], m.faces),
    lambda m: TriangleMesh(m.vertices_m, m.faces + len(m.vertices_m)),
    lambda m: TriangleMesh(m.vertices_m, m.faces.astype(float)),
    lambda m: TriangleMesh(np.vstack([m.vertices_m, m.vertices_m[:1]]),
                           np.vstack([m.faces, [[0, 0, 1]]])),
    lambda m: m.nearest_hit([0, 0, 1000], [0, 0, 0]),
    lambda m: m.nearest_hit([0, 0, math.nan], [0, 0, -1]),
    lambda m: m.nearest_hit("xyz", [0, 0, -1]),
    lambda m: m.altitude_m([0, 0, 0]),
    lambda m: TriangleMesh(m.vertices_m + 1000.0, m.faces).surface_radius_m([0, 0, 1]),
    lambda m: m.cast(np.zeros((2, 3)), np.ones((3, 3))),
    lambda m: m.cast(np.zeros((1, 3)), np.zeros((1, 3))),
    lambda m: m.cast(np.full((1, 3), math.inf), np.ones((1, 3))),
])
def test_bad_arguments_raise_a_mesh_error(call):
    _, _, mesh = _bennu()
    with pytest.raises(MeshError):
        call(mesh)


def test_empty_casts_return_misses():
    _, _, mesh = _bennu()
    faces, dist = mesh.cast(np.zeros((0, 3)), np.zeros((0, 3)))
    assert faces.shape == (0,) and dist.shape == (0,)
    faces, dist = mesh.cast([[0.0, 0.0, 1000.0]], [[0.0, 0.0, -1.0]], candidates=[])
    assert faces.tolist() == [-1] and dist.tolist() == [math.inf]
