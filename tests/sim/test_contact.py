"""Regolith contact and the sampler (sim/contact.py).

The contact law as its docstring states it: below the surface the regolith pushes along
the site normal with k * depth - c * (rate along the normal), never pulls (no cohesion);
Coulomb friction mu * F_n opposes sliding (smoothed below 1 mm/s); nothing above the
surface.  Checked point by point, as properties, and integrated for the OSIRIS-REx-like
figures the docstring quotes.
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.icd import mavlink
from sim.contact import RegolithContact, SamplerModel
from sim.site import Hazard, TargetSite

NEWTON = 1.0
K_NPM, C_NSPM, MU = 20.0, 230.0, 0.4  # the bennu scenarios' regolith
TILT = math.radians(20.0)
NORMAL = (math.sin(TILT), 0.0, math.cos(TILT))  # a tilted site: the law is along its normal
ORIGIN = (10.0, -5.0, 200.0)
FLAT = TargetSite(ORIGIN, NORMAL, 20.0, ())


def _along(v, n=NORMAL):
    return v[0] * n[0] + v[1] * n[1] + v[2] * n[2]


def _point(height_m, lateral=(0.0, 0.0)):
    """A point height_m above the site's plane, moved laterally in it."""
    e1 = (math.cos(TILT), 0.0, -math.sin(TILT))
    e2 = (0.0, 1.0, 0.0)
    return tuple(ORIGIN[i] + height_m * NORMAL[i] + lateral[0] * e1[i] + lateral[1] * e2[i]
                 for i in range(3))


def _velocity(normal_mps, lateral=(0.0, 0.0)):
    e1 = (math.cos(TILT), 0.0, -math.sin(TILT))
    return tuple(normal_mps * NORMAL[i] + lateral[0] * e1[i] + lateral[1] * (0.0, 1.0, 0.0)[i]
                 for i in range(3))


def test_nothing_above_the_surface():
    contact = RegolithContact(FLAT, K_NPM, C_NSPM, MU)
    force, depth, f_n = contact.head_force_bf(_point(0.01), _velocity(-0.1))
    assert force == (0.0, 0.0, 0.0) and f_n == 0.0
    assert depth == pytest.approx(-0.01)


@pytest.mark.parametrize(("depth_m", "rate_mps", "f_n"), [
    (0.1, 0.0, 2.0),  # spring only: 20 N/m x 0.1 m
    (0.1, -0.1, 25.0),  # sinking at 10 cm/s: + 230 x 0.1
    (0.4, 0.02, 3.4),  # rising slowly: the spring still wins
    (0.1, 0.05, 0.0),  # rising fast: the damper would pull; the regolith lets go
])
def test_normal_force_is_spring_plus_damper_and_never_a_pull(depth_m, rate_mps, f_n):
    contact = RegolithContact(FLAT, K_NPM, C_NSPM, MU)
    force, depth, got = contact.head_force_bf(_point(-depth_m), _velocity(rate_mps))
    assert depth == pytest.approx(depth_m)
    assert got == pytest.approx(f_n)
    assert _along(force) == pytest.approx(f_n)


@settings(max_examples=200, deadline=None)
@given(depth=st.floats(1e-6, 2.0), rate=st.floats(-1.0, 1.0),
       slide=st.tuples(st.floats(-0.5, 0.5), st.floats(-0.5, 0.5)),
       k=st.floats(1.0, 1000.0), c=st.floats(0.0, 5000.0), mu=st.floats(0.0, 1.5))
def test_the_regolith_pushes_and_friction_opposes_sliding(depth, rate, slide, k, c, mu):
    contact = RegolithContact(FLAT, k, c, mu)
    force, got_depth, f_n = contact.head_force_bf(_point(-depth), _velocity(rate, slide))
    assert got_depth == pytest.approx(depth, rel=1e-9, abs=1e-9)
    assert f_n == pytest.approx(max(0.0, k * depth - c * rate), rel=1e-9, abs=1e-9)
    assert f_n >= 0.0
    assert _along(force) >= -1e-9 * NEWTON  # never a pull
    assert _along(force) == pytest.approx(f_n, rel=1e-9, abs=1e-9)
    friction = tuple(force[i] - f_n * NORMAL[i] for i in range(3))
    size = math.sqrt(sum(x * x for x in friction))
    speed = math.hypot(*slide)
    assert size <= mu * f_n * (1.0 + 1e-9) + 1e-12
    if speed >= 1e-3:
        assert size == pytest.approx(mu * f_n, rel=1e-9, abs=1e-12)
    if size > 1e-9:
        sliding = _velocity(0.0, slide)
        assert sum(friction[i] * sliding[i] for i in range(3)) < 0.0  # against the slide


def test_a_boulder_raises_the_surface_under_the_head():
    boulder = Hazard(_point(0.0, (3.0, 0.0)), 2.0, 0.6, False)
    site = TargetSite(ORIGIN, NORMAL, 20.0, (boulder,))
    contact = RegolithContact(site, K_NPM, C_NSPM, MU)
    # 0.3 m above the plane, over the boulder's top (0.6 m): 0.3 m deep in it.
    _, depth, f_n = contact.head_force_bf(_point(0.3, (3.0, 0.0)), _velocity(0.0))
    assert depth == pytest.approx(0.3) and f_n == pytest.approx(K_NPM * 0.3)
    # Beside it, the same height is in free space.
    _, depth, f_n = contact.head_force_bf(_point(0.3, (-3.0, 0.0)), _velocity(0.0))
    assert depth == pytest.approx(-0.3) and f_n == 0.0


def test_a_head_arriving_at_ten_cm_per_s_sinks_as_the_docstring_says():
    """1500 kg arriving at 10 cm/s on k = 20 N/m, c = 230 N s/m: after 6 s still sinking
    at about 3 cm/s and about 36 cm deep.  Integrated here with the contact's force alone
    (semi-implicit Euler, 1 ms), against the closed form of the damped oscillator (the
    closed loop adds a few cm: max_penetration_m 0.37-0.40 in bench/RESULTS.md)."""
    mass_kg, v0, dt = 1500.0, 0.1, 1e-3
    contact = RegolithContact(FLAT, K_NPM, C_NSPM, MU)
    height, rate = 0.0, -v0
    for _ in range(6000):
        _, _, f_n = contact.head_force_bf(_point(height), _velocity(rate))
        rate += f_n / mass_kg * dt
        height += rate * dt
    # Closed form: x'' + 2 zeta w x' + w^2 x = 0, x(0) = 0, x'(0) = v0 (x = depth).
    w = math.sqrt(K_NPM / mass_kg)
    zeta = C_NSPM / (2.0 * math.sqrt(K_NPM * mass_kg))
    wd = w * math.sqrt(1.0 - zeta ** 2)
    t = 6.0
    depth = v0 / wd * math.exp(-zeta * w * t) * math.sin(wd * t)
    sink = v0 * math.exp(-zeta * w * t) * (math.cos(wd * t) - zeta * w / wd * math.sin(wd * t))
    assert -height == pytest.approx(depth, abs=1e-3)
    assert -rate == pytest.approx(sink, abs=1e-4)
    assert 0.33 <= -height <= 0.40  # m
    assert 0.02 <= -rate <= 0.04  # m/s: still sinking


# -- the sampler ---------------------------------------------------------------------------

def _sampler(**kw):
    args = {"capacity_kg": 0.4, "density_kgm3": 600.0, "fine_fraction": 0.5, "tau_s": 1.0}
    args.update(kw)
    return SamplerModel(**args)


def test_gas_fills_the_head_only_when_deployed_fired_and_in_contact():
    s = _sampler()
    s.command(mavlink.PROBE_SAMPLER_FIRE_GAS)  # not deployed: nothing
    s.step(1.0, True)
    assert s.collected_kg == 0.0 and s.bottles_left == 3
    s.command(mavlink.PROBE_SAMPLER_DEPLOY)
    s.step(1.0, True)  # deployed, no gas
    assert s.collected_kg == 0.0
    s.command(mavlink.PROBE_SAMPLER_FIRE_GAS)
    assert s.bottles_left == 2
    s.step(1.0, False)  # gas, not in contact
    assert s.collected_kg == 0.0
    s.step(1.0, True)
    assert s.collected_kg > 0.0


@pytest.mark.parametrize(("density", "fine"), [(500.0, 0.3), (600.0, 0.5), (700.0, 0.9)])
def test_collection_approaches_capacity_times_fines_times_density_first_order(density, fine):
    s = _sampler(density_kgm3=density, fine_fraction=fine, tau_s=2.0)
    s.command(mavlink.PROBE_SAMPLER_DEPLOY)
    s.command(mavlink.PROBE_SAMPLER_FIRE_GAS)
    full = 0.4 * fine * density / 600.0
    for _ in range(20):  # 2 s in 0.1 s steps: one time constant
        s.step(0.1, True)
    assert s.collected_kg == pytest.approx(full * (1.0 - math.exp(-1.0)), rel=1e-9)
    for _ in range(400):
        s.step(0.1, True)
    assert s.collected_kg == pytest.approx(full, rel=1e-6)
    assert s.collected_kg <= full


def test_stow_stops_the_gas_and_bottles_run_out():
    s = _sampler(bottles=1)
    s.command(mavlink.PROBE_SAMPLER_DEPLOY)
    s.command(mavlink.PROBE_SAMPLER_FIRE_GAS)
    s.step(0.5, True)
    kept = s.collected_kg
    s.command(mavlink.PROBE_SAMPLER_STOW)
    assert not s.deployed and not s.gas_active
    s.step(1.0, True)
    assert s.collected_kg == kept
    s.command(mavlink.PROBE_SAMPLER_DEPLOY)
    s.command(mavlink.PROBE_SAMPLER_FIRE_GAS)  # no bottle left
    assert s.bottles_left == 0 and not s.gas_active
    s.step(1.0, True)
    assert s.collected_kg == kept
