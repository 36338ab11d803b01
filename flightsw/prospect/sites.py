"""Site ranking: resource value, safety and deliverability -> ranked candidates.

Safe: slope and relief (from the lidar hazard map) within their limits, with
enough lidar points to know (unknown is unsafe).  Deliverable: latitude the
descent can reach, lit at the expected contact time, safe-home (PRS_HOME_M
along the normal) clear of the body.  Ranked by the resource estimate; the
uncertainty is reported, not used to reorder, so a well-measured best site is
never pushed below a worse one.  `truth_rank` applies the same rules to the
simulator's truth.
"""

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Candidate:
    rank: int
    site_id: int
    point_bf_m: tuple
    resource: float
    resource_sigma: float
    slope_deg: float
    roughness_m: float
    score: float


def safe_mask(slope_deg, roughness_m, n_points, params) -> np.ndarray:
    slope = np.asarray(slope_deg, dtype=float)
    rough = np.asarray(roughness_m, dtype=float)
    return (np.asarray(n_points) >= params.min_lidar_points) & np.isfinite(slope) & \
        (slope <= params.slope_max_deg) & np.isfinite(rough) & (rough <= params.boulder_max_m)


def deliverable_mask(shape, params, sun_bf_at_contact) -> np.ndarray:
    lit = shape.cos_incidence(sun_bf_at_contact) >= math.cos(
        math.radians(params.max_incidence_deg))
    home = shape.centroids + shape.normals * params.home_height_m
    clear = np.linalg.norm(home, axis=1) > shape.radius_max_m + 50.0
    return (np.abs(shape.lat_deg) <= params.lat_max_deg) & lit & clear


def rank_sites(value, sigma, n_spectra, slope_deg, roughness_m, n_points, shape, params,
               sun_bf_at_contact) -> list[Candidate]:
    value = np.asarray(value, dtype=float)
    ok = np.isfinite(value) & (np.asarray(n_spectra) >= params.min_spectra)
    ok &= safe_mask(slope_deg, roughness_m, n_points, params)
    ok &= deliverable_mask(shape, params, sun_bf_at_contact)
    ids = np.flatnonzero(ok)
    order = ids[np.lexsort((np.asarray(sigma)[ids], -value[ids]))]
    out = []
    for rank, k in enumerate(order[: int(params.n_candidates)], start=1):
        out.append(Candidate(rank, int(k), tuple(float(x) for x in shape.centroids[k]),
                             float(value[k]), float(sigma[k]), float(slope_deg[k]),
                             float(roughness_m[k]), float(value[k])))
    return out


def truth_rank(resource_truth, safe_truth, deliverable_truth, site_id: int) -> int:
    """Rank of a site among the truly safe and deliverable ones (1 = best by truth)."""
    truth = np.asarray(resource_truth, dtype=float)
    pool = np.asarray(safe_truth) & np.asarray(deliverable_truth)
    return 1 + int(np.count_nonzero(pool & (truth > truth[site_id])))
