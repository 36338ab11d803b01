"""The truth about the prospecting sites: which are safe, which a descent can deliver
the sampler to, and where the probe's choice ranks among them.

The simulator's own judgement, from the truth mesh (flightsw.geometry.mesh, shared
mathematics only), the true local 'down', the boulders it placed and the site
requirements of the scenario ([prospect] site_*, tag.safe_home_height_m): never
from the flight software's parameters, shape model or ranking, so that a flight
bug cannot move the truth it is scored against.

A site is a facet of the mesh (site id = face index).

* Safe: the facet's slope against the true local 'down' is at most
  site_slope_max_deg, and its tallest boulder at most site_relief_max_m.
* Deliverable: the descent can reach it, touch it in light and back away:
  - the latitude of its centroid is within +-site_lat_max_deg;
  - at the best light it gets in a rotation the Sun is within
    site_incidence_max_deg of its normal and its centroid is in no other facet's
    shadow.  Over a rotation the Sun keeps its declination in the body-fixed frame
    (the body turns about +z_bf under a Sun fixed in inertial space) and sweeps all
    azimuths, so the best light comes when the Sun stands at the azimuth of the
    normal: incidence = |elevation of the normal - declination of the Sun|;
  - safe-home, home_height_m out along the normal from the centroid, is reached by
    a straight climb that crosses no face (so it is outside the body too).
* Truth rank of a site: 1 + the number of safe, deliverable sites whose true
  resource is larger; -1 when the site itself is not safe and deliverable.
"""

import math
from dataclasses import dataclass

import numpy as np

LIFT_M = 0.01  # light and climb rays start this far above the facet


@dataclass(frozen=True)
class SiteRequirements:
    """What makes a site safe and deliverable, from the scenario (the mission's
    requirements), independent of the flight software's parameter table."""

    slope_max_deg: float
    relief_max_m: float
    lat_max_deg: float
    incidence_max_deg: float
    home_height_m: float

    def __post_init__(self):
        for name, lo, hi in (("slope_max_deg", 0.0, 90.0), ("relief_max_m", 0.0, 100.0),
                             ("lat_max_deg", 0.0, 90.0), ("incidence_max_deg", 0.0, 90.0),
                             ("home_height_m", 1.0, 1e5)):
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise ValueError(f"site requirement {name} must be in [{lo:g}, {hi:g}], "
                                 f"got {value!r}")


def best_light_sun_bf(normals, sun_bf) -> np.ndarray:
    """Per facet, the unit Sun direction (bf) of its best light in a rotation: the Sun's
    declination, the azimuth of the facet's normal (azimuth 0 for a normal along the pole).
    """
    s = np.asarray(sun_bf, dtype=float)
    declination = math.asin(max(-1.0, min(1.0, float(s[2] / np.linalg.norm(s)))))
    n = np.asarray(normals, dtype=float)
    azimuth = np.arctan2(n[:, 1], n[:, 0])
    cos_dec = math.cos(declination)
    return np.column_stack((cos_dec * np.cos(azimuth), cos_dec * np.sin(azimuth),
                            np.full(len(n), math.sin(declination))))


class SiteTruth:
    """Per site (face of ``mesh``, a flightsw.geometry.mesh.TriangleMesh): slope, latitude,
    safe and deliverable, for the given true 'down' (M, 3) unit, tallest boulder per site
    (M,) m, requirements and the Sun in bf at any time of a rotation."""

    def __init__(self, mesh, down_bf, relief_m, requirements: SiteRequirements, sun_bf):
        down = np.asarray(down_bf, dtype=float)
        relief = np.asarray(relief_m, dtype=float)
        if down.shape != (mesh.n_faces, 3) or relief.shape != (mesh.n_faces,):
            raise ValueError(f"down_bf must be ({mesh.n_faces}, 3) and relief_m "
                             f"({mesh.n_faces},), got {down.shape} and {relief.shape}")
        self.mesh = mesh
        self.requirements = req = requirements
        normals, centroids = mesh.normals, mesh.centroids
        up = np.clip(-np.einsum("ij,ij->i", normals, down), -1.0, 1.0)
        self.slope_deg = np.degrees(np.arccos(up))
        radius = np.sqrt(np.einsum("ij,ij->i", centroids, centroids))
        self.lat_deg = np.degrees(np.arcsin(np.clip(centroids[:, 2] / radius, -1.0, 1.0)))
        self.safe = (self.slope_deg <= req.slope_max_deg) & (relief <= req.relief_max_m)
        self.reachable = np.abs(self.lat_deg) <= req.lat_max_deg
        self.lit_at_best = self._lit_at_best(sun_bf)
        self.climb_clear = self._climb_clear()
        self.deliverable = self.reachable & self.lit_at_best & self.climb_clear

    def _lit_at_best(self, sun_bf) -> np.ndarray:
        mesh = self.mesh
        sun = best_light_sun_bf(mesh.normals, sun_bf)
        cos_i = np.einsum("ij,ij->i", mesh.normals, sun)
        lit = cos_i >= math.cos(math.radians(self.requirements.incidence_max_deg))
        sites = np.flatnonzero(lit)
        blocker, _ = mesh.cast(mesh.centroids[sites] + LIFT_M * mesh.normals[sites],
                               sun[sites])
        lit[sites] = blocker < 0
        return lit

    def _climb_clear(self) -> np.ndarray:
        mesh = self.mesh
        _, first_hit_m = mesh.cast(mesh.centroids + LIFT_M * mesh.normals, mesh.normals)
        return first_hit_m > self.requirements.home_height_m - LIFT_M

    @property
    def eligible(self) -> np.ndarray:
        """Safe and deliverable: the sites a perfect probe would choose among."""
        return self.safe & self.deliverable

    def rank(self, resource_truth, site_id: int) -> int:
        """Rank of a site among the eligible ones by true resource, 1 = the best (ties
        share a rank); -1 when the site is not eligible."""
        value = np.asarray(resource_truth, dtype=float)
        if value.shape != (self.mesh.n_faces,):
            raise ValueError(f"resource_truth must have one value per site "
                             f"({self.mesh.n_faces}), got shape {value.shape}")
        if not 0 <= site_id < value.size:
            raise ValueError(f"site_id must be in 0..{value.size - 1}, got {site_id}")
        eligible = self.eligible
        if not eligible[site_id]:
            return -1
        descending = -np.sort(-value[eligible])
        return 1 + int(np.searchsorted(-descending, -value[site_id], side="left"))
