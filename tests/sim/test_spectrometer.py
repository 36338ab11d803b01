"""Tests of sim.spectrometer: counts, noise, calibration schedule, chunking, faults."""

import numpy as np
import pytest

from flightsw import instrument_config as instrument
from flightsw.icd import mavlink
from sim.radiometry import sun_irradiance
from sim.spectrometer import (
    CALIBRATION,
    DARK,
    LAMP_RADIANCE,
    SATURATE_BLOCK,
    SCIENCE,
    TRUTH_RESPONSIVITY,
    SpectrometerModel,
    SpectrometerParams,
)

WL = instrument.WAVELENGTH_UM
SECOND_US = 1_000_000
DESIGN_RADIANCE = (instrument.DESIGN_IF
                   * sun_irradiance(WL, instrument.DESIGN_DISTANCE_AU) / np.pi)


def _counts(msgs):
    msgs = sorted(msgs, key=lambda m: m.chunk_index)
    return np.concatenate([np.asarray(m.counts) for m in msgs])


def _run(model, n, radiance=DESIGN_RADIANCE, t0_us=0):
    """n readouts one second apart: {kind: [counts, ...]}."""
    out = {SCIENCE: [], DARK: [], CALIBRATION: []}
    for k in range(n):
        msgs = model.readout(t0_us + k * SECOND_US, radiance)
        out[msgs[0].kind].append(_counts(msgs))
    return {kind: np.array(v) for kind, v in out.items()}


def test_snr_at_design_point_is_50():
    model = SpectrometerModel(11, SpectrometerParams(calibration_every=4))
    frames = _run(model, 1200)
    science, dark = frames[SCIENCE], frames[DARK]
    assert len(science) >= 700 and len(dark) >= 200
    signal = science.mean(axis=0) - dark.mean(axis=0)
    snr = signal / science.std(axis=0, ddof=1)
    reflected = WL < instrument.TAPER_START_UM
    assert 45.0 <= np.median(snr[reflected]) <= 55.0
    # Per channel the estimate itself scatters by ~3 % (700 samples).
    assert np.all((snr[reflected] > 40.0) & (snr[reflected] < 60.0))


def test_schedule_dark_and_calibration_every_n_science_readouts():
    model = SpectrometerModel(1, SpectrometerParams(calibration_every=3))
    kinds = []
    for k in range(12):
        kinds.append(model.next_kind)
        msgs = model.readout(k * SECOND_US, DESIGN_RADIANCE)
        assert {m.kind for m in msgs} == {kinds[-1]}
    assert kinds == [DARK, CALIBRATION, SCIENCE, SCIENCE, SCIENCE, DARK, CALIBRATION,
                     SCIENCE, SCIENCE, SCIENCE, DARK, CALIBRATION]


def test_calibration_frame_measures_the_gain():
    model = SpectrometerModel(4)
    dark = _counts(model.readout(0, None))
    cal = _counts(model.readout(SECOND_US, None))
    gain = model.last_truth.gain
    expected = gain * instrument.LAMP_SIGNAL_E / instrument.E_PER_DN
    measured = (cal - dark).astype(float)
    # One frame: noise ~sqrt(20000)/2 ~ 70 DN per channel on ~10000; averaged over 256.
    assert np.mean(measured) == pytest.approx(expected, rel=0.003)
    assert abs(gain - 1.0) > 1e-6  # truth gain is not the nominal one


def test_dark_frames_grow_with_detector_temperature():
    means = {}
    for temp_c in (-20.0, 10.0):
        model = SpectrometerModel(5, SpectrometerParams(
            temp_mean_c=temp_c, temp_amplitude_c=0.0, calibration_every=1))
        frames = _run(model, 60, radiance=None)
        assert model.last_truth.detector_temp_c == pytest.approx(temp_c)
        means[temp_c] = frames[DARK].mean(axis=0)
    cold, warm = means[-20.0], means[10.0]
    # Same seed: same bias pattern, so the difference is the dark current alone.
    nominal = (instrument.dark_rate_e_per_s(10.0) - instrument.dark_rate_e_per_s(-20.0)) \
        * instrument.INTEGRATION_S / instrument.E_PER_DN
    assert np.mean(warm - cold) == pytest.approx(nominal, rel=0.3)
    assert np.mean(warm) > np.mean(cold) + 20.0


def test_dark_frames_only_hold_dark_and_bias():
    model = SpectrometerModel(6)
    dark = _counts(model.readout(0, DESIGN_RADIANCE * 100.0))  # radiance ignored: shutter
    assert model.last_truth.kind == DARK
    assert abs(np.mean(dark) - instrument.BIAS_DN) < 10.0


def test_saturation_clips_at_full_scale():
    model = SpectrometerModel(7, SpectrometerParams(calibrate_at_start=False))
    counts = _counts(model.readout(0, DESIGN_RADIANCE * 60.0))
    assert counts.max() == instrument.FULL_SCALE_DN
    assert np.all(counts <= instrument.FULL_SCALE_DN)
    reflected = WL < 2.0
    assert np.all(counts[reflected] == instrument.FULL_SCALE_DN)
    counts = _counts(model.readout(SECOND_US, np.full(len(WL), 1e9)))
    assert np.all(counts == instrument.FULL_SCALE_DN)


def test_chunks_round_trip_the_readout():
    model = SpectrometerModel(8, SpectrometerParams(calibrate_at_start=False))
    mav = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
    ids = []
    for k in range(3):
        msgs = model.readout(k * SECOND_US, DESIGN_RADIANCE)
        assert len(msgs) == instrument.N_CHUNKS
        decoded = [mav.decode(bytearray(m.pack(mav))) for m in msgs]
        for j, m in enumerate(decoded):
            assert m.get_type() == "PROBE_SPECTRUM_CHUNK"
            assert (m.chunk_index, m.chunk_count) == (j, instrument.N_CHUNKS)
            assert m.first_channel == j * instrument.CHUNK_CHANNELS
            assert m.n_channels_total == instrument.N_CHANNELS
            assert m.n_counts == instrument.CHUNK_CHANNELS
            assert m.time_usec == k * SECOND_US
            assert m.integration_s == pytest.approx(instrument.INTEGRATION_S)
            assert m.detector_temp_c == pytest.approx(-20.0, abs=3.0)
        assert len({m.spectrum_id for m in decoded}) == 1
        ids.append(decoded[0].spectrum_id)
        np.testing.assert_array_equal(_counts(decoded), model.last_truth.counts)
    assert ids == [ids[0], ids[0] + 1, ids[0] + 2]


def _packed(seed, n=8):
    model = SpectrometerModel(seed, SpectrometerParams(calibration_every=2))
    mav = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
    return b"".join(m.pack(mav) for k in range(n)
                    for m in model.readout(k * SECOND_US, DESIGN_RADIANCE))


def test_same_seed_same_messages():
    assert _packed(3) == _packed(3)
    assert _packed(3) != _packed(4)


def test_gain_drifts_slowly():
    model = SpectrometerModel(9, SpectrometerParams(gain_temp_coeff_per_c=0.0))
    hour_us = 3600 * SECOND_US
    gains = np.array([model.truth_gain(k * hour_us // 60) for k in range(6 * 60)])
    steps = np.diff(gains)
    assert np.std(steps) == pytest.approx(0.01 / np.sqrt(60), rel=0.2)
    assert np.ptp(gains) < 0.1


def test_detector_temperature_follows_a_slow_profile():
    model = SpectrometerModel(10)
    temps = [model.truth_detector_temp_c(k * 60 * SECOND_US) for k in range(300)]
    assert -22.0 <= min(temps) and max(temps) <= -18.0
    assert np.max(np.abs(np.diff(temps))) < 0.05  # per minute


def test_fault_injection():
    p = SpectrometerParams(calibrate_at_start=False, p_drop_chunk=1.0, p_saturate=1.0,
                           p_zero_channel=1.0)
    model = SpectrometerModel(12, p)
    msgs = model.readout(0, DESIGN_RADIANCE)
    assert len(msgs) == instrument.N_CHUNKS - 1
    counts = model.last_truth.counts
    # The zeroed channel may fall inside the saturated block.
    assert np.sum(counts == instrument.FULL_SCALE_DN) >= SATURATE_BLOCK - 1
    assert np.any(counts == 0)
    assert len(model.last_truth.faults) == 3
    clean = SpectrometerModel(12, SpectrometerParams(calibrate_at_start=False))
    assert len(clean.readout(0, DESIGN_RADIANCE)) == instrument.N_CHUNKS
    assert clean.last_truth.faults == []


def test_command_and_due():
    model = SpectrometerModel(1)
    assert not model.due(0)
    model.command(True, 2.0)
    assert model.due(0)
    model.readout(0, None)
    assert not model.due(400_000)
    assert model.due(500_000)
    model.command(False, 2.0)
    assert not model.due(10 * SECOND_US)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="calibration_every"):
        SpectrometerParams(calibration_every=0)
    with pytest.raises(ValueError, match="p_saturate"):
        SpectrometerParams(p_saturate=2.0)
    model = SpectrometerModel(1, SpectrometerParams(calibrate_at_start=False))
    with pytest.raises(ValueError, match="rate_hz"):
        model.command(True, 0.0)
    with pytest.raises(ValueError, match="radiance"):
        model.readout(0, np.ones(3))
    model.readout(SECOND_US, None)
    with pytest.raises(ValueError, match="backwards"):
        model.readout(0, None)


def test_the_true_response_is_the_flights_lab_calibration():
    """Built to one datasheet (flightsw.instrument_config), each side with its own Sun: the
    detector's truth at nominal gain and the flight software's lab calibration agree, so
    that what the flight must learn in flight is only the drift, the dark and the noise."""
    from flightsw.prospect import instrument as lab

    np.testing.assert_allclose(TRUTH_RESPONSIVITY, lab.RESPONSIVITY_E_PER_S_PER_RADIANCE,
                               rtol=1e-12)
    np.testing.assert_allclose(LAMP_RADIANCE, lab.lamp_radiance_wm2srum(), rtol=1e-12)
    # The design surface gives the design signal below the taper, the lamp its own.
    flat = WL < instrument.TAPER_START_UM
    np.testing.assert_allclose((TRUTH_RESPONSIVITY * DESIGN_RADIANCE)[flat],
                               instrument.SIGNAL_3PCT_E, rtol=1e-12)
    np.testing.assert_allclose(TRUTH_RESPONSIVITY * LAMP_RADIANCE, instrument.LAMP_SIGNAL_E,
                               rtol=1e-12)
