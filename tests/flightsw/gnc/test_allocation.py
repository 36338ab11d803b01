"""Wheel geometry and minimum-norm torque allocation, against numpy's pinv."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from flightsw.gnc.allocation import wheel_torque_allocation
from flightsw.vehicle_geometry import THRUSTER_DIRECTIONS_SC, wheel_axes_sc

# Torques up to ~1 N m; allocation rounding is ~1e-15 relative.
TORQUE_TOL_NM = 1e-12
UNIT_TOL = 1e-14

torques_nm = st.tuples(*[st.floats(min_value=-1.0, max_value=1.0)] * 3)


def alloc_matrix(axes) -> np.ndarray:
    """n x 3 matrix: wheel motor torques = M @ body torque."""
    return np.array(wheel_torque_allocation(axes))


def body_torque_nm(axes, wheel_torques) -> np.ndarray:
    # The body receives the reaction of each motor: -sum a_j tau_j.
    return -np.asarray(axes).T @ np.asarray(wheel_torques)


@pytest.mark.parametrize("count", [3, 4])
def test_axes_are_unit_vectors(count):
    axes = wheel_axes_sc(count)
    assert len(axes) == count
    for a in axes:
        assert abs(np.linalg.norm(a) - 1.0) < UNIT_TOL


def test_pyramid_has_equal_authority_on_all_axes():
    a = np.asarray(wheel_axes_sc(4)).T  # 3 x 4
    assert np.allclose(a @ a.T, 4.0 / 3.0 * np.eye(3), rtol=0.0, atol=UNIT_TOL)


@pytest.mark.parametrize("count", [0, 1, 2, 5, 6, -3])
def test_invalid_wheel_count_rejected(count):
    with pytest.raises(ValueError, match="wheel count"):
        wheel_axes_sc(count)


@pytest.mark.parametrize("count", [3, 4])
@given(torque=torques_nm)
def test_allocated_torques_produce_requested_body_torque(count, torque):
    axes = wheel_axes_sc(count)
    tau = alloc_matrix(axes) @ np.asarray(torque)
    assert np.allclose(body_torque_nm(axes, tau), torque, rtol=0.0, atol=TORQUE_TOL_NM)


@pytest.mark.parametrize("count", [3, 4])
@given(torque=torques_nm)
def test_allocation_is_minimum_norm(count, torque):
    axes = wheel_axes_sc(count)
    tau = alloc_matrix(axes) @ np.asarray(torque)
    a = np.asarray(axes).T
    oracle = -np.linalg.pinv(a) @ np.asarray(torque)
    assert np.allclose(tau, oracle, rtol=0.0, atol=TORQUE_TOL_NM)
    # Any other solution differs by a null-space vector and is no shorter.
    if count == 4:
        null = np.linalg.svd(a)[2][-1]
        assert np.allclose(a @ null, 0.0, atol=UNIT_TOL)
        for k in (-0.3, 0.1, 0.5):
            other = tau + k * null
            assert np.allclose(body_torque_nm(axes, other), torque, atol=TORQUE_TOL_NM)
            assert np.linalg.norm(other) >= np.linalg.norm(tau)


axis_components = st.floats(min_value=-1.0, max_value=1.0)
axes_strategy = st.lists(st.tuples(axis_components, axis_components, axis_components),
                         min_size=3, max_size=6)


@given(axes_strategy, torques_nm)
def test_any_spanning_wheel_set_matches_pinv(axes, torque):
    a = np.asarray(axes, dtype=float).T
    assume(all(np.linalg.norm(a[:, j]) > 0.1 for j in range(a.shape[1])))
    unit_axes = [tuple(a[:, j] / np.linalg.norm(a[:, j])) for j in range(a.shape[1])]
    a = np.asarray(unit_axes).T
    # Well conditioned sets only: the cofactor inverse and pinv then agree to rounding.
    assume(np.linalg.cond(a) < 1e3)
    tau = alloc_matrix(unit_axes) @ np.asarray(torque)
    oracle = -np.linalg.pinv(a) @ np.asarray(torque)
    tol_nm = TORQUE_TOL_NM * np.linalg.cond(a) ** 2
    assert np.allclose(tau, oracle, rtol=0.0, atol=tol_nm)
    assert np.allclose(body_torque_nm(unit_axes, tau), torque, rtol=0.0, atol=tol_nm)


def test_coplanar_axes_rejected():
    coplanar = [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.6, 0.8, 0.0)]
    with pytest.raises(ValueError, match="span"):
        wheel_torque_allocation(coplanar)


def test_thrusters_are_opposed_pairs_along_the_axes():
    dirs = np.asarray(THRUSTER_DIRECTIONS_SC)
    assert dirs.shape == (6, 3)
    for k in range(3):
        assert np.array_equal(dirs[2 * k], np.eye(3)[k])
        assert np.array_equal(dirs[2 * k + 1], -np.eye(3)[k])
