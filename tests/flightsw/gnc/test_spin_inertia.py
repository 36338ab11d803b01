"""The spin test's state machine and statistics (flightsw/gnc/mass_measure.py), scripted.

Each test feeds SpinInertiaMeasurement.step exact gyro rates and wheel momenta (identity
attitude, all momentum about x) so that every number it reports can be worked out by
hand, and pins:
- the timing: reference samples from settle_s after the start, the spin-up after pre_s
  and at least 3 samples; steady (on the rate to 0.1 %, cross-axis rates below 1e-5 rad/s,
  for longer than settle_s) before measuring; measuring for measure_s and at least 3
  samples; done below 5 % of the spin rate; the defaults (20 s, 60 s) the component uses;
- the statistics: the reference's noise from the scatter of its samples (all three
  axes, n - 1), the inertia's mean and standard error (white-noise and batch-means
  estimates, the larger), the reference's share divided by the spin rate;
- the gyro's half-step lag extrapolated away, and no sample from a stalled spin.
Times start at 1000 s: a state machine that forgot its state's start time would run early.
"""

import math

import numpy as np
import pytest

from flightsw.gnc.mass_measure import SpinInertiaMeasurement, SpinState

IDENTITY = (1.0, 0.0, 0.0, 0.0)
I_NOMINAL = (2400.0, 2100.0, 1700.0)
T0 = 1000.0
SPIN = 0.02  # rad/s
H_REF = 1.0  # N m s, the conserved momentum about x (wheel momentum while still)
KGM2 = 1.0


def step(m, t, rate=(0.0, 0.0, 0.0), wheel_x=None):
    h = None if wheel_x is None else (wheel_x, 0.0, 0.0)
    return m.step(t, rate, h, IDENTITY, I_NOMINAL)


def reference(m, samples=(H_REF, H_REF, H_REF), settle=20.0):
    """Start at T0, reference samples one a second from T0 + settle; returns the time."""
    m.start(T0)
    t = T0 + settle
    for h in samples:
        step(m, t, wheel_x=h)
        t += 1.0
    return t - 1.0


def spin_up(m, settle=20.0):
    """From SPIN_UP at t_up: steady at the spin rate; returns the time MEASURE began."""
    t = m._t_state_s
    while m.state == SpinState.SPIN_UP:
        t += 0.5
        step(m, t, (SPIN, 0.0, 0.0))
    assert m.state == SpinState.MEASURE
    return t


def measure(m, inertias, t):
    """One tachometer reading a second, each giving exactly the inertia listed."""
    for inertia in inertias:
        t += 1.0
        step(m, t, (SPIN, 0.0, 0.0), wheel_x=H_REF - inertia * SPIN)
    return t


def new(settle=20.0, pre=22.0, measure_s=10.0):
    return SpinInertiaMeasurement(SPIN, measure_s, settle_s=settle, pre_s=pre)


# -- timing -----------------------------------------------------------------------------------

def test_the_defaults_the_component_uses_settle_20_s_and_reference_60_s():
    m = SpinInertiaMeasurement(SPIN, 60.0)
    m.start(T0)
    step(m, T0 + 19.9, wheel_x=5.0)  # before the settle time: not a reference sample
    assert step(m, T0 + 20.0, wheel_x=H_REF + 0.41) is None  # the first sample
    for k in range(21, 60):
        assert step(m, T0 + k, wheel_x=H_REF) is None
    assert m.state == SpinState.PRE
    assert step(m, T0 + 60.0, wheel_x=H_REF) == SpinState.SPIN_UP
    # 41 samples, 20 s to 60 s: the unsettled 5.0 left out, the one at 20 s kept
    assert m._h_i == pytest.approx((H_REF + 0.41 / 41, 0.0, 0.0), abs=1e-12)


def test_the_reference_needs_pre_s_and_three_samples():
    m = new()
    m.start(T0)
    for k in range(20, 40):
        step(m, T0 + k * 0.1 + 20.0 - 2.0, wheel_x=H_REF)  # many samples before pre_s...
    assert m.state == SpinState.PRE  # ...are not enough
    m = new()
    reference(m, samples=(H_REF, H_REF))  # T0+20, T0+21
    assert step(m, T0 + 22.0) is None  # pre_s reached, but two samples only
    assert step(m, T0 + 23.0, wheel_x=H_REF) == SpinState.SPIN_UP


def test_the_first_reference_sample_is_at_exactly_settle_s():
    """Samples at +20, +21, +22 s: the one at exactly +20 counts, so +22 s has three."""
    m = new()
    reference(m)
    assert m.state == SpinState.SPIN_UP and m._t_state_s == T0 + 22.0


def test_measuring_starts_only_after_a_steady_settle_s():
    m = new()
    t_up = reference(m)
    step(m, t_up + 0.5, (SPIN, 0.0, 0.0))
    assert step(m, t_up + 20.0, (SPIN, 0.0, 0.0)) is None  # exactly settle_s: not yet
    assert step(m, t_up + 20.1, (SPIN, 0.0, 0.0)) == SpinState.MEASURE


@pytest.mark.parametrize(("rate", "steady"), [
    ((SPIN * (1 + 0.5e-3), 0.0, 0.0), True),
    ((SPIN * (1 + 2e-3), 0.0, 0.0), False),
    ((SPIN * (1 - 2e-3), 0.0, 0.0), False),
    ((SPIN * 1.05, 0.0, 0.0), False),
    ((SPIN, 0.9e-5, -0.9e-5), True),
    ((SPIN, 1e-5, 0.0), False), ((SPIN, 0.0, 1e-5), False),
    ((SPIN, 2e-5, 0.0), False), ((SPIN, 0.0, -2e-5), False)])
def test_steady_is_on_the_rate_to_a_tenth_of_a_percent_without_cross_axis_rate(rate, steady):
    """Held for 100 s, far beyond settle_s."""
    m = new()
    t_up = reference(m)
    for k in range(1, 201):
        step(m, t_up + 0.5 * k, rate)
    assert (m.state == SpinState.MEASURE) == steady


def test_the_rate_tolerance_boundary_is_not_steady():
    """A spin rate (0.022813 rad/s) for which spin + 0.1 % lands exactly on the boundary
    in floating point, which 0.02 rad/s does not."""
    spin = 0.022813
    tol = 1e-3 * spin
    rate = spin + tol
    assert abs(rate - spin) == tol
    m = SpinInertiaMeasurement(spin, 10.0, settle_s=20.0, pre_s=22.0)
    t_up = reference(m)
    for k in range(1, 101):
        step(m, t_up + 0.5 * k, (rate, 0.0, 0.0))
    assert m.state == SpinState.SPIN_UP


def test_measuring_needs_measure_s_and_three_samples():
    m = new(measure_s=10.0)
    reference(m)
    t_m = spin_up(m)
    for k in range(1, 41):  # 40 samples in 9.75 s: not yet
        step(m, t_m + 0.25 * k - 0.25, (SPIN, 0.0, 0.0), wheel_x=H_REF - 2400.0 * SPIN)
    assert m.state == SpinState.MEASURE
    assert step(m, t_m + 10.0, (SPIN, 0.0, 0.0)) == SpinState.SPIN_DOWN  # exactly measure_s

    m = new(measure_s=10.0)
    reference(m)
    t_m = spin_up(m)
    step(m, t_m + 1.0, (SPIN, 0.0, 0.0), wheel_x=H_REF - 2400.0 * SPIN)
    step(m, t_m + 2.0, (SPIN, 0.0, 0.0), wheel_x=H_REF - 2400.0 * SPIN)
    assert step(m, t_m + 12.0, (SPIN, 0.0, 0.0)) is None  # two samples only
    assert step(m, t_m + 13.0, (SPIN, 0.0, 0.0), wheel_x=H_REF - 2400.0 * SPIN) == \
        SpinState.SPIN_DOWN


@pytest.mark.parametrize(("rate_x", "done"), [
    (0.049 * SPIN, True), (0.05 * SPIN, False), (0.5 * SPIN, False), (-0.049 * SPIN, True)])
def test_done_below_five_percent_of_the_spin_rate(rate_x, done):
    m = new()
    reference(m)
    t = measure(m, [2400.0] * 12, spin_up(m))
    assert m.state == SpinState.SPIN_DOWN
    step(m, t + 1.0, (rate_x, 0.0, 0.0))
    result = step(m, t + 2.0, (rate_x, 0.0, 0.0))
    assert (result == SpinState.DONE) == done


def test_a_stalled_spin_gives_no_sample():
    """A rate of 1e-6 rad/s or less would divide the momentum by ~0."""
    m = new(measure_s=3.0)
    reference(m)
    t = spin_up(m)
    step(m, t + 0.5, (1e-6, 0.0, 0.0))
    step(m, t + 1.0, (1e-6, 0.0, 0.0), wheel_x=H_REF)  # would be 1e6 kg m^2
    step(m, t + 1.5, (SPIN, 0.0, 0.0))
    step(m, t + 2.0, (SPIN, 0.0, 0.0))  # back on the rate (no extrapolated jump)
    measure(m, [2400.0] * 3, t + 2.0)
    step(m, t + 6.0, (SPIN, 0.0, 0.0))
    assert m.inertia_kgm2 == pytest.approx(2400.0, abs=1e-9 * KGM2)


# -- statistics ---------------------------------------------------------------------------

def test_the_reference_noise_alone_sets_the_sigma_of_a_noiseless_spin():
    """Reference samples 1.0, 1.2, 0.8 N m s about x: variance per axis (0.04 + 0.04) /
    (3 axes x 2) and standard error sqrt(var / 3); divided by the spin rate it is the
    whole inertia sigma when every spin sample agrees."""
    m = new()
    reference(m, samples=(1.0, 1.2, 0.8))
    measure(m, [2400.0] * 12, spin_up(m))
    step(m, m._t_state_s + 100.0, (SPIN, 0.0, 0.0))
    h_sigma = math.sqrt((0.08 / 6.0) / 3.0)
    assert m.inertia_kgm2 == pytest.approx(2400.0, abs=1e-9 * KGM2)
    assert m.inertia_sigma_kgm2 == pytest.approx(h_sigma / SPIN, rel=1e-9)


def expected_sigma(samples, batches=6):
    x = np.asarray(samples)
    white = x.var(ddof=1) / x.size
    size = x.size // batches
    batch = 0.0
    if size >= 2:
        means = x[: size * batches].reshape(batches, size).mean(axis=1)
        batch = means.var(ddof=1) / batches
    return math.sqrt(max(white, batch))


def finish(samples):
    m = new(measure_s=float(len(samples)))
    reference(m)
    t = measure(m, samples, spin_up(m))
    step(m, t + 1.0, (SPIN, 0.0, 0.0))
    assert m.state == SpinState.SPIN_DOWN
    return m


@pytest.mark.parametrize("samples", [
    [2400.0 + (0.3 if k % 2 else -0.3) for k in range(12)],  # white: alternating
    [2400.0 + (0.3 if k < 6 else -0.3) for k in range(12)],  # a slow wobble: batch means
    [2400.0 + 0.1 * (k % 3) + (0.5 if k < 7 else 0.0) for k in range(13)],
    [2400.0 + (0.3 if k % 2 else -0.3) for k in range(11)],  # too few for batches
    [2400.0, 2401.0, 2403.0],
])
def test_inertia_is_the_mean_and_its_sigma_the_larger_standard_error(samples):
    m = finish(samples)
    assert m.inertia_kgm2 == pytest.approx(np.mean(samples), abs=1e-9 * KGM2)
    assert m.inertia_sigma_kgm2 == pytest.approx(expected_sigma(samples), rel=1e-9)


def test_batch_means_see_a_wobble_the_white_estimate_hides():
    """Twelve samples +-0.3 kg m^2, the first six high: the white estimate says
    sqrt(12 x 0.09 / 11 / 12) = 0.090 kg m^2, the scatter of the six batch means (pairs:
    three at +0.3, three at -0.3) sqrt(6 x 0.09 / 5 / 6) = 0.134 kg m^2."""
    samples = [2400.0 + (0.3 if k < 6 else -0.3) for k in range(12)]
    m = finish(samples)
    assert m.inertia_sigma_kgm2 == pytest.approx(math.sqrt(6 * 0.09 / 5 / 6), rel=1e-9)
    assert expected_sigma(samples) > math.sqrt(np.var(samples, ddof=1) / 12)


def test_the_gyros_half_step_lag_is_extrapolated_away():
    """The gyro reports the mean over its last period, half a step behind the tachometer:
    rates 0.0199 then 0.0200 rad/s mean 0.02005 rad/s at the reading's instant, and the
    wheel momentum H - I x 0.02005 gives back I."""
    m = new(measure_s=2.0)
    reference(m)
    t = spin_up(m)
    for k in range(3):
        step(m, t + 2 * k + 1.0, (0.0199, 0.0, 0.0))
        step(m, t + 2 * k + 2.0, (0.0200, 0.0, 0.0), wheel_x=H_REF - 2400.0 * 0.02005)
    assert m.state == SpinState.SPIN_DOWN
    assert m.inertia_kgm2 == pytest.approx(2400.0, abs=1e-6 * KGM2)


def test_rate_command_and_control_follow_the_state():
    m = new()
    assert not m.rate_controlled() and m.rate_command_x() == 0.0  # before any start
    m.start(T0)
    assert m.rate_controlled() and m.rate_command_x() == 0.0  # pre-spin: hold still
    for state in (SpinState.SPIN_UP, SpinState.MEASURE):
        m.state = state
        assert m.rate_controlled() and m.rate_command_x() == SPIN
    m.state = SpinState.SPIN_DOWN
    assert m.rate_controlled() and m.rate_command_x() == 0.0
