"""The judge owes nothing to the judged.

summary.json is scored from what the flight software sent (decoded from the Bus)
and the simulator's own truth: scoring a finished run again from its flight.tlog and
its truth record gives the same figures as the live run.  And the simulator's truth
modules take no flight algorithm: only the entry point, the ICD, the Bus, the clock,
configuration, decoding enums and the shared geometry.
"""

import ast
import json
import math
from pathlib import Path

import numpy as np
import pytest

from sim.rescore import rescore
from sim.runner import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
# What summary.json holds that is about this host, not about the flight.
HOST_KEYS = {"icd_fingerprint", "sim_duration_s", "wall_duration_s", "realtime_factor",
             "scheduler", "scheduler_groups", "messages_logged", "peak_rss_mb", "pid",
             "events"}

TAG_MASS = ("bennu-tag", {
    "scenario.seed": 2, "scenario.duration_s": 2450.0,
    "tag.safe_home_height_m": 200.0,
    "params": {"TAG_DESC_MPS": 0.3, "TAG_CP_MP_S": 300.0, "TAG_SAFE_ALT_M": 60.0,
               "TAG_MASS_WAIT_S": 30.0},
    "commands": [
        {"t_s": 0.0, "name": "SET_MODE", "args": ["STANDBY"]},
        {"t_s": 5.0, "name": "SET_MODE", "args": ["HOVER"]},
        {"t_s": 20.0, "name": "MEASURE_MASS", "args": [0]},
        {"t_s": 800.0, "name": "START_TAG"},
    ]})
SURVEY = ("bennu", {
    "scenario.seed": 3, "scenario.duration_s": 900.0,
    "initial.hover_point_bf_m": [-1079.4, 415.5, 319.9],
    "spacecraft.thrusters.force_n": 20.0,
    "prospect.landmark_spacing_m": 40.0,
    "params": {"PRS_XFER_S": 30.0, "PRS_XFER_ACC": 0.01, "PRS_MAX_SCAN_S": 600.0},
    "commands": [
        {"t_s": 0.0, "name": "SET_MODE", "args": ["STANDBY"]},
        {"t_s": 5.0, "name": "SET_MODE", "args": ["HOVER"]},
        {"t_s": 20.0, "name": "START_SURVEY", "args": []},
    ]})
HOVER = ("bennu-hover", {"scenario.seed": 5, "scenario.duration_s": 700.0})


def _same(a, b, path="summary"):
    """Equal, NaN equal to NaN (JSON keeps NaN as NaN)."""
    if isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys {set(a) ^ set(b)}"
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), path
    else:
        assert a == b, f"{path}: live {a!r}, rescored {b!r}"


@pytest.mark.slow
@pytest.mark.parametrize("case", [HOVER, TAG_MASS, SURVEY], ids=["hover", "tag-mass", "survey"])
def test_a_finished_run_scored_from_its_log_gives_the_live_summary(case, tmp_path):
    name, overrides = case
    sc = load_scenario(name, overrides)
    out = tmp_path / "run"
    run_scenario(sc, out, write_report=False, progress=False)
    live = json.loads((out / "summary.json").read_text())
    figures, columns = rescore(out, sc)
    # The figures went through JSON in the live run: compare them the same way.
    _same({k: v for k, v in live.items() if k not in HOST_KEYS}, json.loads(json.dumps(figures)))
    with np.load(out / "history.npz") as hist:
        for col, values in columns.items():
            np.testing.assert_array_equal(hist[col], values, err_msg=col)
    if name == "bennu-tag":
        assert live["outcome"] == "sampled" and live["sample_mass_est_kg"] is not None
    if name == "bennu":
        assert live["site_chosen"] is not None and live["band_errors_per_site"]
        with np.load(out / "history.npz") as hist:
            # The report's spectra came down too: the chosen site's co-add, in full.
            assert hist["prospect_site_ids"][0] == live["site_chosen"]["id"]
            assert np.isfinite(hist["prospect_site_refl"][0]).all()
            assert len(hist["prospect_example_refl"]) > 0


# The simulator may import from flightsw only these (its entry point, the interfaces,
# configuration and the shared pure mathematics); prefixes.  No exceptions: the spectra's
# physics (sim/radiometry.py), the minerals' bands (sim/minerals.py) and the instrument's
# true response (sim/spectrometer.py) are the simulator's own; the kinematic survey rig,
# which hosts the flight campaign outside the entry point, lives above sim
# (prospector/survey_sweep.py).  The parameter files' formats (MAVProxy, QGroundControl)
# are formatting, no decision.
SIM_MAY_IMPORT = ("flightsw.app", "flightsw.icd", "flightsw.hal", "flightsw.config",
                  "flightsw.params_table", "flightsw.vehicle_geometry",
                  "flightsw.instrument_config", "flightsw.geometry",
                  "flightsw.core.clock", "flightsw.core.events", "flightsw.core.modes",
                  "flightsw.core.commands", "flightsw.core.command_result",
                  "flightsw.core.params", "flightsw.core.param_formats",
                  "flightsw.core.recorder", "flightsw.run_dir",
                  "flightsw.input_file")


def _flightsw_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and \
                node.module.startswith("flightsw"):
            # "from flightsw.prospect import instrument" imports flightsw.prospect.instrument
            names |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("flightsw")}
    return names


def _allowed(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in SIM_MAY_IMPORT)


def test_the_simulator_imports_no_flight_algorithm():
    offenders = {}
    for path in sorted((ROOT / "sim").rglob("*.py")):
        bad = {m for m in _flightsw_imports(path) if not _allowed(m)}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert not offenders, offenders


def test_the_import_check_sees_a_flight_algorithm(tmp_path):
    """The check itself: each way of importing a flight algorithm is caught, a module whose
    name merely starts like an allowed one is not let through."""
    probe = tmp_path / "probe.py"
    probe.write_text("import flightsw.prospect.bands\n"
                     "from flightsw.prospect import photometry\n"
                     "from flightsw.gnc.guidance import pointing_attitude\n"
                     "from flightsw import instrument_config\n"
                     "from flightsw.geometry.quat import q_mul\n")
    found = _flightsw_imports(probe)
    assert {m for m in found if not _allowed(m)} == {
        "flightsw.prospect.bands", "flightsw.prospect.photometry",
        "flightsw.gnc.guidance.pointing_attitude"}
    assert not _allowed("flightsw.application") and not _allowed("flightsw.configurator")
