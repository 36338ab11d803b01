"""The point spectrometer as the simulator knows it: radiance in, raw counts out.

The instrument as built (grid, detector format, datasheet) is configuration,
``flightsw.instrument_config`` (imported as ``config``); its true response under the
simulator's own Sun is ``TRUTH_RESPONSIVITY``.

Truth model (what the flight software must measure for itself)::

    electrons = gain(t, T_det) * TRUTH_RESPONSIVITY * L * t_int + dark(T_det) * t_int
    counts    = round(electrons_with_noise / E_PER_DN + bias), clipped to [0, 65535]

* gain: 1 + an offset drawn at power-on + a seeded random walk (``gain_walk_per_sqrt_h``)
  + ``gain_temp_coeff_per_c`` * (T_det - temp_mean_c);
* dark: the datasheet's ``dark_rate_e_per_s(T_det)`` times a seeded scale and a
  fixed per-channel pattern; bias: BIAS_DN plus a fixed per-channel pattern (dark frames
  measure both together);
* T_det: a slow sinusoid about ``temp_mean_c``; reported with ``temp_report_sigma_c`` noise;
* noise: shot (Gaussian approximation of Poisson) and read noise, per channel.

API::

    model = SpectrometerModel(seed, SpectrometerParams())
    model.command(enable: bool, rate_hz: float)  # from PROBE_INSTRUMENT_CMD (integrator)
    model.enabled, model.rate_hz                 # current state
    model.due(t_us) -> bool                      # enabled and 1/rate_hz since last readout
    model.next_kind -> int                       # PROBE_SPECTRUM_KIND of the next readout
    model.readout(t_us, radiance=None) -> list[MAVLink_probe_spectrum_chunk_message]
    model.last_truth -> ReadoutTruth | None      # truth of the last readout
    model.truth_gain(t_us), model.truth_detector_temp_c(t_us)

``readout`` integrates now (``t_us`` = start of integration) and returns the readout's
chunk messages (4 normally, fewer if a dropped chunk is injected).  The model schedules its
own kinds: with ``calibrate_at_start`` it begins with one DARK and one CALIBRATION frame,
then after every ``calibration_every`` SCIENCE readouts one DARK and one CALIBRATION frame.
``radiance`` (W m^-2 sr^-1 um^-1 on ``config.WAVELENGTH_UM``) is used only for SCIENCE;
None means black (nothing in view).  Check ``next_kind`` to skip computing the radiance
for DARK and CALIBRATION readouts.  ``readout`` does not look at ``enabled``: the integrator
decides when to call it (``due``).  Calls must come with non-decreasing ``t_us``.

Per-channel noise comes from a numpy Generator seeded from (seed, name) the same way
``sim.noise.NoiseStream`` seeds its own (``seeded_generator``); scalar draws come from
NoiseStreams.  Same seed and same call sequence -> identical messages.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from flightsw import instrument_config as config
from flightsw.icd import mavlink
from sim.noise import NoiseStream
from sim.radiometry import black_body_radiance, sun_irradiance

__all__ = ["LAMP_RADIANCE", "TRUTH_RESPONSIVITY", "ReadoutTruth", "SpectrometerModel",
           "SpectrometerParams", "seeded_generator"]

SCIENCE = mavlink.PROBE_SPECTRUM_KIND_SCIENCE
DARK = mavlink.PROBE_SPECTRUM_KIND_DARK
CALIBRATION = mavlink.PROBE_SPECTRUM_KIND_CALIBRATION
_US_PER_H = 3600e6

#: The detector's true response at nominal gain, e-/s per (W m^-2 sr^-1 um^-1) per channel:
#: the instrument built to its design point (flightsw.instrument_config) under the
#: simulator's own Sun and Planck's law (sim.radiometry).
TRUTH_RESPONSIVITY = config.responsivity_e_per_s_per_radiance(
    config.DESIGN_IF * sun_irradiance(config.WAVELENGTH_UM, config.DESIGN_DISTANCE_AU) / np.pi,
    black_body_radiance(config.WAVELENGTH_UM, config.TAPER_DESIGN_TEMP_K))
#: What the calibration lamp puts on the detector, per channel.
LAMP_RADIANCE = config.lamp_radiance_wm2srum(TRUTH_RESPONSIVITY)


def seeded_generator(seed: int, name: str) -> np.random.Generator:
    """A numpy Generator depending only on (seed, name), for vectorised draws.

    Same derivation as NoiseStream (SHA-256 of the name, then the seed), under a distinct
    name space so it never replays a NoiseStream of the same name.
    """
    digest = hashlib.sha256(("generator:" + name).encode()).digest()
    key = [int.from_bytes(digest[:16], "little"), int(seed)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(key)))


@dataclass(frozen=True)
class SpectrometerParams:
    integration_s: float = config.INTEGRATION_S
    calibration_every: int = 60  # science readouts between DARK + CALIBRATION pairs
    calibrate_at_start: bool = True
    gain_initial_sigma: float = 0.02  # power-on gain offset from nominal (1 sigma)
    gain_walk_per_sqrt_h: float = 0.01  # random walk: ~1 % over an hour
    gain_temp_coeff_per_c: float = -0.002
    dark_scale_sigma: float = 0.10  # truth dark current vs the nominal table
    dark_pattern_sigma: float = 0.10  # per-channel dark non-uniformity (fraction)
    bias_pattern_sigma_dn: float = 3.0  # per-channel bias offsets
    temp_mean_c: float = -20.0
    temp_amplitude_c: float = 1.5
    temp_period_s: float = 4.0 * 3600.0
    temp_report_sigma_c: float = 0.05
    # Fault injection (per readout probabilities), for the pipeline's bad-input handling.
    p_drop_chunk: float = 0.0  # one of the chunk messages is lost
    p_saturate: float = 0.0  # a block of SATURATE_BLOCK channels reads 65535
    p_zero_channel: float = 0.0  # one channel reads 0 (dead pixel glitch)

    def __post_init__(self):
        if not 0.0 < self.integration_s <= 60.0:
            raise ValueError(f"integration_s must be in (0, 60], got {self.integration_s}")
        if isinstance(self.calibration_every, bool) or not isinstance(self.calibration_every,
                                                                       int) \
                or self.calibration_every < 1:
            raise ValueError(f"calibration_every must be an int >= 1, got "
                             f"{self.calibration_every!r}")
        for name in ("gain_initial_sigma", "gain_walk_per_sqrt_h", "dark_scale_sigma",
                     "dark_pattern_sigma", "bias_pattern_sigma_dn", "temp_amplitude_c",
                     "temp_report_sigma_c"):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not -100.0 <= self.temp_mean_c <= 60.0:
            raise ValueError(f"temp_mean_c must be in [-100, 60], got {self.temp_mean_c}")
        if not self.temp_period_s > 0.0:
            raise ValueError(f"temp_period_s must be > 0, got {self.temp_period_s}")
        for name in ("p_drop_chunk", "p_saturate", "p_zero_channel"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")


SATURATE_BLOCK = 8


@dataclass
class ReadoutTruth:
    spectrum_id: int
    kind: int
    t_us: int
    gain: float
    detector_temp_c: float  # truth
    reported_temp_c: float  # what the message says
    dark_e_per_s: np.ndarray  # per channel
    counts: np.ndarray  # (256,) as sent (before any dropped chunk)
    faults: list[str] = field(default_factory=list)


class SpectrometerModel:
    def __init__(self, seed: int, params: SpectrometerParams | None = None):
        self.params = params if params is not None else SpectrometerParams()
        p = self.params
        setup = NoiseStream(seed, "spectrometer-setup")
        self._scalar = NoiseStream(seed, "spectrometer-scalar")
        self._faults = NoiseStream(seed, "spectrometer-faults")
        self._pixels = seeded_generator(seed, "spectrometer-pixels")
        pattern = seeded_generator(seed, "spectrometer-pattern")
        n = config.N_CHANNELS
        self._gain0 = 1.0 + setup.gauss(p.gain_initial_sigma)
        self._dark_scale = max(0.1, 1.0 + setup.gauss(p.dark_scale_sigma))
        self._temp_phase = 2.0 * math.pi * setup.uniform()
        self._dark_pattern = np.clip(1.0 + p.dark_pattern_sigma * pattern.standard_normal(n),
                                     0.1, None)
        self._bias_dn = config.BIAS_DN + p.bias_pattern_sigma_dn * pattern.standard_normal(n)
        self._walk = 0.0
        self._walk_t_us: int | None = None
        self._last_t_us: int | None = None
        self._next_id = 1
        self._science_since_cal = 0
        self._pending = [DARK, CALIBRATION] if p.calibrate_at_start else []
        self.enabled = False
        self.rate_hz = 1.0
        self._last_readout_us: int | None = None
        self.last_truth: ReadoutTruth | None = None

    # -- control by the integrator

    def command(self, enable: bool, rate_hz: float) -> None:
        """Apply a PROBE_INSTRUMENT_CMD: on/off and readouts per second."""
        if not (isinstance(rate_hz, (int, float)) and math.isfinite(rate_hz)
                and 0.0 < rate_hz <= 100.0):
            raise ValueError(f"rate_hz must be in (0, 100], got {rate_hz!r}")
        self.enabled = bool(enable)
        self.rate_hz = float(rate_hz)

    def due(self, t_us: int) -> bool:
        if not self.enabled:
            return False
        if self._last_readout_us is None:
            return True
        return t_us - self._last_readout_us >= 1e6 / self.rate_hz - 0.5

    @property
    def next_kind(self) -> int:
        if self._pending:
            return self._pending[0]
        return SCIENCE

    # -- truth

    def truth_detector_temp_c(self, t_us: int) -> float:
        p = self.params
        return p.temp_mean_c + p.temp_amplitude_c * math.sin(
            2.0 * math.pi * t_us * 1e-6 / p.temp_period_s + self._temp_phase)

    def truth_gain(self, t_us: int) -> float:
        """Truth gain at t_us (advances the random walk: call with non-decreasing times)."""
        if self._walk_t_us is not None and t_us > self._walk_t_us:
            dt_h = (t_us - self._walk_t_us) / _US_PER_H
            self._walk += self._scalar.gauss(self.params.gain_walk_per_sqrt_h * math.sqrt(dt_h))
        if self._walk_t_us is None or t_us > self._walk_t_us:
            self._walk_t_us = t_us
        temp = self.truth_detector_temp_c(t_us)
        return (self._gain0 + self._walk
                + self.params.gain_temp_coeff_per_c * (temp - self.params.temp_mean_c))

    # -- readout

    def readout(self, t_us: int, radiance=None) -> list:
        """Integrate from t_us; return the readout's PROBE_SPECTRUM_CHUNK messages."""
        if isinstance(t_us, bool) or not isinstance(t_us, (int, np.integer)) or t_us < 0:
            raise ValueError(f"t_us must be a non-negative int, got {t_us!r}")
        t_us = int(t_us)
        if self._last_t_us is not None and t_us < self._last_t_us:
            raise ValueError(f"t_us went backwards: {t_us} < {self._last_t_us}")
        kind = self._take_kind()
        n = config.N_CHANNELS
        if kind == SCIENCE and radiance is not None:
            lum = np.asarray(radiance, dtype=float)
            if lum.shape != (n,) or not np.all(np.isfinite(lum)):
                raise ValueError(f"radiance must be a finite ({n},) array")
            lum = np.maximum(lum, 0.0)
        elif kind == CALIBRATION:
            lum = LAMP_RADIANCE
        else:
            lum = np.zeros(n)
        counts, truth = self._integrate(t_us, kind, lum)
        self._last_t_us = t_us
        self._last_readout_us = t_us
        msgs = self._chunks(t_us, truth, counts)
        self.last_truth = truth
        return msgs

    def _take_kind(self) -> int:
        p = self.params
        if self._pending:
            return self._pending.pop(0)
        self._science_since_cal += 1
        if self._science_since_cal >= p.calibration_every:
            self._science_since_cal = 0
            self._pending = [DARK, CALIBRATION]
        return SCIENCE

    def _integrate(self, t_us: int, kind: int, lum: np.ndarray):
        p = self.params
        t_int = p.integration_s
        gain = self.truth_gain(t_us)
        temp = self.truth_detector_temp_c(t_us)
        dark = config.dark_rate_e_per_s(temp) * self._dark_scale * self._dark_pattern
        signal_e = gain * TRUTH_RESPONSIVITY * lum * t_int
        mean_e = signal_e + dark * t_int
        sigma_e = np.sqrt(mean_e + config.READ_NOISE_E ** 2)
        e = mean_e + sigma_e * self._pixels.standard_normal(len(mean_e))
        dn = np.rint(e / config.E_PER_DN + self._bias_dn)
        counts = np.clip(dn, 0, config.FULL_SCALE_DN).astype(np.int64)
        faults = self._inject(counts)
        reported = temp + self._scalar.gauss(p.temp_report_sigma_c)
        truth = ReadoutTruth(self._next_id, kind, t_us, gain, temp, reported, dark,
                             counts.copy(), faults)
        self._next_id += 1
        return counts, truth

    def _inject(self, counts: np.ndarray) -> list[str]:
        p = self.params
        faults = []
        f = self._faults
        if p.p_saturate and f.uniform() < p.p_saturate:
            start = int(f.uniform() * (len(counts) - SATURATE_BLOCK + 1))
            counts[start : start + SATURATE_BLOCK] = config.FULL_SCALE_DN
            faults.append(f"saturate:{start}-{start + SATURATE_BLOCK - 1}")
        if p.p_zero_channel and f.uniform() < p.p_zero_channel:
            ch = int(f.uniform() * len(counts)) % len(counts)
            counts[ch] = 0
            faults.append(f"zero:{ch}")
        if p.p_drop_chunk and f.uniform() < p.p_drop_chunk:
            k = int(f.uniform() * config.N_CHUNKS) % config.N_CHUNKS
            faults.append(f"drop:{k}")
        return faults

    def _chunks(self, t_us: int, truth: ReadoutTruth, counts: np.ndarray) -> list:
        dropped = {int(x.split(":")[1]) for x in truth.faults if x.startswith("drop:")}
        w = config.CHUNK_CHANNELS
        msgs = []
        for k in range(config.N_CHUNKS):
            if k in dropped:
                continue
            msgs.append(mavlink.MAVLink_probe_spectrum_chunk_message(
                time_usec=t_us, spectrum_id=truth.spectrum_id,
                integration_s=self.params.integration_s, first_channel=k * w,
                n_channels_total=config.N_CHANNELS, chunk_index=k,
                chunk_count=config.N_CHUNKS, n_counts=w, kind=truth.kind,
                detector_temp_c=truth.reported_temp_c,
                counts=counts[k * w : (k + 1) * w].tolist()))
        return msgs
