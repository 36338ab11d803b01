"""Counts -> radiance -> reflectance, with what the instrument teaches us in flight.

The instrument (instrument.py) gives, per channel,

    counts = BIAS_DN + (gain * RESPONSIVITY * L * t + dark_rate(T_det) * t + noise) / E_PER_DN

clipped at FULL_SCALE_DN.  CalibrationState learns the two unknowns from the
instrument's own frames:

- dark: DARK frames (shutter closed), each referred to 20 degC with the nominal
  doubling law and averaged over the last `n_dark` frames; at a science
  temperature T the rate is scaled back with the same law;
- gain: CALIBRATION frames (lamp of known radiance), dark-subtracted, divided by
  the signal the nominal responsivity predicts, averaged over the last `n_gain`
  frames and (by default) smoothed across channels with a low-order polynomial
  so that one frame's shot noise is not frozen into every spectrum.

Then radiance (with per-channel sigma from shot, dark and read noise); the
pipeline's photometry stage (pipeline.py) takes it on to I/F = pi L d^2 / F_sun(1 AU)
with solar_over_pi below, and to standard reflectance (I/F / photometric_factor).
Everything is vectorised over N spectra; pure numpy.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from flightsw.prospect import instrument as ins
from flightsw.prospect.solar import solar_irradiance_wm2um

REFERENCE_TEMP_C = 20.0


def _doubling(temp_c):
    return 2.0 ** ((np.asarray(temp_c, dtype=float) - REFERENCE_TEMP_C) / ins.DARK_DOUBLING_C)


def _smooth(values: np.ndarray, degree: int | None) -> np.ndarray:
    """Least-squares polynomial across channel index (None: per channel, unchanged)."""
    if degree is None:
        return values
    u = np.linspace(-1.0, 1.0, values.size)
    ok = np.isfinite(values)
    if ok.sum() <= degree:
        return values
    coef = np.polynomial.legendre.legfit(u[ok], values[ok], degree)
    return np.polynomial.legendre.legval(u, coef)


class CalibrationState:
    """Dark and gain learned from DARK / CALIBRATION frames; converts science counts."""

    def __init__(self, n_dark: int = 8, n_gain: int = 8, dark_smooth_degree: int | None = 3,
                 gain_smooth_degree: int | None = 3, wavelength_um=ins.WAVELENGTH_UM):
        self.wavelength_um = np.asarray(wavelength_um, dtype=float)
        self._darks: deque[np.ndarray] = deque(maxlen=n_dark)  # e-/s at 20 degC
        self._gains: deque[np.ndarray] = deque(maxlen=n_gain)
        self.dark_smooth_degree = dark_smooth_degree
        self.gain_smooth_degree = gain_smooth_degree
        self.dark_rate_20c = None  # (C,) e-/s at 20 degC
        self.gain = None  # (C,) relative to nominal responsivity
        self.rejected_frames = 0

    @property
    def ready(self) -> bool:
        return self.dark_rate_20c is not None and self.gain is not None

    @staticmethod
    def _frame_ok(counts) -> np.ndarray | None:
        c = np.asarray(counts, dtype=float)
        if c.shape != (ins.N_CHANNELS,) or not np.all(np.isfinite(c)):
            return None
        if np.any(c >= ins.FULL_SCALE_DN) or np.any(c <= 0):
            return None
        return c

    def add_dark(self, counts, detector_temp_c: float, integration_s: float = ins.INTEGRATION_S):
        """A DARK frame (shutter closed). Returns False (and ignores it) if it is unusable."""
        c = self._frame_ok(counts)
        if c is None or not np.isfinite(detector_temp_c) or not integration_s > 0:
            self.rejected_frames += 1
            return False
        rate = (c - ins.BIAS_DN) * ins.E_PER_DN / integration_s / _doubling(detector_temp_c)
        self._darks.append(rate)
        self.dark_rate_20c = _smooth(np.mean(self._darks, axis=0), self.dark_smooth_degree)
        return True

    def add_calibration(self, counts, detector_temp_c: float,
                        integration_s: float = ins.INTEGRATION_S):
        """A CALIBRATION frame (lamp). Needs a dark first; returns False if unusable."""
        c = self._frame_ok(counts)
        if c is None or self.dark_rate_20c is None or not np.isfinite(detector_temp_c) \
                or not integration_s > 0:
            self.rejected_frames += 1
            return False
        signal = (c - ins.BIAS_DN) * ins.E_PER_DN \
            - self.dark_rate_20c * _doubling(detector_temp_c) * integration_s
        expected = ins.RESPONSIVITY_E_PER_S_PER_RADIANCE * ins.lamp_radiance_wm2srum() \
            * integration_s
        g = signal / expected
        if not np.all(np.isfinite(g)) or np.any(g <= 0):
            self.rejected_frames += 1
            return False
        self._gains.append(g)
        self.gain = _smooth(np.mean(self._gains, axis=0), self.gain_smooth_degree)
        return True

    def radiance(self, counts, detector_temp_c, integration_s=ins.INTEGRATION_S):
        """Counts (N, C) -> radiance and its sigma (N, C), W m^-2 sr^-1 um^-1."""
        if not self.ready:
            raise RuntimeError("CalibrationState: no dark or calibration frame yet")
        c = np.asarray(counts, dtype=float)
        t = np.asarray(integration_s, dtype=float)
        t = t[..., None] if t.ndim else t
        dark_e = self.dark_rate_20c * _doubling(detector_temp_c)[..., None] * t
        total_e = (c - ins.BIAS_DN) * ins.E_PER_DN
        signal_e = total_e - dark_e
        var_e = np.maximum(total_e, 0.0) + ins.READ_NOISE_E ** 2 + ins.E_PER_DN ** 2 / 12.0
        scale = 1.0 / (self.gain * ins.RESPONSIVITY_E_PER_S_PER_RADIANCE * t)
        return signal_e * scale, np.sqrt(var_e) * scale


def solar_over_pi(wavelength_um, distance_au):
    """F_sun / pi at each spectrum's distance: (N, C)."""
    d = np.asarray(distance_au, dtype=float)[..., None]
    return solar_irradiance_wm2um(np.asarray(wavelength_um), 1.0) / np.pi / d ** 2
