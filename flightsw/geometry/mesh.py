"""Triangle meshes: ray casts, distances to the surface, relief standing on a face.

A mesh is ``(vertices_m (N, 3) float, faces (M, 3) int)`` with every face counter-clockwise
seen from outside (outward normals), in the caller's frame (for the asteroid: body-fixed,
metres, origin at the centre of mass).

Ray casts are Moller-Trumbore.  A hit on a shared edge or vertex counts for both faces (a
barycentric tolerance), so no ray slips between two faces; of two hits at the same distance
the lower face index wins.  Every cast first culls the faces by bounding sphere (about the
centroid, through the farthest corner, padded far past the tolerance and any rounding of
the cull): a ray that misses a face's sphere cannot hit the face, so only the few faces
along the ray (about 8 of 1280 for a lidar shot) go through the exact test.  One ray is
tested in plain floats (on a handful of faces that is several times cheaper than numpy);
many rays at once as ray-face pairs in numpy, RAY_BLOCK rays at a time so that the
rays x faces temporaries stay small.  A block of rays that stay close together (a lidar
grid, a spectrometer footprint, its shadow rays) is first culled as a bundle, in one pass
over the faces: a ray of the bundle can only meet a face's sphere where the bundle's first
ray passes within the sphere's radius plus the bundle's spread (in origin, and in
direction times the distance), so the per-ray test only sees the faces near the bundle.
The culls decide which faces are tested, never what a test gives: the hits are the same
bits as a cast over every face.
"""

import math

import numpy as np

BARYCENTRIC_TOL = 1e-10  # edge and vertex hits count for both faces
EDGE_ON_TOL = 1e-14  # |det| below this times |e1|^2 |e2|: the ray runs along the face
SPHERE_PAD_REL = 1e-6  # bounding spheres grown by this fraction of their radius ...
SPHERE_PAD_M = 1e-6  # ... plus this
RAY_BLOCK = 128
BUNDLE_MIN_RAYS = 4  # fewer rays: the per-ray cull costs no more than the bundle's
DENSE_PAIRS = 2048  # up to this many ray-face pairs left by the bundle: test them all


class MeshError(ValueError):
    """A mesh or a query on it that cannot be used (one-line message)."""


def validated_mesh(vertices_m, faces) -> tuple[np.ndarray, np.ndarray]:
    """(vertices float64 (N, 3), faces int64 (M, 3)) or MeshError saying what is wrong."""
    v = np.asarray(vertices_m, dtype=np.float64)
    f = np.asarray(faces)
    if v.ndim != 2 or v.shape[1] != 3 or v.shape[0] < 4:
        raise MeshError(f"vertices_m must have shape (N>=4, 3), got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise MeshError("vertices_m must be finite")
    if f.ndim != 2 or f.shape[1] != 3 or f.shape[0] < 4:
        raise MeshError(f"faces must have shape (M>=4, 3), got {f.shape}")
    if not np.issubdtype(f.dtype, np.integer):
        raise MeshError(f"faces must hold integer vertex indices, got dtype {f.dtype}")
    if f.min() < 0 or f.max() >= v.shape[0]:
        raise MeshError(f"faces index vertices outside 0..{v.shape[0] - 1}")
    return v, f.astype(np.int64)


def mesh_signed_volume_m3(vertices_m, faces) -> float:
    """Signed volume (divergence theorem): positive when faces are outward (CCW from outside)."""
    v, f = validated_mesh(vertices_m, faces)
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    return float(np.einsum("ij,ij->", a, np.cross(b, c)) / 6.0)


def mesh_volume_m3(vertices_m, faces) -> float:
    """Enclosed volume of a closed mesh, whatever its orientation."""
    return abs(mesh_signed_volume_m3(vertices_m, faces))


def circumscribing_radius_m(vertices_m) -> float:
    """Radius of the smallest origin-centred sphere holding every vertex (hence the body)."""
    v = np.asarray(vertices_m, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != 3 or v.shape[0] == 0:
        raise MeshError(f"vertices_m must have shape (N, 3), got {v.shape}")
    return float(np.linalg.norm(v, axis=1).max())


def _vec3(name: str, value) -> tuple[float, float, float]:
    if isinstance(value, (str, bytes)):
        raise MeshError(f"{name} must be a 3-vector, got {value!r}")
    try:
        x, y, z = (float(c) for c in value)
    except (TypeError, ValueError):
        raise MeshError(f"{name} must be a 3-vector, got {value!r}") from None
    if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(z)):
        raise MeshError(f"{name} must be finite, got {value!r}")
    return x, y, z


def _rays(origins_m, directions) -> tuple[np.ndarray, np.ndarray]:
    """(origins (n, 3), unit directions (n, 3)) or MeshError."""
    o = np.atleast_2d(np.asarray(origins_m, dtype=float))
    d = np.atleast_2d(np.asarray(directions, dtype=float))
    if o.shape != d.shape or o.ndim != 2 or o.shape[1] != 3:
        raise MeshError(f"origins and directions must both be (n, 3), got {o.shape} and "
                        f"{d.shape}")
    length = np.sqrt((d * d).sum(axis=1))  # as np.linalg.norm, bit for bit
    if len(o) and not (np.isfinite(o).all() and np.isfinite(length).all()
                       and length.min() > 0.0):
        raise MeshError("origins and directions must be finite, directions non-zero")
    return o, d / length[:, None]


def unit_rows(a, name: str = "directions") -> np.ndarray:
    """Each row divided by its length; MeshError for a zero or non-finite row."""
    a = np.asarray(a, dtype=float)
    norm = np.linalg.norm(a, axis=1)
    if np.any(norm == 0.0) or not np.all(np.isfinite(norm)):
        raise MeshError(f"{name} must be finite and non-zero")
    return a / norm[:, None]


# Moller-Trumbore in two halves, written once for plain floats (one ray, one face) and for
# numpy rows (ray-face pairs): a, e1, e2 are the face's corner and edges as 3 components.
def _edge_det(dx, dy, dz, e1, e2):
    """p = d x e2 and det = e1 . p."""
    px = dy * e2[2] - dz * e2[1]
    py = dz * e2[0] - dx * e2[2]
    pz = dx * e2[1] - dy * e2[0]
    return px, py, pz, e1[0] * px + e1[1] * py + e1[2] * pz


def _barycentric(ox, oy, oz, dx, dy, dz, a, e1, e2, px, py, pz, inv_det):
    """Barycentric weights (u of the e1 corner, w of the e2 corner) and distance t."""
    tx, ty, tz = ox - a[0], oy - a[1], oz - a[2]
    u = (tx * px + ty * py + tz * pz) * inv_det
    qx = ty * e1[2] - tz * e1[1]
    qy = tz * e1[0] - tx * e1[2]
    qz = tx * e1[1] - ty * e1[0]
    w = (dx * qx + dy * qy + dz * qz) * inv_det
    t = (e2[0] * qx + e2[1] * qy + e2[2] * qz) * inv_det
    return u, w, t


def _inside(u, w, t, t_min_m):
    tol = BARYCENTRIC_TOL
    return (u >= -tol) & (w >= -tol) & (u + w <= 1.0 + tol) & (t > t_min_m)


class TriangleMesh:
    """One mesh with its per-face arrays computed once.

    Per face (index = face): ``v0`` the first corner, ``e1``, ``e2`` the edges from it,
    ``normals`` (unit, outward), ``areas_m2``, ``centroids``, all (M, 3) or (M,).
    """

    def __init__(self, vertices_m, faces):
        v, f = validated_mesh(vertices_m, faces)
        self.vertices_m, self.faces, self.n_faces = v, f, len(f)
        tri = v[f]
        self.v0 = tri[:, 0]
        self.e1 = tri[:, 1] - tri[:, 0]
        self.e2 = tri[:, 2] - tri[:, 0]
        cross = np.cross(self.e1, self.e2)
        double_area = np.linalg.norm(cross, axis=1)
        if np.any(double_area == 0.0):
            raise MeshError("faces must have non-zero area")
        self.areas_m2 = 0.5 * double_area
        self.normals = cross / double_area[:, None]
        self.centroids = tri.mean(axis=1)
        self.radius_max_m = circumscribing_radius_m(v)
        # Component rows (3, M): arithmetic on rows of contiguous floats is several times
        # cheaper in numpy than on (M, 3) columns.
        self._a = np.ascontiguousarray(self.v0.T)
        self._e1 = np.ascontiguousarray(self.e1.T)
        self._e2 = np.ascontiguousarray(self.e2.T)
        self._n = np.ascontiguousarray(cross.T)  # unit-less normals for the distances
        self._nn = (cross * cross).sum(axis=1)
        self._det_scale = (self.e1 * self.e1).sum(axis=1) * np.linalg.norm(self.e2, axis=1)
        reach = np.linalg.norm(tri - self.centroids[:, None, :], axis=2).max(axis=1)
        self._sphere_r = reach * (1.0 + SPHERE_PAD_REL) + SPHERE_PAD_M
        self._sphere_r2 = self._sphere_r * self._sphere_r
        self._c2 = (self.centroids * self.centroids).sum(axis=1)
        self._c_rows = np.ascontiguousarray(self.centroids.T)
        # The same corner and edges as plain floats, for one ray against a few faces.
        self._face_floats = list(zip(self._a.T.tolist(), self._e1.T.tolist(),
                                     self._e2.T.tolist(), self._det_scale.tolist(),
                                     strict=True))
        self._radial_face = -1  # face of the last surface_radius_m, tried first next time

    # -- one ray ------------------------------------------------------------------------
    def nearest_hit(self, origin_m, direction, t_min_m: float = 0.0) -> tuple[float, int]:
        """(distance along the unit ray to the nearest face hit beyond t_min_m, that face);
        (inf, -1) on a miss.  direction: any length, normalised here."""
        ox, oy, oz = _vec3("origin_m", origin_m)
        dx, dy, dz = _vec3("direction", direction)
        norm = math.sqrt(dx * dx + dy * dy + dz * dz)
        if norm == 0.0:
            raise MeshError("direction must be non-zero")
        dx, dy, dz = dx / norm, dy / norm, dz / norm
        # Cull: |c - o|^2 - ((c - o) . d)^2 is the squared distance from a face's centre to
        # the ray's line; c . d and c . o in one matrix product.
        cd, co = (self.centroids @ np.array([[dx, ox], [dy, oy], [dz, oz]])).T
        along = cd - (ox * dx + oy * dy + oz * dz)
        line_sq = self._c2 - 2.0 * co + (ox * ox + oy * oy + oz * oz) - along * along
        near = np.flatnonzero((line_sq <= self._sphere_r2) & (along >= -self._sphere_r))
        best_t, best_face = math.inf, -1
        for face in near.tolist():
            uwt = self._face_uwt(face, ox, oy, oz, dx, dy, dz)
            if uwt is not None and uwt[2] < best_t and _inside(*uwt, t_min_m):
                best_t, best_face = uwt[2], face
        return best_t, best_face

    def distance_m(self, origin_m, direction) -> float:
        """Distance to the nearest face hit along the ray, metres; inf on a miss."""
        return self.nearest_hit(origin_m, direction)[0]

    def _face_uwt(self, face: int, ox, oy, oz, dx, dy, dz):
        """(u, w, t) of a unit ray on one face, or None for a face seen edge-on."""
        a, e1, e2, det_scale = self._face_floats[face]
        px, py, pz, det = _edge_det(dx, dy, dz, e1, e2)
        if not abs(det) > EDGE_ON_TOL * det_scale:
            return None
        return _barycentric(ox, oy, oz, dx, dy, dz, a, e1, e2, px, py, pz, 1.0 / det)

    def surface_radius_m(self, direction) -> float:
        """Distance from the origin to the surface along ``direction`` (a mesh star-shaped
        about the origin: the ray leaves through exactly one face)."""
        # A hit well inside the face found last time is the answer: one triangle in plain
        # floats instead of the whole mesh (a probe's direction barely moves per call).
        face = self._radial_face
        if face >= 0:
            dx, dy, dz = _vec3("direction", direction)
            norm = math.sqrt(dx * dx + dy * dy + dz * dz)
            if norm > 0.0:
                uwt = self._face_uwt(face, 0.0, 0.0, 0.0, dx / norm, dy / norm, dz / norm)
                margin = 1e-6  # clear of the edges, where a neighbour might win by rounding
                if uwt is not None and uwt[0] > margin and uwt[1] > margin and \
                        uwt[0] + uwt[1] < 1.0 - margin and uwt[2] > 0.0:
                    return uwt[2]
        r, self._radial_face = self.nearest_hit((0.0, 0.0, 0.0), direction)
        if not math.isfinite(r):
            raise MeshError("the ray from the origin misses the mesh: origin not inside it")
        return r

    def altitude_m(self, point_m) -> float:
        """Radial altitude: the point's radius minus the surface radius in its direction
        (negative inside).  Not the shortest distance to the surface, but cheap, and for a
        hover what a nadir-pointed altimeter sees on a near-spherical body."""
        x, y, z = _vec3("point_m", point_m)
        r = math.sqrt(x * x + y * y + z * z)
        if r == 0.0:
            raise MeshError("altitude is undefined at the origin")
        return r - self.surface_radius_m((x, y, z))

    def distance_to_surface_m(self, point_m) -> float:
        """Shortest (unsigned) distance from the point to the surface, metres.

        Where the foot of the perpendicular falls inside a face the distance is the plane
        distance; otherwise the nearest point of that face is on one of its three edges.
        """
        px, py, pz = _vec3("point_m", point_m)
        a, e1, e2, n, nn = self._a, self._e1, self._e2, self._n, self._nn
        wx, wy, wz = px - a[0], py - a[1], pz - a[2]
        # Barycentric weights of the projection on the plane (of vertex b, of vertex c).
        s = ((wy * e2[2] - wz * e2[1]) * n[0] + (wz * e2[0] - wx * e2[2]) * n[1]
             + (wx * e2[1] - wy * e2[0]) * n[2]) / nn
        t = ((e1[1] * wz - e1[2] * wy) * n[0] + (e1[2] * wx - e1[0] * wz) * n[1]
             + (e1[0] * wy - e1[1] * wx) * n[2]) / nn
        inside = (s >= 0.0) & (t >= 0.0) & (s + t <= 1.0)
        plane_sq = (wx * n[0] + wy * n[1] + wz * n[2]) ** 2 / nn

        def segment_sq(qx, qy, qz, dx, dy, dz):
            # Squared distance from the point to the segment q .. q + d.
            rx, ry, rz = px - qx, py - qy, pz - qz
            u = np.clip((rx * dx + ry * dy + rz * dz) / (dx * dx + dy * dy + dz * dz), 0.0, 1.0)
            ex, ey, ez = rx - u * dx, ry - u * dy, rz - u * dz
            return ex * ex + ey * ey + ez * ez

        b = a + e1
        edge_sq = np.minimum(np.minimum(segment_sq(*a, *e1), segment_sq(*a, *e2)),
                             segment_sq(*b, *(e2 - e1)))
        return math.sqrt(float(np.where(inside, plane_sq, edge_sq).min()))

    # -- many rays ----------------------------------------------------------------------
    def ray_face_hits(self, origins_m: np.ndarray, unit_dirs: np.ndarray, candidates=None,
                      t_min_m: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every hit beyond t_min_m: (ray index, face, distance) per ray-face pair, for
        rays with unit directions (not normalised here) against the candidate faces
        (default: all).  The low-level step of ``any_hit_before`` and ``contains``."""
        o, d = origins_m, unit_dirs
        candidates, dense = self._block_faces(o, d, candidates)
        if not dense:
            return self._culled_pairs(o, d, candidates, t_min_m)
        hit, t = self._exact_dense(o, d, candidates, t_min_m)
        rr, kk = np.nonzero(hit)
        return rr, candidates[kk], t[rr, kk]

    def _block_faces(self, o: np.ndarray, d: np.ndarray, candidates):
        """(faces a block of rays may hit, None = all; test every pair of them?)"""
        if len(o) >= BUNDLE_MIN_RAYS:
            candidates = self._near_bundle(o, d, candidates)
        # Few faces near a bundle: every ray against every one of them (rays x faces, by
        # broadcasting) costs less than culling the pairs one by one.
        return candidates, candidates is not None and len(o) * len(candidates) <= DENSE_PAIRS

    def _culled_pairs(self, o: np.ndarray, d: np.ndarray, candidates, t_min_m: float):
        """ray_face_hits by ray-face pairs: the bounding-sphere test of every pair, then the
        exact test of the pairs left."""
        if candidates is None:
            c, r, r2, c2 = self.centroids, self._sphere_r, self._sphere_r2, self._c2
        else:
            c, r = self.centroids[candidates], self._sphere_r[candidates]
            r2, c2 = self._sphere_r2[candidates], self._c2[candidates]
        along = d @ c.T - (o * d).sum(axis=1)[:, None]  # (c - o) . d, (rays, faces)
        w2 = c2[None, :] - 2.0 * (o @ c.T) + (o * o).sum(axis=1)[:, None]  # |c - o|^2
        rr, kk = np.nonzero((w2 - along * along <= r2[None, :]) & (along >= -r[None, :]))
        ff = kk if candidates is None else candidates[kk]
        hit, t = self._exact(o[rr, 0], o[rr, 1], o[rr, 2], d[rr, 0], d[rr, 1], d[rr, 2], ff,
                             t_min_m)
        return rr[hit], ff[hit], t[hit]

    def _exact_dense(self, o: np.ndarray, d: np.ndarray, faces: np.ndarray, t_min_m: float):
        """Every ray against every one of the faces: (hit, distance), each (rays, faces)."""
        return self._exact(o[:, 0:1], o[:, 1:2], o[:, 2:3], d[:, 0:1], d[:, 1:2], d[:, 2:3],
                           faces, t_min_m)

    def _exact(self, ox, oy, oz, dx, dy, dz, faces, t_min_m: float):
        """Moller-Trumbore of unit rays (numpy components) on faces, broadcast together:
        (hit, distance)."""
        a, e1, e2 = self._a[:, faces], self._e1[:, faces], self._e2[:, faces]
        px, py, pz, det = _edge_det(dx, dy, dz, e1, e2)
        ok = np.abs(det) > EDGE_ON_TOL * self._det_scale[faces]
        inv = np.divide(1.0, det, out=np.zeros_like(det), where=ok)
        u, w, t = _barycentric(ox, oy, oz, dx, dy, dz, a, e1, e2, px, py, pz, inv)
        return ok & _inside(u, w, t, t_min_m), t

    def _near_bundle(self, o: np.ndarray, d: np.ndarray, candidates):
        """The candidate faces (all: None) whose sphere a ray of the bundle may meet.

        Ray k at distance s is within |o_k - o_0| + s |d_k - d_0| of ray 0 at s, and meets a
        sphere (c, r) only at s <= |c - o_0| + |o_k - o_0| + r: so ray 0 passes within
        reach = r + spread_m + (|c - o_0| + spread_m + r) spread of c, at a distance along
        it of at least -reach.  (The spreads are bounded by the diagonals of the boxes
        round the origins and the directions.)
        """
        ox, oy, oz = o[0].tolist()
        dx, dy, dz = d[0].tolist()
        # A bundle wider than half the body where it meets it keeps about every face: the
        # per-ray cull alone is cheaper then (the occlusion rays of a whole hemisphere).
        # A few rays tell most such blocks at once; then the whole block.
        far_m = math.sqrt(ox * ox + oy * oy + oz * oz) + self.radius_max_m
        for k in (len(o) // 2, len(o) - 1):
            if math.dist((ox, oy, oz), o[k].tolist()) + \
                    math.dist((dx, dy, dz), d[k].tolist()) * far_m > 0.5 * self.radius_max_m:
                return candidates
        spread_m = math.hypot(*np.ptp(o, axis=0).tolist())
        spread = math.hypot(*np.ptp(d, axis=0).tolist())
        if spread_m + spread * far_m > 0.5 * self.radius_max_m:
            return candidates
        if candidates is None:
            (cx, cy, cz), r = self._c_rows, self._sphere_r
        else:
            (cx, cy, cz), r = self._c_rows[:, candidates], self._sphere_r[candidates]
        rx, ry, rz = cx - ox, cy - oy, cz - oz
        dist_sq = rx * rx + ry * ry + rz * rz
        along = rx * dx + ry * dy + rz * dz
        reach = r + spread_m + (np.sqrt(dist_sq) + spread_m + r) * spread
        # The squared distance from the line loses ~1e-16 dist_sq to rounding: allowed for.
        near = np.flatnonzero((along >= -reach)
                              & (dist_sq - along * along <= reach * reach + 1e-14 * dist_sq))
        return near if candidates is None else candidates[near]

    def cast(self, origins_m, directions, candidates=None,
             t_min_m: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Nearest hit per ray: (faces int64 (n,), -1 on a miss; distances (n,) m, inf on
        a miss).  origins_m and directions (any length, normalised here) are (n, 3);
        candidates: the face indices to test (default all)."""
        o, d = _rays(origins_m, directions)
        return self.cast_unit(o, d, candidates, t_min_m)

    def cast_unit(self, origins_m: np.ndarray, unit_dirs: np.ndarray, candidates=None,
                  t_min_m: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """``cast`` for rays already checked: finite (n, 3) origins and unit directions (not
        normalised here), as a caller that built them itself has them."""
        o, d = origins_m, unit_dirs
        faces = np.full(len(o), -1, dtype=np.int64)
        dist = np.full(len(o), np.inf)
        idx = None if candidates is None else np.unique(np.asarray(candidates, dtype=np.int64))
        if len(o) == 0 or (idx is not None and idx.size == 0):
            return faces, dist
        for s in range(0, len(o), RAY_BLOCK):
            ob, db = o[s:s + RAY_BLOCK], d[s:s + RAY_BLOCK]
            near, dense = self._block_faces(ob, db, idx)
            if dense:
                if near.size == 0:
                    continue
                hit, t = self._exact_dense(ob, db, near, t_min_m)
                t = np.where(hit, t, np.inf)
                # Nearest per ray; the faces are in increasing order, so of equal distances
                # argmin takes the lower face index.
                j = np.argmin(t, axis=1)
                best = t[np.arange(len(ob)), j]
                faces[s:s + len(ob)] = np.where(best < np.inf, near[j], -1)
                dist[s:s + len(ob)] = best
                continue
            rr, ff, t = self._culled_pairs(ob, db, near, t_min_m)
            if rr.size == 0:
                continue
            # Nearest per ray; of equal distances the lower face index.
            order = np.lexsort((ff, t, rr))
            rr, ff, t = rr[order], ff[order], t[order]
            first = np.flatnonzero(np.concatenate(([True], rr[1:] != rr[:-1])))
            faces[s + rr[first]] = ff[first]
            dist[s + rr[first]] = t[first]
        return faces, dist

    def any_hit_before(self, origins_m: np.ndarray, unit_dirs: np.ndarray, t_max_m,
                       candidates: np.ndarray, exclude: np.ndarray,
                       t_min_m: float = 0.0) -> np.ndarray:
        """Per ray (unit directions): is a candidate face other than exclude[k] hit between
        t_min_m and t_max_m[k]?  (Occlusion: shadows, hidden faces.)"""
        out = np.zeros(len(origins_m), dtype=bool)
        if len(origins_m) == 0 or candidates.size == 0:
            return out
        for s in range(0, len(origins_m), RAY_BLOCK):
            sl = slice(s, s + RAY_BLOCK)
            rr, ff, t = self.ray_face_hits(origins_m[sl], unit_dirs[sl], candidates, t_min_m)
            blocking = (ff != exclude[sl][rr]) & (t < t_max_m[sl][rr])
            out[s + rr[blocking]] = True
        return out

    def contains(self, points_m, t_min_m: float = 0.0) -> np.ndarray:
        """Inside the closed mesh? (n,) bool, by the parity of the crossings of a ray from
        each point, radial but slightly skewed (never along an edge by construction)."""
        p = np.atleast_2d(np.asarray(points_m, dtype=float))
        out = np.zeros(len(p), dtype=bool)
        for k, q in enumerate(p):
            r = float(np.linalg.norm(q))
            if r > self.radius_max_m:
                continue
            d = (q / r if r > 0 else np.array([0.0, 0.0, 1.0])) + np.array([1e-4, 2e-4, 3e-4])
            d /= np.linalg.norm(d)
            _, ff, _ = self.ray_face_hits(q[None], d[None], None, t_min_m)
            out[k] = ff.size % 2 == 1
        return out

    def faces_near(self, point_m, radius_m: float) -> np.ndarray:
        """Faces whose centroid lies within radius_m of the point."""
        d = np.linalg.norm(self.centroids - np.asarray(_vec3("point_m", point_m)), axis=1)
        return np.flatnonzero(d <= radius_m)


def spherical_cap_height_m(base_radius_m: float, height_m: float, lateral_sq_m2: float) -> float:
    """Height above its base plane of a spherical cap (a boulder: base radius a, height h)
    at a point lateral_sq_m2 (squared) from the cap's axis; 0 off the cap."""
    a, h = base_radius_m, height_m
    if h <= 0.0 or lateral_sq_m2 >= a * a:
        return 0.0
    sphere_r = (a * a + h * h) / (2.0 * h)
    return math.sqrt(sphere_r * sphere_r - lateral_sq_m2) - (sphere_r - h)
