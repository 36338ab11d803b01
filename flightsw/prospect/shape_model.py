"""The on-board shape model: facets are the candidate sites (site id = facet index).

Frame: body-fixed (bf), metres, z along the spin pole, origin at the centre of mass.
Faces are counter-clockwise seen from outside (outward normals).

The mesh mathematics (ray casts with their bounding-sphere cull, normals, centroids,
inside/outside) is flightsw.geometry.mesh, shared with the simulator; this module adds
what the flight software asks of its map: slope against the uplinked local 'down',
latitude and longitude, and which facets are lit and observable.

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

from flightsw.geometry.mesh import MeshError, TriangleMesh, unit_rows

_T_MIN_M = 1e-6  # hits closer than this to the ray origin are ignored
_LIFT_M = 0.01  # shadow rays start this far above their facet


class ShapeModelError(ValueError):
    """A shape model or query that cannot be used (one-line message)."""


def _vec3(value, name: str) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):  # not numbers at all: the same one-line refusal
        raise ShapeModelError(f"{name} must be a finite 3-vector, got {value!r}") from None
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
        if cache_tolerance_deg < 0.0:
            raise ShapeModelError(f"cache_tolerance_deg must be >= 0, got {cache_tolerance_deg}")
        try:
            self.mesh = mesh = TriangleMesh(vertices_m, faces)
            centre_dirs = unit_rows(mesh.centroids, "centroids")
            if down_bf is not None:
                down_bf = np.asarray(down_bf, dtype=float)
                if down_bf.shape != (mesh.n_faces, 3):
                    raise ShapeModelError(f"down_bf must have shape ({mesh.n_faces}, 3), "
                                          f"got {down_bf.shape}")
            self.down_bf = -centre_dirs if down_bf is None else unit_rows(down_bf, "down_bf")
        except MeshError as e:
            raise ShapeModelError(str(e)) from None
        self.vertices_m, self.faces, self.n_sites = mesh.vertices_m, mesh.faces, mesh.n_faces
        self.v0, self.e1, self.e2 = mesh.v0, mesh.e1, mesh.e2
        self.normals, self.centroids, self.areas_m2 = mesh.normals, mesh.centroids, mesh.areas_m2
        self.radius_max_m = mesh.radius_max_m
        cos = np.clip(-(self.normals * self.down_bf).sum(axis=1), -1.0, 1.0)
        self.slope_deg = np.degrees(np.arccos(cos))
        self.lat_deg = np.degrees(np.arcsin(np.clip(centre_dirs[:, 2], -1.0, 1.0)))
        self.lon_deg = np.degrees(np.arctan2(centre_dirs[:, 1], centre_dirs[:, 0]))
        self._cache_cos = math.cos(math.radians(cache_tolerance_deg))
        self._exact = cache_tolerance_deg == 0.0
        self._shadow_key = None
        self._shadow = None
        self._hidden_key = None
        self._hidden = None

    # -- ray casting --------------------------------------------------------------------------
    def ray_hits(self, origins_bf, dirs_bf, candidates=None) -> tuple[np.ndarray, np.ndarray]:
        """Nearest facet hit per ray.

        origins_bf (n, 3) m and dirs_bf (n, 3) (any length) in bf; candidates: optional
        facet indices to test (default all).  Returns (site ids int64 (n,), -1 on a miss;
        distances m float (n,), inf on a miss).
        """
        try:
            return self.mesh.cast(origins_bf, dirs_bf, candidates, t_min_m=_T_MIN_M)
        except MeshError as e:
            raise ShapeModelError(str(e)) from None

    def contains(self, points_bf) -> np.ndarray:
        """Inside the closed mesh? (n,) bool, by the parity of crossings of a radial ray."""
        return self.mesh.contains(points_bf, t_min_m=_T_MIN_M)

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
            hit = self.mesh.any_hit_before(o, d, np.full(len(rays), np.inf), occluders, rays,
                                           _T_MIN_M)
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
            hit = self.mesh.any_hit_before(np.repeat(p[None], len(rays), axis=0), d, t_max,
                                           rays, rays, _T_MIN_M)
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
