"""The lidar hazard map: slope and relief per site from flash-lidar scans.

Scan geometry, as the ICD defines PROBE_LIDAR_SCAN (the simulator reads the same
definition with its own code, sim.relief): an n x n grid, row-major (index
k = r * n + c); cell (r, c) looks along

    unit(z_sc + tan(a_r) x_sc + tan(a_c) y_sc),  a_k = (k - (n - 1) / 2) * fov / (n - 1)

so the row index runs along +x_sc, the column along +y_sc, the corner cells are
fov / 2 off the boresight +z_sc on each axis, and the centre cell (n odd) is the
boresight.  A range of 0 (or not finite) is no return.

Each return is a surface point (bf), assigned to the facet its ray hits on the
on-board shape model.  Per site the map keeps a bounded ring of recent points
(for the plane fit) and the highest points seen (along the facet normal), so a
boulder seen once is never forgotten.  Plane fit, robust to boulders: an
initial ground set (points within 2 * ground_tol_m of the 25th percentile of
height along the facet normal), then three least-squares fits (SVD), each
refitted on the points not more than ground_tol_m above the previous plane.
Slope: fitted normal against the facet's 'down'.  Roughness: the highest point
above the fitted ground plane, i.e. the boulder height estimate (it includes
the range noise's extreme, about 3 sigma for a few hundred points).
"""

import math

import numpy as np

GROUND_TOL_M = 0.25
RING_POINTS = 300  # recent points per site kept for the plane fit
TOP_POINTS = 16  # highest points per site kept for the relief


class HazardError(ValueError):
    """A scan that cannot be used (one-line message)."""


def scan_directions(axes_bf, fov_full_rad: float, grid_n: int) -> np.ndarray:
    """Unit ray directions (grid_n**2, 3), row-major, in the frame the axes are given in.

    axes_bf: the spacecraft x, y, z (boresight) axes as three rows (any frame).
    """
    if int(grid_n) < 1:
        raise HazardError(f"grid_n must be >= 1, got {grid_n}")
    if not 0.0 <= fov_full_rad < math.pi:
        raise HazardError(f"fov_full_rad must be in [0, pi), got {fov_full_rad}")
    x, y, z = (np.asarray(a, dtype=float) for a in axes_bf)
    n = int(grid_n)
    k = np.arange(n) - (n - 1) / 2.0
    step = fov_full_rad / (n - 1) if n > 1 else 0.0
    t = np.tan(k * step)
    d = z[None, None] + t[:, None, None] * x[None, None] + t[None, :, None] * y[None, None]
    d = d.reshape(-1, 3)
    return d / np.linalg.norm(d, axis=1)[:, None]


class _SitePoints:
    __slots__ = ("ring", "n_ring", "top", "top_h")

    def __init__(self):
        self.ring = np.empty((RING_POINTS, 3))
        self.n_ring = 0  # points ever added (the ring index is n_ring % RING_POINTS)
        self.top = np.empty((0, 3))
        self.top_h = np.empty(0)

    def add(self, pts: np.ndarray, h: np.ndarray) -> None:
        for p in pts:
            self.ring[self.n_ring % RING_POINTS] = p
            self.n_ring += 1
        top = np.vstack([self.top, pts])
        top_h = np.concatenate([self.top_h, h])
        keep = np.argsort(-top_h, kind="stable")[:TOP_POINTS]
        self.top, self.top_h = top[keep], top_h[keep]

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        return self.ring[:min(self.n_ring, RING_POINTS)], self.top


class HazardMap:
    """Per-site lidar statistics on the on-board shape model (site id = facet index)."""

    def __init__(self, shape, ground_tol_m: float = GROUND_TOL_M):
        if ground_tol_m <= 0.0:
            raise HazardError(f"ground_tol_m must be > 0, got {ground_tol_m}")
        self.shape = shape
        self.ground_tol_m = float(ground_tol_m)
        n = shape.n_sites
        self._sites: dict[int, _SitePoints] = {}
        self.n_points = np.zeros(n, dtype=np.int64)
        self._slope = np.full(n, np.nan)
        self._rough = np.full(n, np.nan)
        self._dirty: set[int] = set()

    def add_scan(self, pos_bf, axes_bf, fov_full_rad: float, grid_n: int, ranges_m) -> int:
        """Add one PROBE_LIDAR_SCAN taken from pos_bf (m) with the spacecraft axes x, y, z
        given as rows in bf (axes_bf (3, 3)).  Returns the number of points placed on sites.
        """
        n = int(grid_n)
        ranges = np.asarray(ranges_m, dtype=float)
        if ranges.size < n * n:
            raise HazardError(f"ranges_m holds {ranges.size} values, grid_n = {n} needs "
                              f"{n * n}")
        ranges = ranges[: n * n]
        good = np.isfinite(ranges) & (ranges > 0.0)
        if not good.any():
            return 0
        axes = np.asarray(axes_bf, dtype=float)
        if axes.shape != (3, 3):
            raise HazardError(f"axes_bf must be the three spacecraft axes (3, 3), got "
                              f"{axes.shape}")
        dirs = scan_directions(axes, fov_full_rad, n)[good]
        pos = np.asarray(pos_bf, dtype=float)
        pts = pos + dirs * ranges[good][:, None]
        ids, _ = self.shape.ray_hits(np.broadcast_to(pos, dirs.shape), dirs)
        placed = 0
        for site in np.unique(ids[ids >= 0]).tolist():
            sel = pts[ids == site]
            h = (sel - self.shape.v0[site]) @ self.shape.normals[site]
            bucket = self._sites.get(site)
            if bucket is None:
                bucket = self._sites[site] = _SitePoints()
            bucket.add(sel, h)
            self.n_points[site] += len(sel)
            self._dirty.add(site)
            placed += len(sel)
        return placed

    def _refit(self) -> None:
        for site in sorted(self._dirty):
            ring, top = self._sites[site].points()
            normal, rough = ground_plane_fit(ring, top, self.shape.normals[site],
                                             self.ground_tol_m)
            if normal is None:
                continue
            cos = float(np.clip(-normal @ self.shape.down_bf[site], -1.0, 1.0))
            self._slope[site] = math.degrees(math.acos(cos))
            self._rough[site] = rough
        self._dirty.clear()

    @property
    def slope_deg(self) -> np.ndarray:
        """Fitted ground slope per site, deg (nan: fewer than 3 usable points)."""
        self._refit()
        return self._slope

    @property
    def roughness_m(self) -> np.ndarray:
        """Highest point above the fitted ground plane per site, m (nan: unknown)."""
        self._refit()
        return self._rough


def ground_plane_fit(points: np.ndarray, extra: np.ndarray, facet_normal,
                     ground_tol_m: float = GROUND_TOL_M):
    """Robust ground plane of a site's points: (outward unit normal, highest height of
    points or extra above the plane, m); (None, nan) when the points do not span a plane."""
    pts = np.asarray(points, dtype=float)
    if len(pts) < 3:
        return None, math.nan
    fn = np.asarray(facet_normal, dtype=float)
    h0 = pts @ fn
    use = h0 <= np.percentile(h0, 25.0) + 2.0 * ground_tol_m
    normal, centre = None, None
    for _ in range(3):
        sel = pts[use]
        if len(sel) < 3:
            break
        c = sel.mean(axis=0)
        _, sv, vt = np.linalg.svd(sel - c, full_matrices=False)
        if sv[1] < 1e-6 * max(sv[0], 1e-12) or sv[1] < 1e-9:  # collinear: no plane
            break
        normal = vt[2] if vt[2] @ fn > 0 else -vt[2]
        centre = c
        use = (pts - c) @ normal <= ground_tol_m
    if normal is None:
        return None, math.nan
    allp = np.vstack([pts, np.asarray(extra, dtype=float).reshape(-1, 3)])
    return normal, float(((allp - centre) @ normal).max())
