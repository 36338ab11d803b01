"""The judge's survival truth (sim/safety.py): clearance of the bus sphere and the sampler
head against an independent point-to-triangle oracle, contacts caught step by step,
checks only as often as the motion requires, and escape figures at the end."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sim.safety import ESCAPE_RADIUS_M, PATH_FRACTION, SafetyWatch
from sim.scenario import load_scenario
from sim.world import World

MM = 1e-3  # m


def _closest_on_triangle(p, a, b, c):
    """Closest point of triangle abc to p (Ericson, Real-Time Collision Detection 5.1.5)."""
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = ab @ ap, ac @ ap
    if d1 <= 0 and d2 <= 0:
        return a
    bp = p - b
    d3, d4 = ab @ bp, ac @ bp
    if d3 >= 0 and d4 <= d3:
        return b
    vc = d1 * d4 - d3 * d2
    if vc <= 0 and d1 >= 0 and d3 <= 0:
        return a + d1 / (d1 - d3) * ab
    cp = p - c
    d5, d6 = ab @ cp, ac @ cp
    if d6 >= 0 and d5 <= d6:
        return c
    vb = d5 * d2 - d1 * d6
    if vb <= 0 and d2 >= 0 and d6 <= 0:
        return a + d2 / (d2 - d6) * ac
    va = d3 * d6 - d5 * d4
    if va <= 0 and d4 - d3 >= 0 and d5 - d6 >= 0:
        return b + (d4 - d3) / ((d4 - d3) + (d5 - d6)) * (c - b)
    denom = 1.0 / (va + vb + vc)
    return a + ab * (vb * denom) + ac * (vc * denom)


def _oracle_distance(world, p):
    """Brute force over every face: the unsigned distance from p to the shape."""
    p = np.asarray(p, dtype=float)
    tri = world.vertices_m[world.faces]
    return min(np.linalg.norm(p - _closest_on_triangle(p, *t)) for t in tri)


@pytest.fixture(scope="module")
def hover_world():
    return World(load_scenario("bennu-hover"))


def _place(world, com_bf):
    """Put the centre of mass at a body-fixed point (attitude unchanged), at rest on the
    surface's frame."""
    st = world.state
    pos_i = world.body.bf_to_i(st.t_s, com_bf)
    w = world.body.spin_vector_i()
    v = (w[1] * pos_i[2] - w[2] * pos_i[1], w[2] * pos_i[0] - w[0] * pos_i[2],
         w[0] * pos_i[1] - w[1] * pos_i[0])
    world.state = dataclasses.replace(st, pos_i_m=pos_i, vel_i_mps=v,
                                      rate_sc_radps=(0.0, 0.0, 0.0))


@pytest.mark.parametrize("face, height_m", [(0, 5.0), (321, 0.4), (700, -0.3), (1100, 30.0)])
def test_clearance_against_a_brute_force_distance(hover_world, face, height_m):
    mesh = hover_world.ray_caster
    p = mesh.centroids[face] + height_m * mesh.normals[face]
    watch = SafetyWatch(mesh, 1.5, 3.35, 4.9)
    expected = _oracle_distance(hover_world, p)
    got = watch.clearance_m(tuple(p), None)
    assert abs(got) == pytest.approx(expected, abs=MM)
    assert math.copysign(1.0, got) == math.copysign(1.0, height_m)  # inside is negative


def test_bus_and_head_clearances_each_second():
    world = World(load_scenario("bennu-hover"))
    mesh = world.ray_caster
    watch = SafetyWatch(mesh, 1.5, world.arm_length_m, world.gm_true_m3s2)
    c, n = mesh.centroids[321], mesh.normals[321]
    for k, com_height in enumerate((40.0, 3.0, 7.5)):
        world.state = dataclasses.replace(world.state, t_s=float(k))
        com = c + com_height * n
        _place(world, tuple(com))
        watch.check(world)
        head = np.array(world.head_position_bf())
        head_expected = _oracle_distance(world, head)
        if mesh.altitude_m(tuple(head)) < 0.0:
            head_expected = -head_expected
        bus, head_m = watch._buckets[k]
        assert bus == pytest.approx(_oracle_distance(world, com) - 1.5, abs=MM)
        assert head_m == pytest.approx(head_expected, abs=MM)
    scalars, arrays = watch.record(world)
    assert list(arrays["t_s"]) == [0, 1, 2] and arrays["t_s"].dtype == np.int64
    assert scalars["clearance_checks"] == 3


def test_a_descent_onto_the_surface_is_caught_step_by_step():
    """Whatever the checking interval far away, the touch and the lift-off are seen at
    the step they happen (within NEAR_SURFACE_M every step is checked)."""
    world = World(load_scenario("bennu-hover"))
    mesh = world.ray_caster
    watch = world.safety
    face = 700
    c, n = mesh.centroids[face], mesh.normals[face]
    heights = [400.0, 200.0, 60.0, 20.0, 12.0, 8.0, 4.0, 1.2, 0.6, 1.4, 3.0, 30.0]
    for k, h in enumerate(heights):
        world.state = dataclasses.replace(world.state, t_s=float(k))
        _place(world, tuple(c + h * n))
        watch._path_m = math.inf  # as if it had moved far: check now
        watch.after_step(world, 1.0)
    # The bus sphere (1.5 m) touches at 1.2 m and is still in contact at 1.4 m.
    assert watch.bus_contacts == [[7.0, 10.0]]
    scalars, arrays = watch.record(world)
    assert arrays["bus_m"].min() == pytest.approx(_oracle_distance(world, c + 0.6 * n) - 1.5,
                                                  abs=MM)


def test_checks_wait_until_the_motion_could_matter():
    world = World(load_scenario("bennu-hover"))
    watch = world.safety
    watch.check(world)
    first = min(watch._buckets[0])
    assert watch._budget_m == pytest.approx(PATH_FRACTION * first)
    n0 = watch.checks
    for _ in range(50):  # 5 s of hover: a few mm of motion relative to the surface
        world.step(0.1)
    assert watch.checks == n0


def test_end_state_energy_and_escape_figures():
    world = World(load_scenario("bennu-hover"))
    scalars, _ = world.safety.record(world)
    r = math.dist(world.state.pos_i_m, (0.0, 0.0, 0.0))
    v2 = sum(x * x for x in world.state.vel_i_mps)
    assert scalars["final_radius_m"] == pytest.approx(r)
    assert scalars["final_energy_j_per_kg"] == pytest.approx(0.5 * v2 - world.gm_true_m3s2 / r)
    # A body-fixed hover 1 km up co-rotates faster than the escape speed: positive energy,
    # held by thrust; it is not receding, so not escaping.
    assert scalars["final_energy_j_per_kg"] > 0.0
    assert abs(scalars["final_radial_speed_mps"]) < 0.01 < scalars["final_escape_speed_mps"]
    assert scalars["final_escape_speed_mps"] == pytest.approx(
        math.sqrt(2.0 * world.gm_true_m3s2 / r))
    assert scalars["escape_radius_m"] == ESCAPE_RADIUS_M


def test_a_touch_and_go_site_boulder_is_the_surface_near_the_site():
    world = World(load_scenario("bennu-tag", {"tag.hazards": [
        {"latlon_deg": [8.6, -89.95], "radius_m": 3.0, "height_m": 2.0}]}))
    site = world.site
    watch = world.safety
    boulder = site.hazards[0]
    top = np.array(boulder.center_bf_m) + (2.0 + 0.5) * np.array(site.normal_bf)
    plane_height = site.plane_height_m(tuple(top))
    got = watch.clearance_m(tuple(top), site)
    # Over the boulder: its top, not the plane, is the surface under the point.
    assert got == pytest.approx(plane_height - site.surface_height_m(tuple(top)), abs=MM)
    assert got < plane_height - 1.0
