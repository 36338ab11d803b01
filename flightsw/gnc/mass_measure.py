"""Sample mass by the spin method (as OSIRIS-REx planned it).

With the arm extended, the probe spins up about its x axis by trading
momentum with the reaction wheels.  Wheel torques are internal, so the total
angular momentum is conserved in the inertial frame:

    H_i = R(q) (I w + A h) = R(q0) (I w0 + A h0)

with A h the wheels' momentum in the spacecraft frame (tachometers times
wheel inertia), w the gyro rate, q the attitude.  Taking the x component in
the spacecraft frame of each sample,

    I_xx = ((R(q)^T H_i)_x - (A h)_x - I_xy w_y - I_xz w_z) / w_x

(no products of inertia on this vehicle).  Rotating H_i with the attitude,
rather than assuming the x component alone is conserved, keeps a slight
wobble of the spin axis (the wheels also carry momentum across the axis)
from biasing the result.  Each tachometer reading during the steady spin
gives one estimate of I_xx; their mean and its standard error are the
measurement.  A sample of mass m
caught in the head, arm_length_m out along +z, adds m * L^2 to I_xx, so

    m = (I_after - I_before) / L^2,   sigma_m = hypot(sigma_before, sigma_after) / L^2.
"""

import math
from enum import StrEnum

from flightsw.geometry.quat import q_rotate, q_rotate_inv


class SpinState(StrEnum):
    """Step of a spin test; the values are the words the events say."""

    PRE = "pre"
    SPIN_UP = "spin_up"
    MEASURE = "measure"
    SPIN_DOWN = "spin_down"
    DONE = "done"


class SpinInertiaMeasurement:
    """Pre-spin momentum reference, spin-up, steady-spin samples, spin-down.

    The conserved momentum H_i is averaged over pre_s seconds of tachometer
    readings before the spin: one noisy reading would bias every sample of
    the spin alike (tachometer noise / spin rate is ~0.1 kg m^2 here).
    """

    def __init__(self, spin_rate_radps: float, measure_s: float, settle_s: float = 20.0,
                 pre_s: float = 60.0):
        self.spin_rate_radps = spin_rate_radps
        self.measure_s = measure_s
        self.settle_s = settle_s
        self.pre_s = pre_s
        self.state = SpinState.DONE
        self._t_state_s = 0.0
        self._h_i_samples: list[tuple] = []
        self._h_i = (0.0, 0.0, 0.0)
        self._h_i_sigma = 0.0
        self._samples: list[float] = []
        self.inertia_kgm2 = math.nan
        self.inertia_sigma_kgm2 = math.nan
        self._last_rate_sc = None

    def start(self, t_s: float) -> None:
        self._h_i_samples = []
        self._samples = []
        self.state, self._t_state_s = SpinState.PRE, t_s

    def rate_command_x(self) -> float:
        """Spin rate the attitude loop should hold about x (rad/s)."""
        return self.spin_rate_radps if self.state in (SpinState.SPIN_UP, SpinState.MEASURE) else 0.0

    def rate_controlled(self) -> bool:
        """True while the attitude loop should follow rate_command_x (rates only).

        The pre-spin phase holds the probe still in inertial space: with w ~ 0 the
        I * w term of the momentum reference vanishes, so the nominal inertia used
        there (which lacks the sample) cannot bias the result.
        """
        return self.state in (SpinState.PRE, SpinState.SPIN_UP, SpinState.MEASURE,
                              SpinState.SPIN_DOWN)

    def step(self, t_s: float, rate_sc, wheel_h_sc, q_i_to_sc, inertia_nominal) -> str | None:
        """Advance; returns the new state name when it changes.

        wheel_h_sc is None between tachometer readings: only readings make samples.
        """
        # A gyro reports the mean rate over its last sample period, half a period
        # behind the tachometer's instant: extrapolate by half a step so a spin that
        # is still settling does not bias the ratio.
        last = self._last_rate_sc
        self._last_rate_sc = tuple(rate_sc)
        if last is not None:
            rate_sc = tuple(rate_sc[k] + 0.5 * (rate_sc[k] - last[k]) for k in range(3))
        rate_x = rate_sc[0]
        if self.state == SpinState.PRE:
            # First settle into the inertial hold, then average the reference.
            if wheel_h_sc is not None and t_s - self._t_state_s >= self.settle_s:
                body_h = tuple(inertia_nominal[k] * rate_sc[k] + wheel_h_sc[k] for k in range(3))
                self._h_i_samples.append(q_rotate(q_i_to_sc, body_h))
            if t_s - self._t_state_s >= self.pre_s and len(self._h_i_samples) >= 3:
                n = len(self._h_i_samples)
                self._h_i = tuple(sum(h[k] for h in self._h_i_samples) / n for k in range(3))
                # Spread of the x-most component stands for the reference's noise.
                var = sum(sum((h[k] - self._h_i[k]) ** 2 for k in range(3))
                          for h in self._h_i_samples) / (3 * (n - 1))
                self._h_i_sigma = math.sqrt(var / n)
                self.state, self._t_state_s = SpinState.SPIN_UP, t_s
                return SpinState.SPIN_UP
        elif self.state == SpinState.SPIN_UP:
            # Steady: on the commanded rate to 0.1% and no wobble across the axis.
            close = abs(rate_x - self.spin_rate_radps) < 1e-3 * self.spin_rate_radps
            still = abs(rate_sc[1]) < 1e-5 and abs(rate_sc[2]) < 1e-5
            if close and still and t_s - self._t_state_s > self.settle_s:
                self.state, self._t_state_s = SpinState.MEASURE, t_s
                return SpinState.MEASURE
        elif self.state == SpinState.MEASURE:
            if wheel_h_sc is not None and abs(rate_x) > 1e-6:
                h_sc_x = q_rotate_inv(q_i_to_sc, self._h_i)[0]
                self._samples.append((h_sc_x - wheel_h_sc[0]) / rate_x)
            if t_s - self._t_state_s >= self.measure_s and len(self._samples) >= 3:
                n = len(self._samples)
                mean = sum(self._samples) / n
                var = sum((x - mean) ** 2 for x in self._samples) / (n - 1)
                self.inertia_kgm2 = mean
                # Standard error of the mean: the larger of the white-noise estimate
                # and the batch-means one, which also sees slow correlated wobble of
                # the spin that the white estimate would hide; plus the momentum
                # reference's own error, common to every sample.
                sem2 = max(var / n, _batch_means_var(self._samples))
                self.inertia_sigma_kgm2 = math.sqrt(
                    sem2 + (self._h_i_sigma / self.spin_rate_radps) ** 2)
                self.state, self._t_state_s = SpinState.SPIN_DOWN, t_s
                return SpinState.SPIN_DOWN
        elif self.state == SpinState.SPIN_DOWN:
            if abs(rate_x) < 0.05 * self.spin_rate_radps:
                self.state = SpinState.DONE
                return SpinState.DONE
        return None


def _batch_means_var(samples: list[float], batches: int = 6) -> float:
    """Variance of the mean from the scatter of batch means (0 if too few samples)."""
    size = len(samples) // batches
    if size < 2:
        return 0.0
    means = [sum(samples[b * size:(b + 1) * size]) / size for b in range(batches)]
    grand = sum(means) / batches
    return sum((m - grand) ** 2 for m in means) / (batches - 1) / batches


def sample_mass_kg(inertia_before: float, sigma_before: float, inertia_after: float,
                   sigma_after: float, arm_length_m: float) -> tuple[float, float]:
    l2 = arm_length_m * arm_length_m
    return ((inertia_after - inertia_before) / l2, math.hypot(sigma_before, sigma_after) / l2)
