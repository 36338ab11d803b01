"""Asteroid shape: a triangle mesh of Bennu's "spinning top", made in code.

Frame: body-fixed, origin at the centre of mass (the mesh is centrally symmetric, so the
centroid of a constant-density body is the origin), z along the spin pole, metres.

Meshes are ``(vertices_m, faces)``: ``vertices_m`` float64 ``(N, 3)``, ``faces`` int64
``(M, 3)`` vertex indices, each face counter-clockwise seen from outside (outward normals).

Pure functions, no I/O.  What is computed on a mesh (ray casts, distances, volume) is
flightsw.geometry.mesh, shared with the flight software.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["BENNU_EXTENT_M", "bennu_top_shape", "icosphere"]

#: Bennu's bounding box, x × y × z (z = spin pole), metres (FACTS.md: 565×535×508 m).
BENNU_EXTENT_M = (565.0, 535.0, 508.0)

# Meridian profile of the unit top before axis scaling:  rho**POLE + |z|**RIDGE = 1, with rho
# the distance from the spin axis.  POLE = 2 makes a rounded, paraboloid-like pole; RIDGE
# slightly above 1 makes the flanks almost conical and the equator a sharp ridge (exactly 1
# would be a crease).  With Bennu's extents this gives ≈ 0.061 km³, Bennu's volume
# (mass 7.329e10 kg / bulk density 1190 kg/m³ = 0.0616 km³).
_POLE_EXPONENT = 2.0
_RIDGE_EXPONENT = 1.05


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
