"""The lidar hazard map: slope and relief per site from flash-lidar scans.

Scan geometry (the convention the simulator's lidar follows): cell (r, c) of
an n x n grid looks along unit(z + tan(a_r) x + tan(a_c) y), with x, y, z the
spacecraft axes and a_k = (k - (n - 1) / 2) * fov / (n - 1); a range of 0 is
no return.  Each return is a surface point, assigned to the facet its ray hits
on the shape model.  Per site a plane is fitted to the ground: fit, then refit
without points more than GROUND_TOL_M above the plane (boulders pull a plain
fit up), three times.  Slope is the fitted normal against the facet's local
'down'; relief (roughness_m) is the highest point above that ground plane.
"""

import math

import numpy as np

GROUND_TOL_M = 0.25
MAX_POINTS_PER_SITE = 400


def scan_directions(axes_bf, fov_full_rad: float, grid_n: int) -> np.ndarray:
    """Unit ray directions (grid_n^2, 3), row-major, in the frame the axes are given in."""
    x, y, z = (np.asarray(a, dtype=float) for a in axes_bf)
    k = np.arange(grid_n) - (grid_n - 1) / 2.0
    step = fov_full_rad / (grid_n - 1) if grid_n > 1 else 0.0
    t = np.tan(k * step)
    d = z[None, None] + t[:, None, None] * x[None, None] + t[None, :, None] * y[None, None]
    d = d.reshape(-1, 3)
    return d / np.linalg.norm(d, axis=1)[:, None]


class HazardMap:
    def __init__(self, shape):
        self.shape = shape
        n = shape.n_sites
        self._points: list[list] = [[] for _ in range(n)]
        self.n_points = np.zeros(n, dtype=np.int64)
        self._fit_cache = None

    def add_scan(self, pos_bf, axes_bf, fov_full_rad: float, grid_n: int, ranges_m) -> int:
        """Add one scan; returns the number of points placed on sites."""
        ranges = np.asarray(ranges_m, dtype=float)[: grid_n * grid_n]
        good = np.isfinite(ranges) & (ranges > 0.0)
        if not good.any():
            return 0
        dirs = scan_directions(axes_bf, fov_full_rad, grid_n)[good]
        pos = np.asarray(pos_bf, dtype=float)
        pts = pos + dirs * ranges[good][:, None]
        centre = pts.mean(axis=0)
        span = float(np.linalg.norm(pts - centre, axis=1).max()) + 40.0
        cand = self.shape.faces_near(centre, span)
        if cand.size == 0:
            return 0
        ids, _ = self.shape.ray_hits(np.repeat(pos[None], len(dirs), axis=0), dirs, cand)
        placed = 0
        for site, p in zip(ids.tolist(), pts, strict=True):
            if site < 0:
                continue
            bucket = self._points[site]
            if len(bucket) < MAX_POINTS_PER_SITE:
                bucket.append(p)
            self.n_points[site] += 1
            placed += 1
        self._fit_cache = None
        return placed

    def _fit(self):
        if self._fit_cache is not None:
            return self._fit_cache
        n = self.shape.n_sites
        slope = np.full(n, np.nan)
        rough = np.full(n, np.nan)
        for site in range(n):
            pts = self._points[site]
            if len(pts) < 3:
                continue
            normal, heights = _ground_plane(np.asarray(pts), self.shape.normals[site])
            if normal is None:
                continue
            cos = float(np.clip(-normal @ self.shape.down_bf[site], -1.0, 1.0))
            slope[site] = math.degrees(math.acos(cos))
            rough[site] = float(heights.max())
        self._fit_cache = (slope, rough)
        return self._fit_cache

    @property
    def slope_deg(self) -> np.ndarray:
        return self._fit()[0]

    @property
    def roughness_m(self) -> np.ndarray:
        return self._fit()[1]


def _ground_plane(pts: np.ndarray, facet_normal):
    """Normal of the fitted ground plane (outward) and heights of all points above it."""
    use = np.ones(len(pts), dtype=bool)
    normal = None
    for _ in range(3):
        sel = pts[use]
        if len(sel) < 3:
            break
        c = sel.mean(axis=0)
        _, sv, vt = np.linalg.svd(sel - c, full_matrices=False)
        if sv[1] < 1e-6:  # collinear points: no plane
            return None, None
        normal = vt[2] if vt[2] @ facet_normal > 0 else -vt[2]
        heights = (pts - c) @ normal
        use = heights <= GROUND_TOL_M
    if normal is None:
        return None, None
    heights = (pts - pts[use].mean(axis=0)) @ normal
    return normal, heights
