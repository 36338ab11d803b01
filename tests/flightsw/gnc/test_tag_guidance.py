"""Touch-and-go guidance and the spin-method mass measurement, without the simulator."""

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flightsw.geometry.frames import SpinningBody
from flightsw.geometry.quat import IDENTITY
from flightsw.gnc.mass_measure import SpinInertiaMeasurement, SpinState, sample_mass_kg
from flightsw.gnc.tag import TagGuidance, TagPhase, TagProfile, hazard_clearance_m

BODY = SpinningBody(85.65, -60.17, 4.296057 * 3600.0)
TARGET = (0.0, -248.3, 37.3)
NORMAL = tuple(x / math.hypot(0.9888, 0.1490) for x in (0.0, -0.9888, 0.1490))
ARM_M = 3.35
DEFAULT = TagProfile(125.0, 54.0, 0.2, 600.0, 0.10, 1.5e-3)


def fly_reference(profile: TagProfile, start_m: float, dt_s: float = 0.1):
    """Integrate the height reference to h = 0; returns events and the rate at h = 0."""
    g = TagGuidance(BODY, TARGET, NORMAL, ARM_M)
    g.start(0.0, start_m)
    t, events, phases = 0.0, {}, []
    while g.h_ref_m > 0.0 and t < 1e5:
        t += dt_s
        event = g.advance(t, profile)
        if event:
            events[event] = (t, g.h_ref_m)
        phases.append(g.phase)
    return events, g.hdot_ref_mps, phases


def test_default_profile_burns_at_checkpoint_and_matchpoint_and_lands_at_10_cm_s():
    events, rate, phases = fly_reference(DEFAULT, 1000.0)
    assert events["checkpoint"][1] == pytest.approx(125.0, abs=0.5)  # metres
    assert events["matchpoint"][1] == pytest.approx(54.0, abs=0.5)
    assert rate == pytest.approx(-0.10, abs=1e-6)  # m/s at contact
    assert phases[0] == TagPhase.TO_CHECKPOINT and phases[-1] == TagPhase.FINAL
    assert TagPhase.TO_MATCHPOINT in phases


@settings(max_examples=40, deadline=None)
@given(desc=st.floats(0.05, 1.0), cp_mp_s=st.floats(60.0, 3600.0), contact=st.floats(0.03, 0.3),
       acc=st.floats(2e-4, 5e-3), start=st.floats(130.0, 1500.0))
def test_any_profile_reaches_the_contact_speed_by_the_surface(desc, cp_mp_s, contact, acc, start):
    """The braking curve: whatever the phase speeds, h = 0 is met at the contact speed."""
    # Feasible only if the probe can reach the contact speed at all from a standstill.
    assume(contact ** 2 / (2.0 * 0.8 * acc) < 0.5 * start)
    # The design intent: each burn slows the descent (contact is the slowest phase).
    assume(contact <= min(desc, (125.0 - 54.0) / cp_mp_s))
    profile = TagProfile(125.0, 54.0, desc, cp_mp_s, contact, acc)
    _, rate, _ = fly_reference(profile, start, dt_s=0.5)
    assert abs(-rate - contact) <= 0.01 * contact + acc * 0.5  # within one step of accel


def test_reference_turns_with_the_body_and_points_down_the_normal():
    g = TagGuidance(BODY, TARGET, NORMAL, ARM_M)
    g.start(0.0, 100.0)
    ref = g.reference(0.0, BODY.pole_i)
    from flightsw.geometry.quat import q_rotate

    down_i = BODY.bf_to_i(0.0, tuple(-x for x in NORMAL))
    boresight_i = q_rotate(ref.q_i_to_sc, (0.0, 0.0, 1.0))
    cos_angle = sum(a * b for a, b in zip(down_i, boresight_i, strict=True))
    assert math.degrees(math.acos(min(1.0, cos_angle))) < 1e-6
    w = BODY.spin_vector_i()
    r = ref.pos_i_m
    co_rotating = (w[1] * r[2] - w[2] * r[1], w[2] * r[0] - w[0] * r[2],
                   w[0] * r[1] - w[1] * r[0])
    assert math.dist(ref.vel_i_mps, co_rotating) < 1e-12  # hovering: moves with the surface


def test_predicted_contact_follows_the_lateral_drift():
    g = TagGuidance(BODY, TARGET, NORMAL, ARM_M)
    pos = g.home_point_bf(50.0)
    lateral = (1.0, 0.0, 0.0)  # perpendicular to NORMAL (its x component is 0)
    vel = tuple(-0.1 * n + 0.002 * e for n, e in zip(NORMAL, lateral, strict=True))
    point, t_go = g.predicted_contact_bf(pos, vel)
    assert t_go == pytest.approx(500.0, rel=1e-3)  # 50 m at 10 cm/s
    assert math.dist(point, TARGET) == pytest.approx(1.0, rel=1e-3)  # 2 mm/s for 500 s


def test_hazard_clearance_is_distance_to_the_nearest_edge():
    hazards = [((0.0, 0.0, 0.0), 3.0), ((10.0, 0.0, 0.0), 1.0)]
    assert hazard_clearance_m((5.0, 0.0, 0.0), hazards) == pytest.approx(2.0)
    assert hazard_clearance_m((1.0, 0.0, 0.0), hazards) < 0.0  # inside
    assert hazard_clearance_m((1.0, 0.0, 0.0), []) == math.inf


def _spin_test(inertia_x: float, steps: int = 6000, dt: float = 0.1, tach_noise: float = 0.0):
    """A rigid body whose wheels exchange momentum about x exactly as commanded."""
    import random

    rng = random.Random(3)
    m = SpinInertiaMeasurement(0.02, 60.0, settle_s=5.0, pre_s=20.0)
    m.start(0.0)
    w, h0 = 0.0, 1.5  # rad/s, N m s about x: total momentum h0 (no other axes)
    for k in range(1, steps):
        t = k * dt
        target = m.rate_command_x()
        w_before = w
        w += max(-2e-4, min(2e-4, (target - w) / dt)) * dt  # torque-limited rate loop
        h = h0 - inertia_x * w
        tach = (h + rng.gauss(0.0, tach_noise), 0.0, 0.0) if k % 10 == 0 else None
        gyro_mean = 0.5 * (w_before + w)  # a gyro integrates over its sample period
        m.step(t, (gyro_mean, 0.0, 0.0), tach, IDENTITY, (2400.0, 2100.0, 1700.0))
        if m.state == SpinState.DONE:
            return m
    raise AssertionError("spin test did not finish")


def test_spin_test_recovers_the_inertia_of_a_rigid_body():
    m = _spin_test(2403.4)
    assert m.inertia_kgm2 == pytest.approx(2403.4, abs=1e-6)  # kg m^2, noise-free
    noisy = _spin_test(2403.4, tach_noise=0.0012)
    assert abs(noisy.inertia_kgm2 - 2403.4) < 4.0 * noisy.inertia_sigma_kgm2
    assert 0.0 < noisy.inertia_sigma_kgm2 < 0.1


def test_sample_mass_from_the_inertia_change():
    mass, sigma = sample_mass_kg(2400.0, 0.03, 2403.367, 0.04, 3.35)
    assert mass == pytest.approx(0.300, abs=1e-3)  # kg: 3.367 / 3.35^2
    assert sigma == pytest.approx(0.05 / 3.35 ** 2)
