"""The on-board shape model: facets are the candidate sites (site id = facet index).

Ray casting is a vectorised Moller-Trumbore test of every ray against a set of
facets (all of them, or a candidate subset near where the rays land, which is
what keeps a 49-ray lidar scan cheap).
"""

import numpy as np

_EPS = 1e-12


class ShapeModel:
    def __init__(self, vertices_m, faces, down_bf=None):
        self.vertices_m = np.asarray(vertices_m, dtype=float)
        self.faces = np.asarray(faces, dtype=np.int64)
        tri = self.vertices_m[self.faces]
        self.v0 = tri[:, 0]
        self.e1 = tri[:, 1] - tri[:, 0]
        self.e2 = tri[:, 2] - tri[:, 0]
        cross = np.cross(self.e1, self.e2)
        area2 = np.linalg.norm(cross, axis=1)
        self.areas_m2 = 0.5 * area2
        self.normals = cross / area2[:, None]
        self.centroids = tri.mean(axis=1)
        self.n_sites = len(self.faces)
        if down_bf is None:
            down = -self.centroids / np.linalg.norm(self.centroids, axis=1)[:, None]
        else:
            down = np.asarray(down_bf, dtype=float)
        self.down_bf = down
        cos = np.clip(-(self.normals * down).sum(axis=1), -1.0, 1.0)
        self.slope_deg = np.degrees(np.arccos(cos))
        dirs = self.centroids / np.linalg.norm(self.centroids, axis=1)[:, None]
        self.lat_deg = np.degrees(np.arcsin(np.clip(dirs[:, 2], -1.0, 1.0)))
        self.lon_deg = np.degrees(np.arctan2(dirs[:, 1], dirs[:, 0]))
        self.radius_max_m = float(np.linalg.norm(self.vertices_m, axis=1).max())

    def ray_hits(self, origins_bf, dirs_bf, candidates=None) -> tuple[np.ndarray, np.ndarray]:
        """Nearest facet hit per ray: (site ids, -1 on a miss; distances, m, inf on a miss)."""
        o = np.atleast_2d(np.asarray(origins_bf, dtype=float))
        d = np.atleast_2d(np.asarray(dirs_bf, dtype=float))
        d = d / np.linalg.norm(d, axis=1)[:, None]
        idx = np.arange(self.n_sites) if candidates is None else np.asarray(candidates)
        v0, e1, e2 = self.v0[idx], self.e1[idx], self.e2[idx]
        # Rays along axis 0, facets along axis 1.
        p = np.cross(d[:, None, :], e2[None, :, :])
        det = (e1[None] * p).sum(axis=2)
        ok = np.abs(det) > _EPS
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        s = o[:, None, :] - v0[None]
        u = (s * p).sum(axis=2) * inv
        q = np.cross(s, e1[None])
        v = (d[:, None, :] * q).sum(axis=2) * inv
        t = (e2[None] * q).sum(axis=2) * inv
        hit = ok & (u >= 0.0) & (v >= 0.0) & (u + v <= 1.0) & (t > 1e-9)
        t = np.where(hit, t, np.inf)
        best = np.argmin(t, axis=1)
        dist = t[np.arange(len(o)), best]
        ids = np.where(np.isfinite(dist), idx[best], -1)
        return ids, dist

    def faces_near(self, point_bf, radius_m: float) -> np.ndarray:
        """Facets whose centroid lies within radius_m of a point."""
        d = np.linalg.norm(self.centroids - np.asarray(point_bf, dtype=float), axis=1)
        return np.flatnonzero(d <= radius_m)

    def cos_incidence(self, sun_bf) -> np.ndarray:
        return self.normals @ np.asarray(sun_bf, dtype=float)

    def cos_emission(self, pos_bf) -> np.ndarray:
        view = np.asarray(pos_bf, dtype=float) - self.centroids
        view /= np.linalg.norm(view, axis=1)[:, None]
        return (self.normals * view).sum(axis=1)
