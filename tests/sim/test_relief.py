"""The flash lidar and the boulders (sim/relief.py): the scan grid as the ICD defines it,
the same grid as the flight software's reading of it, and ranges against ray casts."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from flightsw.geometry.mesh import TriangleMesh
from flightsw.prospect.hazard import scan_directions
from sim.noise import NoiseStream
from sim.relief import BoulderField, FlashLidarModel, lidar_cell_directions_bf
from sim.shape import bennu_top_shape

AGREE_RAD = 1e-12
V, F = bennu_top_shape(3)
MESH = TriangleMesh(V, F)

attitudes = st.tuples(*[st.floats(-1.0, 1.0) for _ in range(4)]).filter(
    lambda q: math.hypot(*q) > 0.1).map(lambda q: Rotation.from_quat(q).as_matrix().T)


@given(axes=attitudes, fov=st.floats(0.0, 1.0), n=st.integers(1, 7))
@settings(max_examples=100)
def test_cells_are_tilted_by_equal_angles_about_each_axis(axes, fov, n):
    """PROBE_LIDAR_SCAN: row-major, rows along +x_sc, columns along +y_sc, the outer cells'
    centres fov apart, about the boresight +z_sc."""
    d = lidar_cell_directions_bf(axes, fov, n)
    assert d.shape == (n * n, 3)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-15)
    x, y, z = axes
    step = fov / (n - 1) if n > 1 else 0.0
    for k in range(n * n):
        r, c = divmod(k, n)
        assert math.atan2(d[k] @ x, d[k] @ z) == pytest.approx((r - (n - 1) / 2) * step,
                                                               abs=1e-12)
        assert math.atan2(d[k] @ y, d[k] @ z) == pytest.approx((c - (n - 1) / 2) * step,
                                                               abs=1e-12)


@given(axes=attitudes, fov=st.floats(0.0, 1.0), n=st.integers(1, 7))
@settings(max_examples=100)
def test_the_world_and_the_flight_software_read_the_grid_alike(axes, fov, n):
    sim_dirs = lidar_cell_directions_bf(axes, fov, n)
    flight_dirs = scan_directions(axes, fov, n)
    angle = np.arctan2(np.linalg.norm(np.cross(sim_dirs, flight_dirs), axis=1),
                       np.einsum("ij,ij->i", sim_dirs, flight_dirs))
    assert float(angle.max()) <= AGREE_RAD


@pytest.mark.parametrize(("fov", "n"), [(0.02, 8), (0.02, 0), (-0.1, 7), (math.pi, 7)])
def test_a_grid_the_message_cannot_carry_is_refused(fov, n):
    with pytest.raises(ValueError):
        lidar_cell_directions_bf(np.eye(3), fov, n)


def _looking_down_at(face, altitude_m):
    n = MESH.normals[face]
    pos = MESH.centroids[face] + altitude_m * n
    z = -n
    x = np.cross([0.0, 0.0, 1.0], z)
    x /= np.linalg.norm(x)
    return pos, np.array([x, np.cross(z, x), z])


@pytest.mark.parametrize("face", [10, 200, 777])
def test_a_bare_surface_returns_the_ray_cast_ranges(face):
    boulders = BoulderField(MESH, 1, 0.0, (3.0, 8.0), (0.6, 3.0))
    lidar = FlashLidarModel(NoiseStream(1, "t"), MESH, boulders, 7, 0.05, 0.0, 5000.0)
    pos, axes = _looking_down_at(face, 500.0)
    msg = lidar.measure(0, pos, axes)
    assert msg.grid_n == 7 and msg.fov_full_rad == pytest.approx(0.05)
    dirs = lidar_cell_directions_bf(axes, 0.05, 7)
    for k in range(49):
        assert msg.ranges_m[k] == pytest.approx(MESH.distance_m(pos, dirs[k]), abs=1e-3)


def test_a_boulder_shortens_the_ranges_by_its_cap():
    boulders = BoulderField(MESH, 3, 1.0, (6.0, 6.0), (2.0, 2.0))
    lidar = FlashLidarModel(NoiseStream(1, "t"), MESH, boulders, 7, 0.01, 0.0, 5000.0)
    face = 321
    centre, radius, height = boulders.by_face[face]
    n = MESH.normals[face]
    pos = centre + 300.0 * n
    z = -n
    x = np.cross([0.0, 0.0, 1.0], z)
    x /= np.linalg.norm(x)
    msg = lidar.measure(0, pos, np.array([x, np.cross(z, x), z]))
    # The centre cell looks straight down on the boulder's top.
    assert msg.ranges_m[24] == pytest.approx(300.0 - height, abs=1e-3)
    assert boulders.height_m(face, centre) == pytest.approx(height)
    assert boulders.height_m(face, centre + 1.01 * radius * x) == 0.0
    assert boulders.max_height_m[face] == height


def test_nothing_in_range_returns_no_ranges():
    boulders = BoulderField(MESH, 1, 0.0, (3.0, 8.0), (0.6, 3.0))
    lidar = FlashLidarModel(NoiseStream(1, "t"), MESH, boulders, 7, 0.05, 0.0, 400.0)
    pos, axes = _looking_down_at(10, 500.0)
    assert list(lidar.measure(0, pos, axes).ranges_m) == [0.0] * 49
    assert list(lidar.measure(0, pos, -axes).ranges_m) == [0.0] * 49  # looking away
