"""The navigation component's parameters and its pose before any cycle
(flightsw/components/navigation.py); the filters themselves are tests/flightsw/gnc's."""

import pytest

from flightsw.components.navigation import NAV_PARAMS, NavigationComponent
from flightsw.config import BodyModel, FlightConfig, VehicleConfig
from flightsw.core.commands import CommandResult
from flightsw.core.params import ParamTable
from flightsw.geometry.frames import SpinningBody
from flightsw.params_table import FLIGHT_PARAMS

CONFIG = FlightConfig(
    vehicle=VehicleConfig(1500.0, (2400.0, 2100.0, 1700.0), 4, 0.12, 0.2, 1.0, 0.005),
    body=BodyModel(4.892, 85.65, -60.17, 4.296057 * 3600.0),
    hover_point_bf_m=(1082.5, 0.0, 625.0))
BODY = SpinningBody(85.65, -60.17, 4.296057 * 3600.0, 0.0)


def component():
    params = ParamTable(FLIGHT_PARAMS)
    return NavigationComponent(CONFIG, BODY, params, devices=None, send=None), params


FILTER_FIELD = {
    "NAV_ACC_NOISE": lambda nav: nav.translation.accel_noise,
    "NAV_ACC_WALK": lambda nav: nav.translation.acc_walk,
    "NAV_GYRO_NOISE": lambda nav: nav.attitude.gyro_noise,
    "NAV_GBIAS_WALK": lambda nav: nav.attitude.bias_walk,
}


def test_every_navigation_parameter_has_its_filter_field():
    assert set(FILTER_FIELD) == set(NAV_PARAMS)


@pytest.mark.parametrize("name", NAV_PARAMS)
def test_a_navigation_parameter_retunes_its_filter_at_once_and_only_its_own(name):
    """PARAM_SET of a NAV_* noise takes effect in the running filter (no restart); the
    other three noises keep their values."""
    nav_c, params = component()
    before = {n: f(nav_c.nav) for n, f in FILTER_FIELD.items()}
    new = 3.0 * params.get(name) if params.get(name) else 1e-7
    assert params.set(name, new) == CommandResult.ACCEPTED
    after = {n: f(nav_c.nav) for n, f in FILTER_FIELD.items()}
    assert after[name] == pytest.approx(new)
    assert {n: v for n, v in after.items() if n != name} == \
        {n: v for n, v in before.items() if n != name}


def test_a_refused_navigation_parameter_leaves_the_filter_as_it_was():
    nav_c, params = component()
    before = nav_c.nav.translation.accel_noise
    assert params.set("NAV_ACC_NOISE", 1.0) != CommandResult.ACCEPTED  # above its maximum
    assert nav_c.nav.translation.accel_noise == before


def test_before_any_navigation_cycle_the_pose_is_the_filters_current_estimate():
    """An instrument sample that arrives before the first cycle is placed with the
    filters' state as it is (no history to look back into)."""
    nav_c, _ = component()
    pos, q = nav_c.pose_at(123_456)
    assert pos == nav_c.nav.translation.position_i()
    assert q == nav_c.nav.attitude.q_i_to_sc


class _Events:
    def __init__(self):
        self.lines = []

    def emit(self, severity, source, text):
        self.lines.append((source, text))


def test_twenty_rejected_images_in_a_row_widen_the_estimate_once_with_an_event():
    from flightsw.components.navigation import REACQUIRE_IMAGES, REACQUIRE_POS_SIGMA_M

    nav, _ = component()
    nav.events = _Events()
    tr = nav.nav.translation
    tr.initialise((1000.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    tr.P = tr.covariance() * 1e-6  # sure of itself: centimetres
    for k in range(REACQUIRE_IMAGES - 1):
        nav._count_rejected_image(k * 1_000_000)
    assert nav.reacquisitions == 0 and not nav.events.lines
    assert max(tr.pos_sigma_m()) < 1.0
    nav._count_rejected_image(REACQUIRE_IMAGES * 1_000_000)
    assert nav.reacquisitions == 1 and nav.images_rejected_in_a_row == 0
    assert min(tr.pos_sigma_m()) >= REACQUIRE_POS_SIGMA_M
    ((source, text),) = nav.events.lines
    assert source == "nav" and "re-acquire" in text
