"""SpinningBody frames: orthonormality, fixed pole, periodicity, spin vector.

Independent oracle: the IAU rotation from body-fixed to ICRF axes is
Rz(90 deg + RA) Rx(90 deg - Dec) Rz(W) (the transpose of the IAU
"ICRF to body" matrix Rz(W) Rx(90 - Dec) Rz(90 + RA) written for frames),
built here with scipy's intrinsic Euler angles.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from flightsw.geometry.frames import SpinningBody, effective_gravity_bf

# Matrix entries are direction cosines: an error of e in an entry is ~e rad of attitude.
MATRIX_TOL_RAD = 1e-12
# W = W0 + omega t loses ~1e-16 * |W| rad to rounding; |W| < 1e5 rad over the times drawn.
PERIODICITY_TOL_RAD = 1e-10
SPIN_RATE_TOL_RADPS = 1e-12
LENGTH_TOL_M = 1e-9  # for vectors up to 1e3 m

BENNU_PERIOD_S = 4.296057 * 3600.0

ra_deg = st.floats(min_value=0.0, max_value=360.0)
dec_deg = st.floats(min_value=-90.0, max_value=90.0)
period_s = st.floats(min_value=100.0, max_value=1e6)
w0_deg = st.floats(min_value=-360.0, max_value=360.0)
times_s = st.floats(min_value=-1e6, max_value=1e6)
vectors_m = st.tuples(*[st.floats(min_value=-1e3, max_value=1e3)] * 3)


def bodies():
    return st.builds(SpinningBody, ra_deg, dec_deg, period_s, w0_deg)


def matrix(body: SpinningBody, t_s: float) -> np.ndarray:
    return np.array(body.rotation_bf_to_i(t_s))


def iau_oracle(ra, dec, w_deg) -> np.ndarray:
    return Rotation.from_euler("ZXZ", [90.0 + ra, 90.0 - dec, w_deg], degrees=True).as_matrix()


@given(bodies(), times_s)
def test_rotation_is_proper_orthonormal(body, t_s):
    m = matrix(body, t_s)
    assert np.allclose(m @ m.T, np.eye(3), rtol=0.0, atol=MATRIX_TOL_RAD)
    assert abs(np.linalg.det(m) - 1.0) < MATRIX_TOL_RAD


@given(ra_deg, dec_deg, period_s, w0_deg, st.floats(min_value=-1e5, max_value=1e5))
def test_rotation_matches_iau_euler_angles(ra, dec, period, w0, t_s):
    body = SpinningBody(ra, dec, period, w0)
    w_deg = w0 + 360.0 * t_s / period
    # Oracle error from W in degrees: ~1e-16 * |W| rad, |W| < 1e3 * 2 pi rad here.
    assert np.allclose(matrix(body, t_s), iau_oracle(ra, dec, w_deg), rtol=0.0,
                       atol=PERIODICITY_TOL_RAD)


@pytest.mark.parametrize(("ra", "dec"), [(85.65, -60.17), (0.0, 90.0), (0.0, -90.0)])
def test_bennu_and_polar_poles(ra, dec):
    body = SpinningBody(ra, dec, BENNU_PERIOD_S)
    for t_s in (0.0, 1000.0, 12345.6):
        w_deg = 360.0 * t_s / BENNU_PERIOD_S
        assert np.allclose(matrix(body, t_s), iau_oracle(ra, dec, w_deg), rtol=0.0,
                           atol=MATRIX_TOL_RAD)


@given(bodies(), times_s)
def test_pole_is_fixed_in_both_frames(body, t_s):
    assert np.allclose(body.bf_to_i(t_s, (0.0, 0.0, 1.0)), body.pole_i, rtol=0.0,
                       atol=MATRIX_TOL_RAD)
    assert np.allclose(body.i_to_bf(t_s, body.pole_i), (0.0, 0.0, 1.0), rtol=0.0,
                       atol=MATRIX_TOL_RAD)


@given(ra_deg, dec_deg)
def test_pole_direction_from_ra_dec(ra, dec):
    body = SpinningBody(ra, dec, BENNU_PERIOD_S)
    r, d = math.radians(ra), math.radians(dec)
    expected = (math.cos(d) * math.cos(r), math.cos(d) * math.sin(r), math.sin(d))
    assert np.allclose(body.pole_i, expected, rtol=0.0, atol=MATRIX_TOL_RAD)


@given(bodies(), st.floats(min_value=-1e5, max_value=1e5))
def test_rotation_returns_to_itself_after_one_period(body, t_s):
    period = 2.0 * math.pi / body.rate_radps
    assert np.allclose(matrix(body, t_s + period), matrix(body, t_s), rtol=0.0,
                       atol=PERIODICITY_TOL_RAD)


@given(bodies(), st.floats(min_value=0.0, max_value=10.0))
def test_spin_vector_is_derivative_of_the_rotation(body, turns):
    # d/dt M = [w]x M  =>  [w]x = (dM/dt) M^T, dM/dt by central differences.
    period = 2.0 * math.pi / body.rate_radps
    t_s = turns * period
    h = period * 1e-5  # truncation: rate * (2 pi 1e-5)^2 / 6 ~ 7e-10 * rate
    dm = (matrix(body, t_s + h) - matrix(body, t_s - h)) / (2.0 * h)
    skew = dm @ matrix(body, t_s).T
    w_fd = np.array([skew[2, 1], skew[0, 2], skew[1, 0]])
    # Truncation plus rounding of W (~1e-16 * 70 rad) divided by 2 h.
    tol_radps = SPIN_RATE_TOL_RADPS + 2e-9 * body.rate_radps
    assert np.allclose(body.spin_vector_i(), w_fd, rtol=0.0, atol=tol_radps)
    assert np.allclose(skew, -skew.T, rtol=0.0, atol=tol_radps)


@given(bodies(), times_s, vectors_m)
def test_bf_to_i_and_i_to_bf_are_inverse(body, t_s, v):
    assert np.allclose(body.i_to_bf(t_s, body.bf_to_i(t_s, v)), v, rtol=0.0, atol=LENGTH_TOL_M)
    assert np.allclose(body.bf_to_i(t_s, body.i_to_bf(t_s, v)), v, rtol=0.0, atol=LENGTH_TOL_M)


@given(ra_deg, dec_deg, period_s)
def test_spin_rate_from_period(ra, dec, period):
    body = SpinningBody(ra, dec, period)
    w = np.asarray(body.spin_vector_i())
    assert abs(np.linalg.norm(w) - 2.0 * math.pi / period) < SPIN_RATE_TOL_RADPS
    assert np.allclose(w / np.linalg.norm(w), body.pole_i, rtol=0.0, atol=MATRIX_TOL_RAD)


@pytest.mark.parametrize("bad_period_s", [0.0, -1.0])
def test_non_positive_period_rejected(bad_period_s):
    with pytest.raises(ValueError, match="period"):
        SpinningBody(0.0, 90.0, bad_period_s)


@given(g=st.tuples(*[st.floats(-1e-3, 1e-3) for _ in range(3)]),
       p=st.tuples(*[st.floats(-1e3, 1e3) for _ in range(3)]),
       rate=st.floats(0.0, 1e-2))
def test_effective_gravity_adds_the_centrifugal_term_of_the_spin_about_z(g, p, rate):
    """Oracle: g - w x (w x r) with w = (0, 0, rate), by numpy's cross product."""
    w = np.array([0.0, 0.0, rate])
    want = np.asarray(g) - np.cross(w, np.cross(w, np.asarray(p)))
    got = effective_gravity_bf(g, p, rate)
    np.testing.assert_allclose(got, want, rtol=0.0, atol=1e-15)
