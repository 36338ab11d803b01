"""The touch-and-go site in the simulator: target, local surface, hazards, landmarks.

Truth near the target is the mesh face under it (a plane) plus boulders
(spherical caps of a given radius and height) at known places; slopes come
from the face normal against the local effective gravity (gravity plus the
centrifugal term of the body's spin).  The landmark catalogue is the mesh's
vertices plus a dense grid on the target's face, as Natural Feature Tracking
catalogues were densest around the site.
"""

import math
from dataclasses import dataclass

import numpy as np

from flightsw.geometry.frames import effective_gravity_bf
from flightsw.geometry.mesh import spherical_cap_height_m


class SiteError(ValueError):
    """A target or hazard that cannot be flown to (one-line message)."""


@dataclass(frozen=True)
class Hazard:
    center_bf_m: tuple[float, float, float]  # on the local plane
    radius_m: float
    height_m: float
    mapped: bool  # on the on-board hazard map


@dataclass(frozen=True)
class TargetSite:
    point_bf_m: tuple[float, float, float]
    normal_bf: tuple[float, float, float]
    slope_deg: float
    hazards: tuple[Hazard, ...]

    def plane_height_m(self, p_bf) -> float:
        """Height of p above the target's local plane along its normal."""
        n, o = self.normal_bf, self.point_bf_m
        return (p_bf[0] - o[0]) * n[0] + (p_bf[1] - o[1]) * n[1] + (p_bf[2] - o[2]) * n[2]

    def surface_height_m(self, p_bf) -> float:
        """Height of the surface (plane plus boulders) under p, above the plane."""
        top = 0.0
        n = self.normal_bf
        for hz in self.hazards:
            c = hz.center_bf_m
            d = (p_bf[0] - c[0], p_bf[1] - c[1], p_bf[2] - c[2])
            along = d[0] * n[0] + d[1] * n[1] + d[2] * n[2]
            lateral2 = (d[0] - along * n[0]) ** 2 + (d[1] - along * n[1]) ** 2 + (
                d[2] - along * n[2]) ** 2
            top = max(top, spherical_cap_height_m(hz.radius_m, hz.height_m, lateral2))
        return top


def surface_point_bf(mesh, lat_deg: float, lon_deg: float) -> tuple[np.ndarray, int]:
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    direction = (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))
    r, face = mesh.nearest_hit((0.0, 0.0, 0.0), direction)
    return np.array(direction) * r, face


def locate_site(mesh, gravity_bf, spin_rate_radps: float, lat_deg: float, lon_deg: float,
                hazards_latlon, slope_limit_deg: float, source: str) -> TargetSite:
    """The target at (lat, lon) on the mesh; SiteError if the slope is beyond the limit."""
    point, face = surface_point_bf(mesh, lat_deg, lon_deg)
    normal = mesh.normals[face]
    g = effective_gravity_bf(gravity_bf(*(point + normal * 0.01)), point, spin_rate_radps)
    # Dot products as Python sums, not BLAS: the same bits on every machine.
    g_n = -(g[0] * normal[0] + g[1] * normal[1] + g[2] * normal[2])
    g_len = math.sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2])
    slope = math.degrees(math.acos(max(-1.0, min(1.0, float(g_n / g_len)))))
    if slope > slope_limit_deg:
        raise SiteError(f"{source}: tag.target_latlon_deg: expected a site with slope <= "
                        f"{slope_limit_deg:g} deg (tag.slope_limit_deg), got {slope:.1f} deg at "
                        f"{lat_deg:g}, {lon_deg:g}")
    hazards = []
    for k, (hz_lat, hz_lon, radius, height, mapped) in enumerate(hazards_latlon):
        p, _ = surface_point_bf(mesh, hz_lat, hz_lon)
        # Put the hazard on the target's plane (it is within a face of the target).
        d = p - point
        p = p - normal * float(d[0] * normal[0] + d[1] * normal[1] + d[2] * normal[2])
        if math.dist(p, point) > 60.0:
            raise SiteError(f"{source}: tag.hazards[{k}]: expected a hazard within 60 m of the "
                            f"target (the local surface model), got "
                            f"{math.dist(p, point):.0f} m")
        hazards.append(Hazard(tuple(float(x) for x in p), float(radius), float(height),
                              bool(mapped)))
    site = TargetSite(tuple(float(x) for x in point), tuple(float(x) for x in normal),
                      slope, tuple(hazards))
    for k, hz in enumerate(site.hazards):
        if math.dist(hz.center_bf_m, site.point_bf_m) < hz.radius_m:
            if hz.mapped:
                continue  # a mapped hazard on the target is a wave-off test, not an error
            raise SiteError(f"{source}: tag.hazards[{k}]: an unmapped hazard covers the target")
    return site


def landmark_catalogue(vertices_m: np.ndarray, site: TargetSite | None,
                       spacing_m: float = 4.0, radius_m: float = 40.0) -> np.ndarray:
    """Landmark positions (body-fixed, m): mesh vertices, plus a grid around the target."""
    points = [np.asarray(vertices_m, dtype=float)]
    if site is not None:
        n = np.asarray(site.normal_bf)
        e1 = np.cross(n, [0.0, 0.0, 1.0] if abs(n[2]) < 0.9 else [1.0, 0.0, 0.0])
        e1 /= math.sqrt(float(e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2]))
        e2 = np.cross(n, e1)
        steps = np.arange(-radius_m, radius_m + 1e-9, spacing_m)
        grid = [np.asarray(site.point_bf_m) + a * e1 + b * e2
                for a in steps for b in steps if a * a + b * b <= radius_m ** 2]
        points.append(np.array(grid))
    return np.vstack(points)
