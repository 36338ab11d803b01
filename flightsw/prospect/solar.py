"""Reference physics shared by the flight software and the simulator.

The Sun is modelled as a 5778 K black body scaled to the total solar
irradiance at 1 AU (1361 W/m^2).  Real solar spectra have Fraunhofer lines
that this smooth model lacks; both ends of the link use the same model, so the
reflectance the pipeline recovers is not biased by it.
"""

import numpy as np

H_PLANCK = 6.62607015e-34  # J s
C_LIGHT = 2.99792458e8  # m/s
K_BOLTZMANN = 1.380649e-23  # J/K
SIGMA_SB = 5.670374419e-8  # W/m^2/K^4
SUN_TEMP_K = 5778.0
SOLAR_CONSTANT_WM2 = 1361.0  # at 1 AU
SUN_RADIUS_M = 6.957e8
AU_M = 1.495978707e11

PLANCK_C1_WM2_SR = 2.0 * H_PLANCK * C_LIGHT ** 2  # W m^2 / sr
PLANCK_C2_MK = H_PLANCK * C_LIGHT / K_BOLTZMANN  # m K


def planck_radiance_wm2srum(wavelength_um, temp_k):
    """Black-body spectral radiance, W m^-2 sr^-1 um^-1 (broadcasts over both)."""
    lam_m = np.asarray(wavelength_um, dtype=float) * 1e-6
    t = np.asarray(temp_k, dtype=float)
    x = PLANCK_C2_MK / (lam_m * t)
    # expm1 keeps precision at long wavelength; large x underflows to 0 cleanly.
    with np.errstate(over="ignore"):
        return PLANCK_C1_WM2_SR / lam_m ** 5 / np.expm1(x) * 1e-6


def solar_irradiance_wm2um(wavelength_um, distance_au: float = 1.0):
    """Solar spectral irradiance at `distance_au`, W m^-2 um^-1."""
    # Black-body exitance pi*B scaled by (R_sun / 1 AU)^2, then by the solar constant's
    # ratio to the black-body total so the integral is exactly 1361 W/m^2 at 1 AU.
    bb_total = SIGMA_SB * SUN_TEMP_K ** 4 * (SUN_RADIUS_M / AU_M) ** 2
    scale = SOLAR_CONSTANT_WM2 / bb_total
    dilution = (SUN_RADIUS_M / AU_M) ** 2 * scale / distance_au ** 2
    return np.pi * planck_radiance_wm2srum(wavelength_um, SUN_TEMP_K) * dilution
