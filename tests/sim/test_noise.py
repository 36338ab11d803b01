"""Seeded noise streams: reproducible per (seed, name), independent, standard normal."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from sim.noise import NoiseStream

# Draws past one internal block (4096) so refills are covered too.
DRAWS = 10_000
# Sample size for the statistics and the bounds used on it (5 sigma: p ~ 6e-7 per check).
N_STAT = 200_000
Z_BOUND = 5.0

names = st.text(min_size=1, max_size=12)
seeds = st.integers(min_value=0, max_value=2**63 - 1)


def gauss_draws(stream: NoiseStream, n: int = DRAWS) -> list[float]:
    return [stream.gauss() for _ in range(n)]


@given(seeds, names)
def test_same_seed_and_name_reproduce_the_stream(seed, name):
    a, b = NoiseStream(seed, name), NoiseStream(seed, name)
    assert [a.gauss() for _ in range(10)] == [b.gauss() for _ in range(10)]
    assert [a.uniform() for _ in range(10)] == [b.uniform() for _ in range(10)]


def test_reproducible_across_block_refills():
    a, b = NoiseStream(1, "imu"), NoiseStream(1, "imu")
    assert gauss_draws(a) == gauss_draws(b)
    assert [a.uniform() for _ in range(DRAWS)] == [b.uniform() for _ in range(DRAWS)]


@given(seeds, names, names)
def test_different_names_give_different_streams(seed, name_a, name_b):
    if name_a == name_b:
        return
    a, b = NoiseStream(seed, name_a), NoiseStream(seed, name_b)
    assert [a.gauss() for _ in range(4)] != [b.gauss() for _ in range(4)]


@given(seeds, seeds, names)
def test_different_seeds_give_different_streams(seed_a, seed_b, name):
    if seed_a == seed_b:
        return
    a, b = NoiseStream(seed_a, name), NoiseStream(seed_b, name)
    assert [a.gauss() for _ in range(4)] != [b.gauss() for _ in range(4)]


def test_long_names_sharing_a_prefix_give_different_streams():
    a = NoiseStream(1, "star-tracker-bias-x")
    b = NoiseStream(1, "star-tracker-bias-y")
    assert gauss_draws(a, 4) != gauss_draws(b, 4)


def test_streams_do_not_disturb_each_other():
    # Drawing from one sensor's stream leaves another's sequence unchanged.
    alone = gauss_draws(NoiseStream(5, "lidar"), 100)
    lidar, imu = NoiseStream(5, "lidar"), NoiseStream(5, "imu")
    mixed = []
    for _ in range(100):
        imu.gauss3(1.0)
        imu.uniform()
        mixed.append(lidar.gauss())
    assert mixed == alone


def test_gauss_scales_by_sigma_and_gauss3_takes_three_draws():
    a, b = NoiseStream(9, "navcam"), NoiseStream(9, "navcam")
    assert a.gauss(3.5) == 3.5 * b.gauss()
    triple = a.gauss3(0.25)
    assert triple == tuple(0.25 * b.gauss() for _ in range(3))


@pytest.mark.parametrize(("seed", "name"), [(1, "imu"), (2, "star-tracker"), (123456, "lidar")])
def test_gauss_is_standard_normal(seed, name):
    x = np.array(gauss_draws(NoiseStream(seed, name), N_STAT))
    # Mean: standard error 1/sqrt(N).  Variance: standard error sqrt(2/N) for a normal.
    assert abs(x.mean()) < Z_BOUND / math.sqrt(N_STAT)
    assert abs(x.var() - 1.0) < Z_BOUND * math.sqrt(2.0 / N_STAT)
    # Skewness and excess kurtosis: standard errors sqrt(6/N) and sqrt(24/N).
    assert abs(stats.skew(x)) < Z_BOUND * math.sqrt(6.0 / N_STAT)
    assert abs(stats.kurtosis(x)) < Z_BOUND * math.sqrt(24.0 / N_STAT)
    # Whole distribution: Kolmogorov-Smirnov against N(0, 1).
    assert stats.kstest(x, "norm").pvalue > 1e-4
    # Successive draws uncorrelated: lag-1 correlation standard error 1/sqrt(N).
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < Z_BOUND / math.sqrt(N_STAT)


def test_uniform_is_uniform_on_unit_interval():
    s = NoiseStream(3, "power")
    u = np.array([s.uniform() for _ in range(N_STAT)])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < Z_BOUND * math.sqrt(1.0 / 12.0 / N_STAT)
    assert stats.kstest(u, "uniform").pvalue > 1e-4


def test_streams_of_different_names_are_uncorrelated():
    a = np.array(gauss_draws(NoiseStream(1, "imu"), N_STAT))
    b = np.array(gauss_draws(NoiseStream(1, "wheel-tach"), N_STAT))
    assert abs(np.corrcoef(a, b)[0, 1]) < Z_BOUND / math.sqrt(N_STAT)
