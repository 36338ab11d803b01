"""The point spectrometer as built: its wavelength grid, detector format and datasheet.

Configuration, not an algorithm (as flightsw/vehicle_geometry.py is for thrusters and
wheels): the flight software calibrates what this instrument sends
(flightsw.prospect.instrument, calibrate, pipeline) and the simulator makes the counts
this instrument would read (sim.spectrometer), each with its own code and its own
physics of light.

Design point (OVIRS's requirement, FACTS.md): SNR about 50 per channel on a 3 %
reflectance surface.  The responsivity makes a 3 % I/F surface at DESIGN_DISTANCE_AU
give SIGNAL_3PCT_E electrons per channel in one nominal integration below
TAPER_START_UM (so the SNR is flat across the reflected range); above it the response
tapers so that the thermal tail of a TAPER_DESIGN_TEMP_K surface does not saturate the
long-wavelength channels.  `responsivity_e_per_s_per_radiance` states that design once;
the radiances it is built from are the caller's (the flight software's solar model for
its lab calibration, the simulator's Sun for the truth).
"""

import math

import numpy as np

N_CHANNELS = 256
CHUNK_CHANNELS = 64  # PROBE_SPECTRUM_CHUNK.counts
N_CHUNKS = N_CHANNELS // CHUNK_CHANNELS
WAVELENGTH_UM = np.linspace(0.40, 3.50, N_CHANNELS)

FOV_FULL_RAD = 4e-3  # circular field of view (OVIRS: 4 mrad)
INTEGRATION_S = 1.0  # nominal science integration
E_PER_DN = 2.0  # electrons per count (nominal gain)
BIAS_DN = 1000.0  # electronic offset
FULL_SCALE_DN = 65535  # 16-bit converter: this value means saturated
READ_NOISE_E = 30.0
DARK_E_PER_S_20C = 200.0  # dark current at 20 degC; doubles every DARK_DOUBLING_C
DARK_DOUBLING_C = 7.0

DESIGN_DISTANCE_AU = 1.1
DESIGN_IF = 0.03
DESIGN_SNR = 50.0
# SNR = S / sqrt(S + read^2 + dark*t) at the design point, solved for the signal S.
_DESIGN_SNR2 = DESIGN_SNR ** 2
_NOISE_FLOOR_E2 = READ_NOISE_E ** 2 + DARK_E_PER_S_20C * INTEGRATION_S
SIGNAL_3PCT_E = _DESIGN_SNR2 * (1.0 + math.sqrt(1.0 + 4.0 * _NOISE_FLOOR_E2 / _DESIGN_SNR2)) / 2.0
TAPER_START_UM = 2.4
TAPER_DESIGN_TEMP_K = 400.0
# Above TAPER_START_UM the response is at most TAPER_HEADROOM / (1 + thermal / reflected)
# of the flat one.
TAPER_HEADROOM = 8.0

# Calibration lamp behind a diffuser and a shaping filter: its radiance table
# (lab-measured) gives about LAMP_SIGNAL_E electrons per channel at nominal gain.
LAMP_SIGNAL_E = 20000.0


def dark_rate_e_per_s(detector_temp_c):
    """Nominal dark current at a detector temperature (electrons per second)."""
    return DARK_E_PER_S_20C * 2.0 ** ((np.asarray(detector_temp_c) - 20.0) / DARK_DOUBLING_C)


def responsivity_e_per_s_per_radiance(design_radiance, thermal_radiance) -> np.ndarray:
    """Electrons per second per (W m^-2 sr^-1 um^-1), per channel, of the instrument built
    to the design point.

    ``design_radiance``: radiance of the design surface (DESIGN_IF at DESIGN_DISTANCE_AU,
    I/F times solar irradiance over pi) on WAVELENGTH_UM; ``thermal_radiance``: black-body
    radiance at TAPER_DESIGN_TEMP_K on the same grid.  Both in W m^-2 sr^-1 um^-1.
    """
    l_design = np.asarray(design_radiance, dtype=float)
    resp = SIGNAL_3PCT_E / INTEGRATION_S / l_design
    ratio = np.asarray(thermal_radiance, dtype=float) / l_design
    taper = np.where(WAVELENGTH_UM > TAPER_START_UM,
                     np.minimum(1.0, TAPER_HEADROOM / (1.0 + ratio)), 1.0)
    return resp * taper


def lamp_radiance_wm2srum(responsivity) -> np.ndarray:
    """Radiance the calibration lamp puts on the detector, per channel, for an instrument of
    this responsivity (e-/s per radiance unit): LAMP_SIGNAL_E electrons at nominal gain."""
    return LAMP_SIGNAL_E / (np.asarray(responsivity, dtype=float) * INTEGRATION_S)
