"""Independent physics for the pipeline tests: Planck's law, the Sun, the photometric law
and the spectrometer's datasheet, written here from the published numbers and not
imported from the flight software (flightsw/prospect/solar.py, photometry.py,
instrument.py are what the tests check).

Published values used:
- CODATA 2018 exact constants h, c, k_B and the Stefan-Boltzmann constant;
- the Sun: effective temperature 5772 K (IAU 2015 B3 nominal) is the modern value, the
  project models it as a 5778 K black body; total solar irradiance 1361 W/m^2 at 1 AU
  (Kopp & Lean 2011); solar radius 6.957e8 m (IAU 2015 B3); 1 AU = 1.495978707e11 m;
- Wien's displacement constant b = 2.897771955e-3 m K (CODATA 2018);
- the photometric law of the project's FACTS.md: Lommel-Seeliger disk function,
  exponential phase function 0.035 / deg, Bennu's phase reddening 0.00044 um^-1 / deg
  pivoting at 0.55 um, all relative to the laboratory geometry i = 30, e = 0, g = 30 deg;
- the spectrometer (OVIRS-like) datasheet: 256 channels 0.40-3.50 um, 16-bit converter,
  1000 DN bias, 2 e-/DN, 30 e- read noise, dark current 200 e-/s at 20 degC doubling every
  7 degC, SNR 50 per channel on a 3 % surface at 1.1 AU in a 1 s integration.
"""

import math

import numpy as np

PLANCK_J_S = 6.62607015e-34
LIGHT_M_S = 299792458.0
BOLTZMANN_J_K = 1.380649e-23
STEFAN_BOLTZMANN = 5.670374419e-8  # W m^-2 K^-4
WIEN_B_M_K = 2.897771955e-3

SUN_TEMPERATURE_K = 5778.0
SOLAR_CONSTANT_W_M2 = 1361.0
SUN_RADIUS_M = 6.957e8
AU_M = 1.495978707e11


def planck(wavelength_um, temperature_k):
    """Black-body spectral radiance, W m^-2 sr^-1 um^-1: 2 h c^2 / lam^5 / (e^(hc/lam k T) - 1)."""
    lam = np.asarray(wavelength_um, dtype=float) * 1e-6  # m
    t = np.asarray(temperature_k, dtype=float)
    with np.errstate(over="ignore", divide="ignore"):
        x = PLANCK_J_S * LIGHT_M_S / (lam * BOLTZMANN_J_K * t)
        per_m = 2.0 * PLANCK_J_S * LIGHT_M_S ** 2 / lam ** 5 / (np.exp(x) - 1.0)
    return per_m * 1e-6  # per metre of wavelength -> per micrometre


def sun(wavelength_um, distance_au=1.0):
    """Solar spectral irradiance, W m^-2 um^-1: the disk of a black body seen from distance
    (pi B (R / d)^2), scaled so its integral at 1 AU is the solar constant."""
    dilution = (SUN_RADIUS_M / (AU_M * np.asarray(distance_au, dtype=float))) ** 2
    black_body_total_1au = STEFAN_BOLTZMANN * SUN_TEMPERATURE_K ** 4 * (SUN_RADIUS_M / AU_M) ** 2
    return math.pi * planck(wavelength_um, SUN_TEMPERATURE_K) * dilution * (
        SOLAR_CONSTANT_W_M2 / black_body_total_1au)


def reflectance_to_i_over_f(cos_i, cos_e, phase_deg, wavelength_um):
    """I/F of a unit standard reflectance (the photometric law of FACTS.md)."""
    cos_i = np.asarray(cos_i, dtype=float)[..., None]
    cos_e = np.asarray(cos_e, dtype=float)[..., None]
    g = np.asarray(phase_deg, dtype=float)[..., None]
    lam = np.asarray(wavelength_um, dtype=float)
    lab = math.cos(math.radians(30.0)) / (math.cos(math.radians(30.0)) + 1.0)
    disk = cos_i / (cos_i + cos_e) / lab
    phase = np.exp(-0.035 * (g - 30.0))
    reddening = 1.0 + 0.00044 * (g - 30.0) * (lam - 0.55)
    return disk * phase * reddening


# -- the spectrometer's datasheet ---------------------------------------------------------------

N_CHANNELS = 256
WAVELENGTH_UM = np.linspace(0.40, 3.50, N_CHANNELS)
BIAS_DN = 1000.0
E_PER_DN = 2.0
READ_NOISE_E = 30.0
FULL_SCALE_DN = 65535
INTEGRATION_S = 1.0
DESIGN_SNR = 50.0


def dark_e_per_s(detector_temp_c):
    return 200.0 * 2.0 ** ((np.asarray(detector_temp_c, dtype=float) - 20.0) / 7.0)


def design_signal_e():
    """Electrons per channel that give SNR 50 with shot, read and 20 degC dark noise:
    S / sqrt(S + read^2 + dark t) = 50, solved for S."""
    snr2 = DESIGN_SNR ** 2
    floor = READ_NOISE_E ** 2 + float(dark_e_per_s(20.0)) * INTEGRATION_S
    return (snr2 + math.sqrt(snr2 ** 2 + 4.0 * snr2 * floor)) / 2.0


def responsivity():
    """e-/s per (W m^-2 sr^-1 um^-1) per channel: the design signal for a 3 % I/F surface at
    1.1 AU below 2.4 um; above, tapered so a 400 K surface's thermal tail stays on scale
    (at most 8 / (1 + thermal / reflected) of the flat response)."""
    reflected = 0.03 * sun(WAVELENGTH_UM, 1.1) / math.pi
    flat = design_signal_e() / INTEGRATION_S / reflected
    ratio = planck(WAVELENGTH_UM, 400.0) / reflected
    taper = np.where(WAVELENGTH_UM > 2.4, np.minimum(1.0, 8.0 / (1.0 + ratio)), 1.0)
    return flat * taper
