"""Navigation consistency in the closed loop: the filter against the simulator's truth.

tests/flightsw/gnc/test_navigation.py checks NEES on synthetic truths that follow
the filter's own model.  Here the truth is the simulator's (polyhedron gravity,
thruster noise, landmark catalogue errors, star tracker noise) and the filter
flies its own hover.  History keeps |e| (estimate minus truth, inertial position)
and sqrt(trace P_pos); for a consistent filter E|e|^2 = trace P, so over N
independent seeds at one epoch sum |e|^2 / sum trace P is a chi-square over its
degrees of freedom.  Those lie between N (one dominant axis) and 3N (isotropic);
the bounds use N, the wider of the two, at 99% overall across the epochs checked.
"""

import numpy as np
import pytest
from scipy.stats import chi2

from sim.runner import run_scenario
from sim.scenario import load_scenario

SEEDS = 20
DURATION_S = 300.0
EPOCHS_S = (150, 200, 300)  # after the landmark filter has converged
OVERALL_CONFIDENCE = 0.99


@pytest.fixture(scope="module")
def histories(tmp_path_factory):
    out = []
    for seed in range(1, SEEDS + 1):
        sc = load_scenario("bennu-hover", {"scenario.seed": seed,
                                           "scenario.duration_s": DURATION_S})
        run_dir = tmp_path_factory.mktemp(f"seed{seed}") / "r"
        run_scenario(sc, run_dir, write_report=False, progress=False)
        h = np.load(run_dir / "history.npz")
        out.append((h["t_s"], h["nav_err_m"], h["nav_sigma_m"]))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("epoch_s", EPOCHS_S)
def test_position_error_matches_the_filters_covariance_over_seeds(histories, epoch_s):
    alpha = (1.0 - OVERALL_CONFIDENCE) / len(EPOCHS_S)
    lower = chi2.ppf(alpha / 2, SEEDS) / SEEDS
    upper = chi2.ppf(1 - alpha / 2, SEEDS) / SEEDS
    err_sq = trace = 0.0
    for t_s, err_m, sigma_m in histories:
        k = int(np.searchsorted(t_s, epoch_s))
        assert np.isfinite(err_m[k]) and np.isfinite(sigma_m[k])
        err_sq += err_m[k] ** 2
        trace += sigma_m[k] ** 2
    ratio = err_sq / trace
    assert lower <= ratio <= upper, (epoch_s, ratio, lower, upper)
