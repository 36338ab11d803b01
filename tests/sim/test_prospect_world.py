"""The simulator's side of prospecting (sim/prospect_world.py): truth and instruments.

The truth the summary scores against is recomputed here by rules written out in the test:
safety from slope and boulder height, deliverability by ray casts on the simulator's mesh,
the truth rank by counting; the limits are the scenario's site requirements, never the
flight software's parameters.
"""

import math

import numpy as np
import pytest

from flightsw.geometry.mesh import TriangleMesh
from flightsw.icd import mavlink
from sim.prospect_world import ProspectWorld
from sim.scenario import load_scenario
from sim.world import SUN_DIR_I, World

DEG = 1.0


@pytest.fixture(scope="module")
def world():
    return World(load_scenario("bennu", {"scenario.seed": 1}))


def _facets(pw):
    tri = pw.vertices_m[pw.faces]
    c = tri.mean(axis=1)
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.linalg.norm(n, axis=1)[:, None]
    return c, n


def test_safe_is_slope_and_boulder_height_within_the_site_requirements(world):
    pw = world.prospect
    c, n = _facets(pw)
    slope = np.degrees(np.arccos(np.clip(-(n * pw.down_bf).sum(axis=1), -1.0, 1.0)))
    assert np.allclose(slope, pw.slope_deg, atol=1e-9 * DEG)
    want = (slope <= pw.cfg.site_slope_max_deg) & \
        (pw.boulders.max_height_m <= pw.cfg.site_relief_max_m)
    assert np.array_equal(pw.safe, want)
    assert 0 < pw.safe.sum() < len(pw.faces)


def _prospect_world(world, overrides, seed=1):
    sc = load_scenario("bennu", {"scenario.seed": 1, **overrides})
    return ProspectWorld(sc, world.ray_caster,
                         lambda x, y, z: world.gravity_exact.acceleration((x, y, z)),
                         world.body.rate_radps, SUN_DIR_I, seed,
                         sun_bf_any=world.body.i_to_bf(0.0, SUN_DIR_I))


def test_the_scenarios_site_requirements_set_the_truth_rules(world):
    strict = _prospect_world(world, {"prospect.site_slope_max_deg": 5.0,
                                     "prospect.site_lat_max_deg": 20.0})
    assert np.array_equal(strict.safe, world.prospect.safe & (world.prospect.slope_deg <= 5.0))
    lat = np.degrees(np.arcsin(_facets(strict)[0][:, 2] /
                               np.linalg.norm(_facets(strict)[0], axis=1)))
    assert not np.any(strict.deliverable_truth() & (np.abs(lat) > 20.0))
    assert strict.deliverable_truth().sum() < world.prospect.deliverable_truth().sum()


def test_flight_parameters_do_not_move_the_truth(world):
    """The flight software's limits are what it believes; the truth is the scenario's."""
    other = _prospect_world(world, {"params.PRS_SLOPE_MAX": 5.0, "params.PRS_LAT_MAX": 20.0,
                                    "params.PRS_BOULDER_M": 5.0, "params.PRS_HOME_M": 300.0,
                                    "params.PRS_MAX_INC_DEG": 30.0})
    assert np.array_equal(other.safe, world.prospect.safe)
    assert np.array_equal(other.deliverable_truth(), world.prospect.deliverable_truth())


def test_deliverable_truth_against_ray_casts_on_the_truth_mesh(world):
    """Latitude within site_lat_max_deg, lit at the site's noon within
    site_incidence_max_deg and not shadowed, the back-away path up the normal to safe-home
    (tag.safe_home_height_m) clear."""
    pw = world.prospect
    caster = TriangleMesh(pw.vertices_m, pw.faces)
    c, n = _facets(pw)
    sun = pw.sun_bf_any / np.linalg.norm(pw.sun_bf_any)
    dec = math.asin(sun[2])
    lat_max, inc_max = pw.cfg.site_lat_max_deg, pw.cfg.site_incidence_max_deg
    home_m = world.scenario.tag.safe_home_height_m
    want = np.zeros(len(c), dtype=bool)
    for k in range(len(c)):
        lat = math.degrees(math.asin(c[k][2] / np.linalg.norm(c[k])))
        if abs(lat) > lat_max:
            continue
        h = math.hypot(n[k][0], n[k][1])
        az = (n[k][0] / h, n[k][1] / h) if h > 1e-9 else (1.0, 0.0)
        noon = np.array([math.cos(dec) * az[0], math.cos(dec) * az[1], math.sin(dec)])
        if n[k] @ noon < math.cos(math.radians(inc_max)):
            continue
        if math.isfinite(caster.distance_m(tuple(c[k] + 0.01 * n[k]), tuple(noon))):
            continue
        if caster.distance_m(tuple(c[k] + 0.5 * n[k]), tuple(n[k])) < home_m - 0.5:
            continue
        want[k] = True
    got = pw.deliverable_truth()
    assert np.array_equal(got, want), np.flatnonzero(got != want)


def test_the_best_site_is_safe_deliverable_and_ranks_first(world):
    """A mission worth flying has a best site that can be touched: the surface's richest
    site among the safe and deliverable ones is rank 1 by truth; rank counts the truly
    better such sites; an unsafe site is -1."""
    pw = world.prospect
    truth = pw.surface.resource_truth
    pool = pw.safe & pw.deliverable_truth()
    best = int(np.argmax(np.where(pool, truth, -np.inf)))
    assert pw.site_truth_rank(best) == 1
    rng = np.random.default_rng(0)
    for site in rng.choice(np.flatnonzero(pool), 20, replace=False):
        assert pw.site_truth_rank(int(site)) == 1 + int(np.sum(pool & (truth > truth[site])))
    for site in np.flatnonzero(~pool)[:20]:
        assert pw.site_truth_rank(int(site)) == -1


def test_the_surface_is_deterministic_in_the_seed(world):
    def build(seed):
        return _prospect_world(world, {}, seed)

    again, other = build(1), build(2)
    pw = world.prospect
    assert np.array_equal(again.surface.resource_truth, pw.surface.resource_truth)
    assert np.array_equal(again.boulders.max_height_m, pw.boulders.max_height_m)
    assert not np.array_equal(other.surface.resource_truth, pw.surface.resource_truth)


def test_what_the_probe_is_told_is_the_truth_mesh_and_its_down(world):
    pw = world.prospect
    cfg = pw.prospect_config()
    assert np.array_equal(np.array(cfg.vertices_m), pw.vertices_m)
    assert np.array_equal(np.array(cfg.faces), pw.faces)
    assert np.array_equal(np.array(cfg.down_bf), pw.down_bf)
    assert math.isclose(math.hypot(*cfg.sun_dir_i), 1.0)
    assert cfg.sun_distance_au == pw.cfg.sun_distance_au


def _cmd(instrument, enable, rate_hz):
    return mavlink.MAVLink_probe_instrument_cmd_message(0, instrument, enable, rate_hz)


def test_instruments_are_silent_until_switched_on_and_keep_their_rates():
    world = World(load_scenario("bennu", {"scenario.seed": 1}))
    pw = world.prospect
    c, n = _facets(pw)
    site = int(np.argmax(pw.safe & pw.deliverable_truth()))
    pos = c[site] + 800.0 * n[site]
    z = -n[site]
    x = np.cross([0.0, 0.0, 1.0], z)
    x /= np.linalg.norm(x)
    axes = (x, np.cross(z, x), z)

    def run(t0_s, t1_s):
        kinds = []
        for t_us in range(int(t0_s * 1e6), int(t1_s * 1e6), 100_000):
            kinds += [m.get_type() for m in pw.sensor_messages(t_us, pos, axes, n[site])]
        return kinds

    assert not pw.active and run(0.0, 5.0) == []
    pw.apply_command(_cmd(mavlink.PROBE_INSTRUMENT_SCAN_LIDAR, 1, 2.0))
    assert pw.active
    assert run(5.0, 10.0) == ["PROBE_LIDAR_SCAN"] * 10  # 2 Hz for 5 s
    pw.apply_command(_cmd(mavlink.PROBE_INSTRUMENT_SCAN_LIDAR, 0, 0.0))
    pw.apply_command(_cmd(mavlink.PROBE_INSTRUMENT_SPECTROMETER, 1, 1.0))
    kinds = run(10.0, 30.0)
    assert "PROBE_LIDAR_SCAN" not in kinds and "PROBE_SPECTRUM_CHUNK" in kinds
    # Science spectra of a lit site on the body leave their truth for the summary.
    assert pw.spectrum_truth
    depths, centres, resource, lit, abundances = next(iter(pw.spectrum_truth.values()))
    assert lit and len(depths) == len(centres) == len(abundances) == 5
    pw.apply_command(_cmd(mavlink.PROBE_INSTRUMENT_SPECTROMETER, 0, 0.0))
    assert not pw.active and run(30.0, 35.0) == []


@pytest.mark.parametrize("name", ["bennu", "ryugu", "psyche"])
def test_every_packaged_landmark_catalogue_fits_the_navcam_ids(name):
    # NAVCAM carries landmark indices in a uint16: a larger catalogue crashed every ryugu
    # run at its first camera frame (struct.error) until ryugu's spacing became 8 m
    from sim.prospect_world import MAX_LANDMARK_ID

    world = World(load_scenario(name))
    assert 0 < len(world.prospect.landmarks_bf_m) <= MAX_LANDMARK_ID + 1


def test_a_catalogue_too_large_for_the_navcam_ids_is_refused_before_flight(tmp_path):
    from sim.runner import RunConfigError, run_scenario

    sc = load_scenario("ryugu", {"prospect.landmark_spacing_m": 4.0})
    with pytest.raises(RunConfigError) as err:
        run_scenario(sc, tmp_path / "run")
    line = str(err.value)
    assert "\n" not in line and "landmark_spacing_m = 4" in line and "164,982" in line
    assert "at least 6.3 m" in line
    assert not (tmp_path / "run").exists()
