"""Per-facet quantities the ground would give the probe: landmarks and local 'down'.

The survey needs navigation landmarks wherever the probe may descend, not just
around a target chosen in advance: `facet_landmarks` spreads points over every
facet on a barycentric lattice.  `facet_down_bf` is the unit direction of the
local effective gravity (polyhedral gravity plus the centrifugal term of the
spin) at each facet centroid: the probe's reference for slopes.
"""

import numpy as np

from flightsw.geometry.frames import effective_gravity_bf


def facet_landmarks(vertices_m, faces, spacing_m: float) -> np.ndarray:
    """Points inside every facet, about spacing_m apart (body-fixed, m)."""
    v = np.asarray(vertices_m, dtype=float)
    out = [v]
    for f in np.asarray(faces):
        a, b, c = v[f[0]], v[f[1]], v[f[2]]
        edge = max(np.linalg.norm(b - a), np.linalg.norm(c - b), np.linalg.norm(a - c))
        n = max(1, int(edge // spacing_m))
        pts = [a + (b - a) * (i / n) + (c - a) * (j / n)
               for i in range(1, n) for j in range(1, n - i)]
        if not pts:
            pts = [(a + b + c) / 3.0]
        out.append(np.asarray(pts))
    return np.vstack(out)


def facet_down_bf(mesh, gravity_fn, spin_rate_radps: float) -> np.ndarray:
    """Unit effective-gravity direction at each facet centroid (lifted 1 cm off the face) of
    a flightsw.geometry.mesh.TriangleMesh."""
    down = np.empty_like(mesh.centroids)
    for k, (p, n) in enumerate(zip(mesh.centroids, mesh.normals, strict=True)):
        q = p + 0.01 * n
        g = np.asarray(effective_gravity_bf(gravity_fn(*q), q, spin_rate_radps))
        down[k] = g / np.linalg.norm(g)
    return down
