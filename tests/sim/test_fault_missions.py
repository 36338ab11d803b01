"""Fault protection flown end to end against the simulator (issue 15), judged by the
simulator from the downlink and its own truth.

Short runs of bennu-hover (1 N thrusters, hovering 1.25 km from the centre), one fault
each: the figures pinned are the issue's (detection latency, survival, the mission
going on where redundancy covers the loss), with tolerances in units.
"""

import numpy as np
import pytest

from sim.runner import run_scenario
from sim.scenario import load_scenario

SAFE_R_MIN_M, SAFE_R_MAX_M = 500.0, 5000.0


def fly(tmp_path, duration_s, faults, **overrides):
    sc = load_scenario("bennu-hover", {"scenario.duration_s": duration_s, "faults": faults,
                                       **overrides})
    summary = run_scenario(sc, tmp_path / "run", write_report=False, progress=False)
    hist = np.load(tmp_path / "run" / "history.npz")
    events = (tmp_path / "run" / "events.log").read_text()
    return summary, hist, events


def only_fault(summary):
    (fault,) = summary["faults"]
    return fault


def test_a_thruster_stuck_on_is_isolated_and_branch_b_holds_the_hover(tmp_path):
    summary, hist, events = fly(tmp_path, 400.0,
                                [{"t_s": 100.0, "kind": "thruster_stuck_on", "index": 0}])
    fault = only_fault(summary)
    assert fault["monitor"] == "THRUSTER" and fault["response"] == "RECONFIGURE"
    assert fault["detection_latency_s"] <= 30.0  # the figure for a stuck thruster
    assert "flying branch B" in events
    assert summary["fault_protection"]["thruster_branch"] == "B"
    # The hover goes on: within 1 m of its point for the last 100 s.
    late = hist["t_s"] >= 300.0
    assert np.nanmax(hist["hover_err_m"][late]) < 1.0
    assert summary["surface_impacts"] == 0 and not summary["escaped"]
    assert summary["final_mode"] == "HOVER"


def test_a_wheel_failing_while_spinning_is_isolated_and_three_wheels_point(tmp_path):
    summary, hist, events = fly(tmp_path, 400.0,
                                [{"t_s": 100.0, "kind": "wheel_failure", "index": 1}],
                                **{"spacecraft.wheels.initial_speed_radps": 200.0})
    fault = only_fault(summary)
    assert fault["monitor"] == "WHEEL" and fault["detection_latency_s"] <= 30.0
    assert "wheel 1 isolated; attitude control on 3 wheels" in events
    assert summary["fault_protection"]["wheels_failed"] == [1]
    late = hist["t_s"] >= 200.0
    assert np.nanmax(hist["att_err_deg"][late]) < 0.1  # degrees, on three wheels
    assert summary["final_mode"] == "HOVER"


def test_an_undervoltage_puts_the_probe_on_a_safe_orbit(tmp_path):
    """SAFE from a hover point that co-rotates at ~0.44 m/s (five times the escape
    speed there): rates damped, then the burn onto the terminator orbit, then a coast
    with the thrusters silent, the distance from the centre inside [500, 5000] m."""
    summary, hist, events = fly(tmp_path, 1600.0, [{"t_s": 100.0, "kind": "undervoltage"}])
    fault = only_fault(summary)
    assert fault["monitor"] == "POWER" and fault["response"] == "SAFE"
    assert fault["detection_latency_s"] <= 5.0
    for phase in ("phase DAMP", "phase ORBIT_INSERT", "phase COAST"):
        assert f"safe: {phase}" in events
    r = np.linalg.norm(hist["pos_i_m"], axis=1)
    assert SAFE_R_MIN_M < r.min() and r.max() < SAFE_R_MAX_M
    assert summary["fault_protection"]["safe_phase"] == "COAST"
    assert summary["surface_impacts"] == 0 and not summary["escaped"]
    # Coasting: the inertial speed is the circular one, sqrt(GM/r), within 5 mm/s (the
    # true GM is dispersed by 1 %, 0.3 mm/s of speed).
    gm = load_scenario("bennu-hover").body.gm_m3s2
    pos, t = hist["pos_i_m"], hist["t_s"]
    vel = (pos[-1] - pos[-11]) / (t[-1] - t[-11])
    assert np.linalg.norm(vel) == pytest.approx(np.sqrt(gm / r[-1]), abs=5e-3)


def test_the_monitors_stay_quiet_on_a_nominal_hover(tmp_path):
    summary, _, events = fly(tmp_path, 600.0, [])
    assert summary["monitor_trips"] == 0
    assert "faultprot: trip" not in events


def test_a_flag_parameter_is_set_from_a_scenario_as_0_or_1():
    """[params] holds numbers; a bool parameter (SAFE_AUTO_EXIT) takes 0 or 1 as on the
    wire.  It could not be set from a scenario at all before."""
    from sim.runner import RunConfigError, parameter_overrides

    sc = load_scenario("bennu-hover", {"params.SAFE_AUTO_EXIT": 1.0, "params.FP_ENABLE": 0.0})
    assert parameter_overrides(sc, None) == {"SAFE_AUTO_EXIT": True, "FP_ENABLE": False}
    bad = load_scenario("bennu-hover", {"params.SAFE_AUTO_EXIT": 0.5})
    with pytest.raises(RunConfigError, match="params.SAFE_AUTO_EXIT"):
        parameter_overrides(bad, None)
