"""The point spectrometer as the flight software knows it (its lab calibration).

Wavelength grid, detector format and nominal response.  The simulator's
instrument model builds on these nominal values and adds what the flight
software must measure for itself: dark current that grows with detector
temperature, a gain that drifts, shot and read noise.

Design point (OVIRS's requirement, FACTS.md): SNR about 50 per channel on a
3 % reflectance surface.  The nominal responsivity makes a 3 % I/F surface
at 1.1 AU give SIGNAL_3PCT_E electrons per channel in one nominal integration
below TAPER_START_UM (so SNR is flat across the reflected range); above it
the response tapers so that the thermal tail of a 400 K surface does not
saturate the long-wavelength channels.
"""

import numpy as np

from flightsw.prospect.solar import planck_radiance_wm2srum, solar_irradiance_wm2um

N_CHANNELS = 256
CHUNK_CHANNELS = 64  # PROBE_SPECTRUM_CHUNK.counts
N_CHUNKS = N_CHANNELS // CHUNK_CHANNELS
WAVELENGTH_UM = np.linspace(0.40, 3.50, N_CHANNELS)

FOV_FULL_RAD = 4e-3  # circular field of view (OVIRS: 4 mrad)
INTEGRATION_S = 1.0  # nominal science integration
DESIGN_DISTANCE_AU = 1.1
DESIGN_IF = 0.03
E_PER_DN = 2.0  # electrons per count (nominal gain)
BIAS_DN = 1000.0  # electronic offset
FULL_SCALE_DN = 65535  # 16-bit converter: this value means saturated
READ_NOISE_E = 30.0
DARK_E_PER_S_20C = 200.0  # dark current at 20 degC; doubles every DARK_DOUBLING_C
DARK_DOUBLING_C = 7.0
# SNR 50 = S / sqrt(S + read^2 + dark*t): solved for S at the design point.
_NOISE_FLOOR_E2 = READ_NOISE_E ** 2 + DARK_E_PER_S_20C * INTEGRATION_S
SIGNAL_3PCT_E = 2500.0 * (1.0 + np.sqrt(1.0 + 4.0 * _NOISE_FLOOR_E2 / 2500.0)) / 2.0
TAPER_START_UM = 2.4
TAPER_DESIGN_TEMP_K = 400.0

# Calibration lamp behind a diffuser and a shaping filter: its radiance table
# (lab-measured) gives about LAMP_SIGNAL_E electrons per channel at nominal gain.
LAMP_SIGNAL_E = 20000.0


def _responsivity() -> np.ndarray:
    """Electrons per second per (W m^-2 sr^-1 um^-1), per channel."""
    # Radiance of the design surface: L = I/F * F_sun / pi.
    l_design = DESIGN_IF * solar_irradiance_wm2um(WAVELENGTH_UM, DESIGN_DISTANCE_AU) / np.pi
    resp = SIGNAL_3PCT_E / INTEGRATION_S / l_design
    thermal = planck_radiance_wm2srum(WAVELENGTH_UM, TAPER_DESIGN_TEMP_K)
    ratio = thermal / l_design
    taper = np.where(WAVELENGTH_UM > TAPER_START_UM, np.minimum(1.0, 8.0 / (1.0 + ratio)), 1.0)
    return resp * taper


RESPONSIVITY_E_PER_S_PER_RADIANCE = _responsivity()


def dark_rate_e_per_s(detector_temp_c):
    """Nominal dark current at a detector temperature (electrons per second)."""
    return DARK_E_PER_S_20C * 2.0 ** ((np.asarray(detector_temp_c) - 20.0) / DARK_DOUBLING_C)


def lamp_radiance_wm2srum() -> np.ndarray:
    """Radiance the calibration lamp puts on the detector, per channel."""
    return LAMP_SIGNAL_E / (RESPONSIVITY_E_PER_S_PER_RADIANCE * INTEGRATION_S)
