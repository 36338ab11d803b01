"""The simulator's light (sim.radiometry) and the flight software's (flightsw.prospect.solar,
photometry): one suite run against both implementations with published values, as sgp4
runs one suite against two, and the two against each other.

The simulator makes the radiance with its own; the flight software turns it back into
reflectance with its own.  Where they differ, the pipeline's reflectance is biased: the
agreement test says which, and the published values say which one is wrong.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.instrument_config import WAVELENGTH_UM
from flightsw.prospect import photometry as flight_photometry
from flightsw.prospect import solar as flight_solar
from sim import radiometry

MICRON = 1.0
KELVIN = 1.0
WIEN_B_UM_K = 2.897771955e3  # CODATA 2018, um K
STEFAN_BOLTZMANN = 5.670374419e-8  # W m^-2 K^-4, CODATA 2018
SOLAR_CONSTANT_W_M2 = 1361.0  # Kopp & Lean 2011
SAME_FORMULA = 1e-12  # two codes of one formula: agreement to rounding

IMPLEMENTATIONS = {
    "sim": (radiometry.black_body_radiance, radiometry.sun_irradiance,
            radiometry.i_over_f_per_reflectance),
    "flight": (flight_solar.planck_radiance_wm2srum, flight_solar.solar_irradiance_wm2um,
               flight_photometry.photometric_factor),
}
both = pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))


@both
def test_planck_integrates_to_stefan_boltzmann_over_pi(impl):
    planck = IMPLEMENTATIONS[impl][0]
    lam = np.geomspace(0.05, 2000.0, 200_000)
    for t in (150.0, 400.0, 5778.0):
        total = np.trapezoid(planck(lam, t), lam)
        assert total == pytest.approx(STEFAN_BOLTZMANN * t ** 4 / math.pi, rel=1e-4)


@both
def test_planck_peaks_where_wien_says(impl):
    planck = IMPLEMENTATIONS[impl][0]
    lam = np.linspace(0.2, 30.0, 300_000)
    for t in (300.0, 1000.0, 5778.0):
        peak_um = lam[np.argmax(planck(lam, t))]
        assert peak_um == pytest.approx(WIEN_B_UM_K / t, abs=1e-4 * MICRON)


@both
def test_planck_is_zero_not_nan_far_on_the_short_side(impl):
    planck = IMPLEMENTATIONS[impl][0]
    b = planck(np.array([0.05, 0.4]), 20.0 * KELVIN)
    assert np.all(np.isfinite(b)) and np.all(b == 0.0)


@both
def test_the_sun_gives_the_solar_constant_and_dilutes_as_one_over_d2(impl):
    sun = IMPLEMENTATIONS[impl][1]
    lam = np.geomspace(0.05, 500.0, 200_000)
    assert np.trapezoid(sun(lam, 1.0), lam) == pytest.approx(SOLAR_CONSTANT_W_M2, rel=1e-4)
    np.testing.assert_allclose(sun(WAVELENGTH_UM, 2.0), sun(WAVELENGTH_UM, 1.0) / 4.0,
                               rtol=SAME_FORMULA)
    # The Sun's colour is a 5778 K black body's: the ratio of two channels is Planck's.
    ratio = sun(np.array([0.5, 2.0]), 1.0)
    planck = IMPLEMENTATIONS[impl][0](np.array([0.5, 2.0]), 5778.0)
    assert ratio[0] / ratio[1] == pytest.approx(planck[0] / planck[1], rel=SAME_FORMULA)


@both
def test_the_laboratory_geometry_is_the_unit_of_reflectance(impl):
    law = IMPLEMENTATIONS[impl][2]
    cos30 = math.cos(math.radians(30.0))
    np.testing.assert_allclose(law(cos30, 1.0, 30.0, WAVELENGTH_UM), 1.0, rtol=1e-12)


@both
def test_photometric_law_is_lommel_seeliger_times_phase_times_reddening(impl):
    """FACTS.md: disk cos_i / (cos_i + cos_e); phase exp(-0.035 / deg); reddening: the slope
    grows by 0.00044 um^-1 per degree of phase, pivoting at 0.55 um."""
    law = IMPLEMENTATIONS[impl][2]
    lab_disk = math.cos(math.radians(30.0)) / (math.cos(math.radians(30.0)) + 1.0)
    at_pivot = np.array([0.55])
    # Disk: head-on over the lab geometry, at the lab phase.
    assert law(1.0, 1.0, 30.0, at_pivot)[0] == pytest.approx(0.5 / lab_disk, rel=1e-12)
    # Phase: 10 degrees more, at the pivot (no reddening there).
    cos30 = math.cos(math.radians(30.0))
    assert law(cos30, 1.0, 40.0, at_pivot)[0] == pytest.approx(math.exp(-0.35), rel=1e-12)
    # Reddening: at 40 deg of phase the ratio 2.55 um / 0.55 um grows by 1 + 0.0044 * 2.
    two = law(cos30, 1.0, 40.0, np.array([0.55, 2.55]))
    assert two[1] / two[0] == pytest.approx(1.0 + 0.00044 * 10.0 * 2.0, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(wl=st.floats(0.2, 50.0), t=st.floats(30.0, 6000.0))
def test_the_two_plancks_agree(wl, t):
    assert radiometry.black_body_radiance(wl, t) == pytest.approx(
        flight_solar.planck_radiance_wm2srum(wl, t), rel=SAME_FORMULA, abs=1e-300)


@settings(max_examples=60, deadline=None)
@given(cos_i=st.floats(0.0, 1.0), cos_e=st.floats(1e-6, 1.0), phase=st.floats(0.0, 150.0),
       d_au=st.floats(0.8, 3.5))
def test_the_two_suns_and_photometric_laws_agree(cos_i, cos_e, phase, d_au):
    np.testing.assert_allclose(radiometry.sun_irradiance(WAVELENGTH_UM, d_au),
                               flight_solar.solar_irradiance_wm2um(WAVELENGTH_UM, d_au),
                               rtol=SAME_FORMULA)
    np.testing.assert_allclose(
        radiometry.i_over_f_per_reflectance(cos_i, cos_e, phase, WAVELENGTH_UM),
        flight_photometry.photometric_factor(cos_i, cos_e, phase, WAVELENGTH_UM),
        rtol=SAME_FORMULA, atol=1e-300)


def test_subsolar_temperature_balances_absorbed_and_emitted_flux():
    a, eps, eta, d = 0.016, 0.90, 1.0, 1.1
    t = radiometry.subsolar_temperature_k(a, eps, eta, d)
    absorbed = (1.0 - a) * SOLAR_CONSTANT_W_M2 / d ** 2
    assert eta * eps * STEFAN_BOLTZMANN * t ** 4 == pytest.approx(absorbed, rel=1e-12)
    assert 370.0 * KELVIN < t < 395.0 * KELVIN  # Bennu's dayside at 1.1 AU
    assert radiometry.subsolar_temperature_k(a, eps, eta, 2.0 * d) == pytest.approx(
        t / math.sqrt(2.0), rel=1e-12)
