"""Boulders on the whole surface (truth) and the flash lidar that sees them.

A boulder is a spherical cap standing on a facet: centre on the facet plane,
base radius and height drawn per boulder.  A share of the facets carries one
boulder each, placed at a random point inside the facet (boulders here are
all taller than the probe's relief limit, so a boulder facet is unsafe).
The lidar casts each cell's ray on the mesh and shortens it by the cap height
at the hit point, divided by the cosine between ray and facet normal (the cap
is treated as locally flat: good to a few cm for these low caps).
"""

import math

import numpy as np

from flightsw.icd import mavlink
from flightsw.prospect.hazard import scan_directions
from flightsw.prospect.shape_model import ShapeModel
from sim.noise import NoiseStream


class BoulderField:
    def __init__(self, vertices_m, faces, seed: int, facet_fraction: float,
                 radius_range_m: tuple, height_range_m: tuple):
        self.shape = ShapeModel(vertices_m, faces)
        n = self.shape.n_sites
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
            centre = self.shape.v0[face] + a * self.shape.e1[face] + b * self.shape.e2[face]
            radius = radius_range_m[0] + (radius_range_m[1] - radius_range_m[0]) * draw.uniform()
            height = height_range_m[0] + (height_range_m[1] - height_range_m[0]) * draw.uniform()
            self.by_face[face] = (centre, radius, height)
            self.max_height_m[face] = height

    def height_m(self, face: int, point_bf) -> float:
        """Cap height above the facet plane at a point of that facet (0 off the boulder)."""
        b = self.by_face.get(face)
        if b is None:
            return 0.0
        centre, a, h = b
        n = self.shape.normals[face]
        d = np.asarray(point_bf, dtype=float) - centre
        lateral2 = float(d @ d - (d @ n) ** 2)
        if lateral2 >= a * a:
            return 0.0
        big_r = (a * a + h * h) / (2.0 * h)
        return math.sqrt(big_r * big_r - lateral2) - (big_r - h)

    def hazards_near(self, point_bf, radius_m: float) -> list:
        p = np.asarray(point_bf, dtype=float)
        return [(c, r, h) for c, r, h in self.by_face.values()
                if np.linalg.norm(c - p) <= radius_m + r]


class FlashLidarModel:
    def __init__(self, noise: NoiseStream, ray_caster, boulders: BoulderField, grid_n: int,
                 fov_full_rad: float, sigma_m: float, max_range_m: float):
        self.noise = noise
        self.boulders = boulders
        self.shape = boulders.shape
        self.grid_n = grid_n
        self.fov_full_rad = fov_full_rad
        self.sigma_m = sigma_m
        self.max_range_m = max_range_m

    def measure(self, t_us: int, pos_bf, axes_bf):
        n = self.grid_n
        pos = np.asarray(pos_bf, dtype=float)
        dirs = scan_directions(axes_bf, self.fov_full_rad, n)
        centre_id, centre_d = self.shape.ray_hits(pos[None], dirs[n * n // 2][None])
        ranges = [0.0] * 49
        if centre_id[0] >= 0 and centre_d[0] <= self.max_range_m:
            hit = pos + dirs[n * n // 2] * centre_d[0]
            span = centre_d[0] * self.fov_full_rad + 60.0
            cand = self.shape.faces_near(hit, span)
            ids, dist = self.shape.ray_hits(np.repeat(pos[None], n * n, axis=0), dirs, cand)
            for k in range(n * n):
                face = int(ids[k])
                if face < 0 or dist[k] > self.max_range_m:
                    continue
                r = float(dist[k])
                if face in self.boulders.by_face:
                    p = pos + dirs[k] * r
                    h = self.boulders.height_m(face, p)
                    if h > 0.0:
                        cos = -float(dirs[k] @ self.shape.normals[face])
                        r -= h / max(cos, 0.2)
                ranges[k] = r + self.noise.gauss(self.sigma_m)
        return mavlink.MAVLink_probe_lidar_scan_message(t_us, self.fov_full_rad, n, ranges)
