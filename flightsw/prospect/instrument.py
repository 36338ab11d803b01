"""The point spectrometer as the flight software knows it: its lab calibration.

The instrument as built (wavelength grid, detector format, datasheet) is configuration,
flightsw/instrument_config.py, shared with the simulator; its names are re-exported here
for the pipeline.  What is the flight software's own is the calibration built from it
with the flight software's solar model: the nominal responsivity per channel and the
radiance table of the calibration lamp.  Dark current that grows with detector
temperature, a gain that drifts, shot and read noise are what the flight software must
measure for itself (calibrate.py).
"""

import numpy as np

from flightsw import instrument_config
from flightsw.instrument_config import (
    BIAS_DN,
    CHUNK_CHANNELS,
    DARK_DOUBLING_C,
    DARK_E_PER_S_20C,
    DESIGN_DISTANCE_AU,
    DESIGN_IF,
    E_PER_DN,
    FOV_FULL_RAD,
    FULL_SCALE_DN,
    INTEGRATION_S,
    LAMP_SIGNAL_E,
    N_CHANNELS,
    N_CHUNKS,
    READ_NOISE_E,
    SIGNAL_3PCT_E,
    TAPER_DESIGN_TEMP_K,
    TAPER_START_UM,
    WAVELENGTH_UM,
    dark_rate_e_per_s,
    responsivity_e_per_s_per_radiance,
)
from flightsw.prospect.solar import planck_radiance_wm2srum, solar_irradiance_wm2um

__all__ = [
    "BIAS_DN", "CHUNK_CHANNELS", "DARK_DOUBLING_C", "DARK_E_PER_S_20C", "DESIGN_DISTANCE_AU",
    "DESIGN_IF", "E_PER_DN", "FOV_FULL_RAD", "FULL_SCALE_DN", "INTEGRATION_S", "LAMP_SIGNAL_E",
    "N_CHANNELS", "N_CHUNKS", "READ_NOISE_E", "RESPONSIVITY_E_PER_S_PER_RADIANCE",
    "SIGNAL_3PCT_E", "TAPER_DESIGN_TEMP_K", "TAPER_START_UM", "WAVELENGTH_UM",
    "dark_rate_e_per_s", "lamp_radiance_wm2srum",
]

# Radiance of the design surface, L = I/F * F_sun / pi, and of the taper's design
# temperature, by the flight software's solar model and Planck's law.
RESPONSIVITY_E_PER_S_PER_RADIANCE = responsivity_e_per_s_per_radiance(
    DESIGN_IF * solar_irradiance_wm2um(WAVELENGTH_UM, DESIGN_DISTANCE_AU) / np.pi,
    planck_radiance_wm2srum(WAVELENGTH_UM, TAPER_DESIGN_TEMP_K))


def lamp_radiance_wm2srum() -> np.ndarray:
    """Radiance the calibration lamp puts on the detector, per channel (the lab table)."""
    return instrument_config.lamp_radiance_wm2srum(RESPONSIVITY_E_PER_S_PER_RADIANCE)
