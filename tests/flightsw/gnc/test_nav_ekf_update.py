"""The EKF's update arithmetic against a textbook batch Kalman update (numpy oracle).

The flight filter avoids BLAS/LAPACK (see nav_ekf's module doc) with its own
update forms: landmark bearings through their information (push-through
identity) and other measurements as sequential scalar Joseph updates.  Both
must equal, up to round-off, x+ = x + K z, P+ = (I - K H) P (I - K H)' + K R K'
with K = P H' (H P H' + R)^-1 computed by numpy.linalg.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.geometry.frames import SpinningBody
from flightsw.gnc.nav_ekf import N_STATE, TranslationEKF

RELATIVE_TOLERANCE = 1e-9  # of the largest element: round-off on a 9x9 covariance


def _filter(seed: int) -> TranslationEKF:
    rng = np.random.default_rng(seed)
    f = TranslationEKF(SpinningBody(85.65, -60.17, 4.296057 * 3600.0), 4.892, 1e-5, 1e-7)
    a = rng.normal(size=(N_STATE, N_STATE)) * rng.uniform(0.01, 3.0, size=N_STATE)
    f.P = a @ a.T + np.eye(N_STATE) * 1e-4  # a random positive definite covariance
    f.x = rng.normal(size=N_STATE) * 100.0
    f.initialised = True
    return f


def _oracle(x, p, h, z, r):
    s = h @ p @ h.T + r
    k = np.linalg.solve(s, h @ p).T
    ikh = np.eye(N_STATE) - k @ h
    return x + k @ z, ikh @ p @ ikh.T + k @ r @ k.T


def _close(actual, expected):
    scale = max(1.0, float(np.abs(expected).max()))
    return float(np.abs(actual - expected).max()) <= RELATIVE_TOLERANCE * scale


@given(seed=st.integers(0, 10_000), n_rows=st.integers(1, 16))
@settings(max_examples=60, deadline=None)
def test_information_update_equals_the_batch_kalman_update(seed, n_rows):
    f = _filter(seed)
    rng = np.random.default_rng(seed + 1)
    h_pos = rng.normal(size=(n_rows, 3)) * 1e-3  # bearing rows are -e / range
    var = rng.uniform(1e-8, 1e-5, size=n_rows)
    z = rng.normal(size=n_rows) * np.sqrt(var)
    info = (h_pos.T / var) @ h_pos
    info_vec = (h_pos.T / var) @ z
    h = np.zeros((n_rows, N_STATE))
    h[:, 0:3] = h_pos
    x_exp, p_exp = _oracle(f.x.copy(), f.P.copy(), h, z, np.diag(var))
    f._apply_position_information(info.tolist(), info_vec.tolist())
    assert _close(f.x, x_exp)
    assert _close(f.P, p_exp)
    assert np.array_equal(f.P, f.P.T)


@given(seed=st.integers(0, 10_000), n_rows=st.integers(1, 6))
@settings(max_examples=60, deadline=None)
def test_sequential_scalar_updates_equal_the_batch_kalman_update(seed, n_rows):
    f = _filter(seed)
    rng = np.random.default_rng(seed + 2)
    h_pos = rng.normal(size=(n_rows, 3))
    var = rng.uniform(0.01, 4.0, size=n_rows)
    z = rng.normal(size=n_rows) * np.sqrt(var)
    h = np.zeros((n_rows, N_STATE))
    h[:, 0:3] = h_pos
    x_exp, p_exp = _oracle(f.x.copy(), f.P.copy(), h, z, np.diag(var))
    f._apply_position_rows([(tuple(h_pos[i]), float(z[i]), float(var[i]))
                            for i in range(n_rows)])
    assert _close(f.x, x_exp)
    assert _close(f.P, p_exp)
