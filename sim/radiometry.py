"""The light of the simulated world: the Sun, the surface's thermal emission, and how the
surface scatters sunlight toward the spectrometer.

The simulator's own physics, written here from published values and not imported from
the flight software: the flight software models the same Sun and the same photometric
law to turn counts into reflectance (flightsw/prospect/solar.py, photometry.py), and a
bug there must show as a reflectance error against this truth, not move the truth with
it.  The facts are shared, the code is not:

- CODATA 2018 exact constants h, c, k_B and the Stefan-Boltzmann constant;
- the Sun as a 5778 K black body of radius 6.957e8 m (IAU 2015 B3), scaled so that its
  integral at 1 AU (1.495978707e11 m) is the total solar irradiance, 1361 W m^-2 (Kopp &
  Lean 2011); the real Sun's Fraunhofer lines are left out on both sides;
- the surface's photometric law (FACTS.md): I/F = standard reflectance x Lommel-Seeliger
  disk function x exponential phase function (0.035 per degree) x phase reddening (the
  spectral slope grows by 0.00044 um^-1 per degree of phase, pivoting at 0.55 um, Bennu),
  each relative to the laboratory geometry: incidence 30 deg, emission 0, phase 30 deg.

Wavelengths in micrometres, radiance in W m^-2 sr^-1 um^-1, irradiance in W m^-2 um^-1.
"""

import numpy as np

PLANCK_J_S = 6.62607015e-34
LIGHT_M_PER_S = 299792458.0
BOLTZMANN_J_PER_K = 1.380649e-23
STEFAN_BOLTZMANN_W_M2_K4 = 5.670374419e-8

SUN_BLACK_BODY_K = 5778.0
SUN_RADIUS_M = 6.957e8
AU_M = 1.495978707e11
SOLAR_CONSTANT_W_M2 = 1361.0  # at 1 AU

# Planck's law B = FIRST / lam^5 / (exp(SECOND / (lam T)) - 1), lam in metres.
_FIRST_RADIATION_W_M2_SR = 2.0 * PLANCK_J_S * LIGHT_M_PER_S ** 2
_SECOND_RADIATION_M_K = PLANCK_J_S * LIGHT_M_PER_S / BOLTZMANN_J_PER_K
_PER_M_TO_PER_UM = 1e-6

# The Sun's disk seen from 1 AU, (R / AU)^2, times the factor that scales the black body's
# total to the solar constant.
_SUN_SOLID_FRACTION_1AU = (SUN_RADIUS_M / AU_M) ** 2
_SUN_SCALE_1AU = _SUN_SOLID_FRACTION_1AU * (
    SOLAR_CONSTANT_W_M2 / (STEFAN_BOLTZMANN_W_M2_K4 * SUN_BLACK_BODY_K ** 4
                           * _SUN_SOLID_FRACTION_1AU))

LAB_INCIDENCE_DEG = 30.0
LAB_EMISSION_DEG = 0.0
LAB_PHASE_DEG = 30.0
PHASE_SLOPE_PER_DEG = 0.035
REDDENING_PER_UM_PER_DEG = 0.00044
REDDENING_PIVOT_UM = 0.55


def black_body_radiance(wavelength_um, temperature_k):
    """Planck's law, W m^-2 sr^-1 um^-1; broadcasts over both arguments."""
    lam_m = np.asarray(wavelength_um, dtype=float) * 1e-6
    temp = np.asarray(temperature_k, dtype=float)
    exponent = _SECOND_RADIATION_M_K / (lam_m * temp)
    # expm1: exact where the exponent is small (long wavelengths); a huge exponent
    # overflows to inf and the radiance to a clean 0.
    with np.errstate(over="ignore"):
        return _FIRST_RADIATION_W_M2_SR / lam_m ** 5 / np.expm1(exponent) * _PER_M_TO_PER_UM


def sun_irradiance(wavelength_um, distance_au: float):
    """Solar spectral irradiance at ``distance_au`` from the Sun, W m^-2 um^-1."""
    return np.pi * black_body_radiance(wavelength_um, SUN_BLACK_BODY_K) * (
        _SUN_SCALE_1AU / distance_au ** 2)


def subsolar_temperature_k(bond_albedo: float, emissivity: float, beaming: float,
                           distance_au: float) -> float:
    """Equilibrium temperature where the Sun is at the zenith: (1-A) S = eta eps sigma T^4."""
    flux_w_m2 = SOLAR_CONSTANT_W_M2 / distance_au ** 2
    return ((1.0 - bond_albedo) * flux_w_m2
            / (beaming * emissivity * STEFAN_BOLTZMANN_W_M2_K4)) ** 0.25


def _disk_function(cos_i, cos_e):
    # Lommel-Seeliger: single scattering in a dark, particulate surface.
    return cos_i / (cos_i + cos_e)


_LAB_DISK = _disk_function(np.cos(np.radians(LAB_INCIDENCE_DEG)),
                           np.cos(np.radians(LAB_EMISSION_DEG)))


def i_over_f_per_reflectance(cos_i, cos_e, phase_deg, wavelength_um):
    """What the surface's photometric law makes of a unit standard reflectance: I/F at
    this geometry, per channel.  Shape: broadcast(cos_i, cos_e, phase) + wavelength's."""
    ci = np.asarray(cos_i, dtype=float)[..., None]
    ce = np.asarray(cos_e, dtype=float)[..., None]
    from_lab_deg = np.asarray(phase_deg, dtype=float)[..., None] - LAB_PHASE_DEG
    lam = np.asarray(wavelength_um, dtype=float)
    disk = _disk_function(ci, ce) / _LAB_DISK
    phase = np.exp(-PHASE_SLOPE_PER_DEG * from_lab_deg)
    reddening = 1.0 + REDDENING_PER_UM_PER_DEG * from_lab_deg * (lam - REDDENING_PIVOT_UM)
    return disk * phase * reddening

