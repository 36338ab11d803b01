"""The on-board shape model: facets are the candidate sites (site id = facet index).

Frame: body-fixed (bf), metres, z along the spin pole, origin at the centre of mass.
Faces are counter-clockwise seen from outside (outward normals).

Ray casting is Moller-Trumbore, vectorised: a cheap bounding-sphere test of
every ray against every facet (two matrix products), then the exact test on the
surviving ray-facet pairs only.  A hit on a shared edge counts for both faces
(tiny barycentric tolerance), so no ray slips between two facets; on a tie the
lower facet index wins (as sim.shape.MeshRayCaster).

Visibility questions (`observable`, `lit`) are one vectorised pass over all
facets.  Their occlusion part (is the centroid hidden by another facet? is it
in another facet's shadow?) costs a few milliseconds, so it is cached and
recomputed only when the spacecraft direction (or range, by 1 %) or the Sun
direction has moved by more than `cache_tolerance_deg` (0 = always recompute).
The cache makes a result depend on the call history, never on anything but the
arguments given: the flight software stays a deterministic function of its
inputs.
"""

import math

import numpy as np

_BARY_EPS = 1e-10  # barycentric tolerance: edge hits count for both faces
_T_MIN_M = 1e-6  # hits closer than this to the ray origin are ignored
_RAY_CHUNK = 128  # rays per block: keeps the rays x facets temporaries small
_LIFT_M = 0.01  # shadow rays start this far above their facet


class ShapeModelError(ValueError):
    """A shape model or query that cannot be used (one-line message)."""


def _unit_rows(a: np.ndarray, name: str) -> np.ndarray:
    norm = np.linalg.norm(a, axis=1)
    if np.any(norm == 0.0) or not np.all(np.isfinite(norm)):
        raise ShapeModelError(f"{name} must be finite and non-zero")
    return a / norm[:, None]


def _vec3(value, name: str) -> np.ndarray:
    a = np.asarray(value, dtype=float)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise ShapeModelError(f"{name} must be a finite 3-vector, got {a!r}")
    return a


class ShapeModel:
    """Facet geometry, ray casting, illumination and visibility of the on-board mesh.

    vertices_m (N, 3) bf metres; faces (M, 3) vertex indices; down_bf (M, 3) the
    unit local effective-gravity direction per facet (computed on the ground from
    the gravity model and the spin); None: minus the centroid direction.
    """

    def __init__(self, vertices_m, faces, down_bf=None, cache_tolerance_deg: float = 0.5):
        v = np.asarray(vertices_m, dtype=float)
        f = np.asarray(faces)
        if v.ndim != 2 or v.shape[1] != 3 or len(v) < 4 or not np.all(np.isfinite(v)):
            raise ShapeModelError(f"vertices_m must be finite, shape (N>=4, 3), got {v.shape}")
        if f.ndim != 2 or f.shape[1] != 3 or len(f) < 4 or not np.issubdtype(f.dtype, np.integer):
            raise ShapeModelError(f"faces must be integer, shape (M>=4, 3), got {f.shape}")
        if f.min() < 0 or f.max() >= len(v):
            raise ShapeModelError(f"faces index vertices outside 0..{len(v) - 1}")
        if cache_tolerance_deg < 0.0:
            raise ShapeModelError(f"cache_tolerance_deg must be >= 0, got {cache_tolerance_deg}")
        self.vertices_m = v
        self.faces = f.astype(np.int64)
        tri = v[self.faces]
        self.v0 = tri[:, 0]
        self.e1 = tri[:, 1] - tri[:, 0]
        self.e2 = tri[:, 2] - tri[:, 0]
        cross = np.cross(self.e1, self.e2)
        area2 = np.linalg.norm(cross, axis=1)
        if np.any(area2 == 0.0):
            raise ShapeModelError("faces must have non-zero area")
        self.areas_m2 = 0.5 * area2
        self.normals = cross / area2[:, None]
        self.centroids = tri.mean(axis=1)
        self.n_sites = len(self.faces)
        if down_bf is None:
            down = -_unit_rows(self.centroids, "centroids")
        else:
            down = np.asarray(down_bf, dtype=float)
            if down.shape != (self.n_sites, 3):
                raise ShapeModelError(f"down_bf must have shape ({self.n_sites}, 3), "
                                      f"got {down.shape}")
            down = _unit_rows(down, "down_bf")
        self.down_bf = down
        cos = np.clip(-(self.normals * down).sum(axis=1), -1.0, 1.0)
        self.slope_deg = np.degrees(np.arccos(cos))
        dirs = _unit_rows(self.centroids, "centroids")
        self.lat_deg = np.degrees(np.arcsin(np.clip(dirs[:, 2], -1.0, 1.0)))
        self.lon_deg = np.degrees(np.arctan2(dirs[:, 1], dirs[:, 0]))
        self.radius_max_m = float(np.linalg.norm(v, axis=1).max())
        # Component rows (3, M) for the vectorised ray casts.
        self._a = np.ascontiguousarray(self.v0.T)
        self._e1 = np.ascontiguousarray(self.e1.T)
        self._e2 = np.ascontiguousarray(self.e2.T)
        self._det_scale = (self.e1 * self.e1).sum(axis=1) * np.linalg.norm(self.e2, axis=1)
        # Bounding sphere per facet (about the centroid), with a little margin.
        circum = np.linalg.norm(tri - self.centroids[:, None, :], axis=2).max(axis=1)
        self._circum_m = circum * (1.0 + 1e-6) + 1e-6
        self._c2 = (self.centroids * self.centroids).sum(axis=1)
        self._cache_cos = math.cos(math.radians(cache_tolerance_deg))
        self._exact = cache_tolerance_deg == 0.0
        self._shadow_key = None
        self._shadow = None
        self._hidden_key = None
        self._hidden = None

    # -- ray casting --------------------------------------------------------------------------
    def _pairs(self, o: np.ndarray, d: np.ndarray, idx) -> tuple:
        """(ray, facet, t) for each ray-facet pair that hits, unit rays d.

        A bounding-sphere test first (the distance from each facet's centroid to each ray
        line against the facet's circumradius, from two matrix products), then
        Moller-Trumbore on the surviving pairs only: a lidar ray meets a handful of facets'
        spheres, not 1280.
        """
        if idx is None:
            c, rad, c2 = self.centroids, self._circum_m, self._c2
        else:
            c, rad, c2 = self.centroids[idx], self._circum_m[idx], self._c2[idx]
        along = d @ c.T - (o * d).sum(axis=1)[:, None]  # (c - o) . d, (n, K)
        w2 = c2[None, :] - 2.0 * (o @ c.T) + (o * o).sum(axis=1)[:, None]  # |c - o|^2
        near = (w2 - along * along <= (rad * rad)[None, :]) & (along >= -rad[None, :])
        rr, kk = np.nonzero(near)
        ff = kk if idx is None else idx[kk]
        a, e1, e2 = self._a[:, ff], self._e1[:, ff], self._e2[:, ff]
        dx, dy, dz = d[rr, 0], d[rr, 1], d[rr, 2]
        px = dy * e2[2] - dz * e2[1]
        py = dz * e2[0] - dx * e2[2]
        pz = dx * e2[1] - dy * e2[0]
        det = e1[0] * px + e1[1] * py + e1[2] * pz
        ok = np.abs(det) > 1e-14 * self._det_scale[ff]  # edge-on faces cannot be hit
        inv = np.divide(1.0, det, out=np.zeros_like(det), where=ok)
        tx, ty, tz = o[rr, 0] - a[0], o[rr, 1] - a[1], o[rr, 2] - a[2]
        u = (tx * px + ty * py + tz * pz) * inv
        qx = ty * e1[2] - tz * e1[1]
        qy = tz * e1[0] - tx * e1[2]
        qz = tx * e1[1] - ty * e1[0]
        w = (dx * qx + dy * qy + dz * qz) * inv
        t = (e2[0] * qx + e2[1] * qy + e2[2] * qz) * inv
        hit = ok & (u >= -_BARY_EPS) & (w >= -_BARY_EPS) & (u + w <= 1.0 + _BARY_EPS) & (
            t > _T_MIN_M)
        return rr[hit], ff[hit], t[hit]

    def ray_hits(self, origins_bf, dirs_bf, candidates=None) -> tuple[np.ndarray, np.ndarray]:
        """Nearest facet hit per ray.

        origins_bf (n, 3) m and dirs_bf (n, 3) (any length) in bf; candidates: optional
        facet indices to test (default all).  Returns (site ids int64 (n,), -1 on a miss;
        distances m float (n,), inf on a miss).
        """
        o = np.atleast_2d(np.asarray(origins_bf, dtype=float))
        d = np.atleast_2d(np.asarray(dirs_bf, dtype=float))
        if o.shape != d.shape or o.ndim != 2 or o.shape[1] != 3:
            raise ShapeModelError(f"origins_bf and dirs_bf must both be (n, 3), got {o.shape} "
                                  f"and {d.shape}")
        if not (np.all(np.isfinite(o)) and np.all(np.isfinite(d))):
            raise ShapeModelError("origins_bf and dirs_bf must be finite")
        ids = np.full(len(o), -1, dtype=np.int64)
        dist = np.full(len(o), np.inf)
        if len(o) == 0:
            return ids, dist
        d = _unit_rows(d, "dirs_bf")
        idx = None if candidates is None else np.asarray(candidates, dtype=np.int64)
        if idx is not None and idx.size == 0:
            return ids, dist
        for s in range(0, len(o), _RAY_CHUNK):
            rr, ff, t = self._pairs(o[s:s + _RAY_CHUNK], d[s:s + _RAY_CHUNK], idx)
            if rr.size == 0:
                continue
            # Nearest per ray (ties: the lower facet index, for determinism).
            order = np.lexsort((ff, t, rr))
            rr, ff, t = rr[order], ff[order], t[order]
            first = np.flatnonzero(np.r_[True, rr[1:] != rr[:-1]])
            ids[s + rr[first]] = ff[first]
            dist[s + rr[first]] = t[first]
        return ids, dist

    def _any_hit_before(self, o: np.ndarray, d: np.ndarray, t_max: np.ndarray, idx,
                        exclude: np.ndarray) -> np.ndarray:
        """Per ray: is any facet of idx (other than exclude[k]) hit before t_max[k]?"""
        out = np.zeros(len(o), dtype=bool)
        if len(o) == 0 or idx.size == 0:
            return out
        for s in range(0, len(o), _RAY_CHUNK):
            sl = slice(s, s + _RAY_CHUNK)
            rr, ff, t = self._pairs(o[sl], d[sl], idx)
            blocking = (ff != exclude[sl][rr]) & (t < t_max[sl][rr])
            out[s + rr[blocking]] = True
        return out

    def faces_near(self, point_bf, radius_m: float) -> np.ndarray:
        """Facets whose centroid lies within radius_m of a point."""
        d = np.linalg.norm(self.centroids - _vec3(point_bf, "point_bf"), axis=1)
        return np.flatnonzero(d <= radius_m)

    def contains(self, points_bf) -> np.ndarray:
        """Inside the closed mesh? (n,) bool, by the parity of crossings of a radial ray."""
        p = np.atleast_2d(np.asarray(points_bf, dtype=float))
        out = np.zeros(len(p), dtype=bool)
        for k, q in enumerate(p):
            r = float(np.linalg.norm(q))
            if r > self.radius_max_m:
                continue
            # A slightly skewed radial direction avoids running exactly along an edge.
            d = (q / r if r > 0 else np.array([0.0, 0.0, 1.0])) + np.array([1e-4, 2e-4, 3e-4])
            d /= np.linalg.norm(d)
            _, ff, _ = self._pairs(q[None], d[None], None)
            out[k] = ff.size % 2 == 1
        return out

    # -- illumination and viewing --------------------------------------------------------------
    def cos_incidence(self, sun_bf) -> np.ndarray:
        """Cosine of the Sun's incidence per facet (normal . unit sun); < 0 faces away."""
        s = _vec3(sun_bf, "sun_bf")
        return self.normals @ (s / np.linalg.norm(s))

    def cos_emission(self, pos_bf) -> np.ndarray:
        """Cosine of the emission angle per facet: normal . unit(spacecraft - centroid)."""
        view = _vec3(pos_bf, "pos_bf") - self.centroids
        view /= np.linalg.norm(view, axis=1)[:, None]
        return (self.normals * view).sum(axis=1)

    def shadowed(self, sun_bf) -> np.ndarray:
        """Per facet facing the Sun: is its centroid in another facet's shadow? (cached)"""
        s = _vec3(sun_bf, "sun_bf")
        s = s / np.linalg.norm(s)
        if self._exact or self._shadow_key is None or s @ self._shadow_key < self._cache_cos:
            cos_i = self.normals @ s
            rays = np.flatnonzero(cos_i > 0.0)
            # A ray from a centroid toward the Sun can only enter the body through a facet
            # facing away from the Sun.
            occluders = np.flatnonzero(cos_i < 0.0)
            o = self.centroids[rays] + _LIFT_M * self.normals[rays]
            d = np.repeat(s[None], len(rays), axis=0)
            hit = self._any_hit_before(o, d, np.full(len(rays), np.inf), occluders, rays)
            self._shadow = np.zeros(self.n_sites, dtype=bool)
            self._shadow[rays] = hit
            self._shadow_key = s
        return self._shadow

    def hidden(self, pos_bf) -> np.ndarray:
        """Per facet facing the spacecraft: is its centroid hidden by another facet? (cached)"""
        p = _vec3(pos_bf, "pos_bf")
        r = float(np.linalg.norm(p))
        if r <= self.radius_max_m:
            raise ShapeModelError(f"pos_bf must be outside the body's bounding sphere "
                                  f"({self.radius_max_m:.0f} m), got |pos| = {r:.0f} m")
        key = p / r
        stale = (self._exact or self._hidden_key is None
                 or key @ self._hidden_key[0] < self._cache_cos
                 or abs(r - self._hidden_key[1]) > 0.01 * r)
        if stale:
            # Only a facet whose outer side faces the spacecraft can be entered first.
            facing = ((p - self.v0) * self.normals).sum(axis=1) > 0.0
            rays = np.flatnonzero(facing)
            to_c = self.centroids[rays] - p
            dist = np.linalg.norm(to_c, axis=1)
            d = to_c / dist[:, None]
            t_max = dist * (1.0 - 1e-9) - 1e-3
            hit = self._any_hit_before(np.repeat(p[None], len(rays), axis=0), d, t_max, rays,
                                       rays)
            self._hidden = np.zeros(self.n_sites, dtype=bool)
            self._hidden[rays] = hit
            self._hidden_key = (key, r)
        return self._hidden

    def lit(self, sun_bf, max_incidence_deg: float) -> np.ndarray:
        """Facets lit within max_incidence_deg and not shadowed by other facets, (M,) bool."""
        lim = math.cos(math.radians(max_incidence_deg))
        return (self.cos_incidence(sun_bf) >= lim) & ~self.shadowed(sun_bf)

    def observable(self, pos_bf, max_emission_deg: float) -> np.ndarray:
        """Facets seen within max_emission_deg from pos_bf with the centroid unoccluded."""
        lim = math.cos(math.radians(max_emission_deg))
        return (self.cos_emission(pos_bf) >= lim) & ~self.hidden(pos_bf)

    def lat_lon_deg(self) -> tuple[np.ndarray, np.ndarray]:
        """Planetocentric latitude and east longitude of each centroid, degrees."""
        return self.lat_deg, self.lon_deg
