"""Quaternion algebra against scipy's Rotation as the independent oracle.

Convention under test (flightsw.geometry.quat docstring): scalar-first (w, x, y, z);
q_rotate(q, v) == Rotation.from_quat([x, y, z, w]).apply(v).
"""

import math

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from flightsw.geometry.quat import (
    IDENTITY,
    q_angle_between,
    q_conj,
    q_from_axis_angle,
    q_from_dcm_columns,
    q_from_rotvec,
    q_mul,
    q_normalize,
    q_rotate,
    q_rotate_inv,
    q_to_rotvec,
)

# Rotation errors allowed from float rounding in a handful of operations.
ANGLE_TOL_RAD = 1e-12
# Unit-norm error after normalisation (dimensionless).
NORM_TOL = 1e-14
# Near-identity rotations: acos loses half the digits there,
# so q_angle_between is compared with the oracle only where acos is well conditioned.
WELL_CONDITIONED_MIN_ANGLE_RAD = 1e-3

component = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False, allow_infinity=False)


@st.composite
def unit_quats(draw):
    q = (draw(component), draw(component), draw(component), draw(component))
    assume(math.sqrt(sum(c * c for c in q)) > 0.1)
    return q_normalize(q)


vectors = st.tuples(*[st.floats(min_value=-1e3, max_value=1e3, allow_nan=False)] * 3)


def to_scipy(q) -> Rotation:
    w, x, y, z = q
    return Rotation.from_quat([x, y, z, w])


def rotation_gap_rad(q, r: Rotation) -> float:
    """Angle of the rotation taking q to the oracle rotation r."""
    return float((to_scipy(q).inv() * r).magnitude())


def assert_vec_close(got, want, tol):
    assert np.allclose(np.asarray(got), np.asarray(want), rtol=0.0, atol=tol), (got, want)


@given(unit_quats(), unit_quats())
def test_q_mul_is_composition_b_then_a(a, b):
    assert rotation_gap_rad(q_mul(a, b), to_scipy(a) * to_scipy(b)) < ANGLE_TOL_RAD


@given(unit_quats(), unit_quats(), unit_quats())
def test_q_mul_is_associative(a, b, c):
    left = q_mul(q_mul(a, b), c)
    right = q_mul(a, q_mul(b, c))
    assert_vec_close(left, right, ANGLE_TOL_RAD)


@given(unit_quats())
def test_q_conj_is_inverse(q):
    assert_vec_close(q_mul(q, q_conj(q)), IDENTITY, ANGLE_TOL_RAD)
    assert rotation_gap_rad(q_conj(q), to_scipy(q).inv()) < ANGLE_TOL_RAD


@given(unit_quats(), vectors)
def test_q_rotate_matches_scipy_apply(q, v):
    # A rotation error of e rad moves v by at most e * |v|.
    tol_m = ANGLE_TOL_RAD * max(1.0, float(np.linalg.norm(v)))
    assert_vec_close(q_rotate(q, v), to_scipy(q).apply(v), tol_m)


@given(unit_quats(), vectors)
def test_q_rotate_inv_matches_scipy_inverse_and_undoes_q_rotate(q, v):
    tol_m = ANGLE_TOL_RAD * max(1.0, float(np.linalg.norm(v)))
    assert_vec_close(q_rotate_inv(q, v), to_scipy(q).inv().apply(v), tol_m)
    assert_vec_close(q_rotate_inv(q, q_rotate(q, v)), v, tol_m)


@given(unit_quats(), vectors)
def test_q_rotate_preserves_length(q, v):
    tol_m = ANGLE_TOL_RAD * max(1.0, float(np.linalg.norm(v)))
    assert abs(np.linalg.norm(q_rotate(q, v)) - np.linalg.norm(v)) < tol_m


rotvecs_below_pi = vectors.map(
    lambda v: tuple(np.asarray(v) / 1e3 * 1.8)  # |v| <= 1.8 * sqrt(3) ~ 3.1 < pi
).filter(lambda v: np.linalg.norm(v) < math.pi - 1e-6)


@given(rotvecs_below_pi)
@example((0.0, 0.0, 0.0))
@example((1e-14, -2e-14, 3e-15))  # the small-angle branch of q_from_rotvec
@example((0.0, 0.0, math.pi - 1e-6))
def test_q_from_rotvec_matches_scipy(rv):
    assert rotation_gap_rad(q_from_rotvec(rv), Rotation.from_rotvec(rv)) < ANGLE_TOL_RAD


@given(rotvecs_below_pi)
@example((0.0, 0.0, 0.0))
@example((1e-14, -2e-14, 3e-15))
@example((0.0, math.pi - 1e-6, 0.0))
def test_rotvec_round_trip_below_pi(rv):
    assert_vec_close(q_to_rotvec(q_from_rotvec(rv)), rv, ANGLE_TOL_RAD)


@given(unit_quats())
def test_q_to_rotvec_matches_scipy_as_rotvec(q):
    rv = np.asarray(q_to_rotvec(q))
    angle = float(np.linalg.norm(rv))
    assert angle <= math.pi + ANGLE_TOL_RAD
    # Same rotation whatever the angle (at pi, v and -v are the same rotation).
    assert rotation_gap_rad(q, Rotation.from_rotvec(rv)) < ANGLE_TOL_RAD
    if angle < math.pi - 1e-6:
        assert_vec_close(rv, to_scipy(q).as_rotvec(), ANGLE_TOL_RAD)


@given(unit_quats())
def test_q_to_rotvec_sign_of_q_does_not_matter(q):
    minus_q = (-q[0], -q[1], -q[2], -q[3])
    rv = q_to_rotvec(q)
    assume(np.linalg.norm(rv) < math.pi - 1e-6)
    assert_vec_close(q_to_rotvec(minus_q), rv, ANGLE_TOL_RAD)


@given(st.tuples(component, component, component).filter(lambda a: np.linalg.norm(a) > 1e-3),
       st.floats(min_value=-10.0, max_value=10.0))
def test_q_from_axis_angle_matches_scipy(axis, angle_rad):
    expected = Rotation.from_rotvec(np.asarray(axis) / np.linalg.norm(axis) * angle_rad)
    assert rotation_gap_rad(q_from_axis_angle(axis, angle_rad), expected) < ANGLE_TOL_RAD


def test_q_from_axis_angle_zero_axis_is_identity():
    assert q_from_axis_angle((0.0, 0.0, 0.0), 1.0) == IDENTITY


# Rotations by ~pi about each axis drive q_from_dcm_columns into each of its branches.
_BRANCH_EXAMPLES = [
    (1.0, 0.0, 0.0, 0.0),
    (0.0, 1.0, 0.0, 0.0),
    (0.0, 0.0, 1.0, 0.0),
    (0.0, 0.0, 0.0, 1.0),
    (1e-3, 0.6, 0.8, 0.0),
    (1e-3, 0.0, 0.6, 0.8),
    (0.5, 0.5, 0.5, 0.5),
]


@given(unit_quats())
@example(_BRANCH_EXAMPLES[0])
@example(_BRANCH_EXAMPLES[1])
@example(_BRANCH_EXAMPLES[2])
@example(_BRANCH_EXAMPLES[3])
@example(q_normalize(_BRANCH_EXAMPLES[4]))
@example(q_normalize(_BRANCH_EXAMPLES[5]))
@example(_BRANCH_EXAMPLES[6])
def test_q_from_dcm_columns_matches_scipy_from_matrix(q):
    m = to_scipy(q).as_matrix()  # columns: spacecraft axes in inertial
    got = q_from_dcm_columns(tuple(m[:, 0]), tuple(m[:, 1]), tuple(m[:, 2]))
    assert got[0] >= 0.0
    assert rotation_gap_rad(got, Rotation.from_matrix(m)) < ANGLE_TOL_RAD


@given(unit_quats(), unit_quats())
def test_q_angle_between_matches_scipy_magnitude(a, b):
    expected = float((to_scipy(a).inv() * to_scipy(b)).magnitude())
    assume(expected > WELL_CONDITIONED_MIN_ANGLE_RAD)
    assert abs(q_angle_between(a, b) - expected) < ANGLE_TOL_RAD
    assert abs(q_angle_between(b, a) - expected) < ANGLE_TOL_RAD
    # Sign of either quaternion is irrelevant.
    minus_b = (-b[0], -b[1], -b[2], -b[3])
    assert abs(q_angle_between(a, minus_b) - expected) < ANGLE_TOL_RAD


def test_q_angle_between_is_accurate_near_identity():
    # A unit quaternion (norm 1 within 1 ulp) whose dot product with itself rounds below 1.
    q = q_normalize((0.029046729477717918, -0.7973371321522287, 0.12770407677402312,
                     -0.589153166819293))
    assert q_angle_between(q, q) < ANGLE_TOL_RAD
    small = q_mul(q, q_from_rotvec((1e-9, 0.0, 0.0)))
    assert abs(q_angle_between(q, small) - 1e-9) < ANGLE_TOL_RAD


@given(st.tuples(*[st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)] * 4)
       .filter(lambda q: math.sqrt(sum(c * c for c in q)) > 1e-6))
def test_q_normalize_unit_norm_w_nonnegative_same_rotation(q):
    n = q_normalize(q)
    assert n[0] >= 0.0
    assert abs(math.sqrt(sum(c * c for c in n)) - 1.0) < NORM_TOL
    assert rotation_gap_rad(n, to_scipy(q)) < ANGLE_TOL_RAD  # scipy normalises too


def test_q_normalize_rejects_zero():
    with pytest.raises(ValueError, match="zero quaternion"):
        q_normalize((0.0, 0.0, 0.0, 0.0))
