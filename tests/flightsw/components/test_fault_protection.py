"""Fault protection (flightsw/components/fault_protection.py) on its own.

Pinned here: which check runs in which mode and in which order, the timeouts counted
in seconds of mission time with "stale" meaning strictly longer than the parameter,
the position-uncertainty limit on the norm of the sigma vector, and the response: a
wave-off in DESCENT, SAFE in HOVER or SURVEY, nothing in SAFE, TAG or BACKAWAY (where
finishing the sequence is the safe way out), nothing at all with FP_ENABLE off.

Navigation and the touch-and-go sequence are stand-ins that expose only what fault
protection reads (the last sample times, the position sigma) and records (wave-offs);
the parameter table and the mode manager are the real ones.
"""

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.components.fault_protection import FaultProtection
from flightsw.core.clock import SimClock
from flightsw.core.modes import Mode, ModeManager
from flightsw.core.params import ParamTable
from flightsw.params_table import FLIGHT_PARAMS

US = 1
S = 1_000_000 * US
T_NOW = 10_000 * S  # every check is made at this mission time


class FakeNavigation:
    """What fault protection reads of navigation: sample times and the position sigma."""

    def __init__(self, sigma_m=(0.1, 0.1, 0.1), fresh_us=T_NOW):
        self.last_star_tracker_us = fresh_us
        self.last_fix_us = fresh_us
        self.last_landmark_us = fresh_us
        self.sigma_m = sigma_m
        self.nav = SimpleNamespace(translation=SimpleNamespace(pos_sigma_m=lambda: self.sigma_m))


class FakeTagSequence:
    def __init__(self):
        self.waveoffs = []

    def wave_off(self, reason):
        self.waveoffs.append(reason)


def make(mode=Mode.HOVER, **nav):
    clock = SimClock(T_NOW)
    params = ParamTable(FLIGHT_PARAMS)
    modes = ModeManager(clock, None, initial=mode)
    navigation = FakeNavigation(**nav)
    tag = FakeTagSequence()
    return FaultProtection(params, modes, navigation, tag), navigation, tag


# -- the checks ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", list(Mode))
def test_healthy_navigation_is_no_fault_in_any_mode(mode):
    fp, _, _ = make(mode)
    assert fp.fault(T_NOW, mode) is None


@pytest.mark.parametrize("mode", list(Mode))
def test_a_star_tracker_never_heard_is_lost_in_every_mode(mode):
    fp, nav, _ = make(mode)
    nav.last_star_tracker_us = None
    assert fp.fault(T_NOW, mode) == "star tracker lost"


@pytest.mark.parametrize(("name", "attr", "mode", "reason"), [
    ("FP_ST_TMO_S", "last_star_tracker_us", Mode.STANDBY, "star tracker lost"),
    ("FP_FIX_TMO_S", "last_fix_us", Mode.HOVER, "navigation fixes lost"),
    ("FP_FIX_TMO_S", "last_fix_us", Mode.SURVEY, "navigation fixes lost"),
    ("TAG_LM_TMO_S", "last_landmark_us", Mode.DESCENT, "landmarks lost"),
])
def test_a_sensor_is_lost_only_when_silent_longer_than_its_timeout(name, attr, mode, reason):
    """Silent exactly the timeout: still there; one microsecond longer: lost."""
    fp, nav, _ = make(mode)
    timeout_us = round(fp.params.get(name) * S)
    setattr(nav, attr, T_NOW - timeout_us)
    assert fp.fault(T_NOW, mode) is None
    setattr(nav, attr, T_NOW - timeout_us - 1 * US)
    assert fp.fault(T_NOW, mode) == reason


@settings(max_examples=30, deadline=None)
@given(timeout_s=st.floats(1.0, 600.0), silent_s=st.floats(0.0, 1200.0))
def test_the_landmark_timeout_follows_its_parameter(timeout_s, silent_s):
    """TAG_LM_TMO_S in seconds of mission time: lost iff silent for longer (away from the
    boundary by more than a microsecond, where rounding to whole microseconds decides)."""
    fp, nav, _ = make(Mode.DESCENT)
    fp.params.set("TAG_LM_TMO_S", timeout_s)
    timeout_s = fp.params.get("TAG_LM_TMO_S")  # as stored (float32)
    silent_us = round(silent_s * S)
    if abs(silent_us - timeout_s * S) < 2:
        return
    nav.last_landmark_us = T_NOW - silent_us
    lost = fp.fault(T_NOW, Mode.DESCENT) == "landmarks lost"
    assert lost == (silent_us > timeout_s * S)


@pytest.mark.parametrize(("mode", "name"), [
    (Mode.HOVER, "FP_NAV_SIG_M"), (Mode.SURVEY, "FP_NAV_SIG_M"),
    (Mode.DESCENT, "TAG_NAV_SIG_M")])
def test_position_uncertainty_is_judged_on_the_norm_of_the_sigma_vector(mode, name):
    """Each axis below the limit but the norm above it is too uncertain; a norm equal to
    the limit is not (3-4-5 triangles scaled to the limit)."""
    fp, nav, _ = make(mode)
    limit_m = fp.params.get(name)
    nav.sigma_m = (0.6 * limit_m, 0.8 * limit_m, 0.0)
    assert fp.fault(T_NOW, mode) is None
    nav.sigma_m = (0.6 * limit_m, 0.8 * limit_m, 0.05 * limit_m)
    assert fp.fault(T_NOW, mode) == "navigation uncertainty too large"


@pytest.mark.parametrize("mode", [Mode.STANDBY, Mode.MASS_MEASURE, Mode.SAFE, Mode.TAG,
                                  Mode.BACKAWAY])
def test_fixes_landmarks_and_uncertainty_are_not_checked_outside_hover_survey_descent(mode):
    fp, nav, _ = make(mode)
    nav.last_fix_us = nav.last_landmark_us = None
    nav.sigma_m = (1e3, 1e3, 1e3)
    assert fp.fault(T_NOW, mode) is None


def test_hover_does_not_check_landmarks_and_descent_does_not_check_fixes():
    fp, nav, _ = make(Mode.HOVER)
    nav.last_landmark_us = None
    assert fp.fault(T_NOW, Mode.HOVER) is None
    nav.last_landmark_us, nav.last_fix_us = T_NOW, None
    assert fp.fault(T_NOW, Mode.DESCENT) is None


def test_descent_has_its_own_tighter_uncertainty_limit():
    """1 m of sigma: fine in hover (FP_NAV_SIG_M 5 m), too much to descend (TAG_NAV_SIG_M
    0.5 m)."""
    fp, nav, _ = make(Mode.HOVER, sigma_m=(1.0, 0.0, 0.0))
    assert fp.fault(T_NOW, Mode.HOVER) is None
    assert fp.fault(T_NOW, Mode.DESCENT) == "navigation uncertainty too large"


def test_the_first_failed_check_is_the_one_reported():
    """Order: star tracker, then the sensor of the mode, then the uncertainty."""
    fp, nav, _ = make(Mode.HOVER, sigma_m=(1e3, 0.0, 0.0))
    nav.last_star_tracker_us = nav.last_fix_us = nav.last_landmark_us = None
    assert fp.fault(T_NOW, Mode.HOVER) == "star tracker lost"
    assert fp.fault(T_NOW, Mode.DESCENT) == "star tracker lost"
    nav.last_star_tracker_us = T_NOW
    assert fp.fault(T_NOW, Mode.HOVER) == "navigation fixes lost"
    assert fp.fault(T_NOW, Mode.DESCENT) == "landmarks lost"


# -- the responses ------------------------------------------------------------------------

@pytest.mark.parametrize("mode", [Mode.HOVER, Mode.SURVEY, Mode.STANDBY, Mode.MASS_MEASURE])
def test_a_fault_outside_descent_forces_safe_with_its_reason(mode):
    fp, nav, tag = make(mode)
    nav.last_star_tracker_us = None
    fp.task(T_NOW)
    assert fp.modes.current == Mode.SAFE
    (change,) = fp.modes.history
    assert change.forced and change.reason == "star tracker lost"
    assert tag.waveoffs == []


def test_a_fault_in_descent_waves_off_and_leaves_the_mode_to_the_sequence():
    fp, nav, tag = make(Mode.DESCENT)
    nav.last_landmark_us = None
    fp.task(T_NOW)
    assert tag.waveoffs == ["navigation degraded: landmarks lost"]
    assert fp.modes.current == Mode.DESCENT and fp.modes.history == []


@pytest.mark.parametrize("mode", [Mode.SAFE, Mode.TAG, Mode.BACKAWAY])
def test_nothing_is_checked_in_safe_contact_or_back_away(mode):
    fp, nav, tag = make(mode)
    nav.last_star_tracker_us = None
    fp.task(T_NOW)
    assert fp.modes.current == mode and fp.modes.history == [] and tag.waveoffs == []


@pytest.mark.parametrize("mode", [Mode.HOVER, Mode.DESCENT])
def test_fp_enable_off_disables_every_response(mode):
    fp, nav, tag = make(mode)
    fp.params.set("FP_ENABLE", False)
    nav.last_star_tracker_us = None
    fp.task(T_NOW)
    assert fp.modes.current == mode and tag.waveoffs == []


def test_healthy_task_changes_nothing():
    fp, _, tag = make(Mode.DESCENT)
    fp.task(T_NOW)
    assert fp.modes.current == Mode.DESCENT and tag.waveoffs == []
