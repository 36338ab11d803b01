"""The packaged scenarios' Monte Carlo dispersions (sim/scenarios/*.toml, [dispersions]):
they load and draw physical values for every seed, a plain run flies none of them, the
truth keys they set stand in for the world's own draws, and a sweep records each seed's
draws; vector dispersions (sim/scenario_dispersions.py) per element.
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.scenario import ScenarioError, known_scenarios, load_scenario

PACKAGED = ("bennu", "bennu-hover", "bennu-tag", "psyche", "ryugu")
SEEDS = range(1, 51)
TRUTH_KEYS = ("body.gm_error_frac", "spacecraft.thrusters.magnitude_error_frac",
              "spacecraft.thrusters.cant_deg", "initial.position_offset_i_m",
              "initial.velocity_offset_i_mps", "sensors.imu.accel_bias_sc_mps2",
              "sensors.imu.gyro_bias_sc_radps")
HOVER = Path(__file__).resolve().parents[2] / "sim" / "scenarios" / "bennu-hover.toml"


def value_of(sc, key: str):
    node = sc
    for part in key.split("."):
        node = getattr(node, part)
    return node


def test_every_packaged_scenario_declares_its_dispersions():
    assert set(PACKAGED) == set(known_scenarios())
    for name in PACKAGED:
        declared = load_scenario(name).dispersions.declared
        assert set(TRUTH_KEYS) <= set(declared), name
        has_tag = load_scenario(name).tag is not None
        assert ("tag.regolith_density_true_kgm3" in declared) == has_tag, name


@pytest.mark.parametrize("name", PACKAGED)
def test_fifty_seeds_draw_every_key_within_physical_bounds(name):
    """Each seed's draw validates as a scenario (so within every key's rule) and is
    physical: a positive true GM, thrust and density, positive noises, a fraction in [0, 1],
    a few-sigma GM error and a cant of a degree or two at most."""
    declared = load_scenario(name).dispersions.declared
    drawn_values = {key: [] for key in declared}
    for seed in SEEDS:
        sc = load_scenario(name, {"scenario.seed": seed}, dispersed=True)
        assert set(sc.dispersed) == set(declared)
        for key, value in sc.dispersed.items():
            applied = value_of(sc, key)
            assert (list(applied) if isinstance(applied, tuple) else applied) == value, key
            drawn_values[key].append(value)
        gm_true = sc.body.gm_m3s2 * (1.0 + sc.body.gm_error_frac)
        assert gm_true > 0.0 and abs(sc.body.gm_error_frac) < 0.1
        assert sc.spacecraft.thrusters.force_n * (1.0 + sc.spacecraft.thrusters.
                                                  magnitude_error_frac) > 0.0
        assert np.linalg.norm(sc.spacecraft.thrusters.cant_deg) < 2.5
        assert np.linalg.norm(sc.initial.position_offset_i_m) < 10.0
        for noise in (sc.sensors.imu.accel_noise_mps2, sc.sensors.imu.gyro_noise_radps,
                      sc.sensors.star_tracker.sigma_arcsec, sc.sensors.lidar.sigma_m,
                      sc.sensors.navcam.landmark_sigma_rad):
            assert noise > 0.0
        if sc.tag is not None:
            assert 500.0 <= sc.tag.regolith_density_true_kgm3 <= 700.0
            assert 0.0 <= sc.tag.fine_fraction_true <= 1.0
        if sc.prospect is not None:
            assert 0.10 <= sc.prospect.boulder_facet_fraction <= 0.20
            assert sc.prospect.scan_lidar_sigma_m > 0.0
    for key, values in drawn_values.items():  # a dispersion, not a constant
        assert len({json.dumps(v) for v in values}) == len(SEEDS), key


@pytest.mark.parametrize("name", PACKAGED)
def test_a_plain_load_draws_nothing_and_leaves_every_truth_key_unset(name):
    """What `prospector run`, `make sim`, the goldens and the fault campaign load: the
    scenario's own values, so declaring dispersions changed none of their runs."""
    sc = load_scenario(name, {"scenario.seed": 7})
    assert sc.dispersed == {}
    for key in TRUTH_KEYS:
        assert value_of(sc, key) is None, key
    assert "gm_error_frac" not in sc.to_dict()["body"]  # unset is absent, as in TOML


def test_declared_truth_stands_in_for_the_worlds_own_draws():
    from sim.noise import NoiseStream
    from sim.world import World

    plain = load_scenario("bennu-tag", {"scenario.seed": 4})
    sc = load_scenario("bennu-tag", {"scenario.seed": 4}, dispersed=True)
    w0, w = World(plain), World(sc)
    d = sc.dispersed
    assert w.gm_true_m3s2 == pytest.approx(4.892 * (1.0 + d["body.gm_error_frac"]), rel=1e-15)
    assert w.imu.accel_bias_sc_mps2 == tuple(d["sensors.imu.accel_bias_sc_mps2"])
    assert w.imu.gyro_bias_sc_radps == tuple(d["sensors.imu.gyro_bias_sc_radps"])
    assert w.regolith == {"density_kgm3": d["tag.regolith_density_true_kgm3"],
                          "fine_fraction": d["tag.fine_fraction_true"]}
    # The start: the same hover point, offset by the declared offsets instead of the draws;
    # the attitude scatter is still the seed's (its draws follow the offsets' in the stream).
    drawn = NoiseStream(4, "initial-state")
    drawn_dp, drawn_dv = drawn.gauss3(sc.initial.position_sigma_m), \
        drawn.gauss3(sc.initial.velocity_sigma_mps)
    for field, key, own in (("pos_i_m", "initial.position_offset_i_m", drawn_dp),
                            ("vel_i_mps", "initial.velocity_offset_i_mps", drawn_dv)):
        shift = np.subtract(getattr(w.state, field), getattr(w0.state, field))
        assert np.allclose(shift, np.subtract(d[key], own), rtol=0, atol=1e-9), field
    assert w.state.q_i_to_sc == w0.state.q_i_to_sc


def test_thrust_scale_and_cant_apply_to_every_thruster_of_the_set():
    import dataclasses

    from flightsw.geometry.quat import q_from_rotvec, q_rotate
    from sim.actuators import Thrusters

    thr = load_scenario("bennu-tag").spacecraft.thrusters
    cant = (0.3, -0.2, 0.1)
    built = Thrusters(thr, 1500.0, 9, 10.0)
    assert Thrusters(dataclasses.replace(thr, magnitude_error_frac=None, cant_deg=None),
                     1500.0, 9, 10.0).force_a_sc == built.force_a_sc
    mounted = Thrusters(dataclasses.replace(thr, magnitude_error_frac=0.05, cant_deg=cant),
                        1500.0, 9, 10.0)
    turn = q_from_rotvec(tuple(math.radians(a) for a in cant))
    for before, after in zip(built.force_a_sc + built.force_b_sc,
                             mounted.force_a_sc + mounted.force_b_sc, strict=True):
        assert np.allclose(after, 1.05 * np.asarray(q_rotate(turn, before)), rtol=1e-12)
    assert np.allclose(mounted.acs_torque_nm, 1.05 * np.asarray(built.acs_torque_nm))


def test_a_two_seed_sweep_of_bennu_records_each_seeds_own_draws(tmp_path):
    """The draws travel with each run: in its summary.json, its sweep record and the table
    (a vector key as one column per element), different from seed to seed."""
    from sim.sweep import run_sweep

    out = tmp_path / "sweep"
    agg = run_sweep("bennu", [1, 2], out, jobs=2, progress=False,
                    overrides={"scenario.duration_s": 3.0})
    assert agg["errors"] == {}
    assert set(agg["dispersions"]) == set(load_scenario("bennu").dispersions.declared)
    table = pd.read_parquet(out / "runs.parquet").sort_values("seed")
    inputs = [c for c in table.columns if c.startswith("in.")]
    assert {"in.body.gm_error_frac", "in.spacecraft.thrusters.cant_deg[2]",
            "in.tag.regolith_density_true_kgm3",
            "in.prospect.boulder_facet_fraction"} <= set(inputs)
    assert len(inputs) == 16 + 5 * 2  # five vector keys of three elements
    one, two = table.iloc[0], table.iloc[1]
    assert all(one[c] != two[c] for c in inputs)
    for seed, row in ((1, one), (2, two)):
        summary = json.loads((out / f"seed-{seed:04d}" / "summary.json").read_text())
        assert summary["dispersed"]["body.gm_error_frac"] == row["in.body.gm_error_frac"]
        assert summary["dispersed"] == dict(load_scenario(
            "bennu", {"scenario.seed": seed}, dispersed=True).dispersed)


def _scenario(tmp_path: Path, extra: str) -> str:
    path = tmp_path / "vector.toml"
    plain = HOVER.read_text(encoding="utf-8").split("\n# Monte Carlo dispersions")[0]
    path.write_text(plain + extra, encoding="utf-8")
    return str(path)


def test_vector_dispersions_draw_each_element_from_the_keys_one_stream(tmp_path):
    from sim.scenario_dispersions import stream

    path = _scenario(tmp_path, '''
[dispersions."initial.position_offset_i_m"]
distribution = "normal"
mean = [1.0, 0.0, -1.0]
sigma = [0.1, 0.2, 0.3]

[dispersions."sensors.imu.gyro_bias_sc_radps"]
distribution = "uniform"
bounds = [-1e-6, 1e-6]

[dispersions."spacecraft.thrusters.cant_deg"]
distribution = "normal"
mean = 0.0
sigma = 1.0
truncate = [-0.5, 0.5]
''')
    for seed in (1, 2, 3):
        sc = load_scenario(path, {"scenario.seed": seed}, dispersed=True)
        z = stream("initial.position_offset_i_m", seed).standard_normal(3)
        expected = np.array([1.0, 0.0, -1.0]) + np.array([0.1, 0.2, 0.3]) * z
        assert np.allclose(sc.initial.position_offset_i_m, expected, rtol=0, atol=1e-15)
        assert all(-1e-6 <= b < 1e-6 for b in sc.sensors.imu.gyro_bias_sc_radps)
        assert all(-0.5 <= c <= 0.5 for c in sc.spacecraft.thrusters.cant_deg)


@pytest.mark.parametrize("entry, message", [
    ('distribution = "normal"\nmean = 0.0\nsigma = [1.0, 2.0]',
     r"expected a number or an array of 3 numbers"),
    ('distribution = "normal"\nmean = 0.0\nsigma = [1.0, 0.0, 1.0]', r"expected a number > 0"),
    ('distribution = "normal"\nsigma = 1.0', r"missing \(the scenario has no value"),
    ('distribution = "normal"\nmean = 0.0\nsigma = 3.0', r"mean \+- 6 sigma leaves"),
    ('distribution = "uniform"\nbounds = [-20.0, 1.0]', r"cant_deg\"\.bounds"),
])
def test_a_bad_vector_dispersion_is_refused_when_the_scenario_loads(tmp_path, entry,
                                                                      message):
    path = _scenario(tmp_path, f'\n[dispersions."spacecraft.thrusters.cant_deg"]\n{entry}\n')
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


def test_prospector_run_dispersed_flies_a_sweeps_seed_again_identically(tmp_path, capsys):
    """The sweep report's command line for one seed (`prospector run --dispersed`) gives the
    flight log that seed's sweep run wrote; without --dispersed, the plain run's."""
    import hashlib

    from prospector.cli import main
    from sim.sweep import fly_seed

    short = {"scenario.duration_s": 2.0}
    record = fly_seed({"scenario": "bennu-hover", "seed": 5, "overrides": short,
                       "run_dir": str(tmp_path / "sweep-seed")})
    digests = {}
    for flag in ("--dispersed", None):
        out = tmp_path / f"alone{flag or ''}"
        argv = ["run", "--scenario", "bennu-hover", "--seed", "5", "--duration", "2",
                "--out", str(out), "--no-report"] + ([flag] if flag else [])
        assert main(argv) == 0
        digests[flag] = hashlib.sha256((out / "flight.tlog").read_bytes()).hexdigest()
    capsys.readouterr()
    assert digests["--dispersed"] == record["flight_log_sha256"] != digests[None]
