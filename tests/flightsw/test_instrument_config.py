"""The spectrometer as built (flightsw/instrument_config.py): its format fits the ICD's
chunks, its datasheet meets the design point, the response design and the lamp are what
they say, whichever radiances the caller brings."""

import math

import numpy as np
import pytest

from flightsw import instrument_config as cfg
from flightsw.icd import mavlink

MICRON = 1.0


def test_a_spectrum_is_whole_chunks_of_the_icds_message():
    counts = mavlink.MAVLink_probe_spectrum_chunk_message(
        0, 0, 1.0, 0, cfg.N_CHANNELS, 0, cfg.N_CHUNKS, cfg.CHUNK_CHANNELS, 0, 0.0,
        [0] * cfg.CHUNK_CHANNELS).counts
    assert len(counts) == cfg.CHUNK_CHANNELS
    assert cfg.N_CHUNKS * cfg.CHUNK_CHANNELS == cfg.N_CHANNELS == len(cfg.WAVELENGTH_UM)
    assert cfg.FULL_SCALE_DN == 2 ** 16 - 1  # uint16 counts


def test_the_grid_spans_the_reflected_and_thermal_range():
    wl = cfg.WAVELENGTH_UM
    assert (wl[0], wl[-1]) == (0.40 * MICRON, 3.50 * MICRON)
    assert np.all(np.diff(wl) > 0.0)
    assert float(np.ptp(np.diff(wl))) < 1e-12  # evenly spaced


def test_the_design_signal_gives_snr_50_with_the_datasheets_noise():
    s = cfg.SIGNAL_3PCT_E
    floor = cfg.READ_NOISE_E ** 2 + float(cfg.dark_rate_e_per_s(20.0)) * cfg.INTEGRATION_S
    assert s / math.sqrt(s + floor) == pytest.approx(cfg.DESIGN_SNR, rel=1e-12)


def test_dark_current_doubles_every_seven_degrees():
    assert cfg.dark_rate_e_per_s(20.0) == pytest.approx(cfg.DARK_E_PER_S_20C, rel=1e-15)
    np.testing.assert_allclose(cfg.dark_rate_e_per_s([27.0, 13.0]),
                               [2.0 * cfg.DARK_E_PER_S_20C, 0.5 * cfg.DARK_E_PER_S_20C],
                               rtol=1e-12)


def test_the_response_is_flat_in_signal_then_tapered_against_the_thermal_tail():
    wl = cfg.WAVELENGTH_UM
    design = np.full(wl.size, 2.0)
    thermal = np.where(wl > 3.0, 100.0, 0.0)  # thermal 50x the reflected beyond 3 um
    resp = cfg.responsivity_e_per_s_per_radiance(design, thermal)
    flat = wl <= cfg.TAPER_START_UM
    np.testing.assert_allclose(resp[flat] * design[flat] * cfg.INTEGRATION_S,
                               cfg.SIGNAL_3PCT_E, rtol=1e-12)
    hot = wl > 3.0
    np.testing.assert_allclose(resp[hot], cfg.SIGNAL_3PCT_E / 2.0 * cfg.TAPER_HEADROOM / 51.0,
                               rtol=1e-12)
    mild = (wl > cfg.TAPER_START_UM) & ~hot  # no thermal: never more than the flat response
    np.testing.assert_allclose(resp[mild], cfg.SIGNAL_3PCT_E / 2.0, rtol=1e-12)


def test_the_lamp_gives_its_signal_at_nominal_gain():
    resp = np.linspace(10.0, 500.0, cfg.N_CHANNELS)
    np.testing.assert_allclose(cfg.lamp_radiance_wm2srum(resp) * resp * cfg.INTEGRATION_S,
                               cfg.LAMP_SIGNAL_E, rtol=1e-12)
