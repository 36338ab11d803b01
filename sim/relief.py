"""Boulders on the whole surface (truth) and the flash lidar that sees them.

A boulder is a spherical cap standing on a facet: centre on the facet plane,
base radius and height drawn per boulder.  A share of the facets carries one
boulder each, placed at a random point inside the facet (boulders here are
all taller than the probe's relief limit, so a boulder facet is unsafe).
The lidar casts each cell's ray on the truth mesh and shortens it by the cap
height at the hit point, divided by the cosine between ray and facet normal
(the cap is treated as locally flat: good to a few cm for these low caps).

The cells' directions are the simulator's own reading of PROBE_LIDAR_SCAN in the
ICD (flightsw/icd/prospector.xml), not the flight software's hazard code.
"""

import math

import numpy as np

from flightsw.geometry.mesh import spherical_cap_height_m
from flightsw.icd import mavlink
from sim.noise import NoiseStream

SCAN_CELLS_MAX = 49  # PROBE_LIDAR_SCAN.ranges_m holds 49 values: a grid of at most 7 x 7


def lidar_cell_directions_bf(axes_bf, fov_full_rad: float, grid_n: int) -> np.ndarray:
    """Unit directions (grid_n**2, 3) of a PROBE_LIDAR_SCAN's cells, in the frame of the
    spacecraft axes given (axes_bf: x_sc, y_sc, z_sc as rows).

    The ICD's grid: grid_n x grid_n cells about the boresight +z_sc, row-major, the row
    index running along +x_sc and the column index along +y_sc; fov_full_rad spans the
    grid from the centre of one outer cell to the centre of the opposite one.  The cells
    are equally spaced in angle on each axis: cell (r, c) is tilted by angle(r) toward
    +x_sc and by angle(c) toward +y_sc, angle(k) = (k - (grid_n - 1) / 2) fov / (grid_n - 1),
    i.e. it looks along (tan angle(r), tan angle(c), 1) in spacecraft axes.
    """
    n = int(grid_n)
    if not 1 <= n * n <= SCAN_CELLS_MAX:
        raise ValueError(f"grid_n must be in 1..7 (PROBE_LIDAR_SCAN), got {grid_n}")
    if not 0.0 <= fov_full_rad < math.pi:
        raise ValueError(f"fov_full_rad must be in [0, pi), got {fov_full_rad}")
    x_sc, y_sc, z_sc = (np.asarray(a, dtype=float) for a in axes_bf)
    spacing_rad = fov_full_rad / (n - 1) if n > 1 else 0.0
    tilt = np.tan((np.arange(n) - 0.5 * (n - 1)) * spacing_rad)
    toward_x = np.repeat(tilt, n)  # cell k = r * n + c: r = k // n
    toward_y = np.tile(tilt, n)  # c = k % n
    length = np.sqrt(toward_x * toward_x + toward_y * toward_y + 1.0)
    cx, cy, cz = toward_x / length, toward_y / length, 1.0 / length
    # Spacecraft axes to bf as explicit sums (a matrix product's rounding depends on the
    # BLAS build: the world must give the same bits on every machine).
    return cx[:, None] * x_sc + cy[:, None] * y_sc + cz[:, None] * z_sc


class BoulderField:
    """Boulders drawn from the seed on the faces of a flightsw.geometry.mesh.TriangleMesh."""

    def __init__(self, mesh, seed: int, facet_fraction: float, radius_range_m: tuple,
                 height_range_m: tuple):
        self.mesh = mesh
        n = mesh.n_faces
        draw = NoiseStream(seed, "boulders")
        self.max_height_m = np.zeros(n)
        self.by_face: dict[int, tuple] = {}  # face -> (centre_bf, radius_m, height_m)
        for face in range(n):
            if draw.uniform() >= facet_fraction:
                continue
            a, b = draw.uniform(), draw.uniform()
            if a + b > 1.0:
                a, b = 1.0 - a, 1.0 - b
            # Keep the boulder inside the facet (shrink toward the centroid).
            a, b = 0.2 + 0.6 * a, 0.2 + 0.6 * b
            if a + b > 0.9:
                a, b = a * 0.9 / (a + b), b * 0.9 / (a + b)
            centre = mesh.v0[face] + a * mesh.e1[face] + b * mesh.e2[face]
            radius = radius_range_m[0] + (radius_range_m[1] - radius_range_m[0]) * draw.uniform()
            height = height_range_m[0] + (height_range_m[1] - height_range_m[0]) * draw.uniform()
            self.by_face[face] = (centre, radius, height)
            self.max_height_m[face] = height

    def height_m(self, face: int, point_bf) -> float:
        """Cap height above the facet plane at a point of that facet (0 off the boulder)."""
        b = self.by_face.get(face)
        if b is None:
            return 0.0
        centre, radius, height = b
        n = self.mesh.normals[face]
        d = np.asarray(point_bf, dtype=float) - centre
        return spherical_cap_height_m(radius, height, float(d @ d - (d @ n) ** 2))

    def hazards_near(self, point_bf, radius_m: float) -> list:
        p = np.asarray(point_bf, dtype=float)
        return [(c, r, h) for c, r, h in self.by_face.values()
                if np.linalg.norm(c - p) <= radius_m + r]


class FlashLidarModel:
    def __init__(self, noise: NoiseStream, mesh, boulders: BoulderField, grid_n: int,
                 fov_full_rad: float, sigma_m: float, max_range_m: float):
        self.noise = noise
        self.mesh = mesh
        self.boulders = boulders
        self.grid_n = grid_n
        self.fov_full_rad = fov_full_rad
        self.sigma_m = sigma_m
        self.max_range_m = max_range_m

    def measure(self, t_us: int, pos_bf, axes_bf):
        n = self.grid_n
        pos = np.asarray(pos_bf, dtype=float)
        dirs = lidar_cell_directions_bf(axes_bf, self.fov_full_rad, n)
        ranges = [0.0] * SCAN_CELLS_MAX
        centre_m, _ = self.mesh.nearest_hit(pos, dirs[n * n // 2])
        if centre_m <= self.max_range_m:  # no return at the centre: the scan sees nothing
            faces, dist = self.mesh.cast(np.repeat(pos[None], n * n, axis=0), dirs)
            for k in range(n * n):
                face = int(faces[k])
                if face < 0 or dist[k] > self.max_range_m:
                    continue
                r = float(dist[k])
                if face in self.boulders.by_face:
                    h = self.boulders.height_m(face, pos + dirs[k] * r)
                    if h > 0.0:
                        cos = -float(dirs[k] @ self.mesh.normals[face])
                        r -= h / max(cos, 0.2)
                ranges[k] = r + self.noise.gauss(self.sigma_m)
        return mavlink.MAVLink_probe_lidar_scan_message(t_us, self.fov_full_rad, n, ranges)
