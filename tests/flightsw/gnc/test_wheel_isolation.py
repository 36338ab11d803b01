"""Attitude control on the wheels that remain (AttitudeController.isolate_wheels).

With any one of the four pyramid wheels failed, the allocation over the other three
still gives the body exactly the torque asked for: the body receives
-sum(a_j tau_j) (a_j the wheel axes of flightsw.vehicle_geometry, tau_j the motor
torques), checked here with numpy to 1e-9 N m, and the failed wheel is told 0 N m.
The torque is asked for through the public rate loop: with the rate estimate and the
wheel momentum zero, it commands kd * rate_ref exactly (no gyroscopic term).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.gnc.control import AttitudeController
from flightsw.vehicle_geometry import wheel_axes_sc

INERTIA = (2400.0, 2100.0, 1700.0)
TORQUE_TOL_NM = 1e-9
NO_LIMIT_NM = 1e6  # no clipping: the allocation alone is under test

torque_component = st.floats(-0.2, 0.2, allow_nan=False)


def controller(count=4):
    return AttitudeController(INERTIA, wheel_axes_sc(count), 0.05, 0.9, NO_LIMIT_NM)


def body_torque(axes, taus):
    return -np.array(axes).T @ np.array(taus)


def torques_for(ctrl, torque):
    rate_ref = tuple(torque[k] / ctrl.kd[k] for k in range(3))
    return ctrl.rate_torques((0.0, 0.0, 0.0), rate_ref, (0.0,) * len(ctrl.wheel_axes))


@settings(max_examples=100, deadline=None)
@given(failed=st.integers(0, 3),
       torque=st.tuples(torque_component, torque_component, torque_component))
def test_any_three_of_four_wheels_give_the_torque_asked_for(failed, torque):
    ctrl = controller()
    ctrl.isolate_wheels(frozenset({failed}))
    taus = torques_for(ctrl, torque)
    assert len(taus) == 4
    assert taus[failed] == 0.0
    got = body_torque(ctrl.wheel_axes, taus)
    assert np.all(np.abs(got - np.array(torque)) <= TORQUE_TOL_NM), (got, torque)


@settings(max_examples=50, deadline=None)
@given(torque=st.tuples(torque_component, torque_component, torque_component))
def test_all_four_wheels_and_none_isolated_give_the_torque_asked_for(torque):
    ctrl = controller()
    ctrl.isolate_wheels(frozenset())
    got = body_torque(ctrl.wheel_axes, torques_for(ctrl, torque))
    assert np.all(np.abs(got - np.array(torque)) <= TORQUE_TOL_NM)


def test_isolating_shares_the_failed_wheels_work_among_the_others():
    """A torque along wheel 0's axis, with wheel 0 out: the other three carry it (the
    four-wheel minimum-norm share would have put the most on wheel 0)."""
    ctrl = controller()
    axis0 = ctrl.wheel_axes[0]
    before = torques_for(ctrl, axis0)
    assert abs(before[0]) == max(abs(t) for t in before)
    ctrl.isolate_wheels(frozenset({0}))
    after = torques_for(ctrl, axis0)
    assert after[0] == 0.0 and all(abs(t) > 0.0 for t in after[1:])
    assert np.allclose(body_torque(ctrl.wheel_axes, after), axis0, rtol=0.0,
                       atol=TORQUE_TOL_NM)


@pytest.mark.parametrize("count", [3, 4])
def test_wheels_that_do_not_span_three_axes_are_refused(count):
    """Two wheels of a pyramid, or two of three orthogonal ones, cannot point the
    probe: the allocation says so (ValueError) rather than produce a wrong torque."""
    ctrl = controller(count)
    failed = frozenset({0, 1}) if count == 4 else frozenset({0})
    with pytest.raises(ValueError, match="do not span"):
        ctrl.isolate_wheels(failed)
