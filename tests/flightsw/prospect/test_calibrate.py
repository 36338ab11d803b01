"""The in-flight calibration (flightsw/prospect/calibrate.py): dark current and gain learned
from the instrument's own DARK and CALIBRATION frames, science counts back to radiance,
unusable frames refused and counted.

Frames are made with the detector equation written out here (bias + electrons / gain,
dark current doubling every 7 degC), noise-free so the inversion can be checked exactly.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.prospect import instrument as ins
from flightsw.prospect.calibrate import CalibrationState

C = ins.N_CHANNELS
DOUBLING_C = 7.0  # the detector's datasheet: dark current doubles every 7 degC


def frame_dn(radiance, gain, dark_20c_e_per_s, temp_c, t_s=1.0):
    """Counts of one frame: bias + (signal + dark) electrons at E_PER_DN electrons a count."""
    signal_e = gain * ins.RESPONSIVITY_E_PER_S_PER_RADIANCE * radiance * t_s
    dark_e = dark_20c_e_per_s * 2.0 ** ((temp_c - 20.0) / DOUBLING_C) * t_s
    return ins.BIAS_DN + (signal_e + dark_e) / ins.E_PER_DN


def calibrated(gain=1.0, dark=150.0, smooth=None):
    cal = CalibrationState(dark_smooth_degree=smooth, gain_smooth_degree=smooth)
    assert cal.add_dark(frame_dn(0.0, gain, dark, 25.0), 25.0)
    assert cal.add_calibration(frame_dn(ins.lamp_radiance_wm2srum(), gain, dark, 15.0), 15.0)
    return cal


@settings(max_examples=40, deadline=None)
@given(gain=st.floats(0.7, 1.3), dark=st.floats(20.0, 2000.0),
       temp_dark=st.floats(-20.0, 40.0), temp_science=st.floats(-20.0, 40.0),
       level=st.floats(0.1, 2.0))
def test_counts_go_back_to_the_radiance_that_made_them(gain, dark, temp_dark, temp_science,
                                                       level):
    """Dark learned at one temperature, gain from the lamp, science at another temperature:
    radiance comes back exactly (noise-free frames), whatever the gain drift and the dark."""
    cal = CalibrationState(dark_smooth_degree=None, gain_smooth_degree=None)
    cal.add_dark(frame_dn(0.0, gain, dark, temp_dark), temp_dark)
    cal.add_calibration(frame_dn(ins.lamp_radiance_wm2srum(), gain, dark, 10.0), 10.0)
    assert cal.dark_rate_20c == pytest.approx(np.full(C, dark), rel=1e-9)
    assert cal.gain == pytest.approx(np.full(C, gain), rel=1e-9)
    truth = level * ins.lamp_radiance_wm2srum()
    radiance, sigma = cal.radiance(frame_dn(truth, gain, dark, temp_science, 2.0)[None],
                                   np.array([temp_science]), np.array([2.0]))
    assert radiance[0] == pytest.approx(truth, rel=1e-9)
    assert np.all(sigma > 0)


def test_sigma_is_shot_read_and_quantisation_noise_in_radiance():
    """Per channel: sqrt(total electrons + read noise^2 + (e/DN)^2/12), divided by the
    electrons one radiance unit gives."""
    cal = calibrated(gain=1.1)
    truth = 0.5 * ins.lamp_radiance_wm2srum()
    counts = frame_dn(truth, 1.1, 150.0, 20.0)
    _, sigma = cal.radiance(counts[None], np.array([20.0]))
    total_e = (counts - ins.BIAS_DN) * ins.E_PER_DN
    expected = np.sqrt(total_e + ins.READ_NOISE_E ** 2 + ins.E_PER_DN ** 2 / 12.0) \
        / (1.1 * ins.RESPONSIVITY_E_PER_S_PER_RADIANCE * ins.INTEGRATION_S)
    assert sigma[0] == pytest.approx(expected, rel=1e-9)


def test_dark_and_gain_are_averaged_over_the_last_frames_only():
    """A window of n frames: an old dark is forgotten once n newer ones have come."""
    cal = CalibrationState(n_dark=2, dark_smooth_degree=None)
    for dark in (100.0, 200.0, 400.0):
        cal.add_dark(frame_dn(0.0, 1.0, dark, 20.0), 20.0)
    assert cal.dark_rate_20c == pytest.approx(np.full(C, 300.0))


def test_smoothing_across_channels_removes_a_single_frames_channel_noise():
    """A low-order polynomial across channels: a smooth dark stays, one channel's spike is
    spread instead of frozen into every spectrum."""
    ramp = np.linspace(100.0, 300.0, C)
    spiked = ramp.copy()
    spiked[100] += 500.0
    cal = CalibrationState(dark_smooth_degree=3)
    cal.add_dark(frame_dn(0.0, 1.0, spiked, 20.0), 20.0)
    assert abs(cal.dark_rate_20c[100] - ramp[100]) < 20.0
    assert np.median(np.abs(cal.dark_rate_20c - ramp)) < 5.0


def test_a_smoothing_degree_beyond_the_channels_leaves_each_channel_its_own():
    """A polynomial needs more channels than its degree: otherwise no smoothing at all."""
    spiked = np.full(C, 100.0)
    spiked[7] = 900.0
    cal = CalibrationState(dark_smooth_degree=C)
    cal.add_dark(frame_dn(0.0, 1.0, spiked, 20.0), 20.0)
    assert cal.dark_rate_20c == pytest.approx(spiked)


def good_dark():
    return frame_dn(0.0, 1.0, 150.0, 20.0)


@pytest.mark.parametrize(("counts", "temp_c", "t_s"), [
    (good_dark()[:-1], 20.0, 1.0),  # a channel short
    (np.where(np.arange(C) == 5, np.nan, good_dark()), 20.0, 1.0),  # a channel missing
    (np.where(np.arange(C) == 5, ins.FULL_SCALE_DN, good_dark()), 20.0, 1.0),  # saturated
    (np.where(np.arange(C) == 5, 0.0, good_dark()), 20.0, 1.0),  # a dead channel
    (good_dark(), float("nan"), 1.0),  # no detector temperature
    (good_dark(), 20.0, 0.0),  # no integration
])
def test_an_unusable_dark_frame_is_refused_counted_and_changes_nothing(counts, temp_c, t_s):
    cal = calibrated()
    before = cal.dark_rate_20c.copy()
    assert cal.add_dark(counts, temp_c, t_s) is False
    assert cal.rejected_frames == 1
    assert np.array_equal(cal.dark_rate_20c, before)


def test_a_lamp_frame_before_any_dark_is_refused():
    """The lamp signal is only known once the dark is: no gain from it yet."""
    cal = CalibrationState()
    assert cal.add_calibration(frame_dn(ins.lamp_radiance_wm2srum(), 1.0, 150.0, 20.0),
                               20.0) is False
    assert cal.rejected_frames == 1 and cal.gain is None and not cal.ready


@pytest.mark.parametrize(("counts_of", "temp_c", "t_s"), [
    (lambda lamp: frame_dn(0.0 * lamp, 1.0, 150.0, 20.0), 20.0, 1.0),  # lamp off: no gain
    (lambda lamp: frame_dn(lamp, 1.0, 150.0, 20.0), float("inf"), 1.0),
    (lambda lamp: frame_dn(lamp, 1.0, 150.0, 20.0), 20.0, -1.0),
])
def test_an_unusable_lamp_frame_is_refused_and_the_gain_kept(counts_of, temp_c, t_s):
    """A lamp frame that gives no positive gain in every channel (the lamp did not light)
    or has no usable temperature or integration time is refused, not averaged in."""
    cal = calibrated(gain=1.2)
    assert cal.add_calibration(counts_of(ins.lamp_radiance_wm2srum()), temp_c, t_s) is False
    assert cal.rejected_frames == 1
    assert cal.gain == pytest.approx(np.full(C, 1.2))


def test_no_radiance_before_dark_and_gain_are_known():
    cal = CalibrationState()
    cal.add_dark(good_dark(), 20.0)
    with pytest.raises(RuntimeError, match="^CalibrationState: no dark or calibration frame "
                                           "yet$"):
        cal.radiance(good_dark()[None], np.array([20.0]))
