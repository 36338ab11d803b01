"""The touch-and-go site in the simulator (sim/site.py): surface, slope, hazards, landmarks.

Oracles of the test's own: the boulder cap against the circle through its rim and top, the
target point and facet by a brute-force ray-triangle loop, the slope from a point mass's
gravity plus the centrifugal term written out here, the landmark grid counted directly.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.geometry.mesh import TriangleMesh
from sim.shape import icosphere
from sim.site import Hazard, SiteError, TargetSite, landmark_catalogue, locate_site

METRE = 1.0
DEG = 1.0
RADIUS_M = 250.0
GM = 4.892
V, F = icosphere(3)
V = V * RADIUS_M
CASTER = TriangleMesh(V, F)


def _basis(n):
    n = np.asarray(n, dtype=float)
    e1 = np.cross(n, [0.0, 0.0, 1.0] if abs(n[2]) < 0.9 else [1.0, 0.0, 0.0])
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(n, e1)


# -- the local surface ---------------------------------------------------------------------

N_SITE = (0.0, 0.6, 0.8)
O_SITE = (100.0, 20.0, -30.0)
E1, E2 = _basis(N_SITE)


def _at(height, a=0.0, b=0.0, origin=O_SITE):
    return tuple(np.asarray(origin) + height * np.asarray(N_SITE) + a * E1 + b * E2)


def _circle_through(p1, p2, p3):
    """Centre and radius of the circle through three points of a plane (2-D)."""
    (x1, y1), (x2, y2), (x3, y3) = p1, p2, p3
    d = 2.0 * (x1 * (y2 - y3) + x2 * (y3 - y1) + x3 * (y1 - y2))
    ux = ((x1 ** 2 + y1 ** 2) * (y2 - y3) + (x2 ** 2 + y2 ** 2) * (y3 - y1)
          + (x3 ** 2 + y3 ** 2) * (y1 - y2)) / d
    uy = ((x1 ** 2 + y1 ** 2) * (x3 - x2) + (x2 ** 2 + y2 ** 2) * (x1 - x3)
          + (x3 ** 2 + y3 ** 2) * (x2 - x1)) / d
    return (ux, uy), math.hypot(x1 - ux, y1 - uy)


@settings(max_examples=60, deadline=None)
@given(height=st.floats(-50.0, 50.0), a=st.floats(-30.0, 30.0), b=st.floats(-30.0, 30.0))
def test_plane_height_is_the_distance_along_the_normal(height, a, b):
    site = TargetSite(O_SITE, N_SITE, 0.0, ())
    assert site.plane_height_m(_at(height, a, b)) == pytest.approx(height, abs=1e-9)
    assert site.surface_height_m(_at(height, a, b)) == 0.0  # no boulders: the plane


@settings(max_examples=60, deadline=None)
@given(radius=st.floats(0.5, 8.0), top=st.floats(0.1, 3.0), where=st.floats(0.0, 0.999),
       angle=st.floats(0.0, 2.0 * math.pi), above=st.floats(-5.0, 5.0))
def test_a_boulder_is_a_spherical_cap_of_its_radius_and_height(radius, top, where, angle,
                                                               above):
    centre = _at(0.0, 3.0, -2.0)
    site = TargetSite(O_SITE, N_SITE, 0.0, (Hazard(centre, radius, top, True),))
    rho = where * radius
    p = np.asarray(centre) + above * np.asarray(N_SITE) + rho * (
        math.cos(angle) * E1 + math.sin(angle) * E2)
    h = site.surface_height_m(p)
    # (rho, h) is on the circle through the rim (+-radius, 0) and the top (0, top).
    (cx, cy), r = _circle_through((-radius, 0.0), (radius, 0.0), (0.0, top))
    assert math.hypot(rho - cx, h - cy) == pytest.approx(r, rel=1e-9, abs=1e-9)
    assert 0.0 <= h <= top * (1.0 + 1e-12)
    # Outside the rim: the plane again.
    q = np.asarray(centre) + (radius * 1.001) * (math.cos(angle) * E1 + math.sin(angle) * E2)
    assert site.surface_height_m(q) == 0.0


def test_overlapping_boulders_the_higher_surface_counts():
    low = Hazard(_at(0.0, 0.0, 0.0), 5.0, 0.5, True)
    high = Hazard(_at(0.0, 2.0, 0.0), 2.0, 1.5, True)
    site = TargetSite(O_SITE, N_SITE, 0.0, (low, high))
    assert site.surface_height_m(_at(0.0, 2.0, 0.0)) == pytest.approx(1.5)
    assert site.surface_height_m(_at(0.0, -3.0, 0.0)) == pytest.approx(
        TargetSite(O_SITE, N_SITE, 0.0, (low,)).surface_height_m(_at(0.0, -3.0, 0.0)))


# -- locating the target on a mesh -----------------------------------------------------------

def _hit_by_brute_force(direction):
    """Face and point where the ray from the centre leaves the mesh (Moller-Trumbore over
    every face)."""
    d = np.asarray(direction, dtype=float)
    best = (math.inf, -1)
    for k, (i, j, m) in enumerate(F):
        a, b, c = V[i], V[j], V[m]
        e1, e2 = b - a, c - a
        pvec = np.cross(d, e2)
        det = e1 @ pvec
        if abs(det) < 1e-12:
            continue
        tvec = -a
        u = (tvec @ pvec) / det
        qvec = np.cross(tvec, e1)
        v = (d @ qvec) / det
        t = (e2 @ qvec) / det
        if u >= 0.0 and v >= 0.0 and u + v <= 1.0 and 0.0 < t < best[0]:
            best = (t, k)
    t, k = best
    v = V[F[k]]
    n = np.cross(v[1] - v[0], v[2] - v[0])
    n /= np.linalg.norm(n)
    return d * t, (n if n @ v.mean(axis=0) > 0.0 else -n)


def _point_mass(x, y, z):
    r = math.sqrt(x * x + y * y + z * z)
    return (-GM * x / r ** 3, -GM * y / r ** 3, -GM * z / r ** 3)


def _direction(lat_deg, lon_deg):
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    return (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))


@pytest.mark.parametrize(("lat", "lon", "spin"), [
    (0.0, 0.0, 0.0), (8.55, -90.0, 4.06e-4), (35.0, 120.0, 4.06e-4), (-60.0, 10.0, 1e-3)])
def test_target_point_normal_and_slope_against_independent_geometry(lat, lon, spin):
    site = locate_site(CASTER, _point_mass, spin, lat, lon, (), 90.0, "test")
    point, normal = _hit_by_brute_force(_direction(lat, lon))
    assert np.linalg.norm(np.asarray(site.point_bf_m) - point) < 1e-6 * METRE
    assert np.asarray(site.normal_bf) @ normal == pytest.approx(1.0, abs=1e-12)
    # Effective gravity: the point mass plus the centrifugal term of the spin about z.
    p = point + 0.01 * normal
    g = np.asarray(_point_mass(*p)) + spin ** 2 * np.array([point[0], point[1], 0.0])
    slope = math.degrees(math.acos(-(g @ normal) / np.linalg.norm(g)))
    assert site.slope_deg == pytest.approx(slope, abs=1e-6 * DEG)


def test_a_target_steeper_than_the_limit_is_refused_in_one_line():
    steep = locate_site(CASTER, _point_mass, 4e-4, 40.0, 0.0, (), 90.0, "test").slope_deg
    assert steep > 5.0 * DEG
    with pytest.raises(SiteError) as info:
        locate_site(CASTER, _point_mass, 4e-4, 40.0, 0.0, (), steep - 0.1, "sc.toml")
    message = str(info.value)
    assert message.startswith("sc.toml: tag.target_latlon_deg:") and "slope" in message
    assert len(message.splitlines()) == 1
    locate_site(CASTER, _point_mass, 4e-4, 40.0, 0.0, (), steep + 0.1, "sc.toml")  # accepted


def test_hazards_are_put_on_the_target_plane_and_kept_near_it():
    near = (0.5, 1.0, 2.0, 0.5, True)  # ~2-5 m away on the 250 m sphere
    site = locate_site(CASTER, _point_mass, 0.0, 0.0, 0.0, [near], 90.0, "test")
    (hz,) = site.hazards
    assert site.plane_height_m(hz.center_bf_m) == pytest.approx(0.0, abs=1e-9)
    assert (hz.radius_m, hz.height_m, hz.mapped) == (2.0, 0.5, True)
    far = (20.0, 0.0, 2.0, 0.5, True)  # ~87 m away: beyond the local surface model
    with pytest.raises(SiteError, match=r"tag.hazards\[0\].*within 60 m"):
        locate_site(CASTER, _point_mass, 0.0, 0.0, 0.0, [far], 90.0, "test")


def test_a_hazard_on_the_target_must_be_mapped():
    on_target = (0.0, 0.0, 3.0, 0.6, False)
    with pytest.raises(SiteError, match=r"tag.hazards\[0\]: an unmapped hazard covers"):
        locate_site(CASTER, _point_mass, 0.0, 0.0, 0.0, [on_target], 90.0, "test")
    mapped = (0.0, 0.0, 3.0, 0.6, True)  # a wave-off test case, allowed
    site = locate_site(CASTER, _point_mass, 0.0, 0.0, 0.0, [mapped], 90.0, "test")
    assert math.dist(site.hazards[0].center_bf_m, site.point_bf_m) < 3.0


# -- landmarks --------------------------------------------------------------------------------

def test_landmarks_are_the_vertices_without_a_site():
    assert np.array_equal(landmark_catalogue(V, None), V)


# Radii that are whole multiples of the spacing: the grid starts at -radius, so only then
# does it hold the target point itself.
@pytest.mark.parametrize(("spacing", "radius"), [(4.0, 40.0), (5.0, 15.0)])
def test_landmarks_add_a_grid_on_the_target_plane(spacing, radius):
    site = locate_site(CASTER, _point_mass, 0.0, 10.0, 30.0, (), 90.0, "test")
    cat = landmark_catalogue(V, site, spacing, radius)
    assert np.array_equal(cat[:len(V)], V)
    grid = cat[len(V):]
    steps = int(radius // spacing)
    count = sum(1 for i in range(-steps, steps + 1) for j in range(-steps, steps + 1)
                if (i * spacing) ** 2 + (j * spacing) ** 2 <= radius ** 2)
    assert len(grid) == count
    offsets = grid - np.asarray(site.point_bf_m)
    assert np.all(np.abs(offsets @ np.asarray(site.normal_bf)) < 1e-9)  # on the plane
    assert np.all(np.linalg.norm(offsets, axis=1) <= radius + 1e-9)
    gaps = np.linalg.norm(grid[:, None] - grid[None], axis=2) + np.eye(len(grid)) * 1e9
    assert gaps.min() == pytest.approx(spacing)
    assert np.min(np.linalg.norm(offsets, axis=1)) < 1e-9  # the target point is a landmark
