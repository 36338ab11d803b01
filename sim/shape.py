"""Asteroid shape: a triangle mesh of Bennu's "spinning top", and mesh geometry helpers.

Frame: body-fixed, origin at the centre of mass (the mesh is centrally symmetric, so the
centroid of a constant-density body is the origin), z along the spin pole, metres.

Meshes are ``(vertices_m, faces)``: ``vertices_m`` float64 ``(N, 3)``, ``faces`` int64
``(M, 3)`` vertex indices, each face counter-clockwise seen from outside (outward normals).

Pure functions, no I/O.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "BENNU_EXTENT_M",
    "altitude_above_surface_m",
    "bennu_top_shape",
    "circumscribing_radius_m",
    "icosphere",
    "MeshRayCaster",
    "mesh_signed_volume_m3",
    "mesh_volume_m3",
    "point_mesh_distance_m",
    "ray_mesh_distance_m",
    "surface_radius_m",
]

#: Bennu's bounding box, x × y × z (z = spin pole), metres (FACTS.md: 565×535×508 m).
BENNU_EXTENT_M = (565.0, 535.0, 508.0)

# Meridian profile of the unit top before axis scaling:  rho**POLE + |z|**RIDGE = 1, with rho
# the distance from the spin axis.  POLE = 2 makes a rounded, paraboloid-like pole; RIDGE
# slightly above 1 makes the flanks almost conical and the equator a sharp ridge (exactly 1
# would be a crease).  With Bennu's extents this gives ≈ 0.061 km³, Bennu's volume
# (mass 7.329e10 kg / bulk density 1190 kg/m³ = 0.0616 km³).
_POLE_EXPONENT = 2.0
_RIDGE_EXPONENT = 1.05


def _check_mesh(vertices_m, faces) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(vertices_m, dtype=np.float64)
    f = np.asarray(faces)
    if v.ndim != 2 or v.shape[1] != 3 or v.shape[0] < 4:
        raise ValueError(f"vertices_m must have shape (N>=4, 3), got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("vertices_m must be finite")
    if f.ndim != 2 or f.shape[1] != 3 or f.shape[0] < 4:
        raise ValueError(f"faces must have shape (M>=4, 3), got {f.shape}")
    if not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"faces must hold integer vertex indices, got dtype {f.dtype}")
    if f.min() < 0 or f.max() >= v.shape[0]:
        raise ValueError(f"faces index vertices outside 0..{v.shape[0] - 1}")
    return v, f.astype(np.int64, copy=False)


def _check_vector(name: str, value) -> np.ndarray:
    a = np.asarray(value, dtype=np.float64)
    if a.shape != (3,):
        raise ValueError(f"{name} must be a 3-vector, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got {a}")
    return a


def icosphere(subdivisions: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Unit sphere mesh: an icosahedron with one vertex on +z, each face split in 4
    ``subdivisions`` times (20 * 4**subdivisions faces), vertices pushed onto the sphere.

    The vertex set is centrally symmetric (v in set => -v in set).
    """
    if isinstance(subdivisions, bool) or not isinstance(subdivisions, (int, np.integer)):
        raise TypeError(f"subdivisions must be an int, got {subdivisions!r}")
    if not 0 <= subdivisions <= 7:
        raise ValueError(f"subdivisions must be in 0..7, got {subdivisions}")
    phi = (1.0 + math.sqrt(5.0)) / 2.0
    verts = np.array(
        [
            [-1, phi, 0], [1, phi, 0], [-1, -phi, 0], [1, -phi, 0],
            [0, -1, phi], [0, 1, phi], [0, -1, -phi], [0, 1, -phi],
            [phi, 0, -1], [phi, 0, 1], [-phi, 0, -1], [-phi, 0, 1],
        ],
        dtype=np.float64,
    )
    faces = np.array(
        [
            [0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11],
            [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8],
            [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9],
            [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1],
        ],
        dtype=np.int64,
    )
    # Rotate about x so that vertex 5, (0, 1, phi), lands on +z: a pole vertex.
    theta = math.atan2(1.0, phi)
    c, s = math.cos(theta), math.sin(theta)
    rot = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    verts = np.einsum("ab,vb->va", rot, verts)  # not verts @ rot.T: BLAS differs by CPU
    verts /= np.linalg.norm(verts, axis=1, keepdims=True)

    for _ in range(subdivisions):
        # One new vertex per undirected edge, shared by the two faces of that edge.
        edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
        key = np.sort(edges, axis=1)
        uniq, inverse = np.unique(key, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        mid = verts[uniq[:, 0]] + verts[uniq[:, 1]]
        mid /= np.linalg.norm(mid, axis=1, keepdims=True)
        n_old = len(verts)
        verts = np.concatenate([verts, mid])
        m = len(faces)
        a = n_old + inverse[:m]  # midpoint of edge 0-1 of each face
        b = n_old + inverse[m : 2 * m]  # edge 1-2
        cc = n_old + inverse[2 * m :]  # edge 2-0
        f0, f1, f2 = faces[:, 0], faces[:, 1], faces[:, 2]
        faces = np.concatenate(
            [
                np.stack([f0, a, cc], axis=1),
                np.stack([f1, b, a], axis=1),
                np.stack([f2, cc, b], axis=1),
                np.stack([a, b, cc], axis=1),
            ]
        )
    # Make every face counter-clockwise seen from outside (det(v0, v1, v2) > 0 from origin).
    det = _origin_dets(verts, faces)
    flip = det < 0
    faces[flip] = faces[flip][:, [0, 2, 1]]
    return verts, faces


def _origin_dets(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """det(v0, v1, v2) per face: > 0 when the face is counter-clockwise seen from outside a
    body that is star-shaped about the origin (six times the signed origin-tetrahedron)."""
    a, b, c = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
    return np.einsum("ij,ij->i", a, np.cross(b, c))


def _top_radius(directions: np.ndarray) -> np.ndarray:
    """Radius of the unit top (rho**POLE + |z|**RIDGE = 1) along unit ``directions``."""
    rho = np.hypot(directions[:, 0], directions[:, 1])
    zabs = np.abs(directions[:, 2])
    # g(r) = (r rho)^p + (r |z|)^q - 1 increases with r and g(1) >= 0 for unit directions
    # (since p, q >= 1), so the root is in (0, 1]: bisection, 60 halvings = exact in float64.
    lo = np.zeros_like(rho)
    hi = np.ones_like(rho)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        g = (mid * rho) ** _POLE_EXPONENT + (mid * zabs) ** _RIDGE_EXPONENT - 1.0
        above = g > 0.0
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return 0.5 * (lo + hi)


def bennu_top_shape(subdivisions: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Bennu's spinning-top shape as a closed, outward triangle mesh made in code.

    A subdivided icosahedron (``subdivisions=3``: 642 vertices, 1280 faces; 4: 5120 faces)
    whose unit directions are mapped to the radius of a top (rounded poles, near-conical
    flanks, sharp equatorial ridge), then each axis is scaled so that the bounding box is
    exactly 565 × 535 × 508 m (x, y, z; z the spin pole).  The mesh is star-shaped about the
    origin (every ray from the origin leaves through exactly one face).

    Returns ``(vertices_m (N, 3) float64, faces (M, 3) int64)``.
    """
    unit, faces = icosphere(subdivisions)
    verts = unit * _top_radius(unit)[:, None]
    extent = verts.max(axis=0) - verts.min(axis=0)
    verts = verts * (np.asarray(BENNU_EXTENT_M) / extent)
    # Radial construction keeps every face facing away from the origin; a positive diagonal
    # scaling keeps it so.  Check rather than trust, since the ray casts rely on it.
    det = _origin_dets(verts, faces)
    if not np.all(det > 0.0):
        raise AssertionError("top shape is not star-shaped about the origin")
    return verts, faces


def mesh_signed_volume_m3(vertices_m, faces) -> float:
    """Signed volume (divergence theorem): positive when faces are outward (CCW from outside)."""
    v, f = _check_mesh(vertices_m, faces)
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    return float(np.einsum("ij,ij->", a, np.cross(b, c)) / 6.0)


def mesh_volume_m3(vertices_m, faces) -> float:
    """Enclosed volume of a closed mesh, whatever its orientation."""
    return abs(mesh_signed_volume_m3(vertices_m, faces))


def circumscribing_radius_m(vertices_m) -> float:
    """Radius of the smallest origin-centred sphere holding every vertex (hence the body)."""
    v = np.asarray(vertices_m, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != 3 or v.shape[0] == 0:
        raise ValueError(f"vertices_m must have shape (N, 3), got {v.shape}")
    return float(np.sqrt(np.max(np.einsum("ij,ij->i", v, v))))


def ray_mesh_distance_m(vertices_m, faces, origin_m, direction) -> float:
    """Distance in metres from ``origin_m`` along ``direction`` (any length, normalised here)
    to the nearest face hit in front of the origin; ``math.inf`` when the ray misses.

    Möller–Trumbore, vectorised over faces.  For many rays on one mesh (a lidar), build a
    ``MeshRayCaster`` once instead: it keeps the per-face arrays.
    """
    return _caster_for(vertices_m, faces).distance_m(origin_m, direction)


_last_caster: list = []  # [(vertices copy, faces copy, caster)]: one-entry cache


def _caster_for(vertices_m, faces) -> MeshRayCaster:
    """The caster of the mesh given last time if the arrays hold the same values (checked by
    value, ~10 µs, against copies: safe if the caller edits its arrays in place)."""
    v = np.asarray(vertices_m)
    f = np.asarray(faces)
    if _last_caster:
        v0, f0, caster = _last_caster[0]
        if v.shape == v0.shape and f.shape == f0.shape and np.array_equal(v, v0) \
                and np.array_equal(f, f0):
            return caster
    caster = MeshRayCaster(v, f)
    _last_caster[:] = [(np.array(v, dtype=np.float64), np.array(f), caster)]
    return caster


def surface_radius_m(vertices_m, faces, direction) -> float:
    """Distance from the origin to the surface along ``direction`` (star-shaped mesh)."""
    return _caster_for(vertices_m, faces).surface_radius_m(direction)


def altitude_above_surface_m(vertices_m, faces, point_m) -> float:
    """Radial altitude: the point's radius minus the surface radius in its direction.

    Negative inside the body.  Not the shortest distance to the surface (see
    ``point_mesh_distance_m``), but cheap, and for a hover it is what a nadir-pointed
    altimeter sees on a near-spherical body.
    """
    return _caster_for(vertices_m, faces).altitude_m(point_m)


def point_mesh_distance_m(vertices_m, faces, point_m) -> float:
    """Shortest (unsigned) distance in metres from ``point_m`` to the mesh surface."""
    return _caster_for(vertices_m, faces).distance_to_surface_m(point_m)


class MeshRayCaster:
    """Ray casts and distances on one mesh, with the per-face arrays computed once.

    Arrays are kept as (3, M) component rows: arithmetic on rows of contiguous floats is
    several times cheaper in numpy than ``np.cross``/``einsum`` on (M, 3) arrays.
    """

    def __init__(self, vertices_m, faces):
        v, f = _check_mesh(vertices_m, faces)
        vt = np.ascontiguousarray(v.T)
        self._a = vt[:, f[:, 0]]
        self._e1 = vt[:, f[:, 1]] - self._a
        self._e2 = vt[:, f[:, 2]] - self._a
        e1, e2 = self._e1, self._e2
        self._n = np.array(
            [
                e1[1] * e2[2] - e1[2] * e2[1],
                e1[2] * e2[0] - e1[0] * e2[2],
                e1[0] * e2[1] - e1[1] * e2[0],
            ]
        )
        self._nn = (self._n * self._n).sum(axis=0)
        if np.any(self._nn == 0.0):
            raise ValueError("mesh has degenerate (zero-area) faces")
        self._radial_face = -1  # face of the last surface_radius_m, tried first next time
        # |e1|^2 |e2|: scale of det = e1 . (d x e2) for the edge-on test below.
        self._det_scale = (e1 * e1).sum(axis=0) * np.sqrt((e2 * e2).sum(axis=0))
        # Bounding spheres of the faces (centroid, farthest vertex), padded far past the
        # barycentric tolerance of distance_m and any rounding of the cull: a ray that
        # misses a face's sphere cannot hit the face, so only the few faces along the ray
        # (about 8 of 1280 for a lidar shot) go through the full test.
        centre = self._a + (e1 + e2) / 3.0
        corners = np.stack([self._a, self._a + e1, self._a + e2])  # (3 corners, 3, M)
        reach = np.sqrt(((corners - centre) ** 2).sum(axis=0).max(axis=0))
        self._sphere_r = reach * (1.0 + 1e-6) + 1e-6
        self._sphere_r2 = self._sphere_r * self._sphere_r
        self._centre_rows = np.ascontiguousarray(centre.T)  # (M, 3)
        self._centre_sq = (centre * centre).sum(axis=0)
        # Per-face corner and edges as plain floats for the per-face test.
        self._face_floats = list(zip(self._a.T.tolist(), e1.T.tolist(), e2.T.tolist(),
                                     self._det_scale.tolist(), strict=True))

    def distance_m(self, origin_m, direction) -> float:
        """Nearest hit distance along the ray, metres; ``math.inf`` on a miss.

        Hits on a shared edge or vertex count for both faces (small barycentric tolerance),
        so a ray never slips between two faces.
        """
        ox, oy, oz = _check_vector("origin_m", origin_m).tolist()
        dx, dy, dz = _check_vector("direction", direction).tolist()
        norm = math.sqrt(dx * dx + dy * dy + dz * dz)
        if norm == 0.0:
            raise ValueError("direction must be non-zero")
        dx, dy, dz = dx / norm, dy / norm, dz / norm
        # Cull by bounding sphere: |c - o|^2 - ((c - o) . d)^2 is the squared distance
        # from a face's centre to the ray's line.  One matrix product for c . d and c . o
        # (rounding there is far inside the spheres' padding).
        cd, co = (self._centre_rows @ np.array([[dx, ox], [dy, oy], [dz, oz]])).T
        along = cd - (ox * dx + oy * dy + oz * dz)
        line_sq = self._centre_sq - 2.0 * co + (ox * ox + oy * oy + oz * oz) - along * along
        faces = np.flatnonzero((line_sq <= self._sphere_r2) & (along >= -self._sphere_r))
        best_t, best_face = math.inf, -1
        for face in faces.tolist():
            t = self._hit_m(face, ox, oy, oz, dx, dy, dz)
            if t < best_t:
                best_t, best_face = t, face
        self.last_face = best_face
        return best_t

    def _hit_m(self, face: int, ox, oy, oz, dx, dy, dz) -> float:
        """Hit distance of the unit ray on one face (with distance_m's tolerance), or inf."""
        uwt = self._barycentric(face, ox, oy, oz, dx, dy, dz)
        if uwt is None:
            return math.inf
        u, w, t = uwt
        eps = 1e-10
        if u >= -eps and w >= -eps and u + w <= 1.0 + eps and t > 0.0:
            return t
        return math.inf

    def _barycentric(self, face: int, ox, oy, oz, dx, dy, dz):
        """Moller-Trumbore on one face: (u, w, t), or None for a face seen edge-on."""
        a, e1, e2, det_scale = self._face_floats[face]
        px = dy * e2[2] - dz * e2[1]
        py = dz * e2[0] - dx * e2[2]
        pz = dx * e2[1] - dy * e2[0]
        det = e1[0] * px + e1[1] * py + e1[2] * pz
        # Faces seen edge-on (det ~ 0) cannot be hit transversally.
        if not abs(det) > 1e-14 * det_scale:
            return None
        inv = 1.0 / det
        tx, ty, tz = ox - a[0], oy - a[1], oz - a[2]
        u = (tx * px + ty * py + tz * pz) * inv
        qx = ty * e1[2] - tz * e1[1]
        qy = tz * e1[0] - tx * e1[2]
        qz = tx * e1[1] - ty * e1[0]
        w = (dx * qx + dy * qy + dz * qz) * inv
        t = (e2[0] * qx + e2[1] * qy + e2[2] * qz) * inv
        return u, w, t

    def _radius_through_face(self, face: int, direction) -> float | None:
        """Distance along the ray from the origin to ``face`` if it hits well inside it."""
        if face < 0:
            return None
        dx, dy, dz = (float(c) for c in direction)
        norm = math.sqrt(dx * dx + dy * dy + dz * dz)
        if norm == 0.0:
            return None
        uwt = self._barycentric(face, 0.0, 0.0, 0.0, dx / norm, dy / norm, dz / norm)
        if uwt is None:
            return None
        u, w, t = uwt
        margin = 1e-6  # clear of the edges, where a neighbour might win by rounding
        if u > margin and w > margin and u + w < 1.0 - margin and t > 0.0:
            return t
        return None

    def face_normal(self, face: int) -> np.ndarray:
        """Outward unit normal of one face."""
        n = self._n[:, face]
        return n / math.sqrt(float(self._nn[face]))

    def surface_radius_m(self, direction) -> float:
        """Distance from the origin to the surface along ``direction`` (star-shaped mesh)."""
        # From the origin of a star-shaped mesh a ray leaves through exactly one face, so
        # a hit well inside the face found last time is the answer: one triangle in plain
        # floats instead of the whole mesh (the probe's direction barely moves per call).
        r = self._radius_through_face(self._radial_face, direction)
        if r is not None:
            return r
        r = self.distance_m((0.0, 0.0, 0.0), direction)
        self._radial_face = self.last_face
        if not math.isfinite(r):
            raise ValueError("the ray from the origin misses the mesh: origin not inside it")
        return r

    def altitude_m(self, point_m) -> float:
        """Radial altitude, as ``altitude_above_surface_m``."""
        p = _check_vector("point_m", point_m)
        r = math.sqrt(float(p @ p))
        if r == 0.0:
            raise ValueError("altitude is undefined at the origin")
        return r - self.surface_radius_m(p)

    def distance_to_surface_m(self, point_m) -> float:
        """Shortest (unsigned) distance from ``point_m`` to the surface, metres.

        If the foot of the perpendicular falls inside a face the distance is the plane
        distance; otherwise the nearest point of that face is on one of its three edges.
        """
        px, py, pz = _check_vector("point_m", point_m).tolist()
        a, e1, e2, n = self._a, self._e1, self._e2, self._n
        wx, wy, wz = px - a[0], py - a[1], pz - a[2]
        # Barycentric weights of the projection on the plane (of vertex b, of vertex c).
        s = ((wy * e2[2] - wz * e2[1]) * n[0] + (wz * e2[0] - wx * e2[2]) * n[1]
             + (wx * e2[1] - wy * e2[0]) * n[2]) / self._nn
        t = ((e1[1] * wz - e1[2] * wy) * n[0] + (e1[2] * wx - e1[0] * wz) * n[1]
             + (e1[0] * wy - e1[1] * wx) * n[2]) / self._nn
        inside = (s >= 0.0) & (t >= 0.0) & (s + t <= 1.0)
        plane_sq = (wx * n[0] + wy * n[1] + wz * n[2]) ** 2 / self._nn

        def seg_sq(qx, qy, qz, dx, dy, dz):
            # Squared distance from p to the segment q .. q + d.
            rx, ry, rz = px - qx, py - qy, pz - qz
            u = np.clip((rx * dx + ry * dy + rz * dz) / (dx * dx + dy * dy + dz * dz), 0.0, 1.0)
            ex, ey, ez = rx - u * dx, ry - u * dy, rz - u * dz
            return ex * ex + ey * ey + ez * ez

        bx, by, bz = a[0] + e1[0], a[1] + e1[1], a[2] + e1[2]
        edge_sq = np.minimum(
            np.minimum(
                seg_sq(a[0], a[1], a[2], e1[0], e1[1], e1[2]),
                seg_sq(a[0], a[1], a[2], e2[0], e2[1], e2[2]),
            ),
            seg_sq(bx, by, bz, e2[0] - e1[0], e2[1] - e1[1], e2[2] - e1[2]),
        )
        return math.sqrt(float(np.where(inside, plane_sq, edge_sq).min()))
