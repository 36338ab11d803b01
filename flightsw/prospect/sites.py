"""Site ranking: resource value, safety and deliverability -> ranked candidates.

Safe: slope <= slope_max_deg AND relief (roughness) <= boulder_max_m AND at
least min_lidar_points lidar points (too few points is unknown, and unknown is
unsafe; so is a nan slope or relief).

Deliverable: |latitude| <= lat_max_deg (what the descent can reach), lit at
its local noon (incidence <= max_incidence_deg and not in another facet's
shadow, for the Sun at the azimuth of the site's normal: the best light the
site gets in a rotation), and safe-home (the site's centroid + home_height_m
along its normal) outside the body, with the straight back-away path to it
clear of the body.  The contact is then timed (`contact_time_s`) for when
the site is lit: the probe waits at safe-home for the light, as OSIRIS-REx
timed its touch-and-go for the site's illumination.

Ranked: sites with at least min_spectra good spectra, by

    score = resource - sigma_penalty * resource_sigma     (sigma_penalty default 0.5)

A small penalty on the uncertainty keeps a site seen twice with a lucky high
value from beating one measured well; with both sites well measured their
sigmas are small and alike, so the penalty moves neither, and the truly best
site keeps its place whenever its value leads by more than sigma_penalty times
the difference of the two sigmas.  Ties: the lower site id first.

`safe_mask` and `deliverable_mask` are the rules the probe applies to its own
maps.  The simulator judges the sites by its own truth (sim.site_truth), not
with these functions.
"""

import math
from dataclasses import dataclass

import numpy as np

SIGMA_PENALTY = 0.5
SHADOW_LIFT_M = 0.01  # shadow rays start this far above their facet
CONTACT_MARGIN_DEG = 10.0  # contact at least this far inside the incidence limit, if it can


@dataclass(frozen=True)
class Candidate:
    rank: int  # 1 = best
    site_id: int  # facet index
    point_bf_m: tuple  # the facet's centroid, bf, m
    resource: float
    resource_sigma: float
    slope_deg: float
    roughness_m: float
    score: float
    safe: bool = True
    deliverable: bool = True


def safe_mask(slope_deg, roughness_m, n_points, params) -> np.ndarray:
    """Per site: known to be safe (params.slope_max_deg, boulder_max_m, min_lidar_points)."""
    slope = np.asarray(slope_deg, dtype=float)
    rough = np.asarray(roughness_m, dtype=float)
    with np.errstate(invalid="ignore"):
        return (np.asarray(n_points) >= params.min_lidar_points) & np.isfinite(slope) & \
            (slope <= params.slope_max_deg) & np.isfinite(rough) & \
            (rough <= params.boulder_max_m)


def noon_sun_bf(shape, sun_bf) -> np.ndarray:
    """Per site, the unit Sun direction (bf) at the site's local noon.

    The body spins about +z_bf and the Sun is fixed in inertial space over a rotation, so
    in bf the Sun keeps its declination (z component) and turns in azimuth; noon puts it
    at the azimuth of the site's normal (any azimuth for a site facing a pole).
    """
    s = np.asarray(sun_bf, dtype=float)
    s = s / np.linalg.norm(s)
    sin_dec = float(s[2])
    cos_dec = math.sqrt(max(0.0, 1.0 - sin_dec * sin_dec))
    nh = shape.normals[:, :2]
    r = np.linalg.norm(nh, axis=1)
    az = np.where(r[:, None] > 1e-9, nh / np.where(r > 1e-9, r, 1.0)[:, None], [1.0, 0.0])
    return np.column_stack((cos_dec * az[:, 0], cos_dec * az[:, 1],
                            np.full(len(az), sin_dec)))


def lit_at_noon(shape, sun_bf, max_incidence_deg: float) -> np.ndarray:
    """Per site: at its local noon, within max_incidence_deg and not in a facet's shadow."""
    noon = noon_sun_bf(shape, sun_bf)
    ok = (shape.normals * noon).sum(axis=1) >= math.cos(math.radians(max_incidence_deg))
    ids = np.flatnonzero(ok)
    hit, _ = shape.ray_hits(shape.centroids[ids] + SHADOW_LIFT_M * shape.normals[ids],
                            noon[ids])
    ok[ids] = hit < 0
    return ok


def deliverable_mask(shape, params, sun_bf) -> np.ndarray:
    """Per site: reachable latitude, lit at its local noon, safe-home outside the body with
    a clear back-away path (params.lat_max_deg, max_incidence_deg, home_height_m).
    sun_bf: the Sun direction in bf at any time of the rotation (only its declination
    matters)."""
    lit = lit_at_noon(shape, sun_bf, params.max_incidence_deg)
    ok = (np.abs(shape.lat_deg) <= params.lat_max_deg) & lit
    ids = np.flatnonzero(ok)
    home = shape.centroids[ids] + shape.normals[ids] * params.home_height_m
    inside = shape.contains(home)
    start = shape.centroids[ids] + shape.normals[ids] * 0.5
    _, dist = shape.ray_hits(start, shape.normals[ids])
    blocked = dist < params.home_height_m - 0.5
    ok[ids] = ~inside & ~blocked
    return ok


def contact_time_s(shape, site_id: int, sun_bf_at, rate_radps: float, t_min_s: float,
                   max_incidence_deg: float, margin_deg: float = CONTACT_MARGIN_DEG,
                   step_deg: float = 1.0) -> tuple[float, float]:
    """When to touch the site: the first time >= t_min_s, on a grid of step_deg of spin
    over one rotation, at which it is lit within max_incidence_deg - margin_deg and not
    shadowed; failing that, the unshadowed time of its best incidence (its noon).

    sun_bf_at(t_s) -> the Sun direction in bf.  Returns (t_s, incidence_deg).
    """
    n = shape.normals[site_id]
    origin = shape.centroids[site_id] + SHADOW_LIFT_M * n
    want = math.cos(math.radians(max(0.0, max_incidence_deg - margin_deg)))
    dt = math.radians(step_deg) / rate_radps
    best = (-2.0, t_min_s)
    for k in range(int(math.ceil(360.0 / step_deg)) + 1):
        t = t_min_s + k * dt
        s = np.asarray(sun_bf_at(t), dtype=float)
        s = s / np.linalg.norm(s)
        cos_i = float(n @ s)
        if cos_i <= max(best[0], 0.0) and cos_i < want:
            continue
        hit, _ = shape.ray_hits(origin[None], s[None])
        if hit[0] >= 0:
            continue
        if cos_i >= want:
            return t, math.degrees(math.acos(min(1.0, cos_i)))
        best = (cos_i, t)
    cos_i, t = best
    return t, math.degrees(math.acos(max(-1.0, min(1.0, cos_i))))


def site_scores(value, sigma, params) -> np.ndarray:
    penalty = getattr(params, "sigma_penalty", SIGMA_PENALTY)
    return np.asarray(value, dtype=float) - penalty * np.asarray(sigma, dtype=float)


def rank_sites(value, sigma, n_spectra, slope_deg, roughness_m, n_points, shape, params,
               sun_bf) -> list[Candidate]:
    """The best params.n_candidates sites that are measured, safe and deliverable, best first.

    value, sigma, n_spectra: the resource map per site; slope_deg, roughness_m, n_points: the
    hazard map per site; params: slope_max_deg, boulder_max_m, min_lidar_points, min_spectra,
    lat_max_deg, max_incidence_deg, home_height_m, n_candidates (sigma_penalty optional).
    """
    value = np.asarray(value, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    slope = np.asarray(slope_deg, dtype=float)
    rough = np.asarray(roughness_m, dtype=float)
    n = shape.n_sites
    for name, a in (("value", value), ("sigma", sigma), ("n_spectra", np.asarray(n_spectra)),
                    ("slope_deg", slope), ("roughness_m", rough),
                    ("n_points", np.asarray(n_points))):
        if a.shape != (n,):
            raise ValueError(f"rank_sites: {name} must have one entry per site ({n}), "
                             f"got shape {a.shape}")
    score = site_scores(value, np.where(np.isfinite(sigma), sigma, np.inf), params)
    ok = np.isfinite(value) & np.isfinite(score) & (np.asarray(n_spectra) >= params.min_spectra)
    ok &= safe_mask(slope, rough, n_points, params)
    if ok.any():
        ok &= deliverable_mask(shape, params, sun_bf)
    ids = np.flatnonzero(ok)
    order = ids[np.lexsort((ids, -score[ids]))]
    out = []
    for rank, k in enumerate(order[: int(params.n_candidates)], start=1):
        out.append(Candidate(rank, int(k), tuple(float(x) for x in shape.centroids[k]),
                             float(value[k]), float(sigma[k]), float(slope[k]), float(rough[k]),
                             float(score[k]), True, True))
    return out

