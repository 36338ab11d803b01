"""The flight's reference physics (solar.py, photometry.py, instrument.py) against the
independent implementations of reference_physics.py and against published values."""

import math

import numpy as np
import pytest
import reference_physics as ref
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.prospect import instrument as ins
from flightsw.prospect.photometry import photometric_factor
from flightsw.prospect.solar import planck_radiance_wm2srum, solar_irradiance_wm2um

REL = 1e-9  # the same formulas in other code: agreement to rounding


@settings(max_examples=50, deadline=None)
@given(wl=st.floats(0.2, 50.0), t=st.floats(30.0, 6000.0))
def test_planck_agrees_with_the_independent_one(wl, t):
    assert planck_radiance_wm2srum(wl, t) == pytest.approx(ref.planck(wl, t), rel=REL, abs=1e-300)


def test_planck_integrates_to_stefan_boltzmann_over_pi():
    """Published check: the integral of B over wavelength is sigma T^4 / pi."""
    lam = np.geomspace(0.05, 2000.0, 200_000)  # um
    for t in (200.0, 400.0, 5778.0):
        total = np.trapezoid(planck_radiance_wm2srum(lam, t), lam)
        assert total == pytest.approx(ref.STEFAN_BOLTZMANN * t ** 4 / math.pi, rel=1e-4)


def test_the_sun_gives_the_solar_constant_peaks_by_wien_and_dilutes_as_one_over_d2():
    lam = np.geomspace(0.05, 500.0, 200_000)
    f = solar_irradiance_wm2um(lam, 1.0)
    assert np.trapezoid(f, lam) == pytest.approx(1361.0, rel=1e-4)  # W/m^2 at 1 AU
    peak_um = lam[np.argmax(f)]
    assert peak_um == pytest.approx(ref.WIEN_B_M_K / 5778.0 * 1e6, abs=2e-4)  # 0.5015 um
    wl = ins.WAVELENGTH_UM
    np.testing.assert_allclose(solar_irradiance_wm2um(wl, 1.0), ref.sun(wl, 1.0), rtol=REL)
    np.testing.assert_allclose(solar_irradiance_wm2um(wl, 2.0), ref.sun(wl, 1.0) / 4.0,
                               rtol=REL)


@settings(max_examples=60, deadline=None)
@given(cos_i=st.floats(0.05, 1.0), cos_e=st.floats(0.05, 1.0), phase=st.floats(0.0, 120.0))
def test_photometric_factor_agrees_with_the_independent_law(cos_i, cos_e, phase):
    wl = ins.WAVELENGTH_UM
    np.testing.assert_allclose(photometric_factor(cos_i, cos_e, phase, wl),
                               ref.reflectance_to_i_over_f(cos_i, cos_e, phase, wl), rtol=REL)


def test_the_laboratory_geometry_is_the_unit_of_reflectance():
    cos30 = math.cos(math.radians(30.0))
    np.testing.assert_allclose(photometric_factor(cos30, 1.0, 30.0, ins.WAVELENGTH_UM), 1.0,
                               rtol=1e-12)


def test_the_flight_knows_its_instrument_as_the_datasheet_says():
    """instrument.py is the lab calibration the flight software is given: the datasheet's
    format, noise, dark law and a responsivity that gives SNR 50 at the design point."""
    np.testing.assert_array_equal(ins.WAVELENGTH_UM, ref.WAVELENGTH_UM)
    assert (ins.N_CHANNELS, ins.BIAS_DN, ins.E_PER_DN, ins.READ_NOISE_E, ins.FULL_SCALE_DN,
            ins.INTEGRATION_S) == (ref.N_CHANNELS, ref.BIAS_DN, ref.E_PER_DN,
                                   ref.READ_NOISE_E, ref.FULL_SCALE_DN, ref.INTEGRATION_S)
    for t_c in (0.0, 20.0, 27.0, 41.0):
        assert ins.dark_rate_e_per_s(t_c) == pytest.approx(ref.dark_e_per_s(t_c), rel=REL)
    np.testing.assert_allclose(ins.RESPONSIVITY_E_PER_S_PER_RADIANCE, ref.responsivity(),
                               rtol=1e-9)
    s = ref.design_signal_e()
    snr = s / math.sqrt(s + ref.READ_NOISE_E ** 2 + ref.dark_e_per_s(20.0))
    assert snr == pytest.approx(50.0, rel=1e-12)
