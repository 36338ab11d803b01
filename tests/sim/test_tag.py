"""Touch-and-go end to end on a shortened profile (safe-home at 200 m, no spin tests).

The full bennu-tag scenario (1 km safe-home, OSIRIS-REx timings) is flown by
`prospector sweep` (see bench/RESULTS.md); these runs keep make test fast.
"""

import pytest

from sim.runner import RunConfigError, run_scenario
from sim.scenario import ScenarioError, load_scenario

TARGET = [8.55, -90.0]
SHORT = {
    "scenario.duration_s": 1700.0,
    "tag.safe_home_height_m": 200.0,
    "params": {"TAG_DESC_MPS": 0.3, "TAG_CP_MP_S": 300.0, "TAG_SAFE_ALT_M": 60.0},
    "commands": [
        {"t_s": 0.0, "name": "SET_MODE", "args": ["STANDBY"]},
        {"t_s": 5.0, "name": "SET_MODE", "args": ["HOVER"]},
        {"t_s": 60.0, "name": "START_TAG"},
    ],
}


def short_tag(seed=1, **extra):
    overrides = dict(SHORT)
    overrides["scenario.seed"] = seed
    overrides.update(extra)
    return load_scenario("bennu-tag", overrides)


@pytest.mark.slow
def test_short_touch_and_go_samples_at_ten_cm_per_s(tmp_path):
    summary = run_scenario(short_tag(), tmp_path / "r", write_report=False, progress=False)
    assert summary["outcome"] == "sampled", summary["outcome_reason"]
    assert summary["touchdown_miss_m"] <= 1.0
    assert abs(summary["contact_speed_mps"] - 0.10) <= 0.02
    assert 5.0 <= summary["contact_duration_s"] <= 15.0
    assert summary["backaway_dv_mps"] == pytest.approx(0.4, rel=0.05)
    assert summary["sample_mass_true_kg"] > 0.0
    assert summary["waveoffs"]["count"] == 0
    for event in ("descent", "checkpoint", "matchpoint", "contact", "backaway"):
        assert event in summary["tag_events_s"]
    events = summary["tag_events_s"]
    assert events["descent"] < events["checkpoint"] < events["matchpoint"] < events["contact"]


@pytest.mark.slow
def test_mapped_hazard_on_the_target_makes_the_probe_wave_off(tmp_path):
    hazard = [{"latlon_deg": TARGET, "radius_m": 3.0, "height_m": 0.6, "mapped": True}]
    summary = run_scenario(short_tag(**{"tag.hazards": hazard}), tmp_path / "r",
                           write_report=False, progress=False)
    assert summary["outcome"] == "waved_off"
    assert summary["waveoffs"]["count"] == 1
    # Aimed at the hazard's centre: the predicted contact is ~3 m inside its edge.
    assert summary["waveoffs"]["reasons"][0].startswith("predicted contact ")
    assert summary["waveoffs"]["reasons"][0].endswith(" m inside a mapped hazard's edge")
    assert summary["touchdown_miss_m"] is None  # never touched
    assert summary["final_mode"] == "HOVER"  # backed away and hovers: a safe outcome
    assert "wave-off" in (tmp_path / "r" / "events.log").read_text()


@pytest.mark.slow
def test_failed_contact_switch_contact_is_seen_on_the_imu(tmp_path):
    summary = run_scenario(short_tag(**{"tag.contact_switch_failed": True}), tmp_path / "r",
                           write_report=False, progress=False)
    assert summary["outcome"] == "sampled", summary["outcome_reason"]
    assert abs(summary["contact_speed_mps"] - 0.10) <= 0.02


@pytest.mark.slow
def test_contact_not_sensed_in_its_window_makes_the_probe_wave_off(tmp_path):
    """Switch failed and the IMU threshold out of reach: the regolith stops the probe
    unseen, and the descent must end in a wave-off, not sit on the surface."""
    params = dict(SHORT["params"], TAG_CONTACT_ACC=1.0)
    summary = run_scenario(short_tag(**{"tag.contact_switch_failed": True, "params": params}),
                           tmp_path / "r", write_report=False, progress=False)
    assert summary["outcome"] == "waved_off"
    assert summary["outcome_reason"].startswith("contact not detected in its window")
    assert summary["waveoffs"]["reasons"] == ["contact not detected in its window"]
    assert summary["sample_mass_true_kg"] == 0.0
    assert summary["final_mode"] == "HOVER"
    assert "contact not detected" in (tmp_path / "r" / "events.log").read_text()


@pytest.mark.slow
def test_degraded_navigation_during_descent_makes_the_probe_wave_off(tmp_path):
    """Halfway down, the allowed position sigma is cut below what the filter holds."""
    commands = SHORT["commands"] + [
        {"t_s": 400.0, "name": "SET_PARAM", "args": ["TAG_NAV_SIG_M", 0.01]}]
    summary = run_scenario(short_tag(commands=commands), tmp_path / "r",
                           write_report=False, progress=False)
    assert summary["outcome"] == "waved_off"
    (reason,) = summary["waveoffs"]["reasons"]
    assert reason == "navigation degraded: navigation uncertainty too large"
    assert summary["touchdown_miss_m"] is None
    assert summary["final_mode"] == "HOVER"


def test_contact_switch_failed_must_be_a_boolean():
    with pytest.raises(ScenarioError, match="tag.contact_switch_failed.*true or false"):
        load_scenario("bennu-tag", {"tag.contact_switch_failed": 1})


def test_target_on_a_slope_beyond_the_limit_is_refused_before_flight(tmp_path):
    sc = load_scenario("bennu-tag", {"tag.target_latlon_deg": [45.0, 30.0]})
    with pytest.raises(RunConfigError) as info:
        run_scenario(sc, tmp_path / "r", write_report=False, progress=False)
    message = str(info.value)
    assert "tag.target_latlon_deg" in message and "slope" in message
    assert len(message.splitlines()) == 1
    assert not (tmp_path / "r").exists()  # nothing written


def test_unmapped_hazard_covering_the_target_is_refused(tmp_path):
    hazard = [{"latlon_deg": TARGET, "radius_m": 3.0, "height_m": 0.6, "mapped": False}]
    sc = load_scenario("bennu-tag", {"tag.hazards": hazard})
    with pytest.raises(RunConfigError, match="tag.hazards"):
        run_scenario(sc, tmp_path / "r", write_report=False, progress=False)


def test_start_tag_outside_hover_is_rejected_and_changes_nothing(tmp_path):
    overrides = dict(SHORT)
    overrides["scenario.duration_s"] = 20.0
    overrides["commands"] = [{"t_s": 1.0, "name": "START_TAG"}]  # still in SAFE
    summary = run_scenario(load_scenario("bennu-tag", overrides), tmp_path / "r",
                           write_report=False, progress=False)
    assert summary["final_mode"] == "SAFE"
    assert summary["tag_events_s"] == {}
    events = (tmp_path / "r" / "events.log").read_text()
    assert "PROBE_CMD_START_TAG" in events and "WRONG_MODE" in events


def test_sweep_aggregates_percentiles_and_outcomes(tmp_path):
    from sim.sweep import aggregate

    summaries = [
        {"seed": 1, "outcome": "sampled", "touchdown_miss_m": 0.1, "waveoffs": {"count": 0,
                                                                                 "reasons": []}},
        {"seed": 2, "outcome": "sampled", "touchdown_miss_m": 0.3, "waveoffs": {"count": 0,
                                                                                 "reasons": []}},
        {"seed": 3, "outcome": "waved_off", "touchdown_miss_m": None,
         "waveoffs": {"count": 1, "reasons": ["hazard"]}},
        {"seed": 4, "outcome": "error", "error": "ValueError: boom"},
    ]
    agg = aggregate(summaries)
    assert agg["outcomes"] == {"sampled": 2, "waved_off": 1, "error": 1}
    assert agg["errors"] == {"4": "ValueError: boom"}
    assert agg["waveoff_reasons"] == {"hazard": 1}
    miss = agg["figures"]["touchdown_miss_m"]
    assert miss["n"] == 2 and miss["min"] == 0.1 and miss["max"] == 0.3
    assert miss["p50"] == pytest.approx(0.2)
    assert agg["figures"]["waveoffs_count"]["max"] == 1.0


@pytest.mark.parametrize(("text", "seeds"), [("1-3", [1, 2, 3]), ("7", [7]),
                                             ("1,3-4,3", [1, 3, 4])])
def test_seed_specs_parse(text, seeds):
    from sim.sweep import parse_seeds

    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["", "a-b", "5-1", "-3", "1,,x"])
def test_bad_seed_specs_are_one_line_errors(text):
    from sim.sweep import SeedSpecError, parse_seeds

    with pytest.raises(SeedSpecError, match="--seeds"):
        parse_seeds(text)


def test_ninety_nine_percent_ellipse_holds_about_ninety_nine_percent():
    import numpy as np

    from sim.report_tag import ellipse_99

    rng = np.random.default_rng(5)
    pts = rng.multivariate_normal([0.2, -0.1], [[0.04, 0.01], [0.01, 0.01]], 20000)
    c, a, b, ang = ellipse_99(pts)
    d = pts - c
    u = d @ np.array([np.cos(ang), np.sin(ang)])
    v = d @ np.array([-np.sin(ang), np.cos(ang)])
    inside = np.mean((u / a) ** 2 + (v / b) ** 2 <= 1.0)
    assert abs(inside - 0.99) < 0.003  # fraction of points


@pytest.mark.parametrize("latlon", [[95.0, 0.0], [-90.5, 10.0], [0.0, 400.0]])
def test_target_off_the_body_is_a_one_line_scenario_error(latlon):
    """The target is a latitude and longitude put on the mesh: one that names no point
    of the surface is refused when the scenario loads."""
    with pytest.raises(ScenarioError) as info:
        load_scenario("bennu-tag", {"tag.target_latlon_deg": latlon})
    message = str(info.value)
    assert "tag.target_latlon_deg" in message and len(message.splitlines()) == 1
