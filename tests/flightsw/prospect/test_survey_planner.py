"""The survey planner's arguments and its survey station (flightsw/prospect/survey.py).

Coverage and target choice on a real shape model are pinned in test_geometry_sites.py
and test_campaign.py; here: every unusable argument refused in one line naming it, and
the station's geometry (range, phase from the Sun, turned toward the pole) for any Sun.
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flightsw.prospect.survey import SurveyError, SurveyPlanner

SHAPE = SimpleNamespace(n_sites=4)
DEG = math.pi / 180.0
component = st.floats(-1.0, 1.0, allow_nan=False)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_incidence_deg": 0.0}, "max_incidence_deg must be in (0, 90) deg, got 0.0"),
    ({"max_incidence_deg": 90.0}, "max_incidence_deg must be in (0, 90) deg, got 90.0"),
    ({"max_emission_deg": -5.0}, "max_emission_deg must be in (0, 90) deg, got -5.0"),
    ({"max_emission_deg": float("nan")}, "max_emission_deg must be in (0, 90) deg, got nan"),
    ({"spectra_per_site": 0}, "spectra_per_site must be >= 1, got 0"),
    ({"urgency_window_deg": 0.0},
     "urgency_window_deg must be > 0 and urgency_weight_deg >= 0"),
    ({"urgency_weight_deg": -1.0},
     "urgency_window_deg must be > 0 and urgency_weight_deg >= 0"),
])
def test_an_unusable_planner_argument_is_refused_in_one_line(kwargs, message):
    args = {"max_incidence_deg": 70.0, "max_emission_deg": 60.0, "spectra_per_site": 2,
            **kwargs}
    with pytest.raises(SurveyError) as info:
        SurveyPlanner(SHAPE, **args)
    assert str(info.value) == message


def unit(v):
    return np.asarray(v, float) / np.linalg.norm(v)


@settings(max_examples=100, deadline=None)
@given(sun=st.tuples(component, component, component),
       pole=st.tuples(component, component, component),
       phase_deg=st.floats(0.0, 60.0), range_m=st.floats(300.0, 5000.0))
def test_station_is_at_range_and_phase_from_the_sun_turned_toward_the_pole(sun, pole,
                                                                           phase_deg, range_m):
    """At range_m from the centre, phase_deg from the Sun direction, in the plane of the
    Sun and the pole on the pole's side (so the lit hemisphere is seen off opposition)."""
    assume(np.linalg.norm(sun) > 1e-3 and np.linalg.norm(pole) > 1e-3)
    s, p = unit(sun), unit(pole)
    assume(abs(s @ p) < 1.0 - 1e-6)  # the Sun along the pole: next test
    station = SurveyPlanner.station_position_i(sun, pole, range_m, phase_deg)
    assert np.linalg.norm(station) == pytest.approx(range_m, rel=1e-9)
    u = station / range_m
    assert math.acos(min(1.0, u @ s)) == pytest.approx(phase_deg * DEG, abs=1e-6)
    assert u @ np.cross(s, p) == pytest.approx(0.0, abs=1e-9)  # in the Sun-pole plane
    assert u @ (p - (p @ s) * s) >= -1e-9  # turned toward the pole, not away from it


@pytest.mark.parametrize("sun", [(0.0, 0.0, 1.0), (0.0, 0.0, -2.0), (1.0, 0.0, 0.0)])
def test_with_the_sun_along_the_pole_any_perpendicular_turn_will_do(sun):
    """No Sun-pole plane: the station is still at range and phase from the Sun."""
    station = SurveyPlanner.station_position_i(sun, sun, 1000.0, 20.0)
    assert np.all(np.isfinite(station))
    assert np.linalg.norm(station) == pytest.approx(1000.0)
    assert math.acos(station @ unit(sun) / 1000.0) == pytest.approx(20.0 * DEG)
