"""rank_sites' inputs (flightsw/prospect/sites.py): what it accepts and how it refuses.

Pinned here: a map of the wrong length is refused with a ValueError naming the map, the
expected count and the shape given; plain lists are accepted, with None for a site not
measured (NaN: never ranked); the uncertainty penalty comes from params.sigma_penalty
when given (0.5 otherwise), both in rank_sites and in site_scores.
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from flightsw.prospect.shape_model import ShapeModel
from flightsw.prospect.sites import deliverable_mask, rank_sites, site_scores
from sim.shape import bennu_top_shape

V, F = bennu_top_shape(3)
V = V * (np.array([565.0, 535.0, 508.0]) / (V.max(axis=0) - V.min(axis=0)))
SHAPE = ShapeModel(V, F)
N = len(F)
SUN_BF = np.array([1.0, 0.0, 0.0])


def params(**extra):
    return SimpleNamespace(slope_max_deg=15.0, boulder_max_m=0.5, min_lidar_points=30,
                           min_spectra=1, lat_max_deg=60.0, max_incidence_deg=80.0,
                           home_height_m=50.0, n_candidates=5, **extra)


DELIVERABLE = np.flatnonzero(deliverable_mask(SHAPE, params(), SUN_BF))
A, B = int(DELIVERABLE[0]), int(DELIVERABLE[1])


def maps():
    """Every site safe and measured, value 0 but for sites A (0.5 +- 0) and B (0.6 +- 0.1)."""
    value = np.zeros(N)
    sigma = np.zeros(N)
    value[A], value[B], sigma[B] = 0.5, 0.6, 0.1
    return dict(value=value, sigma=sigma, n_spectra=np.full(N, 3), slope_deg=np.zeros(N),
                roughness_m=np.zeros(N), n_points=np.full(N, 100))


def rank(p, **m):
    return rank_sites(m["value"], m["sigma"], m["n_spectra"], m["slope_deg"],
                      m["roughness_m"], m["n_points"], SHAPE, p, SUN_BF)


@pytest.mark.parametrize("name", ["value", "sigma", "n_spectra", "slope_deg", "roughness_m",
                                  "n_points"])
def test_a_map_of_the_wrong_length_is_refused_by_name(name):
    m = maps()
    m[name] = m[name][:-1]
    with pytest.raises(ValueError) as err:
        rank(params(), **m)
    assert str(err.value) == (f"rank_sites: {name} must have one entry per site ({N}), "
                              f"got shape ({N - 1},)")


def test_the_uncertainty_penalty_comes_from_params():
    """B leads A by 0.1 in value but is 0.1 less certain: ahead with the default penalty
    (0.55 against 0.5), behind with a penalty of 2 (0.4 against 0.5)."""
    assert [c.site_id for c in rank(params(), **maps())[:2]] == [B, A]
    ranked = rank(params(sigma_penalty=2.0), **maps())
    assert [c.site_id for c in ranked[:2]] == [A, B]
    assert ranked[1].score == pytest.approx(0.6 - 2.0 * 0.1)
    assert list(site_scores([0.6], [0.1], params(sigma_penalty=2.0))) == \
        pytest.approx([0.4])
    assert list(site_scores([0.6], [0.1], params())) == pytest.approx([0.55])


def test_plain_lists_with_none_for_an_unmeasured_site():
    m = {k: list(v) for k, v in maps().items()}
    m["value"][B] = None
    ranked = rank(params(), **m)
    assert ranked[0].site_id == A and B not in [c.site_id for c in ranked]
    m = {k: list(v) for k, v in maps().items()}
    m["sigma"][B] = None
    assert B not in [c.site_id for c in rank(params(), **m)]
    scores = site_scores([None, 0.5], [0.1, None], params())
    assert math.isnan(scores[0]) and math.isnan(scores[1])
