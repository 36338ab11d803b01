"""Thrusters as the world applies them: minimum impulse bit and pulse-to-pulse noise."""

import math

import pytest

from sim.scenario import load_scenario
from sim.world import World

PULSES = 400


def _world(**overrides):
    base = {"spacecraft.thrusters.magnitude_sigma_frac": 0.0,
            "spacecraft.thrusters.misalignment_sigma_deg": 0.0}
    base.update(overrides)
    return World(load_scenario("bennu-hover", base))


def _impulses_x(world, on_s, slot=0):
    """Delivered x acceleration of one thruster per pulse, as fractions of nominal."""
    cycle = 0.1
    nominal = world.thrusters.thrust_n * on_s / (world.mass_kg * cycle)
    out = []
    for _ in range(PULSES):
        on = [0.0] * 7
        on[slot] = on_s
        world._apply_thrusters(on, cycle)
        out.append(world._thrust_accel_sc[0] / nominal)
    return out


def test_pulse_noise_has_the_configured_scatter():
    w = _world(**{"spacecraft.thrusters.impulse_noise_frac": 0.05})
    ratios = _impulses_x(w, 0.05)
    mean = sum(ratios) / PULSES
    std = math.sqrt(sum((r - mean) ** 2 for r in ratios) / (PULSES - 1))
    # 400 pulses: the mean is within 4 standard errors, the spread within 20 %.
    assert abs(mean - 1.0) <= 4 * 0.05 / math.sqrt(PULSES)
    assert 0.8 * 0.05 <= std <= 1.2 * 0.05


def test_no_pulse_noise_when_switched_off():
    w = _world(**{"spacecraft.thrusters.impulse_noise_frac": 0.0})
    assert all(r == pytest.approx(1.0, rel=1e-12) for r in _impulses_x(w, 0.05, slot=0))


def test_pulse_below_the_minimum_impulse_bit_does_not_fire():
    w = _world()
    short_s = 0.5 * w.thrusters.mib_ns / w.thrusters.thrust_n
    w._apply_thrusters([short_s] + [0.0] * 6, 0.1)
    assert w._thrust_accel_sc == (0.0, 0.0, 0.0)


def test_backaway_thruster_minimum_impulse_uses_its_own_force():
    """A back-away pulse long enough at its own (larger) thrust must fire even when
    the same on-time at a small thruster's force would be below the bit."""
    sc = load_scenario("bennu-tag")
    w = World(sc)
    thr = w.thrusters
    assert thr.backaway_force_n > thr.thrust_n
    on_s = 1.5 * thr.mib_ns / thr.backaway_force_n * (thr.backaway_force_n / thr.thrust_n) ** 0.5
    assert on_s * thr.thrust_n < thr.mib_ns <= on_s * thr.backaway_force_n
    w._apply_thrusters([0.0] * 6 + [on_s], 0.1)
    assert w._thrust_accel_sc[2] < 0.0  # along -z spacecraft
