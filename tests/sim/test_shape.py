"""Tests of sim.shape: the Bennu top mesh (mesh mathematics: tests/flightsw/geometry)."""

import math
from functools import cache

import numpy as np
import pytest

from flightsw.geometry.mesh import (
    TriangleMesh,
    circumscribing_radius_m,
    mesh_signed_volume_m3,
    mesh_volume_m3,
)
from sim.shape import BENNU_EXTENT_M, bennu_top_shape, icosphere

METER = 1.0
KM3 = 1e9  # m³
ROUNDOFF_M = 1e-9 * METER  # float64 round-off on ~1 km lengths


@cache
def _bennu(subdivisions: int = 3):
    return bennu_top_shape(subdivisions)


def _directed_edges(faces):
    return np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])


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
    caster = TriangleMesh(v, f)
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


@pytest.mark.parametrize("bad", [-1, 8, 2.0, True])
def test_bad_subdivisions_rejected(bad):
    with pytest.raises((ValueError, TypeError)):
        bennu_top_shape(bad)
