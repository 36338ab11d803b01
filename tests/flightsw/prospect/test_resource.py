"""ResourceMap: inverse-variance means, scatter floor, unobserved sites NaN."""

import numpy as np
import pytest

from flightsw.prospect.resource import ResourceMap, metal_index


def test_weighted_mean_and_formal_sigma():
    m = ResourceMap(3)
    m.add([0, 0], [1.0, 2.0], [1.0, 2.0])
    w = np.array([1.0, 0.25])
    assert m.value[0] == pytest.approx((w @ [1.0, 2.0]) / w.sum())
    assert m.n_spectra.tolist() == [2, 0, 0]
    assert np.isnan(m.value[1]) and np.isnan(m.sigma[2])


def test_sigma_floor_is_scatter():
    rng = np.random.default_rng(0)
    m = ResourceMap(1)
    vals = rng.normal(0.1, 0.05, 400)  # real scatter 0.05, claimed sigma 0.001
    m.add(np.zeros(400, int), vals, np.full(400, 0.001))
    assert m.sigma[0] == pytest.approx(0.05 / 20, rel=0.15)
    m2 = ResourceMap(1)
    m2.add(np.zeros(400, int), rng.normal(0.1, 0.001, 400), np.full(400, 0.01))
    assert m2.sigma[0] == pytest.approx(0.01 / 20, rel=1e-6)


def test_bad_entries_never_enter():
    m = ResourceMap(2, 2)
    n = m.add([0, 1, 5, -1, 1], [[1, 2], [np.nan, 3], [1, 1], [1, 1], [1, 1]],
              [[1, 1], [1, 1], [1, 1], [1, 1], [0, np.inf]])
    assert n == 2
    assert m.n_spectra.tolist() == [[1, 1], [0, 1]]
    with pytest.raises(ValueError):
        m.add([0], [[1, 2, 3]], [[1, 1, 1]])


def test_metal_index_is_slope_times_albedo():
    wl = np.linspace(0.4, 3.5, 256)
    refl = (0.1 + 0.02 * (wl - 0.55))[None, :]
    val, sig = metal_index(wl, refl, np.full_like(refl, 1e-3))
    assert val[0] == pytest.approx(0.02, rel=1e-3)
    assert 0 < sig[0] < 1e-3
