"""Boulders on the whole surface (truth) and the flash lidar that sees them.

A boulder is a spherical cap standing on a facet plane: base centre on the
plane, base radius a, height h; the cap is the part above the plane of the
sphere of radius R = (a^2 + h^2) / (2 h) centred R - h below the base centre.
A share of the facets carries one boulder each, its base centre drawn
uniformly in the facet's triangle shrunk by half about the centroid (so most
of the base lies on that facet; the rest overhangs its neighbours, which the
truth relief per facet accounts for).

The flash lidar casts each cell's ray on the truth mesh and then on the
boulder spheres near the hit: the range is the entry into the first cap met
before the ground (exact ray-sphere, no flat-cap approximation), plus Gaussian
noise.  Its grid follows flightsw.prospect.hazard.scan_directions, the one
documented convention of PROBE_LIDAR_SCAN.
"""

import math

import numpy as np

from flightsw.icd import mavlink
from flightsw.prospect.hazard import scan_directions
from sim.facet_geometry import facet_down_bf
from sim.noise import NoiseStream

SCAN_CELLS = 49  # PROBE_LIDAR_SCAN.ranges_m length


def _cap_height(lateral_m, a, h):
    """Cap height above its base plane at a lateral distance from the base centre."""
    big_r = (a * a + h * h) / (2.0 * h)
    inside = lateral_m < a
    z = np.sqrt(np.maximum(big_r * big_r - np.minimum(lateral_m, a) ** 2, 0.0)) - (big_r - h)
    return np.where(inside, np.maximum(z, 0.0), 0.0)


def _point_triangle_distance(p, a, b, c) -> float:
    """Shortest distance from p to the triangle abc (3-D)."""
    ab, ac, ap = b - a, c - a, p - a
    n = np.cross(ab, ac)
    nn = float(n @ n)
    s = float(np.cross(ap, ac) @ n) / nn
    t = float(np.cross(ab, ap) @ n) / nn
    if s >= 0.0 and t >= 0.0 and s + t <= 1.0:
        return abs(float(ap @ n)) / math.sqrt(nn)

    def seg(q, d):
        u = min(1.0, max(0.0, float((p - q) @ d) / float(d @ d)))
        return float(np.linalg.norm(p - q - u * d))
    return min(seg(a, ab), seg(a, ac), seg(b, c - b))


class BoulderField:
    """Truth relief: boulders (spherical caps) on a share of the facets.

    vertices_m, faces: the truth mesh (bf, m); seed: the scenario seed (stream
    "boulders"); facet_fraction: share of facets with a boulder (each facet drawn
    independently); radius_range_m, height_range_m: (lo, hi) uniform draws.
    gravity_bf (optional, callable (x, y, z) -> g bf m/s^2) and spin_rate_radps
    give the truth slope per facet against gravity + centrifugal; without gravity,
    the slope is against minus the centroid direction.
    """

    def __init__(self, vertices_m, faces, seed: int, facet_fraction: float,
                 radius_range_m: tuple, height_range_m: tuple, gravity_bf=None,
                 spin_rate_radps: float = 0.0):
        if not 0.0 <= facet_fraction <= 1.0:
            raise ValueError(f"facet_fraction must be in [0, 1], got {facet_fraction}")
        (r_lo, r_hi), (h_lo, h_hi) = radius_range_m, height_range_m
        if not 0.0 < r_lo <= r_hi or not 0.0 < h_lo <= h_hi:
            raise ValueError(f"radius and height ranges must be 0 < lo <= hi, got "
                             f"{radius_range_m}, {height_range_m}")
        v = np.asarray(vertices_m, dtype=float)
        f = np.asarray(faces, dtype=np.int64)
        self.vertices_m, self.faces = v, f
        tri = v[f]
        self._tri = tri
        normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        self.normals = normals / np.linalg.norm(normals, axis=1)[:, None]
        self.centroids = tri.mean(axis=1)
        n = len(f)
        self.n_facets = n
        draw = NoiseStream(seed, "boulders")
        centres, radii, heights, home = [], [], [], []
        for face in range(n):
            if draw.uniform() >= facet_fraction:
                continue
            s, t = draw.uniform(), draw.uniform()
            if s + t > 1.0:
                s, t = 1.0 - s, 1.0 - t
            corner = tri[face, 0] + s * (tri[face, 1] - tri[face, 0]) + \
                t * (tri[face, 2] - tri[face, 0])
            centres.append(self.centroids[face] + 0.5 * (corner - self.centroids[face]))
            radii.append(r_lo + (r_hi - r_lo) * draw.uniform())
            heights.append(h_lo + (h_hi - h_lo) * draw.uniform())
            home.append(face)
        self.centre_bf_m = np.array(centres).reshape(-1, 3)
        self.radius_m = np.array(radii)
        self.height_m = np.array(heights)
        self.home_face = np.array(home, dtype=np.int64)
        self.boulder_normal = self.normals[self.home_face] if home else np.zeros((0, 3))
        # Truth relief per facet: the highest cap height over the facet's triangle (its own
        # boulder and any overhanging from a neighbour), and which boulders touch which facet.
        self.max_height_m = np.zeros(n)
        self.on_face: dict[int, list[int]] = {}
        circum = np.linalg.norm(tri - self.centroids[:, None, :], axis=2).max(axis=1)
        for b in range(len(self.radius_m)):
            c, a, h = self.centre_bf_m[b], self.radius_m[b], self.height_m[b]
            near = np.flatnonzero(np.linalg.norm(self.centroids - c, axis=1) <= circum + a)
            for face in near.tolist():
                d = _point_triangle_distance(c, *tri[face])
                if d < a:
                    self.on_face.setdefault(face, []).append(b)
                    self.max_height_m[face] = max(self.max_height_m[face],
                                                  float(_cap_height(np.array(d), a, h)))
        if gravity_bf is None:
            down = -self.centroids / np.linalg.norm(self.centroids, axis=1)[:, None]
        else:
            down = facet_down_bf(v, f, gravity_bf, spin_rate_radps)
        self.down_bf = down
        cos = np.clip(-(self.normals * down).sum(axis=1), -1.0, 1.0)
        self.slope_deg = np.degrees(np.arccos(cos))

    # -- truth queries -------------------------------------------------------------------------
    def height_above_facet_m(self, face: int, point_bf) -> float:
        """Relief above the facet plane at a point of that facet, m (0 off every boulder).

        Each touching boulder's height is taken along its own facet's normal (neighbouring
        facets differ by a few degrees: a few cm on these low caps)."""
        p = np.asarray(point_bf, dtype=float)
        top = 0.0
        for b in self.on_face.get(face, ()):
            d = p - self.centre_bf_m[b]
            nb = self.boulder_normal[b]
            lateral = math.sqrt(max(float(d @ d) - float(d @ nb) ** 2, 0.0))
            top = max(top, float(_cap_height(np.array(lateral), self.radius_m[b],
                                             self.height_m[b])))
        return top

    def truth_safe(self, slope_limit_deg: float, boulder_limit_m: float) -> np.ndarray:
        """Per facet: truth slope and truth relief within the limits (the flight rules)."""
        return (self.slope_deg <= slope_limit_deg) & (self.max_height_m <= boulder_limit_m)

    def hazards_near(self, point_bf, radius_m: float) -> list:
        """Boulders whose base reaches within radius_m of a point:
        [(centre_bf (3,) m, base radius m, height m), ...], nearest first."""
        p = np.asarray(point_bf, dtype=float)
        if len(self.radius_m) == 0:
            return []
        dist = np.linalg.norm(self.centre_bf_m - p, axis=1)
        sel = np.flatnonzero(dist <= radius_m + self.radius_m)
        sel = sel[np.argsort(dist[sel], kind="stable")]
        return [(self.centre_bf_m[b].copy(), float(self.radius_m[b]), float(self.height_m[b]))
                for b in sel.tolist()]

    def ray_boulder_t(self, origin_bf, dir_bf, t_ground: float) -> float:
        """Distance along a unit ray to the first boulder cap met before t_ground (else
        t_ground)."""
        if len(self.radius_m) == 0 or not math.isfinite(t_ground):
            return t_ground
        o = np.asarray(origin_bf, dtype=float)
        d = np.asarray(dir_bf, dtype=float)
        hit = o + d * t_ground
        near = np.flatnonzero(np.linalg.norm(self.centre_bf_m - hit, axis=1)
                              <= self.radius_m + 1.0 + 0.5 * self.height_m)
        best = t_ground
        for b in near.tolist():
            a, h, nb = self.radius_m[b], self.height_m[b], self.boulder_normal[b]
            big_r = (a * a + h * h) / (2.0 * h)
            sc = self.centre_bf_m[b] - nb * (big_r - h)  # sphere centre
            w = o - sc
            bq = float(w @ d)
            disc = bq * bq - (float(w @ w) - big_r * big_r)
            if disc <= 0.0:
                continue
            t1 = -bq - math.sqrt(disc)
            if 0.0 < t1 < best and float((o + d * t1 - self.centre_bf_m[b]) @ nb) >= 0.0:
                best = t1
        return best


class FlashLidarModel:
    """The survey's flash lidar: an n x n grid of ranges about the boresight.

    noise: NoiseStream for the range noise; ray_caster: sim.shape.MeshRayCaster of the
    truth mesh; boulders: the BoulderField; fov_full_rad: corner-to-corner cell angle on
    each axis; sigma_m: range noise (1 sigma); max_range_m: no return beyond.
    """

    def __init__(self, noise: NoiseStream, ray_caster, boulders: BoulderField,
                 grid_n: int = 7, fov_full_rad: float = 0.02, sigma_m: float = 0.05,
                 max_range_m: float = 5000.0):
        if not 1 <= int(grid_n) or int(grid_n) ** 2 > SCAN_CELLS:
            raise ValueError(f"grid_n must be 1..7 (ranges_m holds {SCAN_CELLS}), got {grid_n}")
        if sigma_m < 0.0 or max_range_m <= 0.0:
            raise ValueError("sigma_m must be >= 0 and max_range_m > 0")
        self.noise = noise
        self.caster = ray_caster
        self.boulders = boulders
        self.grid_n = int(grid_n)
        self.fov_full_rad = float(fov_full_rad)
        self.sigma_m = float(sigma_m)
        self.max_range_m = float(max_range_m)

    def true_ranges(self, pos_bf, axes_bf) -> np.ndarray:
        """Noise-free ranges (grid_n**2,), 0 = no return."""
        pos = np.asarray(pos_bf, dtype=float)
        dirs = scan_directions(np.asarray(axes_bf, dtype=float), self.fov_full_rad,
                               self.grid_n)
        out = np.zeros(len(dirs))
        for k, d in enumerate(dirs):
            t = self.caster.distance_m(pos, d)
            t = self.boulders.ray_boulder_t(pos, d, t)
            if math.isfinite(t) and t <= self.max_range_m:
                out[k] = t
        return out

    def measure(self, t_us: int, pos_bf, axes_bf):
        """One PROBE_LIDAR_SCAN from pos_bf (m) with the spacecraft axes x, y, z (boresight)
        as rows in bf.  Noise is drawn for every cell, return or not (a fixed draw count)."""
        ranges = self.true_ranges(pos_bf, axes_bf)
        out = [0.0] * SCAN_CELLS
        for k, r in enumerate(ranges.tolist()):
            e = self.noise.gauss(self.sigma_m)
            if r > 0.0:
                out[k] = max(r + e, 1e-3)
        return mavlink.MAVLink_probe_lidar_scan_message(int(t_us), self.fov_full_rad,
                                                        self.grid_n, out)
